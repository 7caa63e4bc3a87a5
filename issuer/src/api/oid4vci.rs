//! OpenID4VCI 1.0 on HTTP: the metadata, pushed authorization request,
//! authorization, login callback, token, nonce and credential endpoints of
//! each agency. The protocol is in
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
    AccessToken, ClientAttestationHeaders, CredentialBody, CredentialReply, Oid4vciError, Redirect,
    ServiceError, form_client_id,
};
use tongban_protocol::oauth::dpop::DPOP_ALGS;
use tongban_protocol::oauth::{DPOP_HEADER, DPOP_NONCE_HEADER, INVALID_DPOP_PROOF};

/// An OAuth error answer: the HTTP status and the error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body: the `error` code of RFC 6749 / OpenID4VCI §6.3, §8.3.1,
    /// RFC 9449, a sentence for the wallet's developer, and after a wrong
    /// or locked `tx_code` the PIN attempts left.
    pub body: ErrorResponse,
    /// A fresh DPoP nonce for the `DPoP-Nonce` header (RFC 9449 §8, §9).
    pub dpop_nonce: Option<String>,
    /// The `WWW-Authenticate` scheme of a 401: `DPoP` for DPoP refusals at
    /// the credential endpoint, else `Bearer`.
    pub dpop_challenge: bool,
}

