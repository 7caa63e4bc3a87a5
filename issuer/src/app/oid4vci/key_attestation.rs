//! Key attestations (OpenID4VCI 1.0 Appendix D) at the credential
//! endpoint, as the agency's `key_attestation` policy says:
//!
//! - in a `jwt` key proof's header (`key_attestation`, Appendix F.1): the
//!   attestation must list the proof's key among `attested_keys`, carry an
//!   `exp`, and carry as `nonce` the `c_nonce` the proof carries (the one
//!   the issuer's nonce endpoint gave, consumed with the proof);
//! - as the `attestation` proof type (Appendix F.3), with no proof of
//!   possession: its `nonce` must be a live `c_nonce` of the agency, which
//!   is consumed; a credential is issued for each attested key (a batch,
//!   OpenID4VCI 1.0 §8.2), so it may list at most `batch_size` keys, all
//!   distinct.
//!
//! Either way it is signed by a key whose `x5c` chains to a wallet
//! provider root the agency trusts ([`super::provider_chain`]), and when
//! the agency lists accepted `key_storage` / `user_authentication` levels
//! it must state one of each. Under `off` a key attestation in a proof's
//! header is not looked at and the `attestation` proof type is refused as
//! unsupported — the behaviour before attestations; under `accepted` one
//! that is sent must pass; under `required` a proof without one is refused.
//! What it states is recorded on the credential row ([`KeyStorage`]).

use serde_json::Value;
use tongban_protocol::oid4vci::{
    ErrorResponse, KEY_ATTESTATION_TYP, KeyAttestationClaims, ProofKey,
};
use tongban_verifier::PublicKey;

use super::super::{AgencyRuntime, Service};
use super::Oid4vciError;
use super::provider_chain::{ChainError, verify_provider_jwt};
use crate::attestation_policy::{AgencyAttestation, AttestationPolicy};
use crate::store::KeyStorage;

/// How far ahead of the service's clock `iat` may be, seconds.
const SKEW: i64 = 60;
/// The most keys one attestation may list.
const MAX_KEYS: usize = 16;

/// Why a key attestation was refused ([`code`](Self::code) is the stable
/// code, also sent as `attestation_error`; the OAuth error is
/// `invalid_proof`, or `invalid_nonce` for the nonce).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyAttestationError {
    /// The agency requires one and the proof has none.
    #[error(
        "this agency requires a key attestation (key_attestation in the jwt proof's header, or the attestation proof type)"
    )]
    Missing,
    /// The `attestation` proof type, at an agency that takes none.
    #[error("this agency does not take key attestations; use the jwt proof type")]
    NotAccepted,
    /// The signature or chain.
    #[error(transparent)]
    Chain(ChainError),
    /// A required claim is missing or mistyped.
    #[error("the key attestation's claims are not usable: {0}")]
    Claims(String),
    /// Used in a `jwt` proof without `exp` (Appendix D.1 requires it).
    #[error("a key attestation in a jwt proof must carry exp")]
    ExpMissing,
    /// Past its `exp`, or its `iat` ahead of the service's clock.
    #[error("the key attestation is not valid now (exp {exp:?}, now {now})")]
    Expired {
        /// Its `exp`.
        exp: Option<i64>,
        /// The service's time.
        now: i64,
    },
    /// `attested_keys` is empty, too long, or holds an unusable key.
    #[error("the key attestation's attested_keys are not usable: {0}")]
    KeysInvalid(String),
    /// The proof's key is not among `attested_keys`.
    #[error("the key attestation does not cover the key that signed the proof")]
    KeyNotCovered,
    /// No `nonce`.
    #[error("the key attestation carries no nonce; put the c_nonce from the nonce endpoint in it")]
    NonceMissing,
    /// The `nonce` is not the proof's `c_nonce`, or not a live one.
    #[error(
        "the key attestation's nonce is not a live c_nonce of this issuer (or not the proof's); get a new one from the nonce endpoint"
    )]
    NonceInvalid,
    /// The stated storage levels are not among those the agency accepts.
    #[error("the attested {what} {found:?} is not one this agency accepts ({accepted:?})")]
    LevelInsufficient {
        /// `key_storage` or `user_authentication`.
        what: &'static str,
        /// What the attestation states.
        found: Vec<String>,
        /// What the agency accepts.
        accepted: Vec<String>,
    },
}

