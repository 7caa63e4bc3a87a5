//! The back-office API (`/api/v1`): every route needs `Authorization:
//! Bearer tbvs_…`. The admin token manages tenants and tokens; a tenant
//! token creates and reads its own tenant's transactions (another
//! tenant's id answers 404, exactly as an id that does not exist).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiCode, ApiError, ApiJson, ApiQuery, AppState, Caller};
use crate::app::{ClientIdPrefix, NewTransaction, OutcomeView, Service, TenantSpec, TxState};
use crate::audit::SERVICE_CHAIN;
use crate::tokens::TokenScope;

fn require_admin(c: &Caller) -> Result<(), ApiError> {
    match c.0.scope {
        TokenScope::Admin => Ok(()),
        TokenScope::Tenant(_) => Err(ApiError::new(
            ApiCode::Forbidden,
            "this needs the admin token; a tenant token handles its own transactions only",
        )),
    }
}

/// The body of `POST /api/v1/tenants`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantBody {
    /// Short id.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// The certificate's dNSName.
    pub dns: String,
    /// `x509_hash` (default) or `x509_san_dns`.
    #[serde(default)]
    pub client_id_prefix: Option<String>,
    /// Accept unencrypted `direct_post` (only if the service allows it).
    #[serde(default)]
    pub allow_plain_direct_post: bool,
}

fn tenant_json(t: &crate::app::Tenant) -> Value {
    json!({
        "id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "region": t.region,
        "dns": t.dns, "client_id_prefix": t.client_id_prefix,
        "client_id": crate::app::tenants::client_id(t),
        "allow_plain_direct_post": t.allow_plain_direct_post,
        "certificate_pem": crate::pki::pem(&t.cert_der),
        "created_at": t.created_at,
    })
}

/// `POST /api/v1/tenants` (admin).
pub async fn create_tenant(
    State(s): State<AppState>,
    c: Caller,
    ApiJson(b): ApiJson<TenantBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&c)?;
    let prefix = match b.client_id_prefix.as_deref() {
        None => ClientIdPrefix::X509Hash,
        Some(p) => ClientIdPrefix::parse(p).ok_or_else(|| {
            ApiError::new(
                ApiCode::InvalidRequest,
                "client_id_prefix: x509_hash or x509_san_dns",
            )
        })?,
    };
    let spec = TenantSpec {
        id: b.id,
        name_zh: b.name_zh,
        name_en: b.name_en,
        region: b.region,
        dns: b.dns,
        client_id_prefix: prefix,
        allow_plain_direct_post: b.allow_plain_direct_post,
    };
    let t = s.create_tenant(&spec, &c.0.id).await?;
    Ok((StatusCode::CREATED, Json(tenant_json(&t))))
}

/// `GET /api/v1/tenants` (admin).
pub async fn list_tenants(State(s): State<AppState>, c: Caller) -> Result<Json<Value>, ApiError> {
    require_admin(&c)?;
    let list = s.list_tenants().await?;
    Ok(Json(
        json!({"tenants": list.iter().map(tenant_json).collect::<Vec<_>>()}),
    ))
}

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The tenant it acts for; absent for another admin token.
    #[serde(default)]
    pub tenant: Option<String>,
    /// A label for people.
    #[serde(default)]
    pub label: String,
}

/// `POST /api/v1/tokens` (admin): the secret is in the answer, once.
pub async fn create_token(
    State(s): State<AppState>,
    c: Caller,
    ApiJson(b): ApiJson<TokenBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&c)?;
    let scope = b.tenant.map_or(TokenScope::Admin, TokenScope::Tenant);
    let t = s.create_token(scope.clone(), &b.label, &c.0.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": t.id, "scope": scope, "label": b.label, "token": t.secret})),
    ))
}

/// `GET /api/v1/tokens` (admin).
pub async fn list_tokens(State(s): State<AppState>, c: Caller) -> Result<Json<Value>, ApiError> {
    require_admin(&c)?;
    Ok(Json(json!({"tokens": s.list_tokens().await?})))
}

/// `POST /api/v1/tokens/{id}/revoke` (admin).
pub async fn revoke_token(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&c)?;
    s.revoke_token(&id, &c.0.id).await?;
    Ok(Json(json!({"revoked": id})))
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// The chain (admin only; a tenant reads its own).
    #[serde(default)]
    pub chain: Option<String>,
    /// Entries after this seq.
    #[serde(default)]
    pub after: i64,
    /// At most this many (≤ 1000).
    #[serde(default = "default_limit")]
    pub limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// `GET /api/v1/audit`.
