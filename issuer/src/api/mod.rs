//! The HTTP API: public endpoints (metadata, keys, status lists, type
//! metadata), OpenID4VCI 1.0 (pushed authorization request, authorization,
//! login callback, token, nonce, credential), and the admin API
//! under `/admin/v1` (bearer tokens, scoped per agency and action).
//!
//! [`router`] builds the whole service; tests drive it with
//! `tower::ServiceExt::oneshot`, no port needed. [`ROUTES`] lists every
//! route once: the router is built from the same handlers and a test
//! checks `specs/issuer-api.openapi.json` documents each of them.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;

use crate::app::Service;

pub mod admin;
pub mod counter;
pub mod error;
pub mod oid4vci;
pub mod public;

pub use error::{ApiCode, ApiError};

/// Shared state of every handler.
pub type AppState = Arc<Service>;

/// Every route of the service: (method, path as the router writes it).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/types"),
    ("GET", "/types/{slug}"),
    ("GET", "/agencies"),
    (
        "GET",
        "/.well-known/openid-credential-issuer/agencies/{agency}",
    ),
    (
        "GET",
        "/.well-known/oauth-authorization-server/agencies/{agency}",
    ),
    ("GET", "/.well-known/jwt-vc-issuer/agencies/{agency}"),
    ("GET", "/agencies/{agency}/jwks.json"),
    ("GET", "/agencies/{agency}/status"),
    ("GET", "/agencies/{agency}/status/{list}"),
    ("POST", "/agencies/{agency}/par"),
    ("GET", "/agencies/{agency}/authorize"),
    ("GET", "/agencies/{agency}/login/callback"),
    ("POST", "/agencies/{agency}/token"),
    ("POST", "/agencies/{agency}/nonce"),
    ("POST", "/agencies/{agency}/credential"),
    ("GET", "/admin/v1/agency"),
    ("POST", "/admin/v1/credentials"),
    ("GET", "/admin/v1/credentials"),
    ("POST", "/admin/v1/credentials/batch"),
    ("GET", "/admin/v1/credentials/{id}"),
    ("POST", "/admin/v1/credentials/{id}/revoke"),
    ("POST", "/admin/v1/credentials/{id}/suspend"),
    ("POST", "/admin/v1/credentials/{id}/reinstate"),
    ("POST", "/admin/v1/records"),
    ("GET", "/admin/v1/audit"),
];

/// The OpenAPI document served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../specs/issuer-api.openapi.json");

/// Builds the service's router: every route at the root and, when
/// `public_url` has a path (`https://h/licences`), under that path too,
/// with the well-known URIs by path insertion
/// (`/.well-known/openid-credential-issuer/licences/agencies/{agency}`,
/// RFC 8414 §3, OpenID4VCI 1.0 §12.2.2, SD-JWT VC). The root routes stay
/// for a reverse proxy that strips the prefix, and for health checks.
pub fn router(state: AppState) -> Router {
    let routes = service_routes(&state);
    let prefix = state.config().path_prefix().to_owned();
    let mut app = routes.clone();
    if !prefix.is_empty() {
        app = app
            .nest(&prefix, routes)
            .route(
                &format!("/.well-known/openid-credential-issuer{prefix}/agencies/{{agency}}"),
                get(oid4vci::issuer_metadata),
            )
            .route(
                &format!("/.well-known/oauth-authorization-server{prefix}/agencies/{{agency}}"),
                get(oid4vci::as_metadata),
            )
            .route(
                &format!("/.well-known/jwt-vc-issuer{prefix}/agencies/{{agency}}"),
                get(public::jwt_vc_issuer),
            );
    }
    app.merge(counter::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every route of [`ROUTES`], with the body limits, not yet given state.
fn service_routes(state: &AppState) -> Router<AppState> {
    let body_limit = state.config().max_body_bytes;
    let batch_limit = state.config().max_batch_bytes;
    let batch = Router::new()
        .route("/admin/v1/credentials/batch", post(admin::issue_batch))
        .layer(DefaultBodyLimit::max(batch_limit));
    // Strangers push authorization requests: a small body only.
    let par = Router::new()
        .route("/agencies/{agency}/par", post(oid4vci::par))
        .layer(DefaultBodyLimit::max(
            state.config().authorization.max_par_bytes,
        ));
    Router::new()
        .route("/healthz", get(public::healthz))
        .route("/readyz", get(public::readyz))
        .route("/metrics", get(public::metrics))
        .route("/openapi.json", get(public::openapi))
        .route("/types", get(public::types))
        .route("/types/{slug}", get(public::type_metadata))
        .route("/agencies", get(public::agencies))
        .route(
            "/.well-known/openid-credential-issuer/agencies/{agency}",
            get(oid4vci::issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/agencies/{agency}",
            get(oid4vci::as_metadata),
        )
        .route(
            "/.well-known/jwt-vc-issuer/agencies/{agency}",
            get(public::jwt_vc_issuer),
        )
        .route("/agencies/{agency}/jwks.json", get(public::jwks))
        .route("/agencies/{agency}/status", get(public::status_lists))
        .route("/agencies/{agency}/status/{list}", get(public::status_list))
        .route("/agencies/{agency}/authorize", get(oid4vci::authorize))
        .route(
            "/agencies/{agency}/login/callback",
            get(oid4vci::login_callback),
        )
        .route("/agencies/{agency}/token", post(oid4vci::token))
        .route("/agencies/{agency}/nonce", post(oid4vci::nonce))
        .route("/agencies/{agency}/credential", post(oid4vci::credential))
        .route("/admin/v1/agency", get(admin::whoami))
        .route("/admin/v1/credentials", post(admin::issue).get(admin::list))
        .route("/admin/v1/credentials/{id}", get(admin::get_one))
        .route("/admin/v1/credentials/{id}/revoke", post(admin::revoke))
        .route("/admin/v1/credentials/{id}/suspend", post(admin::suspend))
        .route(
            "/admin/v1/credentials/{id}/reinstate",
            post(admin::reinstate),
        )
        .route("/admin/v1/audit", get(admin::audit))
        .route("/admin/v1/records", post(admin::put_record))
        .layer(DefaultBodyLimit::max(body_limit))
        .merge(batch)
        .merge(par)
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
                HeaderValue::from_static("Bearer realm=\"tongban-admin\""),
            );
        }
        resp
    }
}

/// A JSON body whose every failure is one of our codes: wrong content type
/// (415), too large (413), not JSON (400), wrong members (422).
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
        parse_json(&bytes).map(ApiJson)
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
                ApiError::new(ApiCode::MalformedJson, e.body_text())
            }
        })
}

/// Parses JSON, telling syntax errors (400) from shape errors (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::new(ApiCode::InvalidRequest, e.to_string()),
        _ => ApiError::new(ApiCode::MalformedJson, e.to_string()),
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
