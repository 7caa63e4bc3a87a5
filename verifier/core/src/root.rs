//! The root of trust: the set of anchor keys (one per province's operator,
//! say) and the threshold *k* of them that must sign a trust list, in a
//! signed, versioned root document; and the verifier's side of it,
//! [`TrustAnchors`]: what it pinned, and the chain of roots it followed.
//!
//! Rules (`specs/trust-list.md` §1.3, after The Update Framework's root
//! rotation):
//!
//! - a root is a JWS JSON Serialization document (`typ`
//!   `tongban-trust-root+jwt`) whose payload is a [`TrustRoot`];
//! - root *n* + 1 is accepted only with at least `threshold` valid
//!   signatures by distinct keys of root *n* **and** at least its own
//!   `threshold` by distinct keys of its own set; a signature by a key of
//!   neither set is ignored, never counted; two by one key count once;
//! - a verifier starts from the root it pinned (or from pinned bare keys,
//!   read as a root of sequence 0 with *k* = 1) and walks the chain one
//!   sequence at a time, at most [`MAX_ROOT_STEPS`] per walk;
//! - a root past its `expires` makes the bundle stale, like a trust list
//!   past its `next_update`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ErrorCode, Rejection};
use crate::jws_json::{MultiJws, parse_signature};
use crate::keys::{KeyWithId, PublicKey};
use crate::trust::Anchor;

/// The `typ` of a root document.
pub const TYP_TRUST_ROOT: &str = "tongban-trust-root+jwt";
/// The root document format version this crate reads and writes.
pub const TRUST_ROOT_VERSION: u32 = 1;
/// The most root versions one walk (one sync, one bundle load) follows.
pub const MAX_ROOT_STEPS: usize = 32;
/// The most anchor keys one root may list.
pub const MAX_ANCHOR_KEYS: usize = 32;

/// The root document (the payload of a signed root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustRoot {
    /// Format version: [`TRUST_ROOT_VERSION`].
    pub version: u32,
    /// The trust anchor (the zone) this root governs; never changes along
    /// a chain.
    pub anchor: Anchor,
    /// Monotonic, 1 for the first root; root *n* + 1 follows root *n*.
    pub sequence: u64,
    /// When the root was proposed (Unix seconds).
    pub issued_at: i64,
    /// After this time the root, and every bundle verified under it, is
    /// stale until a newer root is followed.
    pub expires: i64,
    /// How many distinct keys of [`keys`](TrustRoot::keys) must sign a
    /// trust list (and the next root).
    pub threshold: u32,
    /// The anchor keys.
    pub keys: Vec<RootKey>,
}

/// One anchor key of a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootKey {
    /// The public JWK with its `kid` (unique within the root).
    pub jwk: Value,
}

/// An anchor key, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorKey {
    /// The `kid` (always set for a root's keys; may be absent for a pinned
    /// bare key).
    pub kid: Option<String>,
    /// The key.
    pub key: PublicKey,
    /// Its RFC 7638 thumbprint: the key's identity when counting.
    pub thumbprint: String,
}

/// A key whose valid signature was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedBy {
    /// The key's `kid`, if it has one.
    pub kid: Option<String>,
    /// Its RFC 7638 thumbprint.
    pub thumbprint: String,
}

impl TrustRoot {
    /// Checks the document's own consistency: version, times, 1 ≤ k ≤ n,
    /// keys that parse, each with a unique `kid` and thumbprint.
    pub fn validate(&self) -> Result<Vec<AnchorKey>, Rejection> {
        let bad = |why: String| {
            Rejection::new(
                ErrorCode::TrustRootChainBroken,
                format!("root {}: {why}", self.sequence),
            )
        };
        if self.version != TRUST_ROOT_VERSION {
            return Err(bad(format!("version {} is not supported", self.version)));
        }
        if self.sequence == 0 {
            return Err(bad("sequence 0 is reserved for pinned bare keys".into()));
        }
        if self.expires <= self.issued_at {
            return Err(bad("expires is not after issued_at".into()));
        }
        if self.keys.is_empty() || self.keys.len() > MAX_ANCHOR_KEYS {
            return Err(bad(format!(
                "{} keys (1 to {MAX_ANCHOR_KEYS})",
                self.keys.len()
            )));
        }
        if self.threshold == 0 || self.threshold as usize > self.keys.len() {
            return Err(bad(format!(
                "threshold {} of {} keys",
                self.threshold,
                self.keys.len()
            )));
        }
        let (mut kids, mut prints) = (HashSet::new(), HashSet::new());
        let mut out = Vec::new();
        for k in &self.keys {
            let parsed = KeyWithId::from_jwk(&k.jwk).map_err(|e| bad(e.to_string()))?;
            let kid = parsed.kid.ok_or_else(|| bad("a key has no kid".into()))?;
            let thumbprint = parsed.key.thumbprint();
            if !kids.insert(kid.clone()) || !prints.insert(thumbprint.clone()) {
                return Err(bad(format!("key {kid} is listed twice")));
            }
            out.push(AnchorKey {
                kid: Some(kid),
                key: parsed.key,
                thumbprint,
            });
        }
        Ok(out)
    }

