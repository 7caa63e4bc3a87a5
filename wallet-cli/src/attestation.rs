//! The wallet's attestations, kept inside the encrypted wallet file and
//! shown to issuers that ask for them (HAIP 1.0 §4.4.1, §4.5.1):
//!
//! - a **wallet attestation** its wallet provider issued for this wallet
//!   instance (`OAuth-Client-Attestation`), with the instance's private
//!   key, which signs a fresh proof of possession
//!   (`OAuth-Client-Attestation-PoP`) for every token request;
//! - optionally a **key attester**: a key of the wallet's key storage with
//!   a certificate chain from the provider, which signs a key attestation
//!   (OpenID4VCI 1.0 Appendix D) of the holder key for each credential
//!   request, carrying the issuer's `c_nonce`, in the key proof's header.
//!
//! `tongban-wallet attestation import` stores them; an issuer that takes
//! none is shown none of it beyond the headers (which it ignores).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tongban_protocol::oid4vci::{
    CLIENT_ATTESTATION_HEADER, CLIENT_ATTESTATION_POP_HEADER, CLIENT_ATTESTATION_TYP,
    ClientAttestationPopClaims, KeyAttestationClaims, sign_client_attestation_pop,
    sign_key_attestation,
};
use tongban_verifier::jws::{CompactJws, media_type_eq};
use tongban_verifier::{AnySigner, PublicKey, Signer as _};

/// How long a key attestation the wallet signs is valid, seconds.
const KEY_ATTESTATION_LIFETIME: i64 = 300;

/// Why an attestation could not be imported or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The wallet attestation is not a usable JWT.
    #[error("the wallet attestation is not usable: {0}")]
    Invalid(String),
    /// The instance key is not the one the attestation names (`cnf.jwk`).
    #[error("the instance key is not the key the wallet attestation names (cnf.jwk)")]
    KeyMismatch,
    /// A key file is not a private JWK.
    #[error("{0}")]
    Key(String),
    /// A certificate chain is not usable.
    #[error("{0}")]
    Chain(String),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(String),
}

impl AttestationError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AttestationError::Invalid(_) => "wallet_attestation_invalid",
            AttestationError::KeyMismatch => "wallet_attestation_key_mismatch",
            AttestationError::Key(_) => "attestation_key_invalid",
            AttestationError::Chain(_) => "attestation_chain_invalid",
            AttestationError::Signing(_) => "signing_failed",
        }
    }

    /// The sentence in Chinese.
    pub fn message_zh(&self) -> &'static str {
        match self {
            AttestationError::Invalid(_) => "钱包证明不可用。",
            AttestationError::KeyMismatch => "实例密钥与钱包证明中的公钥不一致。",
            AttestationError::Key(_) => "密钥文件不是可用的私钥 JWK。",
            AttestationError::Chain(_) => "证书链不可用。",
            AttestationError::Signing(_) => "签名失败。",
        }
    }
}

/// What the wallet keeps (inside its encrypted file).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAttestation {
    /// The wallet attestation JWT, as the provider issued it.
    pub wallet_attestation: String,
    /// Its `sub`: the wallet's `client_id`.
    pub client_id: String,
    /// Its `iss`: the wallet provider.
    pub provider: String,
    /// Its `exp`.
    pub expires_at: i64,
    /// The instance key, a private JWK (its public part is `cnf.jwk`).
    pub instance_key: Value,
    /// The key attester, when one was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_attester: Option<KeyAttester>,
}

impl std::fmt::Debug for StoredAttestation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAttestation")
            .field("client_id", &self.client_id)
            .field("provider", &self.provider)
            .field("expires_at", &self.expires_at)
            .field("key_attester", &self.key_attester.is_some())
            .finish_non_exhaustive()
    }
}

/// A key of the wallet's key storage that signs key attestations.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttester {
    /// Its private JWK.
    pub key: Value,
    /// Its certificate and any intermediates (never the root), DER as
    /// standard base64.
    pub x5c: Vec<String>,
    /// The `key_storage` levels it states (Appendix D.2).
    pub key_storage: Vec<String>,
    /// The `user_authentication` levels it states.
    pub user_authentication: Vec<String>,
}

fn signer(jwk: &Value, what: &str) -> Result<AnySigner, AttestationError> {
    AnySigner::from_private_jwk(jwk)
        .map_err(|e| AttestationError::Key(format!("{what}: not a usable private JWK ({e})")))
}

