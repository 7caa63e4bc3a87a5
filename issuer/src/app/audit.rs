//! The audit log: reading an agency's chain page by page, and checking
//! every chain end to end.

use serde::Serialize;

use crate::audit::{AuditEntry, ChainError, ChainVerifier, SCHEME};

use super::{Database, Service, ServiceError};

/// A page of an agency's audit chain.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    /// Entries with `seq > after`, in order.
    pub entries: Vec<AuditEntry>,
    /// The chain head recorded on the agency: last sequence number.
    pub head_seq: i64,
    /// The chain head: last hash.
    pub head_hash: String,
}

/// The outcome of checking one agency's chain.
#[derive(Debug)]
pub struct ChainCheck {
    /// The agency.
    pub agency: String,
    /// The number of entries of an intact chain, or where it broke.
    pub result: Result<i64, ChainError>,
}

impl Service {
    /// Audit entries of the agency after `after`, at most `limit`, with
    /// the chain head.
    pub async fn audit_page(
        &self,
        agency_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<AuditPage, ServiceError> {
        audit_page(&self.database(), agency_id, after, limit).await
    }
}

async fn audit_page(
    db: &Database,
    agency_id: &str,
    after: i64,
    limit: i64,
) -> Result<AuditPage, ServiceError> {
    let entries = db.0.audit_entries(agency_id, after, limit).await?;
    let (head_seq, head_hash) = db.0.audit_head(agency_id).await?;
    Ok(AuditPage {
        entries,
        head_seq,
        head_hash,
    })
}

impl Database {
    /// Checks every agency's chain (or only `only`): each entry's hash, the
    /// links, no gaps, and the end against the head recorded on the agency.
    /// Needs no master key.
    pub async fn verify_audit(&self, only: Option<&str>) -> Result<Vec<ChainCheck>, ServiceError> {
        let agencies: Vec<String> = match only {
            Some(a) => vec![self.0.agency(a).await?.id],
            None => self
                .0
                .list_agencies()
                .await?
                .into_iter()
                .map(|a| a.id)
                .collect(),
        };
        let mut checks = Vec::with_capacity(agencies.len());
        for agency in agencies {
            let result = self.verify_chain(&agency).await?;
            checks.push(ChainCheck { agency, result });
        }
        Ok(checks)
    }

    async fn verify_chain(&self, agency: &str) -> Result<Result<i64, ChainError>, ServiceError> {
        let (head_seq, head_hash) = self.0.audit_head(agency).await?;
        let mut v = ChainVerifier::new(SCHEME, agency);
        let mut after = 0;
        loop {
            let page = self.0.audit_entries(agency, after, 5000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                if let Err(err) = v.push(e) {
                    return Ok(Err(err));
                }
            }
        }
        Ok(v.finish(head_seq, &head_hash))
    }
}
