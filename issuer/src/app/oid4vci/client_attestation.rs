//! Wallet attestation as client authentication (OAuth 2.0
//! Attestation-Based Client Authentication, draft -07, as OpenID4VCI 1.0
//! Appendix E and HAIP 1.0 §4.4.1 profile it), at every endpoint that
//! authenticates the client: [`Service::authenticate_client`] is the one
//! call, made by the token endpoint (and the PAR endpoint) before anything
//! else.
//!
//! The checks, in order (draft -07 §8, "Verification and Processing"):
//! the agency's policy (`off`: nothing is looked at; `accepted`: a wallet
//! without headers passes; `required`: it is refused with
//! `invalid_client`); exactly one `OAuth-Client-Attestation` and one
//! `OAuth-Client-Attestation-PoP` header; the attestation signed by a
//! wallet provider whose `x5c` chains to a root the agency trusts
//! ([`super::provider_chain`]); its `iss`, `sub`, `exp` (not passed),
//! `nbf`/`iat` (not ahead) and `cnf.jwk` (a public key); the PoP typed,
//! signed by that `cnf` key, `iss` = the attestation's `sub`, `aud` = the
//! agency's issuer identifier, `iat` within `proof_max_age_secs` (60 s
//! ahead), a `jti`; a `client_id` parameter, if sent, equal to `sub`; and
//! last the `jti` spent — a replayed proof is refused. The server issues no
//! challenge (draft -07 §7 makes the challenge endpoint optional): the `iat`
//! window and the spent `jti`s bound replay instead.

use serde_json::{Map, Value};
use tongban_protocol::oid4vci::{
    CLIENT_ATTESTATION_POP_TYP, CLIENT_ATTESTATION_TYP, ErrorResponse, proof_signing_algs,
};
use tongban_verifier::PublicKey;
use tongban_verifier::jws::{CompactJws, media_type_eq};
use tongban_verifier::keys::Algorithm;

use super::super::{AgencyRuntime, Service};
use super::Oid4vciError;
use super::provider_chain::{ChainError, verify_provider_jwt};
use super::spent::{SpendRefusal, SpentSet};
use crate::attestation_policy::AttestationPolicy;

/// How far ahead of the service's clock `iat`/`nbf` may be, seconds.
const SKEW: i64 = 60;
/// The longest `jti` accepted.
const MAX_JTI: usize = 256;
/// The most proofs remembered at once (see [`SpentSet`]).
pub const MAX_SPENT_POPS: usize = 1 << 20;

/// The client attestation headers of a request, every value as sent (the
/// API collects them; more than one of either is refused here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAttestationHeaders {
    /// Every `OAuth-Client-Attestation` value.
    pub attestation: Vec<String>,
    /// Every `OAuth-Client-Attestation-PoP` value.
    pub pop: Vec<String>,
}

/// A wallet that authenticated with a valid attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedClient {
    /// Its `client_id` (the attestation's `sub`, shared by every instance
    /// of that wallet).
    pub client_id: String,
    /// The wallet provider (the attestation's `iss`).
    pub provider: String,
    /// The JWK thumbprint (RFC 7638) of the instance key.
    pub instance_key: String,
}

