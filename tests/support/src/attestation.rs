//! A test CA of wallet providers, made with `rcgen`: a root (what an
//! agency configures as a trusted wallet provider), the provider's signing
//! certificate under it (P-256, not a CA; `x5c` carries it alone), and the
//! JWTs the provider signs — wallet attestations (OAuth attestation-based
//! client authentication) and key attestations (OpenID4VCI 1.0 Appendix D).
//! The issuer's tests and the end-to-end tests share it.
//!
//! [`WalletProvider::new`] makes a fresh root and provider each time (two
//! P-256 keys, two signatures), so a test can also make an *untrusted*
//! provider that looks just like a trusted one.

use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use serde_json::{Value, json};
use tongban_protocol::oid4vci::{
    CLIENT_ATTESTATION_TYP, ClientAttestationPopClaims, KeyAttestationClaims,
    sign_client_attestation_pop, sign_key_attestation, sign_x5c_jwt,
};
use tongban_verifier::encoding::{b64_decode, b64_encode};
use tongban_verifier::{P256Signer, Signer};

/// The `client_id` (`sub`) the test wallet attestations name.
pub const TEST_CLIENT_ID: &str = "https://wallet.tongban.example/cli";

/// Why a fixture could not be made (never expected; tests unwrap it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureError(pub String);

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FixtureError {}

fn err(what: &str) -> impl FnOnce(String) -> FixtureError + '_ {
    move |e| FixtureError(format!("{what}: {e}"))
}

/// A test wallet provider: its root, its signing certificate and key.
pub struct WalletProvider {
    /// The root certificate, DER (the trust anchor; never sent in `x5c`).
    pub root_der: Vec<u8>,
    /// The root certificate, PEM (what an agency's configuration names).
    pub root_pem: String,
    /// The provider's signing certificate, DER (`x5c[0]`).
    pub leaf_der: Vec<u8>,
    /// The provider's signing key.
    pub signer: P256Signer,
    /// The provider's identifier (`iss` of its attestations).
    pub iss: String,
    /// The root's own key (to sign with a self-signed certificate).
    pub root_signer: P256Signer,
    root: Certificate,
    root_key: KeyPair,
}

impl std::fmt::Debug for WalletProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletProvider")
            .field("iss", &self.iss)
            .finish_non_exhaustive()
    }
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Tongban test wallet providers");
    dn
}

fn at(unix: i64) -> Result<time::OffsetDateTime, FixtureError> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|e| err("time")(e.to_string()))
}

/// A fresh P-256 key with its private JWK (`kty`, `crv`, `x`, `y`, `d`):
/// a wallet instance key, a key attester's key.
pub fn p256_key_with_jwk() -> Result<(P256Signer, Value), FixtureError> {
    let secret = p256::SecretKey::random(&mut rand::thread_rng());
    let bytes: [u8; 32] = secret.to_bytes().into();
    let signer = P256Signer::from_bytes(&bytes, None).map_err(|e| err("P-256")(e.0))?;
    let mut jwk = signer.public_key().to_jwk();
    if let Some(o) = jwk.as_object_mut() {
        o.insert("d".into(), Value::String(b64_encode(bytes)));
    }
    Ok((signer, jwk))
}

/// rcgen's key pair of a private P-256 JWK.
fn key_pair_of(jwk: &Value) -> Result<KeyPair, FixtureError> {
    let d = jwk
        .get("d")
        .and_then(Value::as_str)
        .ok_or_else(|| FixtureError("the JWK has no d".into()))?;
    let d = b64_decode(d, "d").map_err(|e| err("d")(e.to_string()))?;
    let secret = p256::SecretKey::from_slice(&d).map_err(|e| err("d")(e.to_string()))?;
    let der = secret
        .to_pkcs8_der()
        .map_err(|e| err("PKCS#8")(e.to_string()))?;
    KeyPair::try_from(der.as_bytes()).map_err(|e| err("key pair")(e.to_string()))
}

/// A fresh rcgen P-256 key pair and the same key as a signer.
fn p256_key() -> Result<(KeyPair, P256Signer), FixtureError> {
    let kp = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| err("rcgen key")(e.to_string()))?;
    let secret = p256::SecretKey::from_pkcs8_der(&kp.serialize_der())
        .map_err(|e| err("PKCS#8")(e.to_string()))?;
    let bytes: [u8; 32] = secret.to_bytes().into();
    let signer = P256Signer::from_bytes(&bytes, None).map_err(|e| err("P-256")(e.0))?;
    Ok((kp, signer))
}

fn leaf_params(
    cn: &str,
    not_before: i64,
    not_after: i64,
) -> Result<CertificateParams, FixtureError> {
    let mut p = CertificateParams::default();
    p.distinguished_name = name(cn);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.not_before = at(not_before)?;
    p.not_after = at(not_after)?;
    Ok(p)
}

impl WalletProvider {
    /// A new provider named `cn`: a root valid from an hour before `now`
    /// for ten years, and a signing certificate under it valid for a year.
    pub fn new(cn: &str, now: i64) -> Result<WalletProvider, FixtureError> {
        Self::with_leaf_validity(cn, now, now - 3600, now + 365 * 86_400)
    }

