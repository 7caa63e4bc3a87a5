//! Unauthenticated endpoints: health, readiness, metrics, the API
//! description, and the operator CA certificate.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiError, AppState, OPENAPI};
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

/// `GET /openapi.json`: [`OPENAPI`], as written.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
