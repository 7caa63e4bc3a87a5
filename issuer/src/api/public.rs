//! Public, unauthenticated endpoints: health, metrics, the OpenAPI
//! document, type metadata, and each agency's keys and status lists.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiCode, ApiError};
use super::{AppState, OPENAPI};
use crate::app::Backend;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: the database answers (on SQLite, the thread committing
/// issued credentials runs as well).
pub async fn readyz(State(s): State<AppState>) -> Response {
    let (backend, ping) = s.readiness().await;
    let backend = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    match ping {
        Ok(()) => Json(json!({"status": "ready", "database": backend})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": backend, "detail": e})),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics().render(),
    )
        .into_response()
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /types`: the catalogue's licence types.
pub async fn types(State(s): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = s
        .catalogue()
        .types()
        .iter()
        .map(|t| {
            json!({
                "vct": t.vct, "id": t.slug, "name_zh": t.name_zh, "name_en": t.name_en,
                "metadata": format!("{}/types/{}", s.config().public_url, t.slug),
            })
        })
        .collect();
    Json(json!({ "types": list }))
}

/// `GET /types/{slug}`: SD-JWT VC type metadata (Chinese and English).
pub async fn type_metadata(
    State(s): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.catalogue()
        .by_slug(&slug)
        .map(|t| Json(t.metadata.clone()))
        .ok_or_else(|| {
            ApiError::new(
                ApiCode::NotFound,
                format!("no licence type {slug:?}; see /types"),
            )
        })
}

/// `GET /agencies`: the agencies this service hosts.
pub async fn agencies(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = s
        .list_agencies()
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id, "issuer": a.iss, "name_zh": a.name_zh, "name_en": a.name_en,
                "region": a.region, "vcts": a.vcts,
                "jwks_uri": format!("{}/jwks.json", a.iss),
            })
        })
        .collect();
    Ok(Json(json!({ "agencies": list })))
}

/// `GET /.well-known/jwt-vc-issuer/agencies/{agency}` (SD-JWT VC issuer
/// metadata): the issuer id and its JWKS inline.
pub async fn jwt_vc_issuer(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rt = s.agency(&agency).await?;
    Ok(Json(json!({
        "issuer": rt.agency.iss,
        "jwks": { "keys": rt.keys.public_jwks },
    })))
}

/// `GET /agencies/{agency}/jwks.json`: every signing key, current and retired.
pub async fn jwks(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rt = s.agency(&agency).await?;
    Ok(Json(json!({ "keys": rt.keys.public_jwks })))
}

/// `GET /agencies/{agency}/status`: the URIs of the agency's status lists
/// and the current one, for the trust-list operator's tooling
/// (`trust-list update-issuer --status-lists-from`).
pub async fn status_lists(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rt = s.agency(&agency).await?;
    let lists = s.status_lists(&rt).await?;
    Ok(Json(json!({
        "issuer": rt.agency.iss,
        "status_lists": lists.uris,
        "current_status_list": lists.current,
    })))
}

/// `GET /agencies/{agency}/status/{list}`: the status list token
/// (`application/statuslist+jwt`), cacheable for its `ttl`.
pub async fn status_list(
    State(s): State<AppState>,
    Path((agency, list)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let list: i64 = list.parse().map_err(|_| {
        ApiError::new(
            ApiCode::StatusListNotFound,
            format!("{list:?} is not a list number"),
        )
    })?;
    let rt = s.agency(&agency).await?;
    let (token, max_age) = s.status_list_token(&rt, list).await?;
    let mut resp = token.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/statuslist+jwt"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    Ok(resp)
}
