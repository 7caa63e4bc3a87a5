//! The operator CA and the tenants' request-signing certificates, made
//! with `rcgen` through the service kit's `pki` (shared with the issuer's
//! trust-list CA).
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
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
use sha2::{Digest, Sha256};
use tongban_service_kit::pki::{self as kit, CaIdentity, KeyAlg, LeafProfile};
use zeroize::Zeroizing;

pub use tongban_service_kit::pki::{Issued, PkiError, pem, valid_dns_name};

/// How long the operator CA's certificate is valid, days.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// How long a tenant's certificate is valid, days.
pub const LEAF_VALIDITY_DAYS: i64 = 397;

fn identity(common_name: &str) -> CaIdentity {
    CaIdentity {
        common_name: common_name.to_owned(),
        organization: "Tongban receiving agencies".to_owned(),
    }
}

/// Makes the operator CA: a P-256 key and a self-signed CA certificate
/// (path length 0: it signs leaves only).
pub fn new_ca(common_name: &str, now: i64) -> Result<Issued, PkiError> {
    kit::new_ca(
        &identity(common_name),
        KeyAlg::Es256,
        0,
        now - 300,
        now + CA_VALIDITY_DAYS * 86_400,
    )
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
    let ca = kit::Ca::open(&identity(ca_common_name), ca_key_pkcs8)?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert_der = ca.issue_leaf(
        &LeafProfile {
            common_name: common_name.to_owned(),
            uris: Vec::new(),
            dns_names: vec![dns.to_owned()],
            not_before: now - 300,
            not_after: now + LEAF_VALIDITY_DAYS * 86_400,
        },
        &key,
    )?;
    Ok(Issued {
        key_pkcs8: Zeroizing::new(key.serialize_der()),
        cert_der,
    })
}

/// `x509_hash:<base64url SHA-256 of the leaf DER>` (OpenID4VP 1.0 §5.9.3).
pub fn x509_hash_client_id(leaf_der: &[u8]) -> String {
    format!(
        "x509_hash:{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(leaf_der))
    )
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
