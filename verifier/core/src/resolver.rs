//! Where issuer keys come from. The library asks a [`KeyResolver`]; the
//! signed trust list is one, and [`InMemoryKeys`] is the simple one
//! (keys pinned by a test or by a counter that trusts one issuer directly).
//! [`InMemoryKeys`] holds no anchor certificate: it judges a credential by
//! its pinned keys alone; an `x5c` header must be well formed and its leaf
//! must certify the pinned key (its chain is not validated: the pin is the
//! trust).

use std::collections::HashMap;

use crate::error::{ErrorCode, Rejection};
use crate::keys::{Algorithm, KeyWithId, PublicKey};

/// What the verifier knows about a credential when it asks for the key.
/// Nothing here is verified yet: the resolver decides which keys would be
/// acceptable, and the signature check then proves one of them signed.
#[derive(Debug, Clone, Copy)]
pub struct KeyQuery<'a> {
    /// The credential's `iss` (always present in an SD-JWT VC; a plain
    /// SD-JWT may have none, and then only keys pinned for any issuer apply).
    pub iss: Option<&'a str>,
    /// The header `kid`, if any.
    pub kid: Option<&'a str>,
    /// The header `alg`.
    pub alg: Algorithm,
    /// The credential's `vct`, if any.
    pub vct: Option<&'a str>,
    /// The credential's `iat`, if any.
    pub iat: Option<i64>,
    /// The time of checking.
    pub now: i64,
    /// The header's `x5c` (the signing certificate and its chain), if any:
    /// a resolver with anchor certificates validates it to one of them
    /// at `now` ([`crate::x509`]).
    pub x5c: Option<&'a serde_json::Value>,
}

/// What the verifier asks about a credential's status
/// (`status.status_list {idx, uri}`).
#[derive(Debug, Clone, Copy)]
pub struct StatusQuery<'a> {
    /// The credential's `iss`.
    pub iss: &'a str,
    /// `status.status_list.uri`.
    pub uri: &'a str,
    /// `status.status_list.idx`.
    pub idx: u64,
    /// The time of checking.
    pub now: i64,
    /// The policy's maximum status-list age (from the list's `iat`).
    pub max_age_secs: u32,
}

/// The answer of a trust source about a credential's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusAnswer {
    /// This trust source carries no status lists (keys only).
    NotAvailable,
    /// The status, and why the list is stale if it is.
    Found {
        /// The status value.
        status: crate::status::Status,
        /// `Some(reason)` when the list (or the trust list) is past its
        /// freshness: its `exp`, the policy's maximum age, the trust list's
        /// `next_update` (never its `ttl`, a refetch hint).
        stale: Option<String>,
    },
    /// The status cannot be established (missing list, wrong issuer, index
    /// out of range).
    Failed(Rejection),
}

/// Supplies the keys that may have signed a credential, and (optionally)
/// its status.
pub trait KeyResolver {
    /// The candidate keys for this credential, or the rejection that
    /// explains why none is acceptable. Keys returned must fit `query.alg`.
    fn resolve(&self, query: &KeyQuery<'_>) -> Result<Vec<PublicKey>, Rejection>;

    /// The credential's status, when this source carries status lists.
    fn status(&self, _query: &StatusQuery<'_>) -> StatusAnswer {
        StatusAnswer::NotAvailable
    }

    /// Whether every credential of `iss` must carry a `status` reference:
    /// true when the source knows that the issuer publishes status lists
    /// (a credential without one could not be revoked, so it is refused
    /// with `status_missing`).
    fn status_required(&self, _iss: &str) -> bool {
        false
    }
}

/// Keys held in memory: per issuer, and optionally pinned for any issuer.
#[derive(Debug, Clone, Default)]
pub struct InMemoryKeys {
    by_issuer: HashMap<String, Vec<KeyWithId>>,
    any_issuer: Vec<KeyWithId>,
}

impl InMemoryKeys {
    /// No keys: every credential is `issuer_unknown`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `key` for credentials whose `iss` is `issuer`.
    pub fn add_issuer_key(&mut self, issuer: impl Into<String>, key: KeyWithId) -> &mut Self {
        self.by_issuer.entry(issuer.into()).or_default().push(key);
        self
    }

    /// Trusts `key` whatever the credential's `iss` (a counter that pins
    /// one issuer's key directly).
    pub fn pin_for_any_issuer(&mut self, key: KeyWithId) -> &mut Self {
        self.any_issuer.push(key);
        self
    }

    /// Whether no key is held at all.
    pub fn is_empty(&self) -> bool {
        self.by_issuer.is_empty() && self.any_issuer.is_empty()
    }
}

impl KeyResolver for InMemoryKeys {
    fn resolve(&self, q: &KeyQuery<'_>) -> Result<Vec<PublicKey>, Rejection> {
        let listed = q
            .iss
            .and_then(|iss| self.by_issuer.get(iss))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let all: Vec<&KeyWithId> = listed.iter().chain(&self.any_issuer).collect();
        if all.is_empty() {
            return Err(Rejection::new(
                ErrorCode::IssuerUnknown,
                format!("no trusted key for issuer {:?}", q.iss),
            ));
        }
        // A key without a kid matches any kid (it was pinned as is).
        let by_kid: Vec<&KeyWithId> = all
            .into_iter()
            .filter(|k| match (q.kid, &k.kid) {
                (Some(want), Some(have)) => want == have,
                _ => true,
            })
            .collect();
        if by_kid.is_empty() {
            return Err(Rejection::new(
                ErrorCode::KeyUnknown,
                format!(
                    "issuer {:?} has no key with kid {:?}",
                    q.iss.unwrap_or("(none)"),
                    q.kid.unwrap_or_default()
                ),
            ));
        }
        let mut fitting: Vec<PublicKey> = by_kid
            .into_iter()
            .filter(|k| q.alg.fits(&k.key))
            .map(|k| k.key.clone())
            .collect();
        // No anchor certificate here: the pin is the trust. A certificate
        // in the header must at least be for the pinned key that verifies.
        if let Some(x5c) = q.x5c {
            let leaf = crate::x509::parse_x5c(x5c)?
                .first()
                .map(crate::x509::Certificate::public_key)
                .transpose()?;
            fitting.retain(|k| Some(k) == leaf.as_ref());
            if fitting.is_empty() {
                return Err(Rejection::new(
                    ErrorCode::X5cKeyNotListed,
                    format!(
                        "the certificate in the header is not for a pinned key of issuer {:?}",
                        q.iss.unwrap_or("(none)")
                    ),
                ));
            }
            return Ok(fitting);
        }
        if fitting.is_empty() {
            return Err(Rejection::new(
                ErrorCode::AlgKeyMismatch,
                format!(
                    "alg {} does not fit any key of issuer {:?}",
                    q.alg.as_str(),
                    q.iss
                ),
            ));
        }
        Ok(fitting)
    }
}
