//! A JWT signed by a wallet provider (a wallet attestation, a key
//! attestation), checked against the X.509 roots an agency trusts for
//! wallet providers: the signer's certificate and any intermediates in
//! `x5c`, the path to a root validated by `rustls-webpki` (signatures,
//! validity at the service's time, basic constraints, path length, name
//! constraints), then the JWT's signature with the leaf's key.
//!
//! HAIP 1.0 §4.4.1 and §4.5.1: the signer's certificate is in `x5c`, the
//! trust anchor is not, and the signing certificate is not self-signed —
//! each refused with its own code here, before path validation.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use serde_json::{Map, Value};
use tongban_verifier::jws::{CompactJws, media_type_eq};
use tongban_verifier::keys::Algorithm;
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter};

/// Algorithms a wallet provider may sign attestations with (and
/// certificates in its chain): ES256 (HAIP 1.0 §7) and Ed25519.
pub const PROVIDER_ALGS: [&str; 3] = ["ES256", "EdDSA", "Ed25519"];

/// The most certificates `x5c` may carry (leaf and intermediates).
const MAX_CHAIN: usize = 4;

/// Signature algorithms accepted on the certificates of a provider's chain.
static CHAIN_ALGS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
];

/// Why a provider-signed JWT was refused. Each has a stable code
/// ([`code`](Self::code)) and a Chinese sentence ([`zh`](Self::zh)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// Not a compact JWS with JSON header and payload.
    #[error("the attestation is not a compact JWS: {0}")]
    Malformed(String),
    /// `typ` is not the expected one.
    #[error("the attestation's typ must be {0}")]
    Typ(&'static str),
    /// `alg` is not one a provider may use, or `crit` is present.
    #[error("the attestation's alg {0:?} is not accepted (ES256, EdDSA, Ed25519; no crit)")]
    Alg(String),
    /// No `x5c` header.
    #[error("the attestation has no x5c header: the provider's certificate must travel with it")]
    X5cMissing,
    /// `x5c` is not an array of 1 to 4 base64 DER certificates.
    #[error("the attestation's x5c is not 1 to {MAX_CHAIN} base64 DER certificates: {0}")]
    X5cInvalid(String),
    /// `x5c` carries a trusted root (HAIP: the anchor must not be sent).
    #[error("the attestation's x5c includes a trust anchor; send the chain without the root")]
    ChainIncludesAnchor,
    /// The signing certificate is self-signed (HAIP: it must not be).
    #[error("the attestation is signed by a self-signed certificate")]
    LeafSelfSigned,
    /// The chain does not reach a root the agency trusts.
    #[error(
        "the attestation's certificate chain does not reach a wallet provider this agency trusts"
    )]
    UntrustedProvider,
    /// A certificate of the chain is expired or not yet valid.
    #[error("a certificate of the attestation's chain is not valid now: {0}")]
    CertificateExpired(String),
    /// Path validation failed otherwise.
    #[error("the attestation's certificate chain is invalid: {0}")]
    ChainInvalid(String),
    /// The JWT's signature does not verify with the leaf's key.
    #[error("the attestation's signature does not verify with its certificate's key")]
    Signature,
}

impl ChainError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::Malformed(_) => "attestation_malformed",
            ChainError::Typ(_) => "attestation_typ_wrong",
            ChainError::Alg(_) => "attestation_alg_unsupported",
            ChainError::X5cMissing => "attestation_x5c_missing",
            ChainError::X5cInvalid(_) => "attestation_x5c_invalid",
            ChainError::ChainIncludesAnchor => "attestation_chain_includes_anchor",
            ChainError::LeafSelfSigned => "attestation_leaf_self_signed",
            ChainError::UntrustedProvider => "attestation_untrusted_provider",
            ChainError::CertificateExpired(_) => "attestation_certificate_expired",
            ChainError::ChainInvalid(_) => "attestation_chain_invalid",
            ChainError::Signature => "attestation_signature_invalid",
        }
    }

    /// The sentence in Chinese.
    pub fn zh(&self) -> &'static str {
        match self {
            ChainError::Malformed(_) => "证明不是有效的 JWS。",
            ChainError::Typ(_) => "证明的 typ 类型不正确。",
            ChainError::Alg(_) => "证明的签名算法不被接受（须为 ES256、EdDSA 或 Ed25519）。",
            ChainError::X5cMissing => "证明未附带钱包提供方的证书（x5c）。",
            ChainError::X5cInvalid(_) => "证明的证书链（x5c）格式有误。",
            ChainError::ChainIncludesAnchor => "证书链中不得包含根证书（信任锚）。",
            ChainError::LeafSelfSigned => "签署证明的证书不得为自签名证书。",
            ChainError::UntrustedProvider => "证书链未连到本机构信任的钱包提供方根证书。",
            ChainError::CertificateExpired(_) => "证书链中有证书已过期或尚未生效。",
            ChainError::ChainInvalid(_) => "证书链校验未通过。",
            ChainError::Signature => "证明的签名无法用其证书公钥验证。",
        }
    }
}

