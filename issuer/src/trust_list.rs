//! The trust-list operator's tooling: keep an unsigned draft of the list,
//! change it issuer by issuer, and sign it with the anchor key.
//!
//! The draft is the [`TrustList`] document itself; its `sequence` is that
//! of the last list signed from it, and signing increments it, so a
//! verifier can refuse an older list (rollback protection). A draft of an
//! older format version is upgraded on its first change (see
//! [`TrustList::upgrade`]), so what is signed is always the current version.

pub mod diff;
pub mod governance;
pub mod verifiers;

use serde_json::Value;
#[cfg(test)]
use tongban_verifier::Ed25519Signer;
use tongban_verifier::keys::jwk_pinned_alg;
use tongban_verifier::trust::{Anchor, TRUST_LIST_VERSION, TrustList, TrustedIssuer, TrustedKey};
use tongban_verifier::{KeyWithId, Rejection, Signer};

/// Why a change to the draft was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DraftError {
    /// An issuer with this id is already listed.
    #[error("issuer {0} is already in the list (use update-issuer)")]
    IssuerExists(String),
    /// No issuer with this id.
    #[error("issuer {0} is not in the list")]
    NoSuchIssuer(String),
    /// No key with this kid for the issuer.
    #[error("issuer {issuer} has no key {kid}")]
    NoSuchKey {
        /// The issuer.
        issuer: String,
        /// The kid.
        kid: String,
    },
    /// A key is unusable (no kid, private material, wrong type).
    #[error("key rejected: {0}")]
    BadKey(String),
    /// A field is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The resulting list would not verify.
    #[error("the list would be invalid: {0}")]
    ListInvalid(Rejection),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] tongban_verifier::SignError),
    /// A verifier would refuse the document (too few signatures, a broken
    /// root chain…): the verifier's code.
    #[error("refused: {} ({})", .0.code.message_en(), .0.detail)]
    Refused(Rejection),
    /// This key already signed the proposal.
    #[error(
        "key {kid} (thumbprint {thumbprint}) has already signed this proposal; a second signature by one key would not count"
    )]
    AlreadySigned {
        /// Its kid.
        kid: String,
        /// Its thumbprint.
        thumbprint: String,
    },
    /// The key is not one whose signature counts.
    #[error(
        "key {kid} (thumbprint {thumbprint}) is not an anchor key of this root; its signature would not count"
    )]
    NotAnAnchor {
        /// Its kid.
        kid: String,
        /// Its thumbprint.
        thumbprint: String,
    },
}

impl DraftError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            DraftError::IssuerExists(_) => "issuer_exists",
            DraftError::NoSuchIssuer(_) => "issuer_not_found",
            DraftError::NoSuchKey { .. } => "key_not_found",
            DraftError::BadKey(_) => "key_invalid",
            DraftError::Invalid(_) => "invalid_argument",
            DraftError::ListInvalid(_) => "trust_list_invalid",
            DraftError::Sign(_) => "signing_failed",
            DraftError::Refused(r) => r.code.code(),
            DraftError::AlreadySigned { .. } => "already_signed",
            DraftError::NotAnAnchor { .. } => "signer_not_anchor",
        }
    }
}

/// A new, empty draft for an anchor.
pub fn new_draft(anchor: Anchor) -> TrustList {
    TrustList {
        version: TRUST_LIST_VERSION,
        anchor,
        sequence: 0,
        issued_at: 0,
        next_update: 1,
        root_sequence: None,
        verifiers: None,
        issuers: Vec::new(),
    }
}

/// Public keys (each with a `kid`) from a JWK or a JWKS document.
pub fn keys_from_document(doc: &Value) -> Result<Vec<Value>, DraftError> {
    let keys = KeyWithId::from_jwk_or_set(doc).map_err(|e| DraftError::BadKey(e.to_string()))?;
    let sources: Vec<&Value> = match doc.get("keys").and_then(Value::as_array) {
        Some(list) => list.iter().collect(),
        None => vec![doc],
    };
    let mut out = Vec::new();
    for (parsed, source) in keys.into_iter().zip(sources) {
        let kid = parsed.kid.ok_or_else(|| {
            DraftError::BadKey("every key needs a kid (the credential header names it)".into())
        })?;
        // Keep only the public members, the kid and the algorithm pin
        // (specs/trust-list.md §1): the source's `alg` when it has one (an
        // agency's JWKS names each key's: `EdDSA` or `Ed25519`, `ES256`,
        // `SM2SM3`), and for a key without a registered JOSE name (SM2)
        // its one name when the source has none; a source `alg` the key
        // cannot make is refused.
        let pin = jwk_pinned_alg(source, &parsed.key)
            .map_err(|e| DraftError::BadKey(format!("key {kid}: {e}")))?;
        let mut public = parsed.key.to_jwk();
        public["kid"] = Value::String(kid);
        let default = parsed.key.default_algorithm();
        if let Some(alg) = pin.or(default.requires_pin().then_some(default)) {
            public["alg"] = Value::String(alg.as_str().to_owned());
        }
        out.push(public);
    }
    Ok(out)
}

