//! Presentation transactions: a back office asks for a licence (a DCQL
//! query, or the catalogue shorthand), gets the `openid4vp://` link to
//! show as a QR code or open on the same device, and reads the outcome —
//! at once, by long-poll, or from the event stream — with the verified
//! claims, which are erased as they are read.
//!
//! Isolation: a tenant token sees only its tenant's transactions; another
//! tenant's transaction answers "not found", exactly like an id that does
//! not exist. Same-device transactions release their outcome only with the
//! `response_code` the citizen's browser brought back (OpenID4VP 1.0
//! §13.3): whoever started the flow in another browser cannot collect it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tongban_protocol::oid4vp::request::{RESPONSE_MODE_DIRECT_POST, RESPONSE_MODE_DIRECT_POST_JWT};
use tongban_protocol::oid4vp::{AuthorizationRequest, ClaimPath, DcqlQuery, TransactionData};

use super::verification::{Verdict, dcql_summary};
use super::{Service, ServiceError};
use crate::audit::PendingEntry;
use crate::jose;
use crate::keys::Purpose;
use crate::notify::RECHECK;
use crate::store::{TokenRecord, TransactionRecord, TxState, Write, Written};
use crate::tokens::{TokenScope, random_b64};

/// The catalogue shorthand: a licence type (slug or `vct`) and claim names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceShorthand {
    /// `business-licence` or `urn:tongban:business-licence:1`.
    #[serde(rename = "type")]
    pub licence_type: String,
    /// Claim names (top-level) or dotted paths.
    pub claims: Vec<String>,
}

/// What is asked: a DCQL query, or the shorthand.
#[derive(Debug, Clone, PartialEq)]
pub enum QuerySpec {
    /// A DCQL query as the back office wrote it.
    Dcql(DcqlQuery),
    /// The catalogue shorthand.
    Licence(LicenceShorthand),
}

/// The purpose shown to the citizen, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeText {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// The flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// The QR code on the agency's page, the wallet on a phone.
    #[default]
    CrossDevice,
    /// The wallet on the same device as the back office's page; the
    /// citizen is sent back to `redirect_page` with a `response_code`.
    SameDevice,
}

impl Flow {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::CrossDevice => "cross_device",
            Flow::SameDevice => "same_device",
        }
    }
}

/// A back office's request for a presentation (the body of
/// `POST /api/v1/transactions`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTransaction {
    /// A DCQL query (give this or `licence`).
    #[serde(default)]
    pub dcql_query: Option<DcqlQuery>,
    /// The catalogue shorthand (give this or `dcql_query`).
    #[serde(default)]
    pub licence: Option<LicenceShorthand>,
    /// Why the agency asks, shown to the citizen.
    pub purpose: PurposeText,
    /// The service item (事项) the request serves.
    pub service_item: String,
    /// The flow (default cross-device).
    #[serde(default)]
    pub flow: Flow,
    /// The back office's page for same-device redirects (https).
    #[serde(default)]
    pub redirect_page: Option<String>,
    /// `transaction_data` objects (Tongban's application type), sent
    /// base64url-encoded and bound by the KB-JWT's hashes.
    #[serde(default)]
    pub transaction_data: Option<Vec<TransactionData>>,
}

/// A created transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    /// Its id.
    pub id: String,
    /// Where it stands (`pending`).
    pub state: TxState,
    /// The flow.
    pub flow: Flow,
    /// When the wallet's time runs out.
    pub expires_at: i64,
    /// The tenant's client identifier.
    pub client_id: String,
    /// Where the wallet fetches the signed request.
    pub request_uri: String,
    /// `openid4vp://?client_id=…&request_uri=…&request_uri_method=post`:
    /// the QR code's text, and the same-device link.
    pub authorization_request: String,
}

/// A transaction's outcome as the back office reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeView {
    /// Its id.
    pub id: String,
    /// Where it stands.
    pub state: TxState,
    /// The flow.
    pub flow: String,
    /// The service item.
    pub service_item: String,
    /// The purpose.
    pub purpose: PurposeText,
    /// Created.
    pub created_at: i64,
    /// When the wallet's time runs (or ran) out.
    pub expires_at: i64,
    /// When it was answered.
    pub answered_at: Option<i64>,
    /// The verdict: codes, wallet error, presentations, bundle freshness.
    pub verdict: Option<Verdict>,
    /// The verified claims by query id: present on the first read after
    /// acceptance only.
    pub claims: Option<Value>,
    /// Whether claims were disclosed and are gone (read before, or past
    /// retention).
    pub claims_erased: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StoredPurpose {
    pub(super) service_item: String,
    pub(super) purpose: PurposeText,
}