impl OAuthError {
    fn bad(error: &str, description: impl Into<String>) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            body: ErrorResponse::new(error, description),
            dpop_nonce: None,
            dpop_challenge: false,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        // A challenge for the credential endpoint's refusals (a bad token,
        // or DPoP's), not for a client authentication refusal (401
        // `invalid_client`/`invalid_client_attestation` at PAR and token).
        let www_authenticate = (self.status == StatusCode::UNAUTHORIZED
            && (self.body.error == "invalid_token" || self.dpop_challenge))
            .then(|| {
                HeaderValue::from_str(&format!(
                    "{} error=\"{}\", error_description=\"{}\"{}",
                    if self.dpop_challenge {
                        "DPoP"
                    } else {
                        "Bearer"
                    },
                    self.body.error,
                    self.body
                        .error_description
                        .as_deref()
                        .unwrap_or_default()
                        .replace(['"', '\\'], "'"),
                    if self.dpop_challenge {
                        format!(", algs=\"{}\"", DPOP_ALGS.join(" "))
                    } else {
                        String::new()
                    }
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
        if let Some(n) = self.dpop_nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            h.insert(DPOP_NONCE_HEADER, n);
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
            dpop_nonce: None,
            dpop_challenge: false,
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
                dpop_nonce: None,
                dpop_challenge: false,
            },
            Oid4vciError::ClientAuthentication(body) => OAuthError {
                status: StatusCode::UNAUTHORIZED,
                body,
                dpop_nonce: None,
                dpop_challenge: false,
            },
            Oid4vciError::InvalidToken(description) => OAuthError {
                status: StatusCode::UNAUTHORIZED,
                body: ErrorResponse::new("invalid_token", description),
                dpop_nonce: None,
                dpop_challenge: false,
            },
            Oid4vciError::Dpop {
                body,
                nonce,
                resource,
            } => OAuthError {
                status: if resource {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                },
                body,
                dpop_nonce: Some(nonce),
                dpop_challenge: resource,
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

/// The request's `DPoP` header, if it has exactly one.
fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    let mut all = headers.get_all(DPOP_HEADER).iter();
    let first = all.next();
    if all.next().is_some() {
        return Err(OAuthError::bad(
            INVALID_DPOP_PROOF,
            "send one DPoP header, not several (RFC 9449 §4.3)",
        ));
    }
    first
        .map(|v| {
            v.to_str()
                .map_err(|_| OAuthError::bad(INVALID_DPOP_PROOF, "the DPoP header is not ASCII"))
        })
        .transpose()
}

/// A JSON answer with `Cache-Control: no-store` and a fresh `DPoP-Nonce`.
fn with_dpop_nonce(s: &AppState, agency: &str, resp: Response) -> Response {
    let mut resp = no_store(resp);
    if let Ok(v) = HeaderValue::from_str(&s.dpop_nonce(agency)) {
        resp.headers_mut().insert(DPOP_NONCE_HEADER, v);
    }
    resp
}

/// `POST /agencies/{agency}/par` (RFC 9126).
pub async fn par(
    State(s): State<AppState>,
    Path(agency): Path<String>,
    req: Request,
) -> Result<Response, OAuthError> {
    if !content_type_is(req.headers(), "application/x-www-form-urlencoded") {
        return Err(OAuthError::bad(
            "invalid_request",
            "the pushed authorization request must be application/x-www-form-urlencoded",
        ));
    }
    let rt = s.agency(&agency).await?;
    let proof = dpop_proof(req.headers())?.map(str::to_owned);
    let attestation = client_attestation_headers(req.headers());
    let body = body_bytes(req, &s).await?;
    // HAIP 1.0 (Authorization Endpoint): the wallet authenticates at the
    // PAR endpoint by the same rules as at the token endpoint.
    s.authenticate_client(&rt, &attestation, form_client_id(&body).as_deref())?;
    let response = s
        .pushed_authorization_request(&rt, &body, proof.as_deref())
        .await?;
    let resp = (StatusCode::CREATED, Json(response)).into_response();
    Ok(with_dpop_nonce(&s, &rt.agency.id, resp))
}

/// The decoded pairs of a request's query.
fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            openidconnect::url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// A refusal shown to the citizen's browser: a small page in Chinese and
/// English with the OAuth error, never a redirect.
fn browser_page(e: Oid4vciError) -> Response {
    let OAuthError { status, body, .. } = OAuthError::from(e);
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let page = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>通办 Tongban</title>\
         <h1>无法继续领取证照 / The credential cannot be requested</h1>\
         <p>请回到您的证照钱包重新开始。/ Go back to your wallet and start again.</p>\
         <p><code>{}</code>: {}</p></html>",
        escape(&body.error),
        escape(body.error_description.as_deref().unwrap_or_default())
    );
    let mut resp = (status, axum::response::Html(page)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn see_other(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => {
            let mut resp = StatusCode::SEE_OTHER.into_response();
            let h = resp.headers_mut();
            h.insert(header::LOCATION, v);
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(_) => browser_page(Oid4vciError::Service(ServiceError::internal(
            "a redirect URL is not a header value",
        ))),
    }
}

/// `GET /agencies/{agency}/authorize` (RFC 6749 §4.1.1 with RFC 9126 §4):
/// a pushed request's `request_uri`; the browser goes to the agency's
/// login.
pub async fn authorize(
    State(s): State<AppState>,
    Path(agency): Path<String>,
    req: Request,
) -> Response {
    let rt = match s.agency(&agency).await {
        Ok(rt) => rt,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match s.authorize(&rt, &query_pairs(req.uri())).await {
        Ok(Redirect(to)) => see_other(&to),
        Err(e) => browser_page(e),
    }
}

/// `GET /agencies/{agency}/login/callback`: back from the agency's login;
/// the browser goes on to the wallet's `redirect_uri`.
pub async fn login_callback(
    State(s): State<AppState>,
    Path(agency): Path<String>,
    req: Request,
) -> Response {
    let rt = match s.agency(&agency).await {
        Ok(rt) => rt,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match s.login_callback(&rt, &query_pairs(req.uri())).await {
        Ok(Redirect(to)) => see_other(&to),
        Err(e) => browser_page(e),
    }
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
    let proof = dpop_proof(req.headers())?.map(str::to_owned);
    let attestation = client_attestation_headers(req.headers());
    let body = body_bytes(req, &s).await?;
    s.authenticate_client(&rt, &attestation, form_client_id(&body).as_deref())?;
    let response = s.token_request(&rt, &body, proof.as_deref()).await?;
    Ok(with_dpop_nonce(
        &s,
        &rt.agency.id,
        Json(response).into_response(),
    ))
}

/// `POST /agencies/{agency}/nonce` (§7), with a DPoP nonce beside the
/// `c_nonce` (HAIP 1.0 §4).
pub async fn nonce(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Response, OAuthError> {
    let rt = s.agency(&agency).await?;
    let response = s.nonce_request(&rt.agency.id).await?;
    Ok(with_dpop_nonce(
        &s,
        &rt.agency.id,
        Json(response).into_response(),
    ))
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

/// The access token of the `Authorization` header: `Bearer` or `DPoP`
/// (scheme case-insensitive, RFC 9110 §11.1).
fn access_token(headers: &HeaderMap) -> Option<AccessToken<'_>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("Bearer") {
        Some(AccessToken { token, dpop: false })
    } else if scheme.eq_ignore_ascii_case("DPoP") {
        Some(AccessToken { token, dpop: true })
    } else {
        None
    }
}

/// `POST /agencies/{agency}/credential` (§8).
pub async fn credential(
    State(s): State<AppState>,
    Path(agency): Path<String>,
    req: Request,
) -> Result<Response, OAuthError> {
    let rt = s.agency(&agency).await?;
    let offer = s
        .credential_offer(&rt, access_token(req.headers()), dpop_proof(req.headers())?)
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