fn check_region(region: &str) -> Result<(), DraftError> {
    if region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(DraftError::Invalid(format!(
            "region {region:?} is not a 6-digit GB/T 2260 code (e.g. 320509)"
        )))
    }
}

fn issuer_mut<'a>(list: &'a mut TrustList, id: &str) -> Result<&'a mut TrustedIssuer, DraftError> {
    list.issuers
        .iter_mut()
        .find(|i| i.id == id)
        .ok_or_else(|| DraftError::NoSuchIssuer(id.into()))
}

/// Adds an issuer with its keys (valid from `not_before`).
pub fn add_issuer(
    list: &mut TrustList,
    mut issuer: TrustedIssuer,
    keys: Vec<Value>,
    not_before: i64,
) -> Result<(), DraftError> {
    list.upgrade();
    if list.issuers.iter().any(|i| i.id == issuer.id) {
        return Err(DraftError::IssuerExists(issuer.id));
    }
    if issuer.id.is_empty() {
        return Err(DraftError::Invalid(
            "the issuer id (its credentials' iss) is empty".into(),
        ));
    }
    check_region(&issuer.region)?;
    if issuer.vcts.is_empty() {
        return Err(DraftError::Invalid(
            "name at least one --vct the issuer may issue".into(),
        ));
    }
    issuer.keys = keys
        .into_iter()
        .map(|jwk| TrustedKey {
            jwk,
            not_before,
            not_after: None,
            revoked_at: None,
            compromised_at: None,
        })
        .collect();
    list.issuers.push(issuer);
    Ok(())
}

/// What `update-issuer` may change.
#[derive(Debug, Default)]
pub struct IssuerUpdate {
    /// New Chinese name.
    pub name_zh: Option<String>,
    /// New English name.
    pub name_en: Option<String>,
    /// New region.
    pub region: Option<String>,
    /// `vct`s to add.
    pub add_vcts: Vec<String>,
    /// `vct`s to remove.
    pub remove_vcts: Vec<String>,
    /// Keys to add (new `kid`s only; known `kid`s are kept as they are, so
    /// old credentials still verify after a rotation).
    pub add_keys: Vec<Value>,
    /// Valid-from for added keys.
    pub not_before: i64,
    /// `(kid, at)`: retire the key (rotation): credentials issued before
    /// `at` stay valid, none issued from `at` (sets `not_after`).
    pub retire: Vec<(String, i64)>,
    /// `(kid, at)`: the key was reported compromised at `at`: nothing it
    /// signed is accepted any more, whatever its `iat` (sets `compromised_at`).
    pub compromised: Vec<(String, i64)>,
    /// Status list URIs to add.
    pub add_status_lists: Vec<String>,
}