/// Why a wallet attestation was refused. [`code`](Self::code) is the
/// stable code (also sent as `attestation_error`), [`zh`](Self::zh) the
/// sentence in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAttestationError {
    /// The agency requires one and the request has none.
    #[error(
        "this agency requires a wallet attestation (OAuth-Client-Attestation and -PoP headers)"
    )]
    Missing,
    /// A header is repeated.
    #[error("send exactly one {0} header")]
    HeaderRepeated(&'static str),
    /// The attestation came without its proof of possession, or the other
    /// way round.
    #[error(
        "OAuth-Client-Attestation and OAuth-Client-Attestation-PoP go together; one is missing"
    )]
    PopMissing,
    /// The attestation's signature or chain.
    #[error(transparent)]
    Chain(ChainError),
    /// A required claim is missing or mistyped.
    #[error("the wallet attestation's {0} claim is missing or not of its type")]
    ClaimMissing(&'static str),
    /// Past its `exp`.
    #[error(
        "the wallet attestation expired at {exp} (now {now}); get a fresh one from the wallet provider"
    )]
    Expired {
        /// Its `exp`.
        exp: i64,
        /// The service's time.
        now: i64,
    },
    /// Its `nbf` or `iat` is ahead of the service's clock.
    #[error("the wallet attestation is not valid yet")]
    NotYetValid,
    /// `cnf.jwk` is not a usable public key.
    #[error("the wallet attestation's cnf.jwk is not a usable public key: {0}")]
    CnfInvalid(String),
    /// The request's `client_id` is not the attestation's `sub`.
    #[error("client_id {found:?} is not the wallet attestation's sub {sub:?}")]
    ClientIdMismatch {
        /// The request's `client_id`.
        found: String,
        /// The attestation's `sub`.
        sub: String,
    },
    /// The PoP is not a compact JWS, or its `alg` is not accepted.
    #[error("the attestation PoP is malformed: {0}")]
    PopMalformed(String),
    /// The PoP's `typ` is wrong.
    #[error("the attestation PoP's typ must be {CLIENT_ATTESTATION_POP_TYP}")]
    PopTyp,
    /// The PoP is not signed by the attestation's `cnf` key.
    #[error("the attestation PoP is not signed by the key in the attestation's cnf")]
    PopSignature,
    /// The PoP's `aud` is not this authorization server.
    #[error("the attestation PoP's aud is not this agency ({0})")]
    PopAud(String),
    /// The PoP's `iss` is not the attestation's `sub`.
    #[error("the attestation PoP's iss is not the attestation's sub")]
    PopIss,
    /// The PoP lacks `jti` or `iat`.
    #[error("the attestation PoP's {0} claim is missing or not of its type")]
    PopClaimMissing(&'static str),
    /// The PoP's `iat` is outside the accepted window.
    #[error("the attestation PoP's iat {iat} is outside the accepted window (now {now})")]
    PopStale {
        /// Its `iat`.
        iat: i64,
        /// The service's time.
        now: i64,
    },
    /// The PoP's `jti` was seen before.
    #[error("this attestation PoP (its jti) was already used; make a new one for every request")]
    PopReplayed,
    /// Too many proofs in the window to remember another.
    #[error(
        "too many attestation proofs were used in the last minutes to check another; try again shortly"
    )]
    Busy,
}

impl ClientAttestationError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ClientAttestationError::Missing => "wallet_attestation_missing",
            ClientAttestationError::HeaderRepeated(_) => "wallet_attestation_header_repeated",
            ClientAttestationError::PopMissing => "wallet_attestation_pop_missing",
            ClientAttestationError::Chain(e) => e.code(),
            ClientAttestationError::ClaimMissing(_) => "wallet_attestation_claim_missing",
            ClientAttestationError::Expired { .. } => "wallet_attestation_expired",
            ClientAttestationError::NotYetValid => "wallet_attestation_not_yet_valid",
            ClientAttestationError::CnfInvalid(_) => "wallet_attestation_cnf_invalid",
            ClientAttestationError::ClientIdMismatch { .. } => {
                "wallet_attestation_client_id_mismatch"
            }
            ClientAttestationError::PopMalformed(_) => "wallet_attestation_pop_malformed",
            ClientAttestationError::PopTyp => "wallet_attestation_pop_typ_wrong",
            ClientAttestationError::PopSignature => "wallet_attestation_pop_signature_invalid",
            ClientAttestationError::PopAud(_) => "wallet_attestation_pop_aud_wrong",
            ClientAttestationError::PopIss => "wallet_attestation_pop_iss_wrong",
            ClientAttestationError::PopClaimMissing(_) => "wallet_attestation_pop_claim_missing",
            ClientAttestationError::PopStale { .. } => "wallet_attestation_pop_stale",
            ClientAttestationError::PopReplayed => "wallet_attestation_pop_replayed",
            ClientAttestationError::Busy => "wallet_attestation_busy",
        }
    }

    /// The sentence in Chinese.
    pub fn zh(&self) -> &'static str {
        match self {
            ClientAttestationError::Missing => "本机构要求钱包出示钱包证明。",
            ClientAttestationError::HeaderRepeated(_) => "钱包证明请求头重复。",
            ClientAttestationError::PopMissing => "钱包证明与其持有证明须同时提供。",
            ClientAttestationError::Chain(e) => e.zh(),
            ClientAttestationError::ClaimMissing(_) => "钱包证明缺少必需的声明。",
            ClientAttestationError::Expired { .. } => "钱包证明已过期，请向钱包提供方重新获取。",
            ClientAttestationError::NotYetValid => "钱包证明尚未生效。",
            ClientAttestationError::CnfInvalid(_) => "钱包证明中的实例公钥不可用。",
            ClientAttestationError::ClientIdMismatch { .. } => "client_id 与钱包证明的主体不一致。",
            ClientAttestationError::PopMalformed(_) | ClientAttestationError::PopTyp => {
                "钱包证明的持有证明格式有误。"
            }
            ClientAttestationError::PopSignature => "持有证明未由钱包实例密钥签名。",
            ClientAttestationError::PopAud(_) => "持有证明的接收方不是本机构。",
            ClientAttestationError::PopIss => "持有证明的签发者与钱包证明主体不一致。",
            ClientAttestationError::PopClaimMissing(_) => "持有证明缺少必需的声明。",
            ClientAttestationError::PopStale { .. } => "持有证明的签发时间超出允许范围。",
            ClientAttestationError::PopReplayed => "持有证明已被使用过，每次请求须重新生成。",
            ClientAttestationError::Busy => "服务繁忙，请稍后重试。",
        }
    }

    /// The OAuth answer: `invalid_client` when the attestation is missing,
    /// `invalid_client_attestation` (draft -07 §6.2) when it is refused,
    /// both 401; `Busy` is the service's (503).
    pub fn into_oauth(self) -> Oid4vciError {
        if self == ClientAttestationError::Busy {
            return Oid4vciError::Service(super::super::ServiceError::StorageUnavailable {
                detail: self.to_string(),
                cause: None,
            });
        }
        let error = if self == ClientAttestationError::Missing {
            "invalid_client"
        } else {
            "invalid_client_attestation"
        };
        Oid4vciError::ClientAuthentication(ErrorResponse {
            attestation_error: Some(self.code().to_owned()),
            ..ErrorResponse::new(error, format!("{self} — {}", self.zh()))
        })
    }
}

