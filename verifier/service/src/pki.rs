//! The operator CA and the tenants' request-signing certificates, made
//! with `rcgen`.
//!
//! HAIP 1.0 asks that the certificate signing a request object is not
//! self-signed and that the trust anchor is not sent in `x5c`. Until a
//! trust-list CA for receiving agencies exists, the operator makes one
//! (`tongban-verifier-service ca init`), wallets are told to trust its
//! certificate (`ca export`), and every tenant's leaf certificate
//! (`tenant add … --dns NAME`) is signed by it: P-256 keys, ES256
//! signatures, a `dNSName` subject alternative name, key usage
//! `digitalSignature`, not a CA. `x5c` carries the leaf only.
//!
//! The CA's own certificate is built from its stored parameters (common
//! name and key) when signing: `rcgen` takes the issuer's name and key
//! identifier from them, so leaves issued later chain to the stored
//! certificate.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SanType,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// How long the operator CA's certificate is valid, days.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// How long a tenant's certificate is valid, days.
pub const LEAF_VALIDITY_DAYS: i64 = 397;

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The DNS name is not a host name.
    #[error("{0:?} is not a DNS host name (letters, digits, hyphens and dots)")]
    BadDnsName(String),
    /// `rcgen` refused.
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A time out of range.
    #[error("certificate validity out of range")]
    Time,
}

/// A key and certificate just made: the key as PKCS#8 DER (to seal) and
/// the certificate as DER.
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

fn at(unix: i64) -> Result<OffsetDateTime, PkiError> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| PkiError::Time)
}

fn ca_params(common_name: &str, now: i64) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "Tongban receiving agencies");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = at(now - 300)?;
    p.not_after = at(now + CA_VALIDITY_DAYS * 86_400)?;
    Ok(p)
}

/// Makes the operator CA: a P-256 key and a self-signed CA certificate
/// (path length 0: it signs leaves only).
pub fn new_ca(common_name: &str, now: i64) -> Result<Issued, PkiError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = ca_params(common_name, now)?.self_signed(&key)?;
    Ok(Issued {
        key_pkcs8: Zeroizing::new(key.serialize_der()),
        cert_der: cert.der().to_vec(),
    })
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

/// Issues a tenant's request-signing certificate: a fresh P-256 key, CN
/// `common_name`, SAN `dNSName` `dns`, signed by the CA (`ca_common_name`,
/// `ca_key_pkcs8`).
pub fn new_leaf(
    common_name: &str,
    dns: &str,
    ca_common_name: &str,
    ca_key_pkcs8: &[u8],
    now: i64,
) -> Result<Issued, PkiError> {
    if !valid_dns_name(dns) {
        return Err(PkiError::BadDnsName(dns.to_owned()));
    }
    let ca_key = KeyPair::try_from(ca_key_pkcs8)?;
    let ca = ca_params(ca_common_name, now)?.self_signed(&ca_key)?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    p.subject_alt_names = vec![SanType::DnsName(
        dns.try_into()
            .map_err(|_| PkiError::BadDnsName(dns.to_owned()))?,
    )];
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p.not_before = at(now - 300)?;
    p.not_after = at(now + LEAF_VALIDITY_DAYS * 86_400)?;
    let cert = p.signed_by(&key, &ca, &ca_key)?;
    Ok(Issued {
        key_pkcs8: Zeroizing::new(key.serialize_der()),
        cert_der: cert.der().to_vec(),
    })
}

/// `x509_hash:<base64url SHA-256 of the leaf DER>` (OpenID4VP 1.0 §5.9.3).
pub fn x509_hash_client_id(leaf_der: &[u8]) -> String {
    format!(
        "x509_hash:{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(leaf_der))
    )
}

/// A DER certificate as PEM.
pub fn pem(der: &[u8]) -> String {
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

    #[test]
    fn a_leaf_is_signed_by_the_ca_and_is_not_self_signed() {
        let now = 1_795_572_000;
        let ca = new_ca("Tongban test CA", now).unwrap();
        let leaf = new_leaf(
            "Qingpu",
            "verifier.qingpu.example",
            "Tongban test CA",
            &ca.key_pkcs8,
            now,
        )
        .unwrap();
        let ca_cert = openssl::x509::X509::from_der(&ca.cert_der).unwrap();
        let leaf_cert = openssl::x509::X509::from_der(&leaf.cert_der).unwrap();
        assert!(
            leaf_cert.verify(&ca_cert.public_key().unwrap()).unwrap(),
            "signed by the CA"
        );
        assert!(
            !leaf_cert.verify(&leaf_cert.public_key().unwrap()).unwrap(),
            "not self-signed"
        );
        assert_eq!(
            ca_cert.issued(&leaf_cert),
            openssl::x509::X509VerifyResult::OK
        );
        let sans = leaf_cert.subject_alt_names().unwrap();
        assert_eq!(
            sans.get(0).unwrap().dnsname(),
            Some("verifier.qingpu.example")
        );
        assert!(x509_hash_client_id(&leaf.cert_der).starts_with("x509_hash:"));
        assert_eq!(
            x509_hash_client_id(&leaf.cert_der).len(),
            "x509_hash:".len() + 43
        );
        assert!(pem(&ca.cert_der).starts_with("-----BEGIN CERTIFICATE-----\n"));
    }

    #[test]
    fn dns_names_are_checked() {
        assert!(valid_dns_name("verifier.qingpu.example"));
        for bad in ["", "a..b", "-a.b", "a_b.c", "a b", "é.cn"] {
            assert!(!valid_dns_name(bad), "{bad}");
        }
        assert!(matches!(
            new_leaf("x", "a b", "ca", &new_ca("ca", 0).unwrap().key_pkcs8, 0),
            Err(PkiError::BadDnsName(_))
        ));
    }
}
