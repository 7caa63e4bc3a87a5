//! The service's hash-chained audit log.
//!
//! Each tenant has its own chain (named by the tenant id); what concerns
//! no tenant (admin tokens, the operator CA) is on the chain
//! [`SERVICE_CHAIN`]. The canonical form, linking and verification are the
//! service kit's ([`tongban_service_kit::audit`], shared with the issuer);
//! this service hashes under [`SCHEME`] (`tongban-verifier-audit-v1`), so an
//! entry of the issuer's log can never pass for one of this log.
//!
//! What an entry may hold is part of the privacy design: who asked (token
//! id), what (types, claim paths, service item), and the verdict codes.
//! Claim values never enter the log.

use tongban_service_kit::audit as kit;
pub use tongban_service_kit::audit::{AuditEntry, ChainError, GENESIS, Scheme};

/// This service's hashing scheme: tag `tongban-verifier-audit-v1`.
pub const SCHEME: Scheme = Scheme::new("tongban-verifier-audit-v1");

/// The chain of what concerns no single tenant.
pub const SERVICE_CHAIN: &str = "_service";

/// An entry before it is placed in a chain, with the chain it goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The chain: a tenant id, or [`SERVICE_CHAIN`].
    pub chain: String,
    /// Who, what, on what, and the details.
    pub entry: kit::PendingEntry,
}

impl PendingEntry {
    /// A new entry for `chain`; `detail` is serialised JSON.
    pub fn new(
        chain: impl Into<String>,
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: impl Into<String>,
        detail: serde_json::Value,
    ) -> Self {
        PendingEntry {
            chain: chain.into(),
            entry: kit::PendingEntry::new(actor, action, subject, detail),
        }
    }

    /// Places the entry after `prev_hash` at `seq`.
    pub fn link(self, seq: i64, at: i64, prev_hash: &str) -> AuditEntry {
        self.entry.link(SCHEME, &self.chain, seq, at, prev_hash)
    }
}

/// Checks a whole chain against its recorded head; returns its length.
pub fn verify_chain(
    chain: &str,
    entries: &[AuditEntry],
    head: (i64, &str),
) -> Result<i64, ChainError> {
    kit::verify_chain(SCHEME, chain, entries, head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = PendingEntry::new(
                    "t",
                    "tok_1",
                    "transaction.create",
                    format!("x{seq}"),
                    serde_json::json!({"n": seq}),
                )
                .link(seq, 1000 + seq, &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_any_edit_or_deletion_is_found() {
        let c = chain(3);
        assert_eq!(verify_chain("t", &c, (3, &c[2].hash)).unwrap(), 3);
        let mut edited = c.clone();
        edited[1].detail = "{}".into();
        assert!(matches!(
            verify_chain("t", &edited, (3, &c[2].hash)),
            Err(ChainError::Altered { seq: 2, .. })
        ));
        let gap = vec![c[0].clone(), c[2].clone()];
        assert!(matches!(
            verify_chain("t", &gap, (3, &c[2].hash)),
            Err(ChainError::Gap { .. })
        ));
        assert!(matches!(
            verify_chain("t", &c[..2], (3, &c[2].hash)),
            Err(ChainError::Truncated { .. })
        ));
    }

    /// An entry written before the audit code moved to the service kit,
    /// with the hash it was stored with: existing logs must still verify.
    #[test]
    fn a_stored_entry_keeps_its_hash() {
        let e = PendingEntry {
            chain: "qingpu".into(),
            entry: kit::PendingEntry {
                actor: "tok_8f3a".into(),
                action: "transaction.create".into(),
                subject: "tx_01".into(),
                detail: r#"{"paths":[["name"]]}"#.into(),
            },
        }
        .link(1, 1_767_225_600, GENESIS);
        assert_eq!(
            e.hash,
            "6d807e48fdb609278431eaa0db4f26ef38c7d74ffe4c95b289d48e9083ab429b"
        );
        assert_eq!(
            verify_chain("qingpu", std::slice::from_ref(&e), (1, &e.hash)).unwrap(),
            1
        );
    }
}
