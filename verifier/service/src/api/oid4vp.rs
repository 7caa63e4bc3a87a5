//! The OpenID4VP 1.0 endpoints the wallet calls: the request object by
//! reference (`request_uri_method=post`, GET also accepted) and the
//! response URI (`direct_post.jwt`, or `direct_post` where configured).
//! Errors answer with OAuth's `error`/`error_description` beside our code.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiCode, ApiError, AppState, body_bytes, content_type_is};
use crate::app::{TxState, WalletResponse};

/// An error for a wallet.
#[derive(Debug)]
pub struct WalletError(pub ApiError);

impl From<ApiError> for WalletError {
    fn from(e: ApiError) -> Self {
        WalletError(e)
    }
}

impl From<crate::app::ServiceError> for WalletError {
    fn from(e: crate::app::ServiceError) -> Self {
        WalletError(e.into())
    }
}

impl IntoResponse for WalletError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(self.0.wallet_body()),
        )
            .into_response()
    }
}

async fn form<T: for<'de> Deserialize<'de> + Default>(
    s: &AppState,
    req: Request,
) -> Result<T, WalletError> {
    if req.headers().get(header::CONTENT_TYPE).is_none() {
        return Ok(T::default());
    }
    if !content_type_is(req.headers(), "application/x-www-form-urlencoded") {
        return Err(ApiError::new(
            ApiCode::UnsupportedMediaType,
            "send Content-Type: application/x-www-form-urlencoded",
        )
        .into());
    }
    let bytes = body_bytes(req, s).await?;
    serde_urlencoded_form(&bytes)
}

fn serde_urlencoded_form<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, WalletError> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::new(ApiCode::MalformedBody, format!("not a form: {e}")).into())
}

/// The form of a request-object fetch.
#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    /// The wallet's metadata (JSON object text).
    #[serde(default)]
    pub wallet_metadata: Option<String>,
    /// The wallet's nonce, echoed in the request object.
    #[serde(default)]
    pub wallet_nonce: Option<String>,
}

fn request_object(jws: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/oauth-authz-req+jwt"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jws,
    )
        .into_response()
}

/// `POST /oid4vp/request/{id}`.
pub async fn request_post(
    State(s): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, WalletError> {
    let f: RequestForm = form(&s, req).await?;
    Ok(request_object(
        s.request_object(&id, f.wallet_nonce, f.wallet_metadata)
            .await?,
    ))
}

/// `GET /oid4vp/request/{id}`.
pub async fn request_get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WalletError> {
    Ok(request_object(s.request_object(&id, None, None).await?))
}

/// `POST /oid4vp/response/{id}`: 200 `{}` (cross-device) or
/// `{"redirect_uri": …}` (same-device) when accepted or declined; 400
/// `presentation_rejected` with the codes (and the redirect) when the
/// presentation failed verification.
pub async fn response(
    State(s): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, WalletError> {
    if !content_type_is(req.headers(), "application/x-www-form-urlencoded") {
        return Err(ApiError::new(
            ApiCode::UnsupportedMediaType,
            "send Content-Type: application/x-www-form-urlencoded",
        )
        .into());
    }
    let f: WalletResponse = form(&s, req).await?;
    let reply = s.respond(&id, f).await?;
    let mut body = json!({});
    if let Some(r) = &reply.redirect_uri {
        body["redirect_uri"] = r.clone().into();
    }
    if reply.state == TxState::Rejected {
        let e = ApiError::new(
            ApiCode::PresentationRejected,
            format!("rejected: {}", reply.codes.join(", ")),
        );
        let mut b = e.wallet_body();
        b["codes"] = json!(reply.codes);
        if let Some(r) = reply.redirect_uri {
            b["redirect_uri"] = r.into();
        }
        return Ok((
            StatusCode::BAD_REQUEST,
            [(header::CACHE_CONTROL, "no-store")],
            Json(b),
        )
            .into_response());
    }
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}
