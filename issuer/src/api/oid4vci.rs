//! OpenID4VCI 1.0 on HTTP: the metadata, token, nonce and credential
//! endpoints of each agency. The protocol is in
//! [`crate::app`] (`app/oid4vci`); here are the routes' extraction (agency,
//! content type, bearer token, body), the calls, and the answer: JSON with
//! `Cache-Control: no-store`, or an OAuth error body
//! (`{"error", "error_description"}`) with its HTTP status.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tongban_protocol::oid4vci::{
    AuthorizationServerMetadata, CLIENT_ATTESTATION_HEADER, CLIENT_ATTESTATION_POP_HEADER,
    CredentialIssuerMetadata, ErrorResponse, JWT_MEDIA_TYPE,
};

use super::ApiError;
use super::{AppState, body_bytes, content_type_is};
use crate::app::{
    ClientAttestationHeaders, CredentialBody, CredentialReply, Oid4vciError, ServiceError,
    form_client_id,
};

/// An OAuth error answer: the HTTP status and the error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body: the `error` code of RFC 6749 / OpenID4VCI §6.3, §8.3.1,
    /// a sentence for the wallet's developer, and after a wrong or locked
    /// `tx_code` the PIN attempts left.
    pub body: ErrorResponse,
}

impl OAuthError {
    fn bad(error: &str, description: impl Into<String>) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            body: ErrorResponse::new(error, description),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let www_authenticate = (self.status == StatusCode::UNAUTHORIZED
            && self.body.error == "invalid_token")
            .then(|| {
                HeaderValue::from_str(&format!(
                    "Bearer error=\"{}\", error_description=\"{}\"",
                    self.body.error,
                    self.body
                        .error_description
                        .as_deref()
                        .unwrap_or_default()
                        .replace('"', "'")
                ))
                .ok()
            })
            .flatten();
        let mut resp = (self.status, Json(self.body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(v) = www_authenticate {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        OAuthError {
            status: StatusCode::from_u16(e.code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: ErrorResponse::new(
                if e.code.status() >= 500 {
                    "server_error"
                } else {
                    "invalid_request"
                },
                e.detail,
            ),
        }
    }
}

impl From<ServiceError> for OAuthError {
    fn from(e: ServiceError) -> Self {
        OAuthError::from(ApiError::from(e))
    }
}

impl From<Oid4vciError> for OAuthError {
    fn from(e: Oid4vciError) -> Self {
        match e {
            Oid4vciError::Refused(body) => OAuthError {
                status: StatusCode::BAD_REQUEST,
                body,
            },
            Oid4vciError::ClientAuthentication(body) => OAuthError {
                status: StatusCode::UNAUTHORIZED,
                body,
            },
            Oid4vciError::InvalidToken(description) => OAuthError {
                status: StatusCode::UNAUTHORIZED,
                body: ErrorResponse::new("invalid_token", description),
            },
            Oid4vciError::Service(e) => OAuthError::from(e),
        }
    }
}

fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /.well-known/openid-credential-issuer/agencies/{agency}` (§12.2).
pub async fn issuer_metadata(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Json<CredentialIssuerMetadata>, ApiError> {
    let rt = s.agency(&agency).await?;
    Ok(Json(s.issuer_metadata(&rt)))
}

/// `GET /.well-known/oauth-authorization-server/agencies/{agency}` (RFC 8414).
pub async fn as_metadata(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Json<AuthorizationServerMetadata>, ApiError> {
    let rt = s.agency(&agency).await?;
    Ok(Json(s.authorization_server_metadata(&rt)))
}

/// `POST /agencies/{agency}/token` (§6).
pub async fn token(
    State(s): State<AppState>,
    Path(agency): Path<String>,
    req: Request,
) -> Result<Response, OAuthError> {
    if !content_type_is(req.headers(), "application/x-www-form-urlencoded") {
        return Err(OAuthError::bad(
            "invalid_request",
            "the token request must be application/x-www-form-urlencoded",
        ));
    }
    let rt = s.agency(&agency).await?;
    let attestation = client_attestation_headers(req.headers());
    let body = body_bytes(req, &s).await?;
    s.authenticate_client(&rt, &attestation, form_client_id(&body).as_deref())?;
    let response = s.token_request(&rt.agency.id, &body).await?;
    Ok(no_store(Json(response).into_response()))
}

/// `POST /agencies/{agency}/nonce` (§7).
pub async fn nonce(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Response, OAuthError> {
    let rt = s.agency(&agency).await?;
    let response = s.nonce_request(&rt.agency.id).await?;
    Ok(no_store(Json(response).into_response()))
}

/// The wallet attestation headers of a request (draft -07 §6.1), every
/// value as sent (a repeated header is refused by
/// [`authenticate_client`](crate::app::Service::authenticate_client); a
/// value that is not visible ASCII counts as an empty one, refused there as
/// malformed).
pub fn client_attestation_headers(headers: &HeaderMap) -> ClientAttestationHeaders {
    let all = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or_default().trim().to_owned())
            .collect()
    };
    ClientAttestationHeaders {
        attestation: all(CLIENT_ATTESTATION_HEADER),
        pop: all(CLIENT_ATTESTATION_POP_HEADER),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// `POST /agencies/{agency}/credential` (§8).
pub async fn credential(
    State(s): State<AppState>,
    Path(agency): Path<String>,
    req: Request,
) -> Result<Response, OAuthError> {
    let rt = s.agency(&agency).await?;
    let offer = s
        .credential_offer(&rt.agency.id, bearer(req.headers()))
        .await?;
    let encrypted = content_type_is(req.headers(), JWT_MEDIA_TYPE);
    if !encrypted && !content_type_is(req.headers(), "application/json") {
        return Err(OAuthError::bad(
            "invalid_credential_request",
            "send application/json, or application/jwt for an encrypted request",
        ));
    }
    let body = body_bytes(req, &s).await?;
    let body = if encrypted {
        CredentialBody::Encrypted(&body)
    } else {
        CredentialBody::Json(&body)
    };
    let resp = match s.credential_request(&rt, &offer, body).await? {
        CredentialReply::Plain(response) => Json(response).into_response(),
        CredentialReply::Encrypted(jwe) => {
            ([(header::CONTENT_TYPE, JWT_MEDIA_TYPE)], jwe).into_response()
        }
    };
    Ok(no_store(resp))
}
