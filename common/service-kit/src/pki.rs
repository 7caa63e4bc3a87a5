//! Making X.509 certificates with `rcgen`: a certificate authority's
//! self-signed certificate, and end-entity certificates it signs for a
//! public key it was given (the key's owner keeps the private half).
//!
//! Two CAs use it: the trust-list operator's, which certifies each issuing
//! agency's signing key (HAIP 1.0 `x5c` on credentials and status list
//! tokens, `tongban-issuer trust-list ca …`), and the receiving agencies'
//! service's, which certifies its tenants' request-signing keys. The
//! profile is the same: a CA certificate with `basicConstraints` `cA` and a
//! path length, `keyUsage` `keyCertSign` and `cRLSign`; a leaf that is not
//! a CA, with `keyUsage` `digitalSignature`, an authority key identifier,
//! and its identity as subject alternative names.
//!
//! The CA's certificate is rebuilt from its [`CaIdentity`] and key when it
//! signs: `rcgen` takes the issuer's name and key identifier from them, so
//! the leaves chain to the certificate made by [`new_ca`].
//!
//! Key algorithms are one `match` each ([`KeyAlg`]): Ed25519 and ECDSA
//! P-256 (ES256). SM2 is not offered: `rcgen` has no SM2 algorithm, and the
//! verifier's chain check accepts Ed25519 and P-256 only.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PKCS_ED25519, PublicKeyData, SanType, SignatureAlgorithm,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The DNS name is not a host name.
    #[error("{0:?} is not a DNS host name (letters, digits, hyphens and dots)")]
    BadDnsName(String),
    /// A URI subject alternative name that is not ASCII.
    #[error("{0:?} cannot be a URI subject alternative name")]
    BadUri(String),
    /// A subject public key of the wrong length or form for its algorithm.
    #[error("the public key is not a valid {0} key")]
    BadPublicKey(&'static str),
    /// `rcgen` refused.
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A time out of range.
    #[error("certificate validity out of range")]
    Time,
}

/// The algorithm of a certified key (and of the signatures its
/// certificate's owner makes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// Ed25519 (RFC 8410).
    Ed25519,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl KeyAlg {
    fn rcgen(self) -> &'static SignatureAlgorithm {
        match self {
            KeyAlg::Ed25519 => &PKCS_ED25519,
            KeyAlg::Es256 => &PKCS_ECDSA_P256_SHA256,
        }
    }

    /// The name used in files and messages (`ed25519`, `es256`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Ed25519 => "ed25519",
            KeyAlg::Es256 => "es256",
        }
    }

    /// Parses [`KeyAlg::as_str`].
    pub fn parse(name: &str) -> Option<KeyAlg> {
        match name {
            "ed25519" => Some(KeyAlg::Ed25519),
            "es256" => Some(KeyAlg::Es256),
            _ => None,
        }
    }
}

/// A public key to certify: the raw subject public key bits (32 bytes
/// for Ed25519, the uncompressed SEC1 point for P-256).
#[derive(Debug, Clone)]
pub struct SubjectKey {
    alg: KeyAlg,
    bits: Vec<u8>,
}

impl SubjectKey {
    /// An Ed25519 public key.
    pub fn ed25519(key: &[u8; 32]) -> SubjectKey {
        SubjectKey {
            alg: KeyAlg::Ed25519,
            bits: key.to_vec(),
        }
    }

    /// A P-256 public key as an uncompressed SEC1 point (65 bytes,
    /// `0x04 ‖ x ‖ y`).
    pub fn p256_uncompressed(point: &[u8]) -> Result<SubjectKey, PkiError> {
        if point.len() != 65 || point[0] != 4 {
            return Err(PkiError::BadPublicKey("P-256"));
        }
        Ok(SubjectKey {
            alg: KeyAlg::Es256,
            bits: point.to_vec(),
        })
    }
}

impl PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }

    fn algorithm(&self) -> &SignatureAlgorithm {
        self.alg.rcgen()
    }
}

/// A CA's name: its subject is `CN=<common_name>, O=<organization>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaIdentity {
    /// The common name.
    pub common_name: String,
    /// The organization.
    pub organization: String,
}

/// A key and certificate just made: the key as PKCS#8 DER (to keep or
/// seal) and the certificate as DER.
pub struct Issued {
    /// The private key, PKCS#8 DER.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("cert_der", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

/// What a leaf certifies: its subject's common name, its identities as
/// subject alternative names, and its validity (Unix seconds).
#[derive(Debug, Clone)]
pub struct LeafProfile {
    /// The subject's common name.
    pub common_name: String,
    /// `uniformResourceIdentifier` names (an issuing agency's id).
    pub uris: Vec<String>,
    /// `dNSName` names (a service's host).
    pub dns_names: Vec<String>,
    /// `notBefore`.
    pub not_before: i64,
    /// `notAfter`.
    pub not_after: i64,
}

fn at(unix: i64) -> Result<OffsetDateTime, PkiError> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| PkiError::Time)
}

fn ca_params(
    id: &CaIdentity,
    path_len: u8,
    not_before: i64,
    not_after: i64,
) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, id.common_name.as_str());
    dn.push(DnType::OrganizationName, id.organization.as_str());
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = at(not_before)?;
    p.not_after = at(not_after)?;
    Ok(p)
}

