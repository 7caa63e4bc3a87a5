//! A test certificate authority for the `x5c` tests: the zone's anchor
//! certificate and agency signing certificates, well made or broken in one
//! chosen way (expired, a CA as leaf, an issuer that is not a CA, another
//! agency's name, a self-signed leaf, an intermediate).
//!
//! Made with `rcgen` directly, so that a test can break any field; the
//! production CA is `tongban_service_kit::pki` (which the end-to-end tests
//! drive through `tongban-issuer trust-list ca`).
#![allow(clippy::unwrap_used, clippy::panic)] // test fixtures fail loudly

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ED25519, SanType,
};
use time::OffsetDateTime;
use tongban_service_kit::pki::SubjectKey;
use tongban_verifier::PublicKey;

/// A CA (anchor or intermediate) that can sign.
pub struct TestCa {
    cert: Certificate,
    key: KeyPair,
}

fn t(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// The parameters of a CA certificate named `cn`, valid `from`..`until`.
pub fn ca_params(cn: &str, from: i64, until: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = t(from);
    p.not_after = t(until);
    p
}

/// The parameters of an agency's signing certificate for `agency`.
pub fn leaf_params(agency: &str, from: i64, until: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&format!("signing key of {agency}"));
    p.subject_alt_names = vec![SanType::URI(agency.try_into().unwrap())];
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p.not_before = t(from);
    p.not_after = t(until);
    p
}

/// What `rcgen` needs of a Tongban public key (Ed25519 or P-256).
pub fn subject_key(key: &PublicKey) -> SubjectKey {
    match key {
        PublicKey::Ed25519(k) => SubjectKey::ed25519(k.as_bytes()),
        PublicKey::P256(k) => {
            SubjectKey::p256_uncompressed(k.to_encoded_point(false).as_bytes()).unwrap()
        }
        other => panic!("no test certificate for {other:?}"),
    }
}

/// Standard base64 of a DER certificate: one `x5c` element.
pub fn b64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

impl TestCa {
    /// A self-signed anchor (Ed25519) valid `from`..`until`.
    pub fn anchor(cn: &str, from: i64, until: i64) -> TestCa {
        TestCa::anchor_with(ca_params(cn, from, until))
    }

    /// A self-signed anchor with the given parameters (Ed25519 key).
    pub fn anchor_with(params: CertificateParams) -> TestCa {
        let key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    /// A self-signed anchor with a P-256 key (ES256 signatures).
    pub fn anchor_p256(cn: &str, from: i64, until: i64) -> TestCa {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = ca_params(cn, from, until).self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, params: CertificateParams) -> TestCa {
        let key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        TestCa { cert, key }
    }

    /// The certificate's DER.
    pub fn der(&self) -> &[u8] {
        self.cert.der()
    }

    /// The certificate as one `x5c` element.
    pub fn b64(&self) -> String {
        b64(self.cert.der())
    }

    /// Signs a certificate for `key` with `params`.
    pub fn issue(&self, params: CertificateParams, key: &PublicKey) -> String {
        b64(params
            .signed_by(&subject_key(key), &self.cert, &self.key)
            .unwrap()
            .der())
    }

    /// Signs a certificate for any `rcgen` key (one of a type Tongban
    /// does not accept, say).
    pub fn issue_for(&self, params: CertificateParams, key: &impl rcgen::PublicKeyData) -> String {
        b64(params.signed_by(key, &self.cert, &self.key).unwrap().der())
    }

    /// A well-made signing certificate of `agency` for `key`.
    pub fn leaf(&self, agency: &str, key: &PublicKey, from: i64, until: i64) -> String {
        self.issue(leaf_params(agency, from, until), key)
    }
}