impl KeyAttestationError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            KeyAttestationError::Missing => "key_attestation_missing",
            KeyAttestationError::NotAccepted => "key_attestation_not_accepted",
            KeyAttestationError::Chain(e) => e.code(),
            KeyAttestationError::Claims(_) => "key_attestation_claims_invalid",
            KeyAttestationError::ExpMissing => "key_attestation_exp_missing",
            KeyAttestationError::Expired { .. } => "key_attestation_expired",
            KeyAttestationError::KeysInvalid(_) => "key_attestation_keys_invalid",
            KeyAttestationError::KeyNotCovered => "key_attestation_key_not_covered",
            KeyAttestationError::NonceMissing => "key_attestation_nonce_missing",
            KeyAttestationError::NonceInvalid => "key_attestation_nonce_invalid",
            KeyAttestationError::LevelInsufficient { .. } => "key_attestation_level_insufficient",
        }
    }

    /// The sentence in Chinese.
    pub fn zh(&self) -> &'static str {
        match self {
            KeyAttestationError::Missing => "本机构要求提供密钥证明。",
            KeyAttestationError::NotAccepted => "本机构不接受密钥证明，请使用 jwt 证明类型。",
            KeyAttestationError::Chain(e) => e.zh(),
            KeyAttestationError::Claims(_) => "密钥证明的声明不完整或格式有误。",
            KeyAttestationError::ExpMissing => "随 jwt 证明提供的密钥证明必须包含 exp。",
            KeyAttestationError::Expired { .. } => "密钥证明已过期或尚未生效。",
            KeyAttestationError::KeysInvalid(_) => "密钥证明所列公钥不可用。",
            KeyAttestationError::KeyNotCovered => "密钥证明未涵盖签署证明的密钥。",
            KeyAttestationError::NonceMissing => "密钥证明缺少 nonce，请从 nonce 接口获取。",
            KeyAttestationError::NonceInvalid => "密钥证明的 nonce 无效，请重新获取。",
            KeyAttestationError::LevelInsufficient { .. } => {
                "密钥证明所述的密钥保护等级不符合本机构要求。"
            }
        }
    }

    /// The OAuth answer (400): `invalid_nonce` for the nonce, else
    /// `invalid_proof`, with the code as `attestation_error`.
    pub fn into_oauth(self) -> Oid4vciError {
        let error = match self {
            KeyAttestationError::NonceMissing | KeyAttestationError::NonceInvalid => {
                "invalid_nonce"
            }
            _ => "invalid_proof",
        };
        Oid4vciError::Refused(ErrorResponse {
            attestation_error: Some(self.code().to_owned()),
            ..ErrorResponse::new(error, format!("{self} — {}", self.zh()))
        })
    }
}

/// A key attestation that passed [`check`]: the keys and what it states.
#[derive(Debug, Clone)]
pub(super) struct AttestedKeys {
    /// `attested_keys`, in order.
    pub keys: Vec<PublicKey>,
    /// `key_storage` and `user_authentication`.
    pub storage: KeyStorage,
    /// Its `nonce`.
    pub nonce: Option<String>,
}

