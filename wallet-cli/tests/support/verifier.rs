//! A receiving agency's keys for tests: a verifier CA and a leaf
//! certificate it issued (rcgen), the request object signed with the leaf
//! (ES256, `x5c`), and a P-256 key to encrypt the response to. Shared by
//! the wallet's unit tests (`#[path]`) and its integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// A CA and a leaf it issued.
pub struct Pki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The leaf certificate, DER.
    pub leaf_der: Vec<u8>,
    /// The leaf's signing key.
    pub leaf_key: SigningKey,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    (p.self_signed(&key).unwrap(), key)
}

fn signing_key(key: &KeyPair) -> SigningKey {
    SigningKey::from_pkcs8_der(&key.serialize_der()).unwrap()
}

/// A CA named `ca_name` and a leaf for `dns`, valid until `not_after`
/// (Unix seconds; `None`: far in the future).
pub fn pki_until(ca_name: &str, dns: &str, not_after: Option<i64>) -> Pki {
    let (ca_cert, ca_key) = ca(ca_name);
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![dns.to_owned()]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, format!("{dns} request signer"));
    if let Some(t) = not_after {
        p.not_before = time::OffsetDateTime::from_unix_timestamp(t - 86_400).unwrap();
        p.not_after = time::OffsetDateTime::from_unix_timestamp(t).unwrap();
    }
    let leaf = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        leaf_der: leaf.der().to_vec(),
        leaf_key: signing_key(&key),
    }
}

/// [`pki_until`] without an end.
pub fn pki(ca_name: &str, dns: &str) -> Pki {
    pki_until(ca_name, dns, None)
}

/// A self-signed leaf for `dns` (what HAIP forbids).
pub fn self_signed(dns: &str) -> (Vec<u8>, SigningKey) {
    let key = KeyPair::generate().unwrap();
    let p = CertificateParams::new(vec![dns.to_owned()]).unwrap();
    let cert = p.self_signed(&key).unwrap();
    (cert.der().to_vec(), signing_key(&key))
}

/// `x509_hash:` of a certificate.
pub fn x509_hash(der: &[u8]) -> String {
    format!("x509_hash:{}", b64url(&Sha256::digest(der)))
}

/// A compact JWS of `payload` with `typ`, ES256, `x5c` = `chain`.
pub fn sign(payload: &Value, typ: &str, chain: &[&[u8]], key: &SigningKey) -> String {
    let x5c: Vec<String> = chain
        .iter()
        .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
        .collect();
    let header = json!({"alg": "ES256", "typ": typ, "x5c": x5c});
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes())
    );
    let sig: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig.to_bytes()))
}

/// A P-256 ECDH-ES key pair: the private JWK (for decrypting) and the
/// public JWK as the request lists it.
pub fn encryption_key(kid: &str) -> (josekit::jwk::Jwk, Value) {
    use josekit::jwk::KeyPair as _;
    let pair = josekit::jwe::ECDH_ES
        .generate_ec_key_pair(josekit::jwk::alg::ec::EcCurve::P256)
        .unwrap();
    let mut private = pair.to_jwk_private_key();
    private.set_key_id(kid);
    let mut public = pair.to_jwk_public_key();
    public.set_key_id(kid);
    public.set_algorithm("ECDH-ES");
    public.set_key_use("enc");
    (private, Value::Object(public.as_ref().clone()))
}

/// A request object asking for `claims` of a `vct`.
pub fn request_payload(
    client_id: &str,
    response_uri: &str,
    nonce: &str,
    wallet_nonce: Option<&str>,
    jwk: &Value,
    vct: &str,
    claims: &[&str],
) -> Value {
    let claims: Vec<Value> = claims.iter().map(|c| json!({"path": [c]})).collect();
    let mut v = json!({
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post.jwt",
        "response_uri": response_uri,
        "nonce": nonce,
        "state": "state-1",
        "aud": "https://self-issued.me/v2",
        "dcql_query": {"credentials": [{"id": "licence", "format": "dc+sd-jwt",
            "meta": {"vct_values": [vct]}, "claims": claims}]},
        "client_metadata": {"jwks": {"keys": [jwk]},
            "vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["EdDSA"], "kb-jwt_alg_values": ["EdDSA"]}},
            "encrypted_response_enc_values_supported": ["A128GCM", "A256GCM"]},
        "tongban_purpose": {"service_item": "企业设立登记", "purpose_zh": "核验营业执照",
            "purpose_en": "check the business licence", "verifier_name_zh": "青浦区行政服务中心",
            "verifier_name_en": "Qingpu Administrative Service Centre"}
    });
    if let Some(w) = wallet_nonce {
        v["wallet_nonce"] = json!(w);
    }
    v
}
