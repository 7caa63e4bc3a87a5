//! The zone's certificate authority (HAIP 1.0 X.509 key resolution): the
//! trust-list operator certifies each issuing agency's listed signing key,
//! and the list carries both the anchor certificate (`x509_anchors`) and
//! each key's chain (`keys[].x5c`, version 5, `specs/trust-list.md` §1.6).
//!
//! A certificate adds no trust of its own: verifiers accept a chain only
//! for a key the list (signed by the root's threshold) gives the agency.
//! The certificates themselves are made by `tongban_service_kit::pki`.
//!
//! The CA's private state is one JSON file ([`CaFile`], mode 0600): its
//! algorithm, its name, its PKCS#8 key and its certificate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tongban_service_kit::pki::{self, CaIdentity, KeyAlg, LeafProfile, SubjectKey};
use tongban_verifier::trust::TrustList;
use tongban_verifier::x509::{self, Certificate};
use tongban_verifier::{KeyWithId, PublicKey};
use zeroize::Zeroizing;

use super::{DraftError, issuer_mut};

/// How long an agency's signing certificate is valid by default, days.
pub const LEAF_VALIDITY_DAYS: i64 = 397;
/// How long the CA's certificate is valid by default, days.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// The organization every zone CA names.
pub const CA_ORGANIZATION: &str = "Tongban trust zone";

/// The CA's private file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaFile {
    /// Format version: 1.
    pub version: u32,
    /// `ed25519` or `es256`.
    pub alg: String,
    /// The certificate's common name.
    pub common_name: String,
    /// The private key, PKCS#8 DER, standard base64.
    pub key_pkcs8: String,
    /// The CA certificate, DER, standard base64 (what `x509_anchors` holds).
    pub certificate: String,
}

impl std::fmt::Debug for CaFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaFile")
            .field("alg", &self.alg)
            .field("common_name", &self.common_name)
            .finish_non_exhaustive()
    }
}

fn identity(common_name: &str) -> CaIdentity {
    CaIdentity {
        common_name: common_name.to_owned(),
        organization: CA_ORGANIZATION.to_owned(),
    }
}

fn pki_error(e: pki::PkiError) -> DraftError {
    DraftError::Invalid(format!("certificate: {e}"))
}

/// Makes the zone's CA: a fresh key of `alg`, a self-signed CA certificate
/// (path length 0: it certifies agency keys directly) valid from `now` for
/// `validity_days`.
pub fn new_ca(
    common_name: &str,
    alg: KeyAlg,
    now: i64,
    validity_days: i64,
) -> Result<CaFile, DraftError> {
    if common_name.trim().is_empty() {
        return Err(DraftError::Invalid("the CA's common name is empty".into()));
    }
    let issued = pki::new_ca(
        &identity(common_name),
        alg,
        0,
        now - 300,
        now + validity_days * 86_400,
    )
    .map_err(pki_error)?;
    Ok(CaFile {
        version: 1,
        alg: alg.as_str().to_owned(),
        common_name: common_name.to_owned(),
        key_pkcs8: STANDARD.encode(issued.key_pkcs8.as_slice()),
        certificate: STANDARD.encode(&issued.cert_der),
    })
}

impl CaFile {
    /// The CA certificate, parsed and checked as an anchor.
    pub fn certificate(&self) -> Result<Certificate, DraftError> {
        let cert = Certificate::from_b64(&self.certificate)
            .map_err(|r| DraftError::Invalid(format!("the CA file's certificate: {}", r.detail)))?;
        x509::check_anchor(&cert)
            .map_err(|r| DraftError::Invalid(format!("the CA file's certificate: {}", r.detail)))?;
        Ok(cert)
    }

    fn open(&self) -> Result<pki::Ca, DraftError> {
        if self.version != 1 || KeyAlg::parse(&self.alg).is_none() {
            return Err(DraftError::Invalid(format!(
                "not a version 1 CA file of a known algorithm ({})",
                self.alg
            )));
        }
        let key = Zeroizing::new(
            STANDARD
                .decode(&self.key_pkcs8)
                .map_err(|_| DraftError::Invalid("the CA file's key is not base64".into()))?,
        );
        pki::Ca::open(&identity(&self.common_name), &key).map_err(pki_error)
    }
}

