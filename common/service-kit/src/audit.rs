//! The hash-chained audit log, apart from where it is stored.
//!
//! A service keeps one or more chains (the issuer one per agency, the
//! receiving agency's service one per tenant and one for itself). An
//! entry's hash covers every field of the entry and the previous entry's
//! hash, so removing, reordering or editing any entry breaks every hash
//! after it, and the chain's head (last sequence number and hash, which the
//! store keeps apart from the entries) shows a deleted tail. The first
//! entry's `prev_hash` is [`GENESIS`].
//!
//! # The canonical form
//!
//! An entry's hash is SHA-256, in lowercase hex, over the service's
//! [`Scheme`] tag (its UTF-8 bytes, no length) followed by the fields
//! `chain, seq, at, actor, action, subject, detail, prev_hash`, each as an
//! 8-byte big-endian length and its UTF-8 bytes (`seq` and `at` as decimal
//! text). Each service has its own tag (`tongban-audit-v1` for the issuer,
//! `tongban-verifier-audit-v1` for the receiving agency's service), so an
//! entry of one can never pass for an entry of the other.
//!
//! This module has no storage: a store links [`PendingEntry`]s after its
//! recorded head inside the transaction that makes the change, and
//! verification reads pages into a [`ChainVerifier`].

use serde::Serialize;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A service's hashing scheme: the tag that starts every hash input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    tag: &'static str,
}

impl Scheme {
    /// The scheme whose hash input starts with `tag`.
    pub const fn new(tag: &'static str) -> Self {
        Scheme { tag }
    }

    /// The tag.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The hash `e` must carry: over every field but `hash`.
    pub fn hash(&self, e: &AuditEntry) -> String {
        let mut h = Sha256::new();
        h.update(self.tag.as_bytes());
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
}

/// One entry, placed in its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// The chain: an agency or tenant id, or a service-wide chain's name.
    pub chain: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who: a token id, `cli:<user>`, or the service's own part
    /// (`wallet`, `maintenance`, `oid4vci:<offer>` …).
    pub actor: String,
    /// What, e.g. `credential.issue`, `transaction.answer`.
    pub action: String,
    /// The object acted on (credential, transaction, key or token id …).
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

    /// Places the entry on `chain` at `seq`, after the entry whose hash is
    /// `prev_hash`, and hashes it under `scheme`.
    pub fn link(
        self,
        scheme: Scheme,
        chain: &str,
        seq: i64,
        at: i64,
        prev_hash: &str,
    ) -> AuditEntry {
        let mut e = AuditEntry {
            chain: chain.to_owned(),
            seq,
            at,
            actor: self.actor,
            action: self.action,
            subject: self.subject,
            detail: self.detail,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        e.hash = scheme.hash(&e);
        e
    }
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
    /// An entry does not link to its predecessor.
    #[error("chain {chain}: entry {seq} does not link to entry {prev}")]
    BrokenLink {
        /// The chain.
        chain: String,
        /// The entry.
        seq: i64,
        /// Its predecessor.
        prev: i64,
    },
    /// An entry's content does not match its hash (edited), or it names
    /// another chain.
    #[error("chain {chain}: entry {seq} was altered (its hash does not match its content)")]
    Altered {
        /// The chain.
        chain: String,
        /// The entry.
        seq: i64,
    },
    /// The chain ends before its recorded head (entries deleted).
    #[error("chain {chain}: the entries end at entry {last} but the recorded head is entry {head}")]
    Truncated {
        /// The chain.
        chain: String,
        /// Last entry present.
        last: i64,
        /// Head recorded.
        head: i64,
    },
}

/// Checks a chain incrementally, page by page, from its genesis.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    scheme: Scheme,
    chain: String,
    next_seq: i64,
    prev_hash: String,
}