impl StoredAttestation {
    /// Reads a wallet attestation and its instance key (a private JWK):
    /// the JWT typed `oauth-client-attestation+jwt` with `iss`, `sub`,
    /// `exp` and a `cnf.jwk` that is the instance key's public part. The
    /// provider's signature is the issuer's to check.
    pub fn new(
        wallet_attestation: &str,
        instance_key: Value,
        key_attester: Option<KeyAttester>,
    ) -> Result<StoredAttestation, AttestationError> {
        let jwt = wallet_attestation.trim();
        let jws = CompactJws::parse(jwt, "wallet attestation")
            .map_err(|e| AttestationError::Invalid(e.to_string()))?;
        if !jws
            .header
            .get("typ")
            .and_then(Value::as_str)
            .is_some_and(|t| media_type_eq(t, CLIENT_ATTESTATION_TYP))
        {
            return Err(AttestationError::Invalid(format!(
                "its typ is not {CLIENT_ATTESTATION_TYP}"
            )));
        }
        let p = &jws.payload;
        let text = |name: &str| {
            p.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| AttestationError::Invalid(format!("it has no {name}")))
        };
        let client_id = text("sub")?;
        let provider = text("iss")?;
        let expires_at = p
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| AttestationError::Invalid("it has no exp".into()))?;
        let cnf = p
            .get("cnf")
            .and_then(|c| c.get("jwk"))
            .ok_or_else(|| AttestationError::Invalid("it has no cnf.jwk".into()))?;
        let cnf = PublicKey::from_jwk(cnf)
            .map_err(|e| AttestationError::Invalid(format!("cnf.jwk: {e}")))?;
        if signer(&instance_key, "the instance key")?.public_key() != cnf {
            return Err(AttestationError::KeyMismatch);
        }
        if let Some(k) = &key_attester {
            signer(&k.key, "the key attester's key")?;
            if k.x5c.is_empty() {
                return Err(AttestationError::Chain(
                    "the key attester needs its certificate chain".into(),
                ));
            }
        }
        Ok(StoredAttestation {
            wallet_attestation: jwt.to_owned(),
            client_id,
            provider,
            expires_at,
            instance_key,
            key_attester,
        })
    }

    /// The two client attestation headers for a request to the
    /// authorization server `aud` at `now`: the attestation and a fresh
    /// proof of possession with a random `jti`.
    pub fn headers(
        &self,
        aud: &str,
        now: i64,
    ) -> Result<[(&'static str, String); 2], AttestationError> {
        let mut jti = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut jti);
        let pop = sign_client_attestation_pop(
            &signer(&self.instance_key, "the instance key")?,
            &ClientAttestationPopClaims {
                iss: self.client_id.clone(),
                aud: aud.to_owned(),
                jti: tongban_verifier::encoding::b64_encode(jti),
                iat: now,
                challenge: None,
            },
        )
        .map_err(|e| AttestationError::Signing(e.0))?;
        Ok([
            (CLIENT_ATTESTATION_HEADER, self.wallet_attestation.clone()),
            (CLIENT_ATTESTATION_POP_HEADER, pop),
        ])
    }

    /// A key attestation of `holder` (the holder key's public JWK) with the
    /// issuer's `nonce`, signed by the key attester, or `None` when the
    /// wallet has none.
    pub fn key_attestation(
        &self,
        holder: &Value,
        nonce: Option<&str>,
        now: i64,
    ) -> Option<Result<String, AttestationError>> {
        let k = self.key_attester.as_ref()?;
        Some((|| {
            use base64::Engine as _;
            let x5c = k
                .x5c
                .iter()
                .map(|c| base64::engine::general_purpose::STANDARD.decode(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| AttestationError::Chain(e.to_string()))?;
            sign_key_attestation(
                &signer(&k.key, "the key attester's key")?,
                &x5c,
                &KeyAttestationClaims {
                    iss: Some(self.provider.clone()),
                    iat: now,
                    exp: Some(now + KEY_ATTESTATION_LIFETIME),
                    attested_keys: vec![holder.clone()],
                    key_storage: (!k.key_storage.is_empty()).then(|| k.key_storage.clone()),
                    user_authentication: (!k.user_authentication.is_empty())
                        .then(|| k.user_authentication.clone()),
                    certification: None,
                    nonce: nonce.map(str::to_owned),
                },
            )
            .map_err(|e| AttestationError::Signing(e.0))
        })())
    }
}