/// Makes a CA: a fresh key of `alg` and a self-signed CA certificate for
/// `id`, valid from `not_before` to `not_after`, allowing `path_len`
/// intermediate CAs below it (0: it signs leaves only).
pub fn new_ca(
    id: &CaIdentity,
    alg: KeyAlg,
    path_len: u8,
    not_before: i64,
    not_after: i64,
) -> Result<Issued, PkiError> {
    let key = KeyPair::generate_for(alg.rcgen())?;
    let cert = ca_params(id, path_len, not_before, not_after)?.self_signed(&key)?;
    Ok(Issued {
        key_pkcs8: Zeroizing::new(key.serialize_der()),
        cert_der: cert.der().to_vec(),
    })
}

/// A CA able to sign: its identity and key (PKCS#8 DER, Ed25519 or
/// P-256, told apart by `rcgen`).
pub struct Ca {
    params: rcgen::Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

impl Ca {
    /// The CA `id` with its key. The path length and dates only shape the
    /// in-memory certificate `rcgen` signs with (its name and key
    /// identifier go into the leaves); the certificate verifiers hold is
    /// the one [`new_ca`] made.
    pub fn open(id: &CaIdentity, key_pkcs8: &[u8]) -> Result<Ca, PkiError> {
        let key = KeyPair::try_from(key_pkcs8)?;
        let params = ca_params(id, 0, 0, 1)?.self_signed(&key)?;
        Ok(Ca { params, key })
    }

    /// The DER of the CA's subject public key bits (to compare with the
    /// stored certificate's).
    pub fn public_key_bits(&self) -> &[u8] {
        self.key.der_bytes()
    }

    /// Signs a leaf certificate for `key` (a [`SubjectKey`], or a key pair
    /// `rcgen` made) with `profile`.
    pub fn issue_leaf(
        &self,
        profile: &LeafProfile,
        key: &impl PublicKeyData,
    ) -> Result<Vec<u8>, PkiError> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, profile.common_name.as_str());
        p.distinguished_name = dn;
        let mut sans = Vec::new();
        for uri in &profile.uris {
            sans.push(SanType::URI(
                uri.as_str()
                    .try_into()
                    .map_err(|_| PkiError::BadUri(uri.clone()))?,
            ));
        }
        for dns in &profile.dns_names {
            if !valid_dns_name(dns) {
                return Err(PkiError::BadDnsName(dns.clone()));
            }
            sans.push(SanType::DnsName(
                dns.as_str()
                    .try_into()
                    .map_err(|_| PkiError::BadDnsName(dns.clone()))?,
            ));
        }
        p.subject_alt_names = sans;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.use_authority_key_identifier_extension = true;
        p.not_before = at(profile.not_before)?;
        p.not_after = at(profile.not_after)?;
        Ok(p.signed_by(key, &self.params, &self.key)?.der().to_vec())
    }
}

/// Whether `name` is a DNS host name a certificate can carry.
pub fn valid_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A DER certificate as PEM.
pub fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> CaIdentity {
        CaIdentity {
            common_name: "Test zone CA".into(),
            organization: "Tongban".into(),
        }
    }

    #[test]
    fn a_ca_signs_a_leaf_for_a_key_it_does_not_hold() {
        for alg in [KeyAlg::Ed25519, KeyAlg::Es256] {
            let now = 1_795_572_000;
            let ca = new_ca(&id(), alg, 0, now - 10, now + 1000).unwrap();
            let signer = Ca::open(&id(), &ca.key_pkcs8).unwrap();
            let leaf_key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
            let raw: [u8; 32] = leaf_key.der_bytes().try_into().unwrap();
            let leaf = signer
                .issue_leaf(
                    &LeafProfile {
                        common_name: "Agency".into(),
                        uris: vec!["https://agency.example".into()],
                        dns_names: vec![],
                        not_before: now - 10,
                        not_after: now + 100,
                    },
                    &SubjectKey::ed25519(&raw),
                )
                .unwrap();
            let ca_cert = openssl::x509::X509::from_der(&ca.cert_der).unwrap();
            let leaf_cert = openssl::x509::X509::from_der(&leaf).unwrap();
            assert!(leaf_cert.verify(&ca_cert.public_key().unwrap()).unwrap());
            assert_eq!(
                ca_cert.issued(&leaf_cert),
                openssl::x509::X509VerifyResult::OK,
                "{alg:?}"
            );
            assert_eq!(
                leaf_cert.public_key().unwrap().raw_public_key().unwrap(),
                raw
            );
        }
    }

    #[test]
    fn bad_names_and_keys_are_refused() {
        assert!(valid_dns_name("verifier.qingpu.example"));
        for bad in ["", "a..b", "-a.b", "a_b.c", "a b", "é.cn"] {
            assert!(!valid_dns_name(bad), "{bad}");
        }
        assert!(SubjectKey::p256_uncompressed(&[4; 33]).is_err());
        assert!(KeyAlg::parse("sm2").is_none());
        assert_eq!(KeyAlg::parse("es256"), Some(KeyAlg::Es256));
    }
}