fn str_claim<'a>(
    p: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, ClientAttestationError> {
    p.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(ClientAttestationError::ClaimMissing(name))
}

/// Private JWK members: a key carrying any of them is refused.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// The pure checks of [`Service::authenticate_client`] after the policy,
/// at `now`: returns the client and the `jti` with the time it may be
/// forgotten.
fn check(
    headers: &ClientAttestationHeaders,
    roots: &[rustls_pki_types::CertificateDer<'static>],
    aud: &str,
    client_id: Option<&str>,
    now: i64,
    max_age: i64,
) -> Result<(AttestedClient, String, i64), ClientAttestationError> {
    let (att, pop) = match (headers.attestation.as_slice(), headers.pop.as_slice()) {
        ([a], [p]) => (a, p),
        ([_, _, ..], _) => {
            return Err(ClientAttestationError::HeaderRepeated(
                "OAuth-Client-Attestation",
            ));
        }
        (_, [_, _, ..]) => {
            return Err(ClientAttestationError::HeaderRepeated(
                "OAuth-Client-Attestation-PoP",
            ));
        }
        _ => return Err(ClientAttestationError::PopMissing),
    };

    // The attestation.
    let verified = verify_provider_jwt(att, CLIENT_ATTESTATION_TYP, roots, now)
        .map_err(ClientAttestationError::Chain)?;
    let p = &verified.payload;
    let provider = str_claim(p, "iss")?;
    let sub = str_claim(p, "sub")?;
    let exp = p
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(ClientAttestationError::ClaimMissing("exp"))?;
    if exp < now {
        return Err(ClientAttestationError::Expired { exp, now });
    }
    for name in ["nbf", "iat"] {
        match p.get(name) {
            None => {}
            Some(v) => match v.as_i64() {
                Some(t) if t > now + SKEW => return Err(ClientAttestationError::NotYetValid),
                Some(_) => {}
                None => return Err(ClientAttestationError::ClaimMissing(name)),
            },
        }
    }
    let jwk = p
        .get("cnf")
        .and_then(|c| c.get("jwk"))
        .and_then(Value::as_object)
        .ok_or(ClientAttestationError::ClaimMissing("cnf.jwk"))?;
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(ClientAttestationError::CnfInvalid(
            "it holds a private key".into(),
        ));
    }
    let key = PublicKey::from_jwk(&Value::Object(jwk.clone()))
        .map_err(|e| ClientAttestationError::CnfInvalid(e.to_string()))?;

    // Its proof of possession.
    let jws = CompactJws::parse(pop, "attestation PoP")
        .map_err(|e| ClientAttestationError::PopMalformed(e.to_string()))?;
    match jws.header.get("typ").and_then(Value::as_str) {
        Some(t) if media_type_eq(t, CLIENT_ATTESTATION_POP_TYP) => {}
        _ => return Err(ClientAttestationError::PopTyp),
    }
    let alg_name = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Algorithm::from_jws(alg_name)
        .filter(|_| proof_signing_algs().contains(&alg_name) && !jws.header.contains_key("crit"))
        .ok_or_else(|| {
            ClientAttestationError::PopMalformed(format!("alg {alg_name:?} is not accepted"))
        })?;
    if !alg.fits(&key) || !key.verify(alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(ClientAttestationError::PopSignature);
    }
    let q = &jws.payload;
    if q.get("iss").and_then(Value::as_str) != Some(sub) {
        return Err(ClientAttestationError::PopIss);
    }
    let aud_ok = match q.get("aud") {
        Some(Value::String(a)) => a == aud,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(aud)),
        _ => false,
    };
    if !aud_ok {
        return Err(ClientAttestationError::PopAud(aud.to_owned()));
    }
    let jti = q
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI)
        .ok_or(ClientAttestationError::PopClaimMissing("jti"))?;
    let iat = q
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(ClientAttestationError::PopClaimMissing("iat"))?;
    if iat > now + SKEW || iat < now - max_age {
        return Err(ClientAttestationError::PopStale { iat, now });
    }
    if let Some(nbf) = q.get("nbf").and_then(Value::as_i64)
        && nbf > now + SKEW
    {
        return Err(ClientAttestationError::PopStale { iat: nbf, now });
    }
    if let Some(found) = client_id
        && found != sub
    {
        return Err(ClientAttestationError::ClientIdMismatch {
            found: found.to_owned(),
            sub: sub.to_owned(),
        });
    }
    Ok((
        AttestedClient {
            client_id: sub.to_owned(),
            provider: provider.to_owned(),
            instance_key: key.thumbprint(),
        },
        jti.to_owned(),
        // Refused as stale after this anyway.
        iat + max_age + SKEW,
    ))
}

