//! The HTTP API: the back-office API under `/api/v1` (JSON, bearer
//! tokens), the OpenID4VP endpoints the wallet calls under `/oid4vp`, and
//! `/healthz` `/readyz` `/metrics` `/openapi.json` `/ca.pem`.
//!
//! [`router`] builds the whole service; tests drive it with
//! `tower::ServiceExt::oneshot`, no port needed. [`ROUTES`] lists every
//! route once, with a line of what it does; `/openapi.json` serves
//! [`OPENAPI`], the hand-written `specs/verifier-service.openapi.json`, and
//! `tests/api_docs.rs` keeps it in step with [`ROUTES`] and [`ApiCode`]
//! (a route added here fails that test until the document describes it).
//! Every route has a body limit: `max_body_bytes`, or
//! `max_response_bytes` for the wallet's response.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;

use crate::app::{Service, TokenRecord};

pub mod backoffice;
pub mod counter;
pub mod error;
pub mod oid4vp;
pub mod public;

pub use error::{ApiCode, ApiError};

/// Shared state of every handler.
pub type AppState = Arc<Service>;

/// The OpenAPI 3.1 document served at `/openapi.json`
/// (`specs/verifier-service.openapi.json`; prose in
/// `specs/verifier-service.md`).
pub const OPENAPI: &str = include_str!("../../../../specs/verifier-service.openapi.json");

/// Every route: (method, path as the router writes it, what it does).
/// Each must be in [`OPENAPI`], and the document describes nothing else.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "the process is up"),
    (
        "GET",
        "/readyz",
        "database reachable and trust bundle fresh (503 otherwise)",
    ),
    ("GET", "/metrics", "Prometheus metrics"),
    ("GET", "/openapi.json", "this document"),
    (
        "GET",
        "/ca.pem",
        "the operator CA certificate wallets are told to trust",
    ),
    ("GET", "/api/v1/tenants", "admin: every tenant"),
    (
        "POST",
        "/api/v1/tenants",
        "admin: create a tenant (key and certificate)",
    ),
    ("GET", "/api/v1/tokens", "admin: every token (no secrets)"),
    (
        "POST",
        "/api/v1/tokens",
        "admin: create a token; the secret is in the answer once",
    ),
    (
        "POST",
        "/api/v1/tokens/{id}/revoke",
        "admin: revoke a token",
    ),
    (
        "GET",
        "/api/v1/audit",
        "the audit chain of the token's tenant (admin: ?chain=)",
    ),
    (
        "POST",
        "/api/v1/transactions",
        "tenant: create a presentation transaction",
    ),
    (
        "GET",
        "/api/v1/transactions/{id}",
        "tenant: the outcome (?wait=SECONDS long-poll, ?response_code= for same-device)",
    ),
    (
        "GET",
        "/api/v1/transactions/{id}/events",
        "tenant: Server-Sent Events until the outcome",
    ),
    (
        "GET",
        "/api/v1/transactions/{id}/qr.png",
        "tenant: the QR code of the openid4vp:// link, PNG",
    ),
    (
        "GET",
        "/api/v1/transactions/{id}/qr.svg",
        "tenant: the QR code of the openid4vp:// link, SVG",
    ),
    (
        "GET",
        "/oid4vp/request/{id}",
        "wallet: the signed request object",
    ),
    (
        "POST",
        "/oid4vp/request/{id}",
        "wallet: the signed request object (form: wallet_metadata, wallet_nonce)",
    ),
    (
        "POST",
        "/oid4vp/response/{id}",
        "wallet: the response (form: response, or vp_token and state, or error and state)",
    ),
];

/// Builds the service's router.
pub fn router(state: AppState) -> Router {
    let body = state.config().max_body_bytes;
    let response = state.config().max_response_bytes;
    let wallet_response = Router::new()
        .route("/oid4vp/response/{id}", post(oid4vp::response))
        .layer(DefaultBodyLimit::max(response));
    Router::new()
        .route("/healthz", get(public::healthz))
        .route("/readyz", get(public::readyz))
        .route("/metrics", get(public::metrics))
        .route("/openapi.json", get(public::openapi))
        .route("/ca.pem", get(public::ca_pem))
        .route(
            "/api/v1/tenants",
            get(backoffice::list_tenants).post(backoffice::create_tenant),
        )
        .route(
            "/api/v1/tokens",
            get(backoffice::list_tokens).post(backoffice::create_token),
        )
        .route("/api/v1/tokens/{id}/revoke", post(backoffice::revoke_token))
        .route("/api/v1/audit", get(backoffice::audit))
        .route("/api/v1/transactions", post(backoffice::create_transaction))
        .route("/api/v1/transactions/{id}", get(backoffice::outcome))
        .route("/api/v1/transactions/{id}/events", get(backoffice::events))
        .route("/api/v1/transactions/{id}/qr.png", get(backoffice::qr_png))
        .route("/api/v1/transactions/{id}/qr.svg", get(backoffice::qr_svg))
        .route(
            "/oid4vp/request/{id}",
            get(oid4vp::request_get).post(oid4vp::request_post),
        )
        .layer(DefaultBodyLimit::max(body))
        .merge(wallet_response)
        .merge(counter::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        ApiCode::UnknownEndpoint,
        tongban_service_kit::api_codes::NO_ROUTE,
    )
}

/// Counts and times every request by its route pattern.
async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    tongban_service_kit::metrics::track(s.metrics(), req, next).await
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(self.body())).into_response();
        if self.code == ApiCode::Unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tongban-verifier-service\""),
            );
        }
        resp
    }
}

/// The token of a back-office request (admin or tenant).
#[derive(Debug)]
pub struct Caller(pub TokenRecord);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let secret = tongban_service_kit::tokens::bearer(&parts.headers).ok_or_else(|| {
            ApiError::new(ApiCode::Unauthorized, "no Bearer token in Authorization")
        })?;
        Ok(Caller(s.authenticate(secret).await?))
    }
}

/// A JSON body whose every failure is one of our codes.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !content_type_is(req.headers(), "application/json") {
            return Err(ApiError::new(
                ApiCode::UnsupportedMediaType,
                "send Content-Type: application/json",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => {
                    ApiError::new(ApiCode::InvalidRequest, e.to_string())
                }
                _ => ApiError::new(ApiCode::MalformedBody, e.to_string()),
            })
    }
}

/// Query parameters whose every failure is one of our codes (a `?wait=abc`
/// is `422 invalid_request` with a JSON body, not the framework's text).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::new(ApiCode::InvalidRequest, e.body_text()))
    }
}

/// Reads the whole body, mapping the size limit to [`ApiCode::BodyTooLarge`].
pub async fn body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ApiCode::BodyTooLarge, e.body_text())
            } else {
                ApiError::new(ApiCode::MalformedBody, e.body_text())
            }
        })
}

/// Whether the Content-Type is `media` (parameters ignored, case-insensitive).
pub fn content_type_is(headers: &axum::http::HeaderMap, media: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media))
}
