//! The wallet's side of a transaction (OpenID4VP 1.0): the signed request
//! object at the `request_uri`, and the response at the `response_uri`.
//!
//! A response is checked in this order, and nothing before step 4 changes
//! the transaction (a stranger's garbage cannot end a citizen's
//! transaction): (1) the transaction exists, is pending and unexpired;
//! (2) an encrypted response opens with this transaction's key (`alg`,
//! `enc`, `kid` checked first), a plain one is allowed only where the
//! tenant accepts `direct_post`; (3) `state` is this transaction's;
//! (4) an error (`access_denied`: the citizen declined) or the `vp_token`'s
//! verification is recorded, once, in one database transaction with its
//! audit entry. Same-device answers carry a fresh 128-bit `response_code`
//! in the `redirect_uri`, which only the citizen's browser receives.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tongban_protocol::oid4vp::request::{
    RESPONSE_MODE_DIRECT_POST, RESPONSE_MODE_DIRECT_POST_JWT, RESPONSE_TYPE_VP_TOKEN,
    SELF_ISSUED_AUD,
};
use tongban_protocol::oid4vp::response::error_code::ACCESS_DENIED;
use tongban_protocol::oid4vp::{
    AuthorizationErrorResponse, AuthorizationResponse, ClientMetadata, DcqlQuery, JwkSet,
    RequestObject, TongbanPurpose, VpToken,
};

use super::limits::WalletCall;
use super::transactions::{StoredPurpose, code_hash, public_jwk};
use super::verification::{self, Checked, Verdict, check_vp_token};
use super::{Flow, Service, ServiceError};
use crate::audit::PendingEntry;
use crate::jose::{self, ENC_VALUES, KEY_AGREEMENT};
use crate::keys::Purpose;
use crate::store::{Answer, TransactionRecord, TxState, Write};
use crate::tokens::random_b64;
use crate::trust::TrustState;

/// The algorithms the verifier library accepts for SD-JWTs and KB-JWTs.
pub const ALG_VALUES: [&str; 2] = ["EdDSA", "ES256"];

/// The form a wallet posts to the response URI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WalletResponse {
    /// `direct_post.jwt`: the encrypted response.
    #[serde(default)]
    pub response: Option<String>,
    /// `direct_post`: the `vp_token` (JSON text).
    #[serde(default)]
    pub vp_token: Option<String>,
    /// `direct_post` and errors: the request's `state`.
    #[serde(default)]
    pub state: Option<String>,
    /// An error response.
    #[serde(default)]
    pub error: Option<String>,
    /// Its description.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// What the response endpoint answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseReply {
    /// The new state.
    pub state: TxState,
    /// Same-device: the back office's page with `#response_code=…`.
    pub redirect_uri: Option<String>,
    /// The verdict's codes (rejected).
    pub codes: Vec<String>,
}

/// The decrypted (or plain) response: the presentations, or an error.
#[derive(Debug)]
enum Payload {
    Answer(AuthorizationResponse),
    Error(AuthorizationErrorResponse),
}

impl Payload {
    fn state(&self) -> Option<&str> {
        match self {
            Payload::Answer(a) => a.state.as_deref(),
            Payload::Error(e) => e.state.as_deref(),
        }
    }

    /// The JSON payload of an encrypted response: an error if it has
    /// `error`, else the presentations.
    fn from_json(bytes: &[u8]) -> Result<Payload, ServiceError> {
        let bad = |e: serde_json::Error| {
            ServiceError::ResponseInvalid(format!(
                "the decrypted response is not the JSON object OpenID4VP asks for: {e}"
            ))
        };
        let v: Value = serde_json::from_slice(bytes).map_err(bad)?;
        if v.get("error").is_some() {
            serde_json::from_value(v).map(Payload::Error).map_err(bad)
        } else {
            serde_json::from_value(v).map(Payload::Answer).map_err(bad)
        }
    }
}