/// `SHA-256` hex of a response code, as stored.
pub(super) fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

fn text(field: &str, v: &str, max: usize) -> Result<(), ServiceError> {
    if v.trim().is_empty() || v.chars().count() > max {
        return Err(ServiceError::InvalidRequest(format!(
            "{field}: give 1 to {max} characters"
        )));
    }
    Ok(())
}

impl Service {
    /// The tenant a token acts for, or `Forbidden` for the admin token.
    pub fn tenant_of(token: &TokenRecord) -> Result<&str, ServiceError> {
        match &token.scope {
            TokenScope::Tenant(t) => Ok(t),
            TokenScope::Admin => Err(ServiceError::Forbidden(
                "the admin token manages tenants and tokens; transactions need a tenant token (token create --tenant ID)".into(),
            )),
        }
    }

    /// The OpenID4VP request URI of a transaction.
    pub fn request_uri(&self, id: &str) -> String {
        format!("{}/oid4vp/request/{id}", self.config.public_url)
    }

    /// The OpenID4VP response URI of a transaction.
    pub fn response_uri(&self, id: &str) -> String {
        format!("{}/oid4vp/response/{id}", self.config.public_url)
    }

    /// Creates a transaction for the token's tenant.
    pub async fn create_transaction(
        &self,
        token: &TokenRecord,
        req: NewTransaction,
    ) -> Result<Created, ServiceError> {
        let tenant_id = Self::tenant_of(token)?;
        let rt = self.tenant_runtime(tenant_id).await?;
        let query = match (req.dcql_query, req.licence) {
            (Some(q), None) => QuerySpec::Dcql(q),
            (None, Some(l)) => QuerySpec::Licence(l),
            _ => {
                return Err(ServiceError::InvalidQuery(
                    "give exactly one of dcql_query and licence".into(),
                ));
            }
        };
        let dcql = match query {
            QuerySpec::Dcql(q) => q,
            QuerySpec::Licence(l) => self.shorthand_query(&l)?,
        };
        dcql.validate()
            .map_err(|e| ServiceError::InvalidQuery(format!("dcql_query: {e}")))?;
        text("purpose.zh", &req.purpose.zh, 500)?;
        text("purpose.en", &req.purpose.en, 500)?;
        text("service_item", &req.service_item, 200)?;
        self.check_registration(&rt, &req.service_item, &dcql)?;
        let redirect_page = match (req.flow, req.redirect_page) {
            (Flow::SameDevice, Some(p)) => {
                if !(p.starts_with("https://") || p.starts_with("http://"))
                    || p.contains('#')
                    || p.len() > 2000
                {
                    return Err(ServiceError::InvalidRequest(
                        "redirect_page: an http(s) URL without fragment (the response code is added as #response_code=…)".into(),
                    ));
                }
                Some(p)
            }
            (Flow::SameDevice, None) => {
                return Err(ServiceError::InvalidRequest(
                    "a same-device transaction needs redirect_page, the back office's page the citizen returns to".into(),
                ));
            }
            (Flow::CrossDevice, Some(_)) => {
                return Err(ServiceError::InvalidRequest(
                    "redirect_page is only for same_device transactions".into(),
                ));
            }
            (Flow::CrossDevice, None) => None,
        };
        let transaction_data = match &req.transaction_data {
            None => None,
            Some(items) => {
                if items.is_empty() || items.len() > 16 {
                    return Err(ServiceError::InvalidRequest(
                        "transaction_data: give 1 to 16 objects".into(),
                    ));
                }
                let mut encoded = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let e = item.encode();
                    TransactionData::decode(i, &e, &dcql).map_err(|e| {
                        ServiceError::InvalidRequest(format!("transaction_data: {e}"))
                    })?;
                    encoded.push(e);
                }
                Some(serde_json::to_string(&encoded).map_err(ServiceError::internal)?)
            }
        };
        let now = self.now();
        if self.store.pending_count(tenant_id, now).await? >= self.config.max_pending_per_tenant {
            return Err(ServiceError::TooManyPending {
                tenant: tenant_id.to_owned(),
                limit: self.config.max_pending_per_tenant,
            });
        }
        let id = random_b64(16);
        let kid = random_b64(9);
        let key = jose::new_ephemeral_key(&kid).map_err(ServiceError::internal)?;
        let response_mode =
            if rt.tenant.allow_plain_direct_post && self.config.allow_plain_direct_post {
                RESPONSE_MODE_DIRECT_POST
            } else {
                RESPONSE_MODE_DIRECT_POST_JWT
            };
        let purpose = StoredPurpose {
            service_item: req.service_item.clone(),
            purpose: req.purpose.clone(),
        };
        let record = TransactionRecord {
            id: id.clone(),
            tenant_id: tenant_id.to_owned(),
            token_id: token.id.clone(),
            state: TxState::Pending,
            flow: req.flow.as_str().to_owned(),
            nonce: random_b64(16),
            state_param: random_b64(16),
            dcql: serde_json::to_string(&dcql).map_err(ServiceError::internal)?,
            transaction_data,
            purpose: serde_json::to_string(&purpose).map_err(ServiceError::internal)?,
            response_mode: response_mode.to_owned(),
            enc_kid: kid,
            enc_sealed: self
                .master
                .seal(
                    &Purpose::ResponseDecryption.of(&id),
                    key.private_jwk.as_bytes(),
                )
                .map_err(ServiceError::internal)?,
            enc_public_jwk: Value::Object(key.public_jwk).to_string(),
            redirect_page,
            response_code_hash: None,
            created_at: now,
            expires_at: now + self.config.transaction_ttl_secs,
            answered_at: None,
            outcome: None,
            claims: None,
            claims_erase_at: None,
        };
        let audit = PendingEntry::new(
            tenant_id,
            token.id.clone(),
            "transaction.create",
            id.clone(),
            json!({
                "service_item": req.service_item,
                "asked": dcql_summary(&dcql),
                "flow": req.flow.as_str(),
                "transaction_data": req.transaction_data.as_ref().map(|t| t.len()),
            }),
        );
        let expires_at = record.expires_at;
        self.commit(Write::Create {
            record: Box::new(record),
            audit,
        })
        .await?;
        self.metrics.add(
            "tongban_vp_transactions_created_total",
            &[("tenant", tenant_id)],
            1,
        );
        let request_uri = self.request_uri(&id);
        Ok(Created {
            authorization_request: AuthorizationRequest::by_reference(&rt.client_id, &request_uri)
                .to_uri(),
            id,
            state: TxState::Pending,
            flow: req.flow,
            expires_at,
            client_id: rt.client_id.clone(),
            request_uri,
        })
    }

    /// The DCQL query of the catalogue shorthand: one SD-JWT VC credential
    /// of the type, the named claims, holder binding required.
    fn shorthand_query(&self, l: &LicenceShorthand) -> Result<DcqlQuery, ServiceError> {
        let kind = self
            .catalogue
            .by_slug(&l.licence_type)
            .or_else(|| self.catalogue.types().iter().find(|t| t.vct == l.licence_type))
            .ok_or_else(|| {
                ServiceError::InvalidQuery(format!(
                    "licence.type {:?} is not in the catalogue (a slug such as business-licence, or its vct)",
                    l.licence_type
                ))
            })?;
        if l.claims.is_empty() {
            return Err(ServiceError::InvalidQuery(
                "licence.claims: name at least one claim".into(),
            ));
        }
        let paths = l
            .claims
            .iter()
            .map(|c| {
                ClaimPath::keys(c.split('.')).ok_or_else(|| {
                    ServiceError::InvalidQuery(format!(
                        "licence.claims: {c:?} is not a claim name or dotted path"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DcqlQuery::single("licence", kind.vct.clone(), paths, true))
    }

    /// A transaction of the token's tenant (another tenant's is "not found").
    async fn own_transaction(
        &self,
        token: &TokenRecord,
        id: &str,
    ) -> Result<TransactionRecord, ServiceError> {
        let tenant = Self::tenant_of(token)?;
        let t = self.store.transaction(id).await?;
        if t.tenant_id != tenant {
            return Err(ServiceError::NotFound(format!("transaction {id}")));
        }
        Ok(t)
    }

    /// The `openid4vp://` link of a transaction of the token's tenant
    /// (for the QR code endpoints).
    pub async fn authorization_request(
        &self,
        token: &TokenRecord,
        id: &str,
    ) -> Result<String, ServiceError> {
        let t = self.own_transaction(token, id).await?;
        let rt = self.tenant_runtime(&t.tenant_id).await?;
        Ok(AuthorizationRequest::by_reference(&rt.client_id, &self.request_uri(&t.id)).to_uri())
    }

    /// The outcome now. Accepted claims are handed over once and erased.
    pub async fn outcome(
        &self,
        token: &TokenRecord,
        id: &str,
        response_code: Option<&str>,
    ) -> Result<OutcomeView, ServiceError> {
        let t = self.own_transaction(token, id).await?;
        self.view(token, t, response_code).await
    }

    /// The outcome once it is no longer pending, or after `wait` (bounded
    /// by `max_wait_secs` and the transaction's expiry). Waits on the
    /// transaction's wake-up, not by polling the database.
    pub async fn wait_outcome(
        &self,
        token: &TokenRecord,
        id: &str,
        response_code: Option<&str>,
        wait: Duration,
    ) -> Result<OutcomeView, ServiceError> {
        let wait = wait.min(Duration::from_secs(self.config.max_wait_secs));
        let deadline = tokio::time::Instant::now() + wait;
        let sub = self.waiters.subscribe(id);
        loop {
            let woken = sub.notified();
            let t = self.own_transaction(token, id).await?;
            let now = self.now();
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if t.state != TxState::Pending || now >= t.expires_at || left.is_zero() {
                return self.view(token, t, response_code).await;
            }
            let until_expiry = Duration::from_secs(u64::try_from(t.expires_at - now).unwrap_or(0));
            let nap = left
                .min(RECHECK)
                .min(until_expiry.max(Duration::from_millis(10)));
            let _ = tokio::time::timeout(nap, woken).await;
        }
    }

    async fn view(
        &self,
        token: &TokenRecord,
        t: TransactionRecord,
        response_code: Option<&str>,
    ) -> Result<OutcomeView, ServiceError> {
        let now = self.now();
        let state = if t.state == TxState::Pending && now >= t.expires_at {
            TxState::Expired
        } else {
            t.state
        };
        let answered = !matches!(state, TxState::Pending | TxState::Expired);
        if answered && t.flow == Flow::SameDevice.as_str() {
            let code = response_code.ok_or(ServiceError::ResponseCodeRequired)?;
            if t.response_code_hash.as_deref() != Some(code_hash(code).as_str()) {
                return Err(ServiceError::ResponseCodeWrong);
            }
        }
        let stored: StoredPurpose = serde_json::from_str(&t.purpose)
            .map_err(|e| ServiceError::internal(format!("transaction {}: purpose: {e}", t.id)))?;
        let verdict: Option<Verdict> = t
            .outcome
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| {
            ServiceError::internal(format!("transaction {}: outcome: {e}", t.id))
        })?;
        let mut claims = None;
        if state == TxState::Accepted && t.claims.is_some() {
            let audit = PendingEntry::new(
                t.tenant_id.clone(),
                token.id.clone(),
                "transaction.claims_read",
                t.id.clone(),
                json!({}),
            );
            let taken = self
                .commit(Write::TakeClaims {
                    id: t.id.clone(),
                    now,
                    audit,
                })
                .await?;
            if let Written::Claims(Some(text)) = taken {
                claims =
                    Some(serde_json::from_str::<Value>(&text).map_err(ServiceError::internal)?);
            }
        }
        Ok(OutcomeView {
            claims_erased: state == TxState::Accepted && claims.is_none(),
            claims,
            id: t.id,
            state,
            flow: t.flow,
            service_item: stored.service_item,
            purpose: stored.purpose,
            created_at: t.created_at,
            expires_at: t.expires_at,
            answered_at: t.answered_at,
            verdict,
        })
    }
}

/// The public JWK of a transaction's response key.
pub(super) fn public_jwk(t: &TransactionRecord) -> Result<Map<String, Value>, ServiceError> {
    match serde_json::from_str(&t.enc_public_jwk) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ServiceError::internal(format!(
            "transaction {}: public jwk",
            t.id
        ))),
    }
}
