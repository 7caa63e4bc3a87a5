//! The hash-chained audit log.
//!
//! Each tenant has its own chain (named by the tenant id); what concerns
//! no tenant (admin tokens, the operator CA) is on the chain
//! [`SERVICE_CHAIN`]. An entry's hash covers every field of the entry and
//! the previous entry's hash, so removing, reordering or editing any entry
//! breaks every hash after it. The first entry's `prev_hash` is
//! [`GENESIS`]. The hash is SHA-256 over a length-prefixed encoding
//! (`tongban-verifier-audit-v1`, then each field as an 8-byte big-endian
//! length and its UTF-8 bytes), in lowercase hex: the issuer's scheme.
//!
//! What an entry may hold is part of the privacy design: who asked (token
//! id), what (types, claim paths, service item), and the verdict codes.
//! Claim values never enter the log.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain of what concerns no single tenant.
pub const SERVICE_CHAIN: &str = "_service";

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// The chain: a tenant id, or [`SERVICE_CHAIN`].
    pub chain: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who: a token id, `cli:<user>`, `wallet`, or `maintenance`.
    pub actor: String,
    /// What, e.g. `transaction.create`, `transaction.answer`.
    pub action: String,
    /// The object acted on (transaction id, tenant id, token id).
    pub subject: String,
    /// Details as JSON text (never claim values).
    pub detail: String,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// An entry before it is placed in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The chain it goes on.
    pub chain: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub subject: String,
    /// Details (JSON text).
    pub detail: String,
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
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail: detail.to_string(),
        }
    }

    /// Places the entry after `prev_hash` at `seq`.
    pub fn link(self, seq: i64, at: i64, prev_hash: &str) -> AuditEntry {
        let mut e = AuditEntry {
            chain: self.chain,
            seq,
            at,
            actor: self.actor,
            action: self.action,
            subject: self.subject,
            detail: self.detail,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        e
    }
}

/// The hash an entry must carry.
pub fn entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(b"tongban-verifier-audit-v1");
    let seq = e.seq.to_string();
    let at = e.at.to_string();
    for field in [
        e.chain.as_str(),
        seq.as_str(),
        at.as_str(),
        e.actor.as_str(),
        e.action.as_str(),
        e.subject.as_str(),
        e.detail.as_str(),
        e.prev_hash.as_str(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A sequence number is missing or out of order.
    #[error("chain {chain}: expected entry {expected}, found {found}")]
    Gap {
        /// The chain.
        chain: String,
        /// The seq expected.
        expected: i64,
        /// The seq found.
        found: i64,
    },
    /// An entry does not link to its predecessor, or was altered.
    #[error("chain {chain}: entry {seq} was altered or does not link to its predecessor")]
    Broken {
        /// The chain.
        chain: String,
        /// The entry.
        seq: i64,
    },
    /// The chain ends before its recorded head (entries deleted).
    #[error("chain {chain}: the entries end at {last} but the head is entry {head}")]
    Truncated {
        /// The chain.
        chain: String,
        /// Last entry present.
        last: i64,
        /// Head recorded.
        head: i64,
    },
}

/// Checks a whole chain against its recorded head; returns its length.
pub fn verify_chain(
    chain: &str,
    entries: &[AuditEntry],
    head: (i64, &str),
) -> Result<i64, ChainError> {
    let mut prev = GENESIS.to_owned();
    for (i, e) in entries.iter().enumerate() {
        let expected = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        if e.seq != expected {
            return Err(ChainError::Gap {
                chain: chain.to_owned(),
                expected,
                found: e.seq,
            });
        }
        if e.prev_hash != prev || e.chain != chain || entry_hash(e) != e.hash {
            return Err(ChainError::Broken {
                chain: chain.to_owned(),
                seq: e.seq,
            });
        }
        prev.clone_from(&e.hash);
    }
    let last = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    if last != head.0 || prev != head.1 {
        return Err(ChainError::Truncated {
            chain: chain.to_owned(),
            last,
            head: head.0,
        });
    }
    Ok(last)
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
            Err(ChainError::Broken { seq: 2, .. })
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
            actor: "tok_8f3a".into(),
            action: "transaction.create".into(),
            subject: "tx_01".into(),
            detail: r#"{"paths":[["name"]]}"#.into(),
        }
        .link(1, 1_767_225_600, GENESIS);
        assert_eq!(
            e.hash,
            "6d807e48fdb609278431eaa0db4f26ef38c7d74ffe4c95b289d48e9083ab429b"
        );
    }
}
