//! Unauthenticated endpoints: health, readiness, metrics, the API
//! description, and the operator CA certificate.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{ApiCode, ApiError, AppState, ROUTES};
use crate::pki;

/// `GET /healthz`.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the database answers and the trust bundle is
/// fresh, else 503; the body says which.
pub async fn readyz(State(s): State<AppState>) -> Response {
    let r = s.readiness().await;
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(r)).into_response()
}

/// `GET /metrics`.
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics().render(),
    )
        .into_response()
}

/// `GET /ca.pem`.
pub async fn ca_pem(State(s): State<AppState>) -> Result<Response, ApiError> {
    let der = s.ca_certificate().await?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        pki::pem(&der),
    )
        .into_response())
}

/// The OpenAPI document, generated from [`ROUTES`] and [`ApiCode`].
pub fn openapi_document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, what) in ROUTES {
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        if let Some(o) = entry.as_object_mut() {
            o.insert(method.to_ascii_lowercase(), json!({"summary": what, "responses": {"default": {"description": "see x-error-codes"}}}));
        }
    }
    let codes: Vec<Value> = ApiCode::ALL
        .iter()
        .map(|c| json!({"code": c.code(), "status": c.status(), "message_en": c.message_en(), "message_zh": c.message_zh()}))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Tongban receiving agency service (OpenID4VP 1.0)", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "x-error-codes": codes,
    })
}

/// `GET /openapi.json`.
pub async fn openapi() -> Json<Value> {
    Json(openapi_document())
}