    /// The unsigned proposal of this root (JWS JSON Serialization with no
    /// signature yet).
    pub fn proposal(&self) -> MultiJws {
        MultiJws::unsigned(&serde_json::to_value(self).unwrap_or(Value::Null))
    }
}

/// How the signatures of one document fared against one key set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Distinct keys of the set whose signature verified.
    pub signed_by: Vec<SignedBy>,
    /// Signatures naming a key of the set that did not verify.
    pub failed: usize,
    /// Signatures by no key of the set (ignored).
    pub unknown: Vec<Option<String>>,
}

/// Counts the valid signatures of `doc` by distinct keys of `keys`. The
/// header policy applies to every signature; a signature that breaks it
/// makes the document malformed (reported with `code`).
pub fn tally(
    doc: &MultiJws,
    keys: &[AnchorKey],
    what: &str,
    typ: &str,
    code: ErrorCode,
) -> Result<Tally, Rejection> {
    let mut out = Tally::default();
    for (i, compact) in doc.compact_forms().iter().enumerate() {
        let (jws, alg) = parse_signature(compact, &format!("{what} signature {i}"), typ, code)?;
        let candidates: Vec<&AnchorKey> = keys
            .iter()
            .filter(|k| match (jws.kid(), &k.kid) {
                (Some(want), Some(have)) => want == have,
                _ => true,
            })
            .collect();
        let verified = candidates.iter().find(|k| {
            k.key
                .verify(alg, jws.signing_input.as_bytes(), &jws.signature)
        });
        match verified {
            Some(k) => {
                if !out.signed_by.iter().any(|s| s.thumbprint == k.thumbprint) {
                    out.signed_by.push(SignedBy {
                        kid: k.kid.clone(),
                        thumbprint: k.thumbprint.clone(),
                    });
                }
            }
            None if candidates.is_empty() => out.unknown.push(jws.kid().map(str::to_owned)),
            None => out.failed += 1,
        }
    }
    Ok(out)
}

/// What a verifier trusts to sign trust lists: the root it pinned, and
/// every root it followed from there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchors {
    sequence: u64,
    threshold: usize,
    keys: Vec<AnchorKey>,
    root: Option<TrustRoot>,
    /// Verified root documents beyond the pinned one, in order.
    chain: Vec<String>,
    /// Keys of earlier roots (from the pinned one on) that the current one
    /// dropped.
    removed: Vec<AnchorKey>,
}