/// Puts the CA's certificate among the list's `x509_anchors` (the list
/// becomes version 5). Returns whether it was added (false: already there).
pub fn add_anchor(list: &mut TrustList, ca: &CaFile) -> Result<bool, DraftError> {
    let cert = ca.certificate()?;
    list.upgrade();
    let anchors = list.x509_anchors.get_or_insert_with(Vec::new);
    if anchors.contains(&cert.to_b64()) {
        return Ok(false);
    }
    anchors.push(cert.to_b64());
    Ok(true)
}

/// The raw key `rcgen` certifies: Ed25519 or P-256 (one arm each). An SM2
/// key cannot be certified (`rcgen` has no SM2, and verifiers check
/// Ed25519 and ECDSA P-256 chains only): it stays on the `kid` path.
fn subject_key(key: &PublicKey) -> Result<SubjectKey, DraftError> {
    match key {
        PublicKey::Ed25519(k) => Ok(SubjectKey::ed25519(k.as_bytes())),
        PublicKey::P256(k) => {
            SubjectKey::p256_uncompressed(k.to_encoded_point(false).as_bytes()).map_err(pki_error)
        }
        #[allow(unreachable_patterns)]
        _ => Err(DraftError::BadKey(format!(
            "a {} key cannot be certified (Ed25519 and P-256 keys can); it stays on the kid path",
            key.default_algorithm().as_str()
        ))),
    }
}