/// A provider-signed JWT that passed [`verify_provider_jwt`].
#[derive(Debug, Clone)]
pub struct ProviderJwt {
    /// Its claims.
    pub payload: Map<String, Value>,
}

/// Accepts any extended key usage: wallet providers' certificates have no
/// registered purpose; what a certificate may sign is decided by the root
/// it chains to.
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        // A malformed extension is still refused.
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

/// Checks `jwt`, whose `typ` must be `typ`, against the DER `roots` at
/// `now` (Unix seconds), in this order: a compact JWS; `typ`; `alg`, no
/// `crit`; `x5c` of 1–4 certificates; no root among them and the signer's
/// not self-signed; the path from the signer's certificate through the
/// others to one of `roots`; the signature by the signer's key.
pub fn verify_provider_jwt(
    jwt: &str,
    typ: &'static str,
    roots: &[CertificateDer<'static>],
    now: i64,
) -> Result<ProviderJwt, ChainError> {
    let jws =
        CompactJws::parse(jwt, "attestation").map_err(|e| ChainError::Malformed(e.to_string()))?;
    let h = &jws.header;
    match h.get("typ").and_then(Value::as_str) {
        Some(t) if media_type_eq(t, typ) => {}
        _ => return Err(ChainError::Typ(typ)),
    }
    let alg_name = h.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Algorithm::from_jws(alg_name)
        .filter(|_| PROVIDER_ALGS.contains(&alg_name) && !h.contains_key("crit"))
        .ok_or_else(|| ChainError::Alg(alg_name.to_owned()))?;
    let chain = x5c(h)?;
    if chain.iter().any(|c| roots.iter().any(|r| r == c)) {
        return Err(ChainError::ChainIncludesAnchor);
    }
    let (leaf_der, intermediates) = chain.split_first().ok_or(ChainError::X5cMissing)?;
    let leaf = EndEntityCert::try_from(leaf_der)
        .map_err(|e| ChainError::X5cInvalid(format!("the first certificate: {e}")))?;
    if leaf.issuer() == leaf.subject() {
        return Err(ChainError::LeafSelfSigned);
    }
    let anchors = roots
        .iter()
        .filter_map(|r| webpki::anchor_from_trusted_cert(r).ok())
        .collect::<Vec<_>>();
    let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now).unwrap_or(0)));
    leaf.verify_for_usage(
        CHAIN_ALGS,
        &anchors,
        intermediates,
        time,
        AnyUsage,
        None,
        None,
    )
    .map_err(|e| match e {
        webpki::Error::UnknownIssuer => ChainError::UntrustedProvider,
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
            ChainError::CertificateExpired(format!("{e:?}"))
        }
        e => ChainError::ChainInvalid(format!("{e:?}")),
    })?;
    let verified = match alg {
        Algorithm::Es256 => p256::ecdsa::Signature::from_slice(&jws.signature)
            .ok()
            .map(|s| s.to_der())
            .is_some_and(|der| {
                leaf.verify_signature(
                    webpki::ring::ECDSA_P256_SHA256,
                    jws.signing_input.as_bytes(),
                    der.as_bytes(),
                )
                .is_ok()
            }),
        Algorithm::EdDsa | Algorithm::Ed25519 => leaf
            .verify_signature(
                webpki::ring::ED25519,
                jws.signing_input.as_bytes(),
                &jws.signature,
            )
            .is_ok(),
        #[allow(unreachable_patterns)]
        _ => false,
    };
    if !verified {
        return Err(ChainError::Signature);
    }
    Ok(ProviderJwt {
        payload: jws.payload,
    })
}

/// The `x5c` header's certificates (standard base64 DER, RFC 7515 §4.1.6).
fn x5c(h: &Map<String, Value>) -> Result<Vec<CertificateDer<'static>>, ChainError> {
    let list = match h.get("x5c") {
        None => return Err(ChainError::X5cMissing),
        Some(Value::Array(list)) if (1..=MAX_CHAIN).contains(&list.len()) => list,
        Some(_) => {
            return Err(ChainError::X5cInvalid(
                "not an array of 1 to 4 entries".into(),
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            c.as_str()
                .and_then(|s| STANDARD.decode(s).ok())
                .map(CertificateDer::from)
                .ok_or_else(|| ChainError::X5cInvalid(format!("entry {i} is not standard base64")))
        })
        .collect()
}