/// Checks a key attestation against the agency's roots and levels at
/// `now`; `in_jwt_proof` requires `exp` (Appendix D.1).
fn check(
    jwt: &str,
    rules: &AgencyAttestation,
    now: i64,
    in_jwt_proof: bool,
) -> Result<AttestedKeys, KeyAttestationError> {
    let verified = verify_provider_jwt(jwt, KEY_ATTESTATION_TYP, &rules.roots, now)
        .map_err(KeyAttestationError::Chain)?;
    let claims: KeyAttestationClaims = serde_json::from_value(Value::Object(verified.payload))
        .map_err(|e| KeyAttestationError::Claims(e.to_string()))?;
    if in_jwt_proof && claims.exp.is_none() {
        return Err(KeyAttestationError::ExpMissing);
    }
    if claims.iat > now + SKEW || claims.exp.is_some_and(|exp| exp < now) {
        return Err(KeyAttestationError::Expired {
            exp: claims.exp,
            now,
        });
    }
    if claims.attested_keys.is_empty() || claims.attested_keys.len() > MAX_KEYS {
        return Err(KeyAttestationError::KeysInvalid(format!(
            "it lists {} keys (1 to {MAX_KEYS})",
            claims.attested_keys.len()
        )));
    }
    let keys = claims
        .attested_keys
        .iter()
        .map(|jwk| {
            if jwk.get("d").is_some() {
                return Err(KeyAttestationError::KeysInvalid(
                    "a key holds its private part".into(),
                ));
            }
            PublicKey::from_jwk(jwk).map_err(|e| KeyAttestationError::KeysInvalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let storage = KeyStorage {
        key_storage: claims.key_storage.unwrap_or_default(),
        user_authentication: claims.user_authentication.unwrap_or_default(),
    };
    for (what, accepted, found) in [
        ("key_storage", &rules.key_storage, &storage.key_storage),
        (
            "user_authentication",
            &rules.user_authentication,
            &storage.user_authentication,
        ),
    ] {
        if let Some(accepted) = accepted
            && !found.iter().any(|f| accepted.contains(f))
        {
            return Err(KeyAttestationError::LevelInsufficient {
                what,
                found: found.clone(),
                accepted: accepted.clone(),
            });
        }
    }
    Ok(AttestedKeys {
        keys,
        storage,
        nonce: claims.nonce,
    })
}

/// An attestation proof's keys as a batch: one credential each, so at most
/// `batch_size` and no key twice (two copies on one key would be linkable).
fn batch_keys(a: AttestedKeys, batch_size: usize) -> Result<AttestedKeys, KeyAttestationError> {
    if a.keys.len() > batch_size {
        return Err(KeyAttestationError::KeysInvalid(format!(
            "it lists {} keys and this issuer issues at most {batch_size} credentials per request",
            a.keys.len()
        )));
    }
    if a.keys
        .iter()
        .enumerate()
        .any(|(i, k)| a.keys[..i].contains(k))
    {
        return Err(KeyAttestationError::KeysInvalid(
            "a key is listed twice; each credential is bound to its own key".into(),
        ));
    }
    Ok(a)
}

impl Service {
    /// The key attestation in a checked `jwt` proof's header, as the
    /// agency's policy says: `None` under `off`, or `accepted` without one;
    /// what it states when it passes (it covers the proof's key, and its
    /// `nonce` is the proof's). The proof's nonce is consumed by the caller
    /// afterwards.
    pub(super) fn proof_key_attestation(
        &self,
        rt: &AgencyRuntime,
        proof: &ProofKey,
    ) -> Result<Option<KeyStorage>, Oid4vciError> {
        let rules = self.config.attestation.of(&rt.agency.id);
        let outcome = match (rules.key_attestation, proof.key_attestation.as_deref()) {
            (AttestationPolicy::Off, _) | (AttestationPolicy::Accepted, None) => return Ok(None),
            (AttestationPolicy::Required, None) => Err(KeyAttestationError::Missing),
            (_, Some(jwt)) => check(jwt, rules, self.now(), true).and_then(|a| {
                if !a.keys.contains(&proof.key) {
                    return Err(KeyAttestationError::KeyNotCovered);
                }
                match (a.nonce.as_deref(), proof.nonce.as_deref()) {
                    (None, _) => Err(KeyAttestationError::NonceMissing),
                    (Some(got), Some(want)) if got == want => Ok(a.storage),
                    _ => Err(KeyAttestationError::NonceInvalid),
                }
            }),
        };
        self.count_key_attestation(&rt.agency.id, &outcome);
        outcome.map(Some).map_err(KeyAttestationError::into_oauth)
    }

    /// A key attestation sent as the `attestation` proof type: checked,
    /// its `nonce` consumed as a live `c_nonce`; the keys to bind the
    /// credentials to (every attested key, one credential each: at most
    /// `batch_size` of them, all distinct) and what it states.
    pub(super) async fn attestation_proof(
        &self,
        rt: &AgencyRuntime,
        jwt: &str,
        batch_size: usize,
    ) -> Result<(Vec<PublicKey>, KeyStorage), Oid4vciError> {
        let rules = self.config.attestation.of(&rt.agency.id);
        let outcome = if rules.key_attestation == AttestationPolicy::Off {
            Err(KeyAttestationError::NotAccepted)
        } else {
            check(jwt, rules, self.now(), false).and_then(|a| batch_keys(a, batch_size))
        };
        let attested = match outcome {
            Ok(a) => a,
            Err(e) => {
                self.count_key_attestation::<()>(&rt.agency.id, &Err(e.clone()));
                return Err(e.into_oauth());
            }
        };
        let Some(nonce) = attested.nonce.as_deref() else {
            let e = KeyAttestationError::NonceMissing;
            self.count_key_attestation::<()>(&rt.agency.id, &Err(e.clone()));
            return Err(e.into_oauth());
        };
        if !self.consume_nonce(&rt.agency.id, nonce).await? {
            let e = KeyAttestationError::NonceInvalid;
            self.count_key_attestation::<()>(&rt.agency.id, &Err(e.clone()));
            return Err(e.into_oauth());
        }
        self.count_key_attestation(&rt.agency.id, &Ok(()));
        Ok((attested.keys, attested.storage))
    }

    fn count_key_attestation<T>(&self, agency: &str, outcome: &Result<T, KeyAttestationError>) {
        let label = match outcome {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        };
        self.metrics.add(
            "tongban_key_attestations_total",
            &[("agency", agency), ("outcome", label)],
            1,
        );
    }
}