/// Certifies the key `kid` of `issuer` in the draft: a leaf naming the
/// agency (`uniformResourceIdentifier` = its id), valid from `now` for
/// `validity_days`, signed by the CA, recorded as the key's `x5c`; the
/// CA's certificate is added to `x509_anchors` if missing. Returns the
/// chain (`x5c`, the leaf only: the CA signs leaves directly).
pub fn certify_key(
    list: &mut TrustList,
    ca: &CaFile,
    issuer: &str,
    kid: &str,
    now: i64,
    validity_days: i64,
) -> Result<Vec<String>, DraftError> {
    let anchor = ca.certificate()?;
    let signer = ca.open()?;
    // The key file must be the certificate's (fail closed on a mixed-up file).
    let anchor_key_bits = match anchor.public_key() {
        Ok(PublicKey::Ed25519(k)) => k.as_bytes().to_vec(),
        Ok(PublicKey::P256(k)) => k.to_encoded_point(false).as_bytes().to_vec(),
        _ => Vec::new(),
    };
    if anchor_key_bits != signer.public_key_bits() {
        return Err(DraftError::Invalid(
            "the CA file's key is not its certificate's".into(),
        ));
    }
    add_anchor(list, ca)?;
    let entry = issuer_mut(list, issuer)?;
    let name = entry.name_en.clone();
    let key = entry
        .keys
        .iter_mut()
        .find(|k| k.jwk.get("kid").and_then(Value::as_str) == Some(kid))
        .ok_or_else(|| DraftError::NoSuchKey {
            issuer: issuer.to_owned(),
            kid: kid.to_owned(),
        })?;
    if key.compromised_since().is_some() {
        return Err(DraftError::BadKey(format!(
            "key {kid} was reported compromised; certify a new key"
        )));
    }
    let public = KeyWithId::from_jwk(&key.jwk)
        .map_err(|e| DraftError::BadKey(e.to_string()))?
        .key;
    let leaf = signer
        .issue_leaf(
            &LeafProfile {
                common_name: format!("{name} signing key {kid}"),
                uris: vec![issuer.to_owned()],
                dns_names: Vec::new(),
                not_before: now - 300,
                not_after: now + validity_days * 86_400,
            },
            &subject_key(&public)?,
        )
        .map_err(pki_error)?;
    let chain = vec![STANDARD.encode(&leaf)];
    // What every verifier will do with it, now: refuse to record a chain
    // that would not validate.
    let parsed = x509::parse_x5c(&Value::from(chain.clone())).map_err(DraftError::ListInvalid)?;
    let certified =
        x509::validate_chain(&parsed, &[anchor], issuer, now).map_err(DraftError::ListInvalid)?;
    if certified != public {
        return Err(DraftError::Invalid(
            "the certificate does not certify the listed key".into(),
        ));
    }
    key.x5c = Some(chain.clone());
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use tongban_verifier::trust::{Anchor, TrustedIssuer, TrustedKey, VerifiedTrustList};
    use tongban_verifier::{Ed25519Signer, Signer as _};

    use super::*;

    const NOW: i64 = 1_795_572_000;

    fn draft(key: &Ed25519Signer) -> TrustList {
        let mut l = super::super::new_draft(Anchor {
            id: "https://trust.example".into(),
            name_zh: "区".into(),
            name_en: "Zone".into(),
        });
        let mut jwk = key.public_key().to_jwk();
        jwk["kid"] = "k1".into();
        l.issuers.push(TrustedIssuer {
            id: "https://agency.example".into(),
            name_zh: "机构".into(),
            name_en: "Agency".into(),
            region: "310118".into(),
            vcts: vec!["urn:t:1".into()],
            keys: vec![TrustedKey {
                jwk,
                not_before: NOW - 10,
                not_after: None,
                revoked_at: None,
                compromised_at: None,
                x5c: None,
            }],
            status_lists: vec![],
        });
        l
    }

    #[test]
    fn certifying_a_listed_key_records_its_chain_and_the_anchor() {
        for alg in [KeyAlg::Ed25519, KeyAlg::Es256] {
            let agency = Ed25519Signer::from_seed(&[4; 32], Some("k1".into()));
            let mut l = draft(&agency);
            let ca = new_ca("Zone CA", alg, NOW, CA_VALIDITY_DAYS).unwrap();
            let chain = certify_key(&mut l, &ca, "https://agency.example", "k1", NOW, 397).unwrap();
            assert_eq!(l.version, 5);
            assert_eq!(l.x509_anchors, Some(vec![ca.certificate.clone()]));
            assert_eq!(l.issuers[0].keys[0].x5c, Some(chain.clone()));
            assert_ne!(chain[0], ca.certificate, "never the anchor");
            l.sequence = 1;
            l.issued_at = NOW;
            l.next_update = NOW + 100;
            let anchor = Ed25519Signer::from_seed(&[1; 32], Some("a".into()));
            let v = VerifiedTrustList::verify(
                &l.sign(&anchor).unwrap(),
                &[KeyWithId {
                    key: anchor.public_key(),
                    kid: Some("a".into()),
                }],
                None,
            )
            .unwrap();
            let keys = v
                .keys_by_x5c(
                    "https://agency.example",
                    Some("k1"),
                    &Value::from(chain),
                    NOW,
                    tongban_verifier::Algorithm::EdDsa,
                    NOW,
                )
                .unwrap();
            assert_eq!(keys, vec![agency.public_key()]);
            // Certifying again adds no second anchor.
            certify_key(&mut l, &ca, "https://agency.example", "k1", NOW, 397).unwrap();
            assert_eq!(l.x509_anchors.as_ref().map(Vec::len), Some(1));
        }
    }

    #[test]
    fn unknown_and_compromised_keys_are_not_certified() {
        let agency = Ed25519Signer::from_seed(&[4; 32], Some("k1".into()));
        let mut l = draft(&agency);
        let ca = new_ca("Zone CA", KeyAlg::Ed25519, NOW, 10).unwrap();
        let e = certify_key(&mut l, &ca, "https://agency.example", "k2", NOW, 1).unwrap_err();
        assert_eq!(e.code(), "key_not_found");
        let e = certify_key(&mut l, &ca, "https://other.example", "k1", NOW, 1).unwrap_err();
        assert_eq!(e.code(), "issuer_not_found");
        l.issuers[0].keys[0].compromised_at = Some(NOW);
        let e = certify_key(&mut l, &ca, "https://agency.example", "k1", NOW, 1).unwrap_err();
        assert_eq!(e.code(), "key_invalid");
        // A CA file whose key is not its certificate's.
        let other = new_ca("Zone CA", KeyAlg::Ed25519, NOW, 10).unwrap();
        let mixed = CaFile {
            key_pkcs8: other.key_pkcs8,
            ..ca
        };
        l.issuers[0].keys[0].compromised_at = None;
        let e = certify_key(&mut l, &mixed, "https://agency.example", "k1", NOW, 1).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
    }
}