impl TrustAnchors {
    /// Pinned bare keys (a version 2 verifier's configuration): a root of
    /// sequence 0 whose every key alone suffices (*k* = 1), with no expiry.
    pub fn from_keys(keys: &[KeyWithId]) -> TrustAnchors {
        TrustAnchors {
            sequence: 0,
            threshold: 1,
            keys: keys
                .iter()
                .map(|k| AnchorKey {
                    kid: k.kid.clone(),
                    key: k.key.clone(),
                    thumbprint: k.key.thumbprint(),
                })
                .collect(),
            root: None,
            chain: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// Pins a signed root document: it must be well formed and carry its
    /// own threshold of signatures (`trust_root_chain_broken` otherwise).
    pub fn pin_root(text: &str) -> Result<TrustAnchors, Rejection> {
        let (doc, root, keys) = parse_root(text)?;
        let own = tally(
            &doc,
            &keys,
            "the pinned root",
            TYP_TRUST_ROOT,
            ErrorCode::TrustRootChainBroken,
        )?;
        if own.signed_by.len() < root.threshold as usize {
            return Err(Rejection::new(
                ErrorCode::TrustRootChainBroken,
                format!(
                    "the pinned root {} carries {} of the {} signatures of its own keys it needs",
                    root.sequence,
                    own.signed_by.len(),
                    root.threshold
                ),
            ));
        }
        Ok(TrustAnchors {
            sequence: root.sequence,
            threshold: root.threshold as usize,
            keys,
            root: Some(root),
            chain: Vec::new(),
            removed: Vec::new(),
        })
    }

    /// What a counter pins, from a file's bytes: a signed root document
    /// (JSON with `payload` and `signatures`), or a public JWK or JWKS
    /// (bare keys, [`TrustAnchors::from_keys`]).
    pub fn from_pin_document(bytes: &[u8]) -> Result<TrustAnchors, Rejection> {
        let value = crate::encoding::parse_json(bytes, "the pinned anchor")?;
        if value.get("signatures").is_some() {
            let text = core::str::from_utf8(bytes).map_err(|e| {
                Rejection::new(ErrorCode::InvalidUtf8, format!("the pinned root: {e}"))
            })?;
            return TrustAnchors::pin_root(text);
        }
        let keys = KeyWithId::from_jwk_or_set(&value).map_err(|e| {
            Rejection::new(
                ErrorCode::TrustListAnchorUnknown,
                format!("the pinned anchor key: {e}"),
            )
        })?;
        Ok(TrustAnchors::from_keys(&keys))
    }

    /// Follows the chain of roots in `roots` (any order; roots at or below
    /// the current sequence are ignored) one sequence at a time, at most
    /// `max_steps` of them. Every step must hold (see the module
    /// documentation), else `trust_root_chain_broken`.
    pub fn follow(&self, roots: &[String], max_steps: usize) -> Result<TrustAnchors, Rejection> {
        let broken = |why: String| Rejection::new(ErrorCode::TrustRootChainBroken, why);
        let mut candidates: Vec<Candidate> = Vec::new();
        for text in roots {
            let (doc, root, keys) = parse_root(text)?;
            if root.sequence <= self.sequence {
                continue;
            }
            if let Some(other) = candidates.iter().find(|c| c.root.sequence == root.sequence) {
                if other.root != root {
                    return Err(broken(format!(
                        "two different roots claim sequence {}",
                        root.sequence
                    )));
                }
                continue;
            }
            candidates.push(Candidate {
                doc,
                root,
                keys,
                text: text.trim().to_owned(),
            });
        }
        let mut cur = self.clone();
        for _ in 0..max_steps {
            let Some(Candidate {
                doc,
                root,
                keys,
                text,
            }) = candidates
                .iter()
                .find(|c| c.root.sequence == cur.sequence + 1)
            else {
                break;
            };
            if let Some(prev) = &cur.root
                && prev.anchor.id != root.anchor.id
            {
                return Err(broken(format!(
                    "root {} is for anchor {}, not {}",
                    root.sequence, root.anchor.id, prev.anchor.id
                )));
            }
            let what = format!("root {}", root.sequence);
            let code = ErrorCode::TrustRootChainBroken;
            let by_old = tally(doc, &cur.keys, &what, TYP_TRUST_ROOT, code)?;
            if by_old.signed_by.len() < cur.threshold {
                return Err(broken(format!(
                    "root {} carries {} valid signatures by keys of root {}, which needs {}",
                    root.sequence,
                    by_old.signed_by.len(),
                    cur.sequence,
                    cur.threshold
                )));
            }
            let by_new = tally(doc, keys, &what, TYP_TRUST_ROOT, code)?;
            if by_new.signed_by.len() < root.threshold as usize {
                return Err(broken(format!(
                    "root {} carries {} valid signatures by its own keys, and needs {}",
                    root.sequence,
                    by_new.signed_by.len(),
                    root.threshold
                )));
            }
            let mut removed = cur.removed.clone();
            for k in &cur.keys {
                if !keys.iter().any(|n| n.thumbprint == k.thumbprint)
                    && !removed.iter().any(|r| r.thumbprint == k.thumbprint)
                {
                    removed.push(k.clone());
                }
            }
            removed.retain(|r| !keys.iter().any(|n| n.thumbprint == r.thumbprint));
            let mut chain = cur.chain.clone();
            chain.push(text.clone());
            cur = TrustAnchors {
                sequence: root.sequence,
                threshold: root.threshold as usize,
                keys: keys.clone(),
                root: Some(root.clone()),
                chain,
                removed,
            };
        }
        Ok(cur)
    }

    /// Refuses a walk that ended below the root already held
    /// (`trust_root_rollback`).
    pub fn check_not_older(&self, held: Option<u64>) -> Result<(), Rejection> {
        match held {
            Some(h) if self.sequence < h => Err(Rejection::new(
                ErrorCode::TrustRootRollback,
                format!("root {} is older than the held root {h}", self.sequence),
            )),
            _ => Ok(()),
        }
    }

    /// The sequence of the current root (0 for pinned bare keys).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// How many distinct keys must sign.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The current anchor keys.
    pub fn keys(&self) -> &[AnchorKey] {
        &self.keys
    }

    /// Keys earlier roots of the walked chain had and the current one
    /// dropped.
    pub fn removed(&self) -> &[AnchorKey] {
        &self.removed
    }

    /// The current root document (`None` for pinned bare keys).
    pub fn root(&self) -> Option<&TrustRoot> {
        self.root.as_ref()
    }

    /// When the current root expires (`None` for pinned bare keys).
    pub fn expires(&self) -> Option<i64> {
        self.root.as_ref().map(|r| r.expires)
    }

    /// The verified root documents followed beyond the pinned one, in
    /// order (what a bundle keeps so that another counter pinned to the
    /// same root can follow them offline).
    pub fn chain(&self) -> &[String] {
        &self.chain
    }
}

/// A root offered for a walk, parsed.
struct Candidate {
    doc: MultiJws,
    root: TrustRoot,
    keys: Vec<AnchorKey>,
    text: String,
}

/// Parses a root document and checks its consistency (not its signatures).
fn parse_root(text: &str) -> Result<(MultiJws, TrustRoot, Vec<AnchorKey>), Rejection> {
    let doc = MultiJws::parse(text, "a root of trust", ErrorCode::TrustRootChainBroken)?;
    let root: TrustRoot = serde_json::from_value(Value::Object(doc.payload.clone()))
        .map_err(|e| Rejection::new(ErrorCode::TrustRootChainBroken, format!("a root: {e}")))?;
    let keys = root.validate()?;
    Ok((doc, root, keys))
}

/// The sequence a root document claims, unverified (to know which roots a
/// sync still needs to fetch); `None` if it is not a root.
pub fn peek_root_sequence(text: &str) -> Option<u64> {
    let doc = MultiJws::parse(text, "a root", ErrorCode::TrustRootChainBroken).ok()?;
    doc.payload.get("sequence").and_then(Value::as_u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Ed25519Signer, Signer as _};

    fn key(seed: u8, kid: &str) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[seed; 32], Some(kid.into()))
    }