/// Applies an update; returns the `kid`s of keys actually added.
pub fn update_issuer(
    list: &mut TrustList,
    id: &str,
    u: IssuerUpdate,
) -> Result<Vec<String>, DraftError> {
    list.upgrade();
    let issuer = issuer_mut(list, id)?;
    if let Some(region) = u.region {
        check_region(&region)?;
        issuer.region = region;
    }
    if let Some(n) = u.name_zh {
        issuer.name_zh = n;
    }
    if let Some(n) = u.name_en {
        issuer.name_en = n;
    }
    for v in u.add_vcts {
        if !issuer.vcts.contains(&v) {
            issuer.vcts.push(v);
        }
    }
    issuer.vcts.retain(|v| !u.remove_vcts.contains(v));
    if issuer.vcts.is_empty() {
        return Err(DraftError::Invalid(
            "an issuer must keep at least one vct (use remove-issuer instead)".into(),
        ));
    }
    let mut added = Vec::new();
    for jwk in u.add_keys {
        let kid = jwk["kid"].as_str().unwrap_or_default().to_owned();
        if issuer.keys.iter().any(|k| k.jwk["kid"] == jwk["kid"]) {
            continue;
        }
        issuer.keys.push(TrustedKey {
            jwk,
            not_before: u.not_before,
            not_after: None,
            revoked_at: None,
            compromised_at: None,
        });
        added.push(kid);
    }
    for (kid, at) in u.retire {
        key_mut(issuer, &kid)?.not_after = Some(at);
    }
    for (kid, at) in u.compromised {
        let key = key_mut(issuer, &kid)?;
        // The first report stands: a later one does not move it.
        if key.compromised_at.is_none() {
            key.compromised_at = Some(at);
        }
    }
    for uri in u.add_status_lists {
        if !issuer.status_lists.contains(&uri) {
            issuer.status_lists.push(uri);
        }
    }
    Ok(added)
}

fn key_mut<'a>(issuer: &'a mut TrustedIssuer, kid: &str) -> Result<&'a mut TrustedKey, DraftError> {
    let id = issuer.id.clone();
    issuer
        .keys
        .iter_mut()
        .find(|k| k.jwk["kid"] == kid)
        .ok_or(DraftError::NoSuchKey {
            issuer: id,
            kid: kid.into(),
        })
}

/// Removes an issuer.
pub fn remove_issuer(list: &mut TrustList, id: &str) -> Result<(), DraftError> {
    let before = list.issuers.len();
    list.issuers.retain(|i| i.id != id);
    if list.issuers.len() == before {
        return Err(DraftError::NoSuchIssuer(id.into()));
    }
    Ok(())
}