fn bounded(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ServiceError> {
    match v {
        Some(s) if s.len() > max => Err(ServiceError::ResponseInvalid(format!(
            "{field} is longer than {max} bytes"
        ))),
        other => Ok(other),
    }
}

impl Service {
    async fn pending_transaction(
        &self,
        id: &str,
        call: WalletCall,
    ) -> Result<TransactionRecord, ServiceError> {
        let t = self.store.transaction(id).await?;
        if t.state != TxState::Pending && t.state != TxState::Expired {
            return Err(ServiceError::AlreadyAnswered(id.to_owned()));
        }
        if t.state == TxState::Expired || self.now() >= t.expires_at {
            return Err(ServiceError::TransactionExpired(id.to_owned()));
        }
        let max = self.config.max_wallet_calls_per_transaction;
        if !self.attempts.allow(id, call, t.expires_at, max) {
            return Err(ServiceError::TooManyAttempts(id.to_owned()));
        }
        Ok(t)
    }

    /// The signed request object of a pending transaction, echoing the
    /// wallet's `wallet_nonce`. `wallet_metadata`, if sent, must be a JSON
    /// object (the service's choices do not depend on it: it offers what
    /// HAIP requires).
    pub async fn request_object(
        &self,
        id: &str,
        wallet_nonce: Option<String>,
        wallet_metadata: Option<String>,
    ) -> Result<String, ServiceError> {
        let wallet_nonce = bounded("wallet_nonce", wallet_nonce, 512)?;
        if let Some(m) = &wallet_metadata
            && !matches!(serde_json::from_str::<Value>(m), Ok(Value::Object(_)))
        {
            return Err(ServiceError::InvalidRequest(
                "wallet_metadata must be a JSON object".into(),
            ));
        }
        let t = self.pending_transaction(id, WalletCall::Request).await?;
        let rt = self.tenant_runtime(&t.tenant_id).await?;
        let now = self.now();
        let purpose: StoredPurpose =
            serde_json::from_str(&t.purpose).map_err(ServiceError::internal)?;
        let dcql: DcqlQuery = serde_json::from_str(&t.dcql).map_err(ServiceError::internal)?;
        let mut jwk = public_jwk(&t)?;
        jwk.insert("kid".into(), t.enc_kid.clone().into());
        let encrypted = t.response_mode == RESPONSE_MODE_DIRECT_POST_JWT;
        let client_metadata = ClientMetadata {
            jwks: encrypted.then(|| JwkSet {
                keys: vec![Value::Object(jwk)],
            }),
            encrypted_response_enc_values_supported: encrypted
                .then(|| ENC_VALUES.iter().map(|e| (*e).to_owned()).collect()),
            vp_formats_supported: json!({"dc+sd-jwt": {
                "sd-jwt_alg_values": ALG_VALUES, "kb-jwt_alg_values": ALG_VALUES,
            }}),
        };
        let object = RequestObject {
            client_id: rt.client_id.clone(),
            response_type: RESPONSE_TYPE_VP_TOKEN.into(),
            response_mode: t.response_mode.clone(),
            response_uri: self.response_uri(&t.id),
            nonce: t.nonce.clone(),
            state: Some(t.state_param.clone()),
            dcql_query: dcql,
            client_metadata: Some(client_metadata),
            wallet_nonce,
            aud: Some(SELF_ISSUED_AUD.into()),
            iat: Some(now),
            exp: Some(t.expires_at.min(now + 300)),
            transaction_data: t
                .transaction_data
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(ServiceError::internal)?,
            tongban_purpose: Some(TongbanPurpose {
                service_item: purpose.service_item,
                purpose_zh: purpose.purpose.zh,
                purpose_en: purpose.purpose.en,
                verifier_name_zh: rt.tenant.name_zh.clone(),
                verifier_name_en: rt.tenant.name_en.clone(),
            }),
        };
        let claims: Map<String, Value> = match serde_json::to_value(&object) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(ServiceError::internal(
                    "the request object is not a JSON object",
                ));
            }
        };
        self.metrics.add(
            "tongban_vp_request_objects_total",
            &[("tenant", &t.tenant_id)],
            1,
        );
        jose::sign_request_object(&claims, &rt.key_pkcs8, &rt.tenant.cert_der)
            .map_err(ServiceError::internal)
    }

    /// Takes the wallet's response to transaction `id`.
    pub async fn respond(
        &self,
        id: &str,
        form: WalletResponse,
    ) -> Result<ResponseReply, ServiceError> {
        let t = self.pending_transaction(id, WalletCall::Response).await?;
        let payload = self.payload(&t, form)?;
        if payload.state() != Some(t.state_param.as_str()) {
            return Err(ServiceError::StateMismatch);
        }
        let (state, checked) = match payload {
            Payload::Error(e) => {
                let err = bounded("error", Some(e.error), 64)?.unwrap_or_default();
                let desc = bounded("error_description", e.error_description, 1000)?;
                let state = if err == ACCESS_DENIED {
                    TxState::Refused
                } else {
                    TxState::Failed
                };
                let verdict = Verdict {
                    wallet_error: Some(err),
                    wallet_error_description: desc,
                    ..Verdict::default()
                };
                let checked = Checked {
                    verdict,
                    claims: None,
                };
                (state, checked)
            }
            Payload::Answer(a) => {
                let checked = self.check(&t, a.vp_token).await?;
                let state = if checked.claims.is_some() {
                    TxState::Accepted
                } else {
                    TxState::Rejected
                };
                (state, checked)
            }
        };
        self.record(t, state, checked).await
    }

    /// The response's payload: decrypted, or the plain form where allowed.
    fn payload(
        &self,
        t: &TransactionRecord,
        form: WalletResponse,
    ) -> Result<Payload, ServiceError> {
        match (form.response, form.vp_token, form.error) {
            (Some(jwe), None, None) => {
                if t.response_mode != RESPONSE_MODE_DIRECT_POST_JWT {
                    return Err(ServiceError::ResponseInvalid(
                        "this transaction expects an unencrypted direct_post response".into(),
                    ));
                }
                let key = self
                    .master
                    .open(&Purpose::ResponseDecryption.of(&t.id), &t.enc_sealed)
                    .map_err(|_| ServiceError::TransactionExpired(t.id.clone()))?;
                let key = std::str::from_utf8(&key).map_err(ServiceError::internal)?;
                let plain = jose::open_response(&jwe, &t.enc_kid, key)?;
                Payload::from_json(&plain)
            }
            (None, Some(vp), None) => {
                if t.response_mode != RESPONSE_MODE_DIRECT_POST {
                    return Err(ServiceError::EncryptionRequired);
                }
                let vp_token = serde_json::from_str(&vp).map_err(|e| {
                    ServiceError::ResponseInvalid(format!(
                        "vp_token is not a JSON object of query ids to arrays of presentations: {e}"
                    ))
                })?;
                Ok(Payload::Answer(AuthorizationResponse {
                    vp_token,
                    state: form.state,
                }))
            }
            (None, None, Some(error)) => Ok(Payload::Error(AuthorizationErrorResponse {
                error,
                error_description: form.error_description,
                state: form.state,
            })),
            _ => Err(ServiceError::ResponseInvalid(format!(
                "post exactly one of response ({KEY_AGREEMENT} JWE), vp_token, or error"
            ))),
        }
    }

    /// Records the answer (once), wakes the waiters, and says where the
    /// citizen goes next.
    async fn record(
        &self,
        t: TransactionRecord,
        state: TxState,
        checked: Checked,
    ) -> Result<ResponseReply, ServiceError> {
        let now = self.now();
        let code = (t.flow == Flow::SameDevice.as_str()).then(|| random_b64(16));
        let answer = Answer {
            state,
            outcome: serde_json::to_string(&checked.verdict).map_err(ServiceError::internal)?,
            claims_erase_at: checked
                .claims
                .as_ref()
                .map(|_| now + self.config.claims_retention_secs),
            claims: checked.claims.as_ref().map(Value::to_string),
            response_code_hash: code.as_deref().map(code_hash),
        };
        let v = &checked.verdict;
        let audit = PendingEntry::new(
            t.tenant_id.clone(),
            "wallet",
            "transaction.answer",
            t.id.clone(),
            json!({
                "state": state.as_str(),
                "codes": v.codes,
                "wallet_error": v.wallet_error,
                "presented": v.presentations.iter().map(|p| json!({
                    "query_id": p.query_id, "vct": p.vct, "iss": p.iss, "disclosed": p.disclosed,
                })).collect::<Vec<_>>(),
                "trust_list_sequence": v.trust_bundle.as_ref().map(|b| b.trust_list_sequence),
            }),
        );
        let written = self
            .commit(Write::Answer {
                id: t.id.clone(),
                answer,
                now,
                audit,
            })
            .await;
        match written {
            Ok(_) => {}
            Err(ServiceError::AlreadyAnswered(_)) => {
                return Err(if self.now() >= t.expires_at {
                    ServiceError::TransactionExpired(t.id)
                } else {
                    ServiceError::AlreadyAnswered(t.id)
                });
            }
            Err(e) => return Err(e),
        }
        self.waiters.wake(&t.id);
        self.metrics.add(
            "tongban_vp_answers_total",
            &[("tenant", &t.tenant_id), ("state", state.as_str())],
            1,
        );
        Ok(ResponseReply {
            state,
            redirect_uri: match (&t.redirect_page, code) {
                (Some(page), Some(code)) => Some(format!("{page}#response_code={code}")),
                _ => None,
            },
            codes: checked.verdict.codes,
        })
    }

    async fn check(&self, t: &TransactionRecord, vp: VpToken) -> Result<Checked, ServiceError> {
        let bundle = self.trust.current().ok_or_else(|| {
            ServiceError::NoTrustBundle(
                "the service has no trust bundle yet; the response was not recorded, send it again later".into(),
            )
        })?;
        let now = self.now();
        let freshness = TrustState::freshness(&bundle, now, self.config.max_bundle_age_secs);
        if !freshness.fresh {
            return Err(ServiceError::NoTrustBundle(format!(
                "the service's trust bundle is {} seconds old (more than {}); the response was not recorded",
                freshness.bundle_age_secs, self.config.max_bundle_age_secs
            )));
        }
        let rt = self.tenant_runtime(&t.tenant_id).await?;
        let query: DcqlQuery = serde_json::from_str(&t.dcql).map_err(ServiceError::internal)?;
        let transaction_data: Vec<String> = t
            .transaction_data
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(ServiceError::internal)?
            .unwrap_or_default();
        let (client_id, nonce) = (rt.client_id.clone(), t.nonce.clone());
        tokio::task::spawn_blocking(move || {
            let request = verification::Request {
                query: &query,
                client_id: &client_id,
                nonce: &nonce,
                transaction_data: &transaction_data,
            };
            check_vp_token(request, &vp, &bundle, freshness, now)
        })
        .await
        .map_err(ServiceError::internal)
    }
}