    fn root(sequence: u64, threshold: u32, keys: &[&Ed25519Signer]) -> TrustRoot {
        TrustRoot {
            version: TRUST_ROOT_VERSION,
            anchor: Anchor {
                id: "https://trust.example".into(),
                name_zh: "示范区".into(),
                name_en: "Zone".into(),
            },
            sequence,
            issued_at: 100,
            expires: 10_000,
            threshold,
            keys: keys
                .iter()
                .map(|k| {
                    let mut jwk = k.public_key().to_jwk();
                    jwk["kid"] = Value::String(k.key_id().unwrap_or_default().into());
                    RootKey { jwk }
                })
                .collect(),
        }
    }

    fn signed(r: &TrustRoot, by: &[&Ed25519Signer]) -> String {
        let mut doc = r.proposal();
        for k in by {
            doc.add_signature(*k, TYP_TRUST_ROOT).unwrap();
        }
        doc.to_json_text()
    }

    #[test]
    fn a_chain_is_followed_when_old_and_new_thresholds_both_sign() {
        let (a, b, c, d) = (key(1, "a"), key(2, "b"), key(3, "c"), key(4, "d"));
        let r1 = signed(&root(1, 2, &[&a, &b, &c]), &[&a, &b]);
        let pinned = TrustAnchors::pin_root(&r1).unwrap();
        assert_eq!((pinned.sequence(), pinned.threshold()), (1, 2));
        // c leaves, d joins; signed by a, b (old 2 of 3) and b, d (new 2 of 3).
        let r2 = signed(&root(2, 2, &[&a, &b, &d]), &[&a, &b, &d]);
        let now = pinned.follow(&[r2.clone(), r1.clone()], 8).unwrap();
        assert_eq!(now.sequence(), 2);
        assert_eq!(now.chain().len(), 1);
        assert_eq!(now.removed().len(), 1);
        assert_eq!(now.removed()[0].kid.as_deref(), Some("c"));
        // The bound stops a walk.
        assert_eq!(
            pinned
                .follow(std::slice::from_ref(&r2), 0)
                .unwrap()
                .sequence(),
            1
        );
        assert!(now.check_not_older(Some(2)).is_ok());
        assert_eq!(
            pinned.check_not_older(Some(2)).unwrap_err().code,
            ErrorCode::TrustRootRollback
        );

        // Only the new keys sign: the old root's threshold is not met.
        let r2_new_only = signed(&root(2, 2, &[&a, &b, &d]), &[&d, &a]);
        let err = pinned.follow(&[r2_new_only], 8).unwrap_err();
        assert_eq!(err.code, ErrorCode::TrustRootChainBroken);
        assert!(err.detail.contains("keys of root 1"), "{err}");
        // Old keys only, and the new set's threshold is 3.
        let r2_old_only = signed(&root(2, 3, &[&a, &b, &d]), &[&a, &b]);
        let err = pinned.follow(&[r2_old_only], 8).unwrap_err();
        assert!(err.detail.contains("its own keys"), "{err}");
        // Two signatures by one key count once.
        let r2_dup = signed(&root(2, 1, &[&a]), &[&a, &a]);
        assert!(pinned.follow(&[r2_dup], 8).is_err());
        // A gap stops the walk (root 3 without root 2).
        let r3 = signed(&root(3, 1, &[&a]), &[&a, &b]);
        assert_eq!(pinned.follow(&[r3], 8).unwrap().sequence(), 1);
    }