/// Signs the next list from the draft: sequence + 1, issued now, due for
/// replacement after `validity_secs`. The draft keeps the new sequence.
pub fn sign(
    draft: &mut TrustList,
    anchor: &dyn Signer,
    now: i64,
    validity_secs: i64,
) -> Result<String, DraftError> {
    if validity_secs <= 0 {
        return Err(DraftError::Invalid("the validity must be positive".into()));
    }
    let mut next = draft.clone();
    next.upgrade();
    next.sequence = draft.sequence + 1;
    next.issued_at = now;
    next.next_update = now + validity_secs;
    next.validate().map_err(DraftError::ListInvalid)?;
    let jws = next.sign(anchor)?;
    *draft = next;
    Ok(jws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tongban_verifier::trust::VerifiedTrustList;

    fn anchor() -> (Ed25519Signer, Anchor) {
        (
            Ed25519Signer::from_seed(&[1; 32], Some("a1".into())),
            Anchor {
                id: "https://trust.example".into(),
                name_zh: "示范区".into(),
                name_en: "Zone".into(),
            },
        )
    }

    fn issuer(id: &str) -> TrustedIssuer {
        TrustedIssuer {
            id: id.into(),
            name_zh: "吴江".into(),
            name_en: "Wujiang".into(),
            region: "320509".into(),
            vcts: vec!["urn:x:1".into()],
            keys: vec![],
            status_lists: vec![],
        }
    }

    fn jwk(seed: u8, kid: &str) -> Value {
        let mut j = Ed25519Signer::from_seed(&[seed; 32], None)
            .public_key()
            .to_jwk();
        j["kid"] = json!(kid);
        j
    }

    #[test]
    fn add_update_remove_and_sign_with_monotonic_sequence() {
        let (signer, a) = anchor();
        let mut d = new_draft(a);
        add_issuer(
            &mut d,
            issuer("https://wj.example"),
            vec![jwk(2, "k1")],
            100,
        )
        .unwrap();
        assert!(matches!(
            add_issuer(&mut d, issuer("https://wj.example"), vec![], 0),
            Err(DraftError::IssuerExists(_))
        ));
        let mut bad = issuer("https://x.example");
        bad.region = "32".into();
        assert_eq!(
            add_issuer(&mut d, bad, vec![], 0).unwrap_err().code(),
            "invalid_argument"
        );

        let added = update_issuer(
            &mut d,
            "https://wj.example",
            IssuerUpdate {
                add_keys: vec![jwk(2, "k1"), jwk(3, "k2")],
                not_before: 200,
                retire: vec![("k1".into(), 200)],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            added,
            vec!["k2".to_string()],
            "a known kid is kept, not replaced"
        );
        assert_eq!(d.issuers[0].keys[0].not_after, Some(200));

        let first = sign(&mut d, &signer, 1000, 3600).unwrap();
        let second = sign(&mut d, &signer, 2000, 3600).unwrap();
        let anchors = [KeyWithId {
            key: signer.public_key(),
            kid: Some("a1".into()),
        }];
        let v1 = VerifiedTrustList::verify(&first, &anchors, None).unwrap();
        let v2 = VerifiedTrustList::verify(&second, &anchors, Some(1)).unwrap();
        assert_eq!((v1.list().sequence, v2.list().sequence), (1, 2));
        assert!(
            VerifiedTrustList::verify(&first, &anchors, Some(2)).is_err(),
            "rollback"
        );

        remove_issuer(&mut d, "https://wj.example").unwrap();
        assert!(matches!(
            remove_issuer(&mut d, "https://wj.example"),
            Err(DraftError::NoSuchIssuer(_))
        ));
    }

    #[test]
    fn keys_need_a_kid_and_no_private_part() {
        let mut no_kid = Ed25519Signer::from_seed(&[2; 32], None)
            .public_key()
            .to_jwk();
        assert_eq!(
            keys_from_document(&no_kid).unwrap_err().code(),
            "key_invalid"
        );
        no_kid["kid"] = json!("k");
        assert_eq!(
            keys_from_document(&json!({"keys": [no_kid]}))
                .unwrap()
                .len(),
            1
        );
        let private = Ed25519Signer::from_seed(&[2; 32], Some("k".into())).to_private_jwk();
        assert_eq!(
            keys_from_document(&private).unwrap_err().code(),
            "key_invalid"
        );
    }

    #[test]
    fn compromise_and_retirement_are_told_apart_and_an_old_draft_is_upgraded() {
        let (signer, a) = anchor();
        let mut d = new_draft(a);
        add_issuer(
            &mut d,
            issuer("https://wj.example"),
            vec![jwk(2, "k1"), jwk(3, "k2"), jwk(4, "k3")],
            0,
        )
        .unwrap();
        // A version 1 draft, its k1 marked with version 1's revoked_at.
        d.version = 1;
        d.issuers[0].keys[0].revoked_at = Some(50);
        update_issuer(
            &mut d,
            "https://wj.example",
            IssuerUpdate {
                retire: vec![("k2".into(), 100)],
                compromised: vec![("k3".into(), 100)],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.version, tongban_verifier::trust::TRUST_LIST_VERSION);
        let keys = &d.issuers[0].keys;
        assert_eq!(
            (keys[0].revoked_at, keys[0].compromised_at),
            (None, Some(50)),
            "version 1's revoked_at is carried over as a compromise"
        );
        assert_eq!(
            (keys[1].not_after, keys[1].compromised_at),
            (Some(100), None)
        );
        assert_eq!(
            (keys[2].not_after, keys[2].compromised_at),
            (None, Some(100))
        );
        let jws = sign(&mut d, &signer, 1000, 3600).unwrap();
        let anchors = [KeyWithId {
            key: signer.public_key(),
            kid: Some("a1".into()),
        }];
        let v = VerifiedTrustList::verify(&jws, &anchors, None).unwrap();
        assert_eq!(
            v.list().version,
            tongban_verifier::trust::TRUST_LIST_VERSION
        );
        // The compromised key signs nothing, even "before" its compromise;
        // the retired one still covers what it signed before retirement.
        let at = |kid: &str, t: i64| v.keys_valid_at("https://wj.example", Some(kid), t);
        assert_eq!(
            at("k3", 10).unwrap_err().code,
            tongban_verifier::ErrorCode::KeyRevoked
        );
        assert!(at("k2", 99).is_ok());
        assert!(at("k2", 100).is_err());
    }

    #[test]
    fn revoking_an_unknown_key_is_an_error() {
        let (_, a) = anchor();
        let mut d = new_draft(a);
        add_issuer(&mut d, issuer("https://wj.example"), vec![jwk(2, "k1")], 0).unwrap();
        let err = update_issuer(
            &mut d,
            "https://wj.example",
            IssuerUpdate {
                compromised: vec![("k9".into(), 5)],
                ..Default::default()
            },
        );
        assert_eq!(err.unwrap_err().code(), "key_not_found");
    }
}