pub async fn audit(
    State(s): State<AppState>,
    c: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let chain = match (&c.0.scope, q.chain) {
        (TokenScope::Tenant(t), None) => t.clone(),
        (TokenScope::Tenant(t), Some(asked)) if &asked == t => asked,
        (TokenScope::Tenant(_), Some(_)) => {
            return Err(ApiError::new(
                ApiCode::Forbidden,
                "a tenant token reads its own chain only",
            ));
        }
        (TokenScope::Admin, chain) => chain.unwrap_or_else(|| SERVICE_CHAIN.to_owned()),
    };
    let entries = s.audit_entries(&chain, q.after, q.limit).await?;
    Ok(Json(json!({"chain": chain, "entries": entries})))
}

/// `POST /api/v1/transactions` (tenant).
pub async fn create_transaction(
    State(s): State<AppState>,
    c: Caller,
    ApiJson(b): ApiJson<NewTransaction>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = s.create_transaction(&c.0, b).await?;
    let base = format!("/api/v1/transactions/{}", created.id);
    let mut v = serde_json::to_value(&created).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "same_device_link".into(),
            created.authorization_request.clone().into(),
        );
        o.insert("qr_png".into(), format!("{base}/qr.png").into());
        o.insert("qr_svg".into(), format!("{base}/qr.svg").into());
        o.insert("events".into(), format!("{base}/events").into());
        o.insert("outcome".into(), base.into());
    }
    Ok((StatusCode::CREATED, Json(v)))
}

/// Query of the outcome endpoints.
#[derive(Debug, Deserialize)]
pub struct OutcomeQuery {
    /// Long-poll for up to this many seconds (bounded by `max_wait_secs`).
    #[serde(default)]
    pub wait: Option<u64>,
    /// Same-device: the code the citizen's browser brought back.
    #[serde(default)]
    pub response_code: Option<String>,
}

/// `GET /api/v1/transactions/{id}` (tenant).
pub async fn outcome(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<OutcomeQuery>,
) -> Result<Json<OutcomeView>, ApiError> {
    let code = q.response_code.as_deref();
    let v = match q.wait {
        Some(secs) if secs > 0 => {
            s.wait_outcome(&c.0, &id, code, Duration::from_secs(secs))
                .await?
        }
        _ => s.outcome(&c.0, &id, code).await?,
    };
    Ok(Json(v))
}

fn event(v: &Result<OutcomeView, ApiError>) -> Event {
    match v {
        Ok(v) => Event::default()
            .event("state")
            .json_data(v)
            .unwrap_or_else(|_| Event::default().event("error")),
        Err(e) => Event::default()
            .event("error")
            .json_data(e.body())
            .unwrap_or_else(|_| Event::default().event("error")),
    }
}

/// `GET /api/v1/transactions/{id}/events` (tenant): a `state` event with
/// the current state, then (if it was pending) one more when it is
/// answered or expires, or when `max_wait_secs` runs out; then the stream
/// ends. The client reconnects to keep waiting.
pub async fn events(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<OutcomeQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Fail before the stream starts on a bad token scope or unknown id.
    let first = s.outcome(&c.0, &id, q.response_code.as_deref()).await?;
    let pending = first.state == TxState::Pending;
    let first_event = stream::once(async move { Ok::<_, Infallible>(event(&Ok(first))) });
    let rest = stream::once(async move {
        if !pending {
            return None;
        }
        let wait = Duration::from_secs(s.config().max_wait_secs);
        let v = s
            .wait_outcome(&c.0, &id, q.response_code.as_deref(), wait)
            .await
            .map_err(ApiError::from);
        Some(Ok(event(&v)))
    })
    .filter_map(|x| async move { x });
    Ok(Sse::new(first_event.chain(rest)).keep_alive(KeepAlive::default()))
}

async fn qr_text(s: &Service, c: &Caller, id: &str) -> Result<String, ApiError> {
    Ok(s.authorization_request(&c.0, id).await?)
}

/// `GET /api/v1/transactions/{id}/qr.png` (tenant).
pub async fn qr_png(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let text = qr_text(&s, &c, &id).await?;
    let png =
        tongban_cli_support::qr::png(&[text]).map_err(|e| ApiError::new(ApiCode::Internal, e))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// `GET /api/v1/transactions/{id}/qr.svg` (tenant).
pub async fn qr_svg(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let text = qr_text(&s, &c, &id).await?;
    let svg =
        tongban_cli_support::qr::svg(&[text]).map_err(|e| ApiError::new(ApiCode::Internal, e))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
