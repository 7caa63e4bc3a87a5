//! The hash-chained audit log.
//!
//! Each agency has its own chain. An entry's hash covers every field of the
//! entry and the previous entry's hash, so removing, reordering or editing
//! any entry breaks every hash after it. The first entry's `prev_hash` is
//! [`GENESIS`]. The hash is SHA-256 over a length-prefixed encoding
//! (`tongban-audit-v1`, then each field as an 8-byte big-endian length and
//! its UTF-8 bytes), written out in lowercase hex.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// The agency whose chain it belongs to.
    pub agency_id: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who: an admin token id, `cli:<user>`, or `oid4vci:<offer>`.
    pub actor: String,
    /// What, e.g. `credential.issue`, `credential.revoke`, `key.rotate`.
    pub action: String,
    /// The object acted on (credential id, key id, token id …).
    pub subject: String,
    /// Details as JSON text.
    pub detail: String,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// An entry before it is placed in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
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
    /// A new entry; `detail` is serialised JSON.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: impl Into<String>,
        detail: serde_json::Value,
    ) -> Self {
        PendingEntry {
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail: detail.to_string(),
        }
    }

    /// Places the entry after `prev_hash` at `seq`.
    pub fn chain(self, agency_id: &str, seq: i64, at: i64, prev_hash: &str) -> AuditEntry {
        let mut e = AuditEntry {
            agency_id: agency_id.to_owned(),
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
    h.update(b"tongban-audit-v1");
    let seq = e.seq.to_string();
    let at = e.at.to_string();
    for field in [
        e.agency_id.as_str(),
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
    #[error("agency {agency}: expected entry {expected}, found {found}")]
    Gap {
        /// The agency.
        agency: String,
        /// The seq expected.
        expected: i64,
        /// The seq found.
        found: i64,
    },
    /// An entry does not link to its predecessor.
    #[error("agency {agency}: entry {seq} does not link to entry {prev}")]
    BrokenLink {
        /// The agency.
        agency: String,
        /// The entry.
        seq: i64,
        /// Its predecessor.
        prev: i64,
    },
    /// An entry's content does not match its hash (edited).
    #[error("agency {agency}: entry {seq} was altered (its hash does not match its content)")]
    Altered {
        /// The agency.
        agency: String,
        /// The entry.
        seq: i64,
    },
    /// The chain ends before the head recorded on the agency (entries deleted).
    #[error(
        "agency {agency}: the chain ends at entry {last} but the agency's head is entry {head}"
    )]
    Truncated {
        /// The agency.
        agency: String,
        /// Last entry present.
        last: i64,
        /// Head recorded.
        head: i64,
    },
}

/// Checks a chain incrementally, page by page.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    agency: String,
    next_seq: i64,
    prev_hash: String,
}

impl ChainVerifier {
    /// Starts at the genesis of `agency`'s chain.
    pub fn new(agency: &str) -> Self {
        ChainVerifier {
            agency: agency.to_owned(),
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainError> {
        if e.seq != self.next_seq {
            return Err(ChainError::Gap {
                agency: self.agency.clone(),
                expected: self.next_seq,
                found: e.seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainError::BrokenLink {
                agency: self.agency.clone(),
                seq: e.seq,
                prev: e.seq - 1,
            });
        }
        if entry_hash(e) != e.hash || e.agency_id != self.agency {
            return Err(ChainError::Altered {
                agency: self.agency.clone(),
                seq: e.seq,
            });
        }
        self.next_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    /// Entries checked so far.
    pub fn count(&self) -> i64 {
        self.next_seq - 1
    }

    /// Compares the end of the chain with the head recorded on the agency.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainError> {
        let last = self.next_seq - 1;
        if last != head_seq {
            return Err(ChainError::Truncated {
                agency: self.agency,
                last,
                head: head_seq,
            });
        }
        if self.prev_hash != head_hash {
            return Err(ChainError::BrokenLink {
                agency: self.agency,
                seq: head_seq,
                prev: last,
            });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = PendingEntry::new(
                    "t1",
                    "credential.issue",
                    format!("c{seq}"),
                    serde_json::json!({"n": seq}),
                )
                .chain("a", seq, 1000 + seq, &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let c = chain(5);
        let mut v = ChainVerifier::new("a");
        for e in &c {
            v.push(e).unwrap();
        }
        assert_eq!(v.finish(5, &c[4].hash).unwrap(), 5);
    }

    #[test]
    fn an_edited_entry_is_found() {
        let mut c = chain(3);
        c[1].detail = "{\"n\":99}".into();
        let mut v = ChainVerifier::new("a");
        v.push(&c[0]).unwrap();
        assert!(matches!(
            v.push(&c[1]),
            Err(ChainError::Altered { seq: 2, .. })
        ));
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let c = chain(3);
        let mut v = ChainVerifier::new("a");
        v.push(&c[0]).unwrap();
        assert!(matches!(
            v.push(&c[2]),
            Err(ChainError::Gap {
                expected: 2,
                found: 3,
                ..
            })
        ));
    }

    #[test]
    fn a_deleted_tail_is_found_against_the_head() {
        let c = chain(3);
        let mut v = ChainVerifier::new("a");
        v.push(&c[0]).unwrap();
        v.push(&c[1]).unwrap();
        assert!(matches!(
            v.finish(3, &c[2].hash),
            Err(ChainError::Truncated {
                last: 2,
                head: 3,
                ..
            })
        ));
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let mut c = chain(3);
        c[1].detail = "{}".into();
        c[1].hash = entry_hash(&c[1]);
        let mut v = ChainVerifier::new("a");
        v.push(&c[0]).unwrap();
        v.push(&c[1]).unwrap();
        assert!(matches!(
            v.push(&c[2]),
            Err(ChainError::BrokenLink { seq: 3, .. })
        ));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a = PendingEntry::new("ab", "c", "s", serde_json::json!({})).chain("x", 1, 1, GENESIS);
        let b = PendingEntry::new("a", "bc", "s", serde_json::json!({})).chain("x", 1, 1, GENESIS);
        assert_ne!(a.hash, b.hash);
    }
    /// An entry written before the audit code moved to the service kit,
    /// with the hash it was stored with: existing logs must still verify.
    #[test]
    fn a_stored_entry_keeps_its_hash() {
        let e = PendingEntry {
            actor: "tok_8f3a".into(),
            action: "credential.issue".into(),
            subject: "cred_01".into(),
            detail: r#"{"licence_id":"91310000MA1K000000","vct":"https://licences.tongban.example/business-licence"}"#.into(),
        }
        .chain("shanghai-amr", 1, 1_767_225_600, GENESIS);
        assert_eq!(
            e.hash,
            "29942a44e0e7ff1ca33f3b9290afe36039efbe92db4fd578beb0bb12ca95dd61"
        );
    }
}