impl Service {
    /// Authenticates the wallet by its attestation (see the [module
    /// documentation](self)), as the agency's policy says: `Ok(None)` when
    /// the policy is `off`, or `accepted` and the request carries no
    /// attestation headers; `Ok(Some(client))` for a valid attestation;
    /// otherwise the OAuth error to answer with. `client_id` is the
    /// request's `client_id` parameter, if it has one.
    ///
    /// The token endpoint calls it before the grant is looked at; the PAR
    /// endpoint calls it the same way, before the request is stored.
    pub fn authenticate_client(
        &self,
        rt: &AgencyRuntime,
        headers: &ClientAttestationHeaders,
        client_id: Option<&str>,
    ) -> Result<Option<AttestedClient>, Oid4vciError> {
        let rules = self.config.attestation.of(&rt.agency.id);
        let outcome = match rules.wallet_attestation {
            AttestationPolicy::Off => return Ok(None),
            AttestationPolicy::Accepted
                if headers.attestation.is_empty() && headers.pop.is_empty() =>
            {
                return Ok(None);
            }
            AttestationPolicy::Required
                if headers.attestation.is_empty() && headers.pop.is_empty() =>
            {
                Err(ClientAttestationError::Missing)
            }
            _ => {
                let now = self.now();
                check(
                    headers,
                    &rules.roots,
                    &rt.agency.iss,
                    client_id,
                    now,
                    self.config.proof_max_age_secs,
                )
                .and_then(|(client, jti, until)| {
                    let key = SpentSet::key(&[&rt.agency.id, &client.client_id, &jti]);
                    match self.spent_pops.spend(key, until, now) {
                        Ok(()) => Ok(client),
                        Err(SpendRefusal::Replayed) => Err(ClientAttestationError::PopReplayed),
                        Err(SpendRefusal::Busy) => Err(ClientAttestationError::Busy),
                    }
                })
            }
        };
        let outcome_label = match &outcome {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        };
        self.metrics.add(
            "tongban_wallet_attestations_total",
            &[("agency", &rt.agency.id), ("outcome", outcome_label)],
            1,
        );
        outcome
            .map(Some)
            .map_err(ClientAttestationError::into_oauth)
    }
}

/// The `client_id` parameter of an `application/x-www-form-urlencoded`
/// body (token or PAR request), if it has one.
pub fn form_client_id(form: &[u8]) -> Option<String> {
    super::token::form_urlencoded_pairs(form)
        .into_iter()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v)
}