    /// As [`new`](Self::new), with the signing certificate valid from
    /// `not_before` to `not_after` (an expired certificate, say).
    pub fn with_leaf_validity(
        cn: &str,
        now: i64,
        not_before: i64,
        not_after: i64,
    ) -> Result<WalletProvider, FixtureError> {
        let (root_key, root_signer) = p256_key()?;
        let mut rp = CertificateParams::default();
        rp.distinguished_name = name(&format!("{cn} Root CA"));
        rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        rp.not_before = at(now - 3600)?;
        rp.not_after = at(now + 3650 * 86_400)?;
        let root = rp
            .self_signed(&root_key)
            .map_err(|e| err("root")(e.to_string()))?;
        let (leaf_key, signer) = p256_key()?;
        let leaf = leaf_params(&format!("{cn} attestation signer"), not_before, not_after)?
            .signed_by(&leaf_key, &root, &root_key)
            .map_err(|e| err("leaf")(e.to_string()))?;
        Ok(WalletProvider {
            root_der: root.der().to_vec(),
            root_pem: root.pem(),
            leaf_der: leaf.der().to_vec(),
            signer,
            iss: format!(
                "https://{}.wallet-provider.example",
                cn.to_lowercase().replace(' ', "-")
            ),
            root_signer,
            root,
            root_key,
        })
    }

    /// A certificate under this provider's root for the key of the private
    /// JWK `jwk` (a wallet's key storage, which signs its own key
    /// attestations), valid for a year from an hour before `now`.
    pub fn certify(&self, cn: &str, jwk: &Value, now: i64) -> Result<Vec<u8>, FixtureError> {
        Ok(self.certificate(cn, jwk, now)?.der().to_vec())
    }

    /// As [`certify`](Self::certify), in PEM (what a wallet imports).
    pub fn certify_pem(&self, cn: &str, jwk: &Value, now: i64) -> Result<String, FixtureError> {
        Ok(self.certificate(cn, jwk, now)?.pem())
    }

    fn certificate(&self, cn: &str, jwk: &Value, now: i64) -> Result<Certificate, FixtureError> {
        let kp = key_pair_of(jwk)?;
        leaf_params(cn, now - 3600, now + 365 * 86_400)?
            .signed_by(&kp, &self.root, &self.root_key)
            .map_err(|e| err("certificate")(e.to_string()))
    }

    /// A wallet attestation for the instance key `instance_jwk` (public
    /// JWK), `sub` [`TEST_CLIENT_ID`], valid from `iat` to `exp`, `x5c` the
    /// provider's certificate.
    pub fn wallet_attestation(
        &self,
        instance_jwk: &Value,
        iat: i64,
        exp: i64,
    ) -> Result<String, FixtureError> {
        self.sign_wallet_attestation(
            std::slice::from_ref(&self.leaf_der),
            &json!({
                "iss": self.iss, "sub": TEST_CLIENT_ID, "iat": iat, "exp": exp,
                "wallet_name": "Tongban CLI wallet (test)",
                "cnf": {"jwk": instance_jwk},
            }),
        )
    }

    /// A wallet attestation with any claims and any `x5c` (to break one
    /// rule at a time), signed by the provider's key.
    pub fn sign_wallet_attestation(
        &self,
        x5c: &[Vec<u8>],
        claims: &Value,
    ) -> Result<String, FixtureError> {
        sign_x5c_jwt(&self.signer, CLIENT_ATTESTATION_TYP, x5c, claims)
            .map_err(|e| err("sign")(e.0))
    }

    /// A key attestation of `keys` (public JWKs) signed by the provider,
    /// with `nonce`, `iat`, `exp`, the storage level `key_storage` and
    /// `user_authentication` `iso_18045_moderate`.
    pub fn key_attestation(
        &self,
        keys: &[Value],
        nonce: Option<&str>,
        iat: i64,
        exp: Option<i64>,
        key_storage: &[&str],
    ) -> Result<String, FixtureError> {
        sign_key_attestation(
            &self.signer,
            std::slice::from_ref(&self.leaf_der),
            &KeyAttestationClaims {
                iss: Some(self.iss.clone()),
                iat,
                exp,
                attested_keys: keys.to_vec(),
                key_storage: Some(key_storage.iter().map(|s| (*s).to_owned()).collect()),
                user_authentication: Some(vec!["iso_18045_moderate".into()]),
                certification: None,
                nonce: nonce.map(str::to_owned),
            },
        )
        .map_err(|e| err("sign")(e.0))
    }
}

/// A wallet attestation's proof of possession by `instance`, `iss`
/// [`TEST_CLIENT_ID`], for the authorization server `aud`.
pub fn pop(instance: &dyn Signer, aud: &str, jti: &str, iat: i64) -> Result<String, FixtureError> {
    sign_client_attestation_pop(
        instance,
        &ClientAttestationPopClaims {
            iss: TEST_CLIENT_ID.into(),
            aud: aud.into(),
            jti: jti.into(),
            iat,
            challenge: None,
        },
    )
    .map_err(|e| err("sign")(e.0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tongban_verifier::jws::CompactJws;

    #[test]
    fn a_provider_signs_with_its_certified_key() {
        let p = WalletProvider::new("Acme", 1_700_000_000).unwrap();
        let (_, jwk) = p256_key_with_jwk().unwrap();
        let att = p
            .wallet_attestation(&jwk, 1_700_000_000, 1_700_003_600)
            .unwrap();
        let jws = CompactJws::parse(&att, "att").unwrap();
        assert_eq!(jws.header["typ"], CLIENT_ATTESTATION_TYP);
        assert_eq!(jws.header["x5c"].as_array().unwrap().len(), 1);
        assert!(p.signer.public_key().verify(
            p.signer.algorithm(),
            jws.signing_input.as_bytes(),
            &jws.signature
        ));
        assert!(p.root_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(
            !p.certify("storage", &jwk, 1_700_000_000)
                .unwrap()
                .is_empty()
        );
    }
}
