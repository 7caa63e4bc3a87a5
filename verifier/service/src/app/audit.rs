//! The audit log: reading a chain, and verifying every chain end to end.

use serde::Serialize;

use super::{Service, ServiceError};
use crate::audit::{AuditEntry, SERVICE_CHAIN, verify_chain};

/// The result of verifying one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainCheck {
    /// The chain.
    pub chain: String,
    /// Entries checked.
    pub entries: i64,
    /// The error, if it does not verify.
    pub error: Option<String>,
}

impl Service {
    /// A chain's entries after `after`, at most `limit` (1..=1000).
    pub async fn audit_entries(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, ServiceError> {
        Ok(self
            .store
            .audit_entries(chain, after, limit.clamp(1, 1000))
            .await?)
    }

    /// Verifies the service chain and every tenant's chain.
    pub async fn verify_audit(&self) -> Result<Vec<ChainCheck>, ServiceError> {
        let mut chains = vec![SERVICE_CHAIN.to_owned()];
        chains.extend(self.store.tenants().await?.into_iter().map(|t| t.id));
        let mut out = Vec::new();
        for chain in chains {
            let mut entries = Vec::new();
            loop {
                let after = entries.last().map_or(0, |e: &AuditEntry| e.seq);
                let page = self.store.audit_entries(&chain, after, 1000).await?;
                if page.is_empty() {
                    break;
                }
                entries.extend(page);
            }
            let (seq, head) = self.store.audit_head(&chain).await?;
            let r = verify_chain(&chain, &entries, (seq, &head));
            out.push(ChainCheck {
                chain,
                entries: i64::try_from(entries.len()).unwrap_or(i64::MAX),
                error: r.err().map(|e| e.to_string()),
            });
        }
        Ok(out)
    }
}