impl ChainVerifier {
    /// Starts at the genesis of `chain`, hashed under `scheme`.
    pub fn new(scheme: Scheme, chain: &str) -> Self {
        ChainVerifier {
            scheme,
            chain: chain.to_owned(),
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainError> {
        if e.seq != self.next_seq {
            return Err(ChainError::Gap {
                chain: self.chain.clone(),
                expected: self.next_seq,
                found: e.seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainError::BrokenLink {
                chain: self.chain.clone(),
                seq: e.seq,
                prev: e.seq - 1,
            });
        }
        if self.scheme.hash(e) != e.hash || e.chain != self.chain {
            return Err(ChainError::Altered {
                chain: self.chain.clone(),
                seq: e.seq,
            });
        }
        self.next_seq += 1;
        self.prev_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Entries checked so far.
    pub fn count(&self) -> i64 {
        self.next_seq - 1
    }

    /// Compares the end of the chain with its recorded head; returns the
    /// chain's length.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainError> {
        let last = self.next_seq - 1;
        if last != head_seq {
            return Err(ChainError::Truncated {
                chain: self.chain,
                last,
                head: head_seq,
            });
        }
        if self.prev_hash != head_hash {
            return Err(ChainError::BrokenLink {
                chain: self.chain,
                seq: head_seq,
                prev: last,
            });
        }
        Ok(last)
    }
}

/// Checks a whole chain held in memory against its recorded head
/// `(seq, hash)`; returns its length.
pub fn verify_chain(
    scheme: Scheme,
    chain: &str,
    entries: &[AuditEntry],
    head: (i64, &str),
) -> Result<i64, ChainError> {
    let mut v = ChainVerifier::new(scheme, chain);
    for e in entries {
        v.push(e)?;
    }
    v.finish(head.0, head.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: Scheme = Scheme::new("tongban-test-audit-v1");

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
                .link(TEST, "a", seq, 1000 + seq, &prev);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let c = chain(5);
        let mut v = ChainVerifier::new(TEST, "a");
        for e in &c {
            v.push(e).unwrap();
        }
        assert_eq!(v.count(), 5);
        assert_eq!(v.finish(5, &c[4].hash).unwrap(), 5);
        assert_eq!(verify_chain(TEST, "a", &c, (5, &c[4].hash)).unwrap(), 5);
    }

    #[test]
    fn an_edited_entry_is_found() {
        let mut c = chain(3);
        c[1].detail = "{\"n\":99}".into();
        let mut v = ChainVerifier::new(TEST, "a");
        v.push(&c[0]).unwrap();
        assert!(matches!(
            v.push(&c[1]),
            Err(ChainError::Altered { seq: 2, .. })
        ));
    }

    #[test]
    fn an_entry_moved_to_another_chain_is_found() {
        let c = chain(1);
        assert!(matches!(
            verify_chain(TEST, "b", &c, (1, &c[0].hash)),
            Err(ChainError::Altered { seq: 1, .. })
        ));
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let c = chain(3);
        let mut v = ChainVerifier::new(TEST, "a");
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
        assert!(matches!(
            verify_chain(TEST, "a", &c[..2], (3, &c[2].hash)),
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
        c[1].hash = TEST.hash(&c[1]);
        let mut v = ChainVerifier::new(TEST, "a");
        v.push(&c[0]).unwrap();
        v.push(&c[1]).unwrap();
        assert!(matches!(
            v.push(&c[2]),
            Err(ChainError::BrokenLink { seq: 3, .. })
        ));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a =
            PendingEntry::new("ab", "c", "s", serde_json::json!({})).link(TEST, "x", 1, 1, GENESIS);
        let b =
            PendingEntry::new("a", "bc", "s", serde_json::json!({})).link(TEST, "x", 1, 1, GENESIS);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn schemes_never_share_a_hash() {
        let e = PendingEntry::new("a", "b", "c", serde_json::json!({}));
        let other = Scheme::new("tongban-other-audit-v1");
        assert_ne!(
            e.clone().link(TEST, "x", 1, 1, GENESIS).hash,
            e.link(other, "x", 1, 1, GENESIS).hash
        );
    }
}