    #[test]
    fn bare_keys_are_root_zero_with_k_one() {
        let old = key(9, "old");
        let (a, b) = (key(1, "a"), key(2, "b"));
        let bare = TrustAnchors::from_keys(&[KeyWithId {
            key: old.public_key(),
            kid: Some("old".into()),
        }]);
        assert_eq!(
            (bare.sequence(), bare.threshold(), bare.expires()),
            (0, 1, None)
        );
        let r1 = signed(&root(1, 2, &[&a, &b]), &[&old, &a, &b]);
        assert_eq!(bare.follow(&[r1], 8).unwrap().sequence(), 1);
        let r1_unsigned_by_old = signed(&root(1, 2, &[&a, &b]), &[&a, &b]);
        assert!(bare.follow(&[r1_unsigned_by_old], 8).is_err());
    }

    #[test]
    fn a_pinned_root_needs_its_own_threshold_and_bad_roots_are_refused() {
        let (a, b) = (key(1, "a"), key(2, "b"));
        let r = root(1, 2, &[&a, &b]);
        assert_eq!(
            TrustAnchors::pin_root(&signed(&r, &[&a])).unwrap_err().code,
            ErrorCode::TrustRootChainBroken
        );
        let mut bad = r.clone();
        bad.threshold = 3;
        assert!(bad.validate().is_err());
        bad.threshold = 0;
        assert!(bad.validate().is_err());
        let mut twice = r.clone();
        twice.keys.push(twice.keys[0].clone());
        assert!(twice.validate().is_err());
        let pin = TrustAnchors::from_pin_document(signed(&r, &[&a, &b]).as_bytes()).unwrap();
        assert_eq!(pin.sequence(), 1);
        let jwk = serde_json::to_vec(&a.public_key().to_jwk()).unwrap();
        assert_eq!(TrustAnchors::from_pin_document(&jwk).unwrap().sequence(), 0);
    }
}
