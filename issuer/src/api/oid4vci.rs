//! OpenID4VCI 1.0, pre-authorized code flow, one credential issuer per
//! agency (issuer identifier `<public_url>/agencies/<id>`).
//!
//! - Metadata: `/.well-known/openid-credential-issuer/agencies/<id>` and
//!   `/.well-known/oauth-authorization-server/agencies/<id>` (path
//!   insertion, §12.2.2 and RFC 8414 §3); every configuration carries
//!   `credential_metadata`, the 1.0 shape.
//! - Token (§6): `grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code`,
//!   `pre-authorized_code`, `tx_code`; codes are single-use and short-lived,
//!   wrong PINs are counted and lock the offer.
//! - Nonce (§7): `POST`, `{"c_nonce"}`, `Cache-Control: no-store`; each
//!   nonce is single-use.
//! - Credential (§8): the 1.0 `proofs: {"jwt": [..]}` request and the
//!   draft-15 `proof: {"proof_type": "jwt", "jwt"}` request; the proof
//!   (`openid4vci-proof+jwt`, Appendix F.1) is checked for type, algorithm,
//!   key (`jwk` header, exactly one of `kid`/`jwk`/`x5c`), signature, `aud`,
//!   `iat` and `nonce`; the credential is bound to the proof's key.
//! - Encryption (§10): a request carrying `credential_response_encryption`
//!   must itself be encrypted (JWE to the agency's key from
//!   `credential_request_encryption`), and the response is then a JWE
//!   (ECDH-ES with A128GCM or A256GCM) to the wallet's key. josekit does
//!   the JWE; nothing is hand-rolled.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tongban_verifier::PublicKey;
use tongban_verifier::jws::{CompactJws, media_type_eq};
use tongban_verifier::keys::Algorithm;

use super::ApiError;
use super::{AppState, body_bytes, content_type_is};
use crate::app::{AgencyRuntime, CodeExchange, ServiceError};

/// The pre-authorized code grant type.
pub const PRE_AUTH_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// `typ` of a key proof.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// Content encryption algorithms accepted.
pub const ENC_VALUES: [&str; 2] = ["A128GCM", "A256GCM"];
/// Proof signing algorithms accepted.
pub const PROOF_ALGS: [&str; 3] = ["EdDSA", "Ed25519", "ES256"];

/// An OAuth-style error (`{"error", "error_description"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `error` code of RFC 6749 / OpenID4VCI §6.3, §8.3.1.
    pub error: &'static str,
    /// A sentence for the wallet's developer.
    pub description: String,
    /// For a wrong or locked `tx_code`: PIN attempts left (an extension
    /// member, so wallets need not parse the sentence).
    pub tx_code_attempts_remaining: Option<i64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            tx_code_attempts_remaining: None,
        }
    }

    fn bad(error: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.error, "error_description": self.description});
        if let Some(n) = self.tx_code_attempts_remaining {
            body["tx_code_attempts_remaining"] = json!(n);
        }
        let mut resp = (self.status, Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED
            && let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer error=\"{}\", error_description=\"{}\"",
                self.error,
                self.description.replace('"', "'")
            ))
        {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        OAuthError::new(
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            if e.code.status() >= 500 {
                "server_error"
            } else {
                "invalid_request"
            },
            e.detail,
        )
    }
}

impl From<ServiceError> for OAuthError {
    fn from(e: ServiceError) -> Self {
        OAuthError::from(ApiError::from(e))
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
) -> Result<Json<Value>, ApiError> {
    let rt = s.agency(&agency).await?;
    let a = &rt.agency;
    let mut configs = Map::new();
    for vct in &a.vcts {
        let Some(lt) = s.catalogue.by_vct(vct) else {
            continue;
        };
        let claims: Vec<Value> = lt
            .claims
            .iter()
            .map(|c| {
                json!({
                    "path": [c.name],
                    "mandatory": c.mandatory,
                    "display": [
                        {"name": c.label_zh, "locale": "zh-CN"},
                        {"name": c.label_en, "locale": "en-US"},
                    ],
                })
            })
            .collect();
        configs.insert(
            lt.slug.to_owned(),
            json!({
                "format": "dc+sd-jwt",
                "vct": lt.vct,
                "scope": lt.slug,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["EdDSA"],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": PROOF_ALGS}},
                "credential_metadata": {
                    "display": [
                        {"name": lt.name_zh, "locale": "zh-CN"},
                        {"name": lt.name_en, "locale": "en-US"},
                    ],
                    "claims": claims,
                },
            }),
        );
    }
    Ok(Json(json!({
        "credential_issuer": a.iss,
        "credential_endpoint": format!("{}/credential", a.iss),
        "nonce_endpoint": format!("{}/nonce", a.iss),
        "credential_request_encryption": {
            "jwks": {"keys": [rt.enc_public]},
            "enc_values_supported": ENC_VALUES,
            "encryption_required": a.encryption_required,
        },
        "credential_response_encryption": {
            "alg_values_supported": ["ECDH-ES"],
            "enc_values_supported": ENC_VALUES,
            "encryption_required": a.encryption_required,
        },
        "display": [
            {"name": a.name_zh, "locale": "zh-CN"},
            {"name": a.name_en, "locale": "en-US"},
        ],
        "credential_configurations_supported": configs,
    })))
}

/// `GET /.well-known/oauth-authorization-server/agencies/{agency}` (RFC 8414):
/// the agency is its own authorization server; `issuer` equals the credential
/// issuer identifier exactly.
pub async fn as_metadata(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rt = s.agency(&agency).await?;
    let iss = &rt.agency.iss;
    Ok(Json(json!({
        "issuer": iss,
        "token_endpoint": format!("{iss}/token"),
        "grant_types_supported": [PRE_AUTH_GRANT],
        "pre-authorized_grant_anonymous_access_supported": true,
        "token_endpoint_auth_methods_supported": ["none"],
    })))
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
    let body = body_bytes(req, &s).await?;
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded_pairs(&body) {
        if params.iter().any(|(n, _)| *n == k) {
            return Err(OAuthError::bad(
                "invalid_request",
                format!("parameter {k} is repeated"),
            ));
        }
        params.push((k, v));
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match get("grant_type") {
        Some(PRE_AUTH_GRANT) => {}
        Some(g) => {
            return Err(OAuthError::bad(
                "unsupported_grant_type",
                format!("grant_type {g:?} is not supported; use {PRE_AUTH_GRANT}"),
            ));
        }
        None => return Err(OAuthError::bad("invalid_request", "grant_type is missing")),
    }
    let code = get("pre-authorized_code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::bad("invalid_request", "pre-authorized_code is missing"))?;
    let tx_code = get("tx_code").filter(|t| !t.is_empty());
    match s.exchange_code(&rt.agency.id, code, tx_code).await? {
        CodeExchange::Granted {
            access_token,
            expires_in,
        } => Ok(no_store(
            Json(json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": expires_in,
            }))
            .into_response(),
        )),
        CodeExchange::InvalidCode => Err(OAuthError::bad(
            "invalid_grant",
            "the pre-authorized code is unknown, expired or already used",
        )),
        CodeExchange::TxCodeMissing => Err(OAuthError::bad(
            "invalid_request",
            "this offer requires tx_code (the PIN sent separately)",
        )),
        CodeExchange::WrongTxCode { remaining } => Err(OAuthError {
            tx_code_attempts_remaining: Some(remaining),
            ..OAuthError::bad(
                "invalid_grant",
                format!("the tx_code is wrong; {remaining} attempt(s) left"),
            )
        }),
        CodeExchange::Locked => Err(OAuthError {
            tx_code_attempts_remaining: Some(0),
            ..OAuthError::bad(
                "invalid_grant",
                "too many wrong tx_code attempts; the offer is locked, ask the agency for a new one",
            )
        }),
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs.
fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let plus: Vec<u8> = s
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8_lossy()
            .into_owned()
    }
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// `POST /agencies/{agency}/nonce` (§7).
pub async fn nonce(
    State(s): State<AppState>,
    Path(agency): Path<String>,
) -> Result<Response, OAuthError> {
    let rt = s.agency(&agency).await?;
    let n = s.new_nonce(&rt.agency.id).await?;
    Ok(no_store(Json(json!({"c_nonce": n})).into_response()))
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
    let unauthorized = |d: &str| OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", d);
    let access = bearer(req.headers())
        .ok_or_else(|| unauthorized("no Bearer access token"))?
        .to_owned();
    let offer = s
        .offer_for_access_token(&rt.agency.id, &access)
        .await?
        .ok_or_else(|| unauthorized("the access token is unknown, expired or already used"))?;
    let encrypted_request = content_type_is(req.headers(), "application/jwt");
    if !encrypted_request && !content_type_is(req.headers(), "application/json") {
        return Err(OAuthError::bad(
            "invalid_credential_request",
            "send application/json, or application/jwt for an encrypted request",
        ));
    }
    let body: Bytes = body_bytes(req, &s).await?;
    let payload: Vec<u8> = if encrypted_request {
        decrypt_request(&rt, &body)?
    } else {
        body.to_vec()
    };
    let request: Map<String, Value> = serde_json::from_slice(&payload).map_err(|e| {
        OAuthError::bad(
            "invalid_credential_request",
            format!("the request is not a JSON object: {e}"),
        )
    })?;

    // Which credential.
    if request.contains_key("credential_identifier") {
        return Err(OAuthError::bad(
            "unknown_credential_identifier",
            "this issuer does not hand out credential identifiers; use credential_configuration_id",
        ));
    }
    let lt = s.catalogue.by_vct(&offer.vct).ok_or_else(|| {
        OAuthError::bad(
            "credential_request_denied",
            "the offered type left the catalogue",
        )
    })?;
    match request.get("credential_configuration_id") {
        Some(Value::String(id)) if id == lt.slug => {}
        Some(Value::String(id)) => {
            return Err(OAuthError::bad(
                "unknown_credential_configuration",
                format!(
                    "{id:?} is not the configuration of this offer ({})",
                    lt.slug
                ),
            ));
        }
        Some(_) => {
            return Err(OAuthError::bad(
                "invalid_credential_request",
                "credential_configuration_id must be a string",
            ));
        }
        None => {
            return Err(OAuthError::bad(
                "invalid_credential_request",
                "credential_configuration_id is missing",
            ));
        }
    }

    // Response encryption (§8.2, §10).
    let response_enc = match request.get("credential_response_encryption") {
        None if rt.agency.encryption_required => {
            return Err(OAuthError::bad(
                "invalid_encryption_parameters",
                "this agency requires an encrypted credential response (credential_response_encryption)",
            ));
        }
        None => None,
        Some(_) if !encrypted_request => {
            return Err(OAuthError::bad(
                "invalid_encryption_parameters",
                "a request asking for an encrypted response must itself be encrypted (OpenID4VCI 1.0 §8.2)",
            ));
        }
        Some(v) => Some(ResponseEncryption::parse(v)?),
    };

    // The key proof.
    let jwt = proof_jwt(&request)?;
    let holder = check_proof(&s, &rt, jwt, s.now()).await?;

    let credential = s.redeem_offer(&rt, &offer, &holder).await.map_err(|e| {
        if matches!(
            e,
            ServiceError::LicenceIdTaken(_) | ServiceError::ValidityInvalid(_)
        ) {
            OAuthError::bad(
                "credential_request_denied",
                format!("{e}; ask the issuing agency to check the licence id"),
            )
        } else if matches!(e, ServiceError::InvalidTransition(_)) {
            OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token was already used",
            )
        } else {
            OAuthError::from(e)
        }
    })?;
    let body = json!({"credentials": [{"credential": credential}]});
    let resp = match response_enc {
        None => Json(body).into_response(),
        Some(enc) => {
            let jwe = enc.encrypt(body.to_string().as_bytes())?;
            ([(header::CONTENT_TYPE, "application/jwt")], jwe).into_response()
        }
    };
    Ok(no_store(resp))
}

/// The single proof JWT of a 1.0 `proofs` or draft-15 `proof` request.
fn proof_jwt(request: &Map<String, Value>) -> Result<&str, OAuthError> {
    match (request.get("proofs"), request.get("proof")) {
        (Some(_), Some(_)) => Err(OAuthError::bad(
            "invalid_credential_request",
            "send proofs or proof, not both",
        )),
        (None, None) => Err(OAuthError::bad(
            "invalid_proof",
            "the request has no key proof (proofs.jwt)",
        )),
        (Some(proofs), None) => {
            let obj = proofs.as_object().ok_or_else(|| {
                OAuthError::bad("invalid_credential_request", "proofs must be an object")
            })?;
            if obj.len() != 1 {
                return Err(OAuthError::bad(
                    "invalid_credential_request",
                    "proofs must hold exactly one proof type",
                ));
            }
            let list = obj
                .get("jwt")
                .ok_or_else(|| {
                    OAuthError::bad("invalid_proof", "only the jwt proof type is supported")
                })?
                .as_array()
                .ok_or_else(|| {
                    OAuthError::bad("invalid_credential_request", "proofs.jwt must be an array")
                })?;
            match list.as_slice() {
                [Value::String(j)] => Ok(j),
                [] => Err(OAuthError::bad("invalid_proof", "proofs.jwt is empty")),
                [_] => Err(OAuthError::bad(
                    "invalid_proof",
                    "proofs.jwt must hold a string",
                )),
                _ => Err(OAuthError::bad(
                    "invalid_credential_request",
                    "batch issuance is not supported: send one proof",
                )),
            }
        }
        (None, Some(proof)) => {
            if proof.get("proof_type").and_then(Value::as_str) != Some("jwt") {
                return Err(OAuthError::bad(
                    "invalid_proof",
                    "proof.proof_type must be jwt",
                ));
            }
            proof
                .get("jwt")
                .and_then(Value::as_str)
                .ok_or_else(|| OAuthError::bad("invalid_proof", "proof.jwt is missing"))
        }
    }
}

/// Checks an `openid4vci-proof+jwt` (Appendix F.1, F.4) and returns the
/// key to bind the credential to.
async fn check_proof(
    s: &AppState,
    rt: &AgencyRuntime,
    jwt: &str,
    now: i64,
) -> Result<PublicKey, OAuthError> {
    let bad = |d: String| OAuthError::bad("invalid_proof", d);
    let jws = CompactJws::parse(jwt, "proof").map_err(|e| bad(e.to_string()))?;
    let h = &jws.header;
    match h.get("typ").and_then(Value::as_str) {
        Some(t) if media_type_eq(t, PROOF_TYP) => {}
        _ => return Err(bad(format!("proof typ must be {PROOF_TYP}"))),
    }
    let alg_name = h.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Algorithm::from_jws(alg_name)
        .filter(|_| PROOF_ALGS.contains(&alg_name))
        .ok_or_else(|| {
            bad(format!(
                "proof alg {alg_name:?} is not accepted ({})",
                PROOF_ALGS.join(", ")
            ))
        })?;
    if h.contains_key("crit") {
        return Err(bad(
            "proof header lists crit extensions; none are understood".into(),
        ));
    }
    let key_members = ["kid", "jwk", "x5c"]
        .iter()
        .filter(|m| h.contains_key(**m))
        .count();
    if key_members != 1 {
        return Err(bad(
            "the proof header must carry exactly one of kid, jwk, x5c".into(),
        ));
    }
    let jwk = h.get("jwk").ok_or_else(|| {
        bad("only the jwk key form is supported (no DID or certificate resolution)".into())
    })?;
    let key = PublicKey::from_jwk(jwk).map_err(|e| bad(format!("proof jwk: {e}")))?;
    if !alg.fits(&key) {
        return Err(bad(format!("alg {alg_name} does not fit the proof key")));
    }
    if !key.verify(alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(bad(
            "the proof signature does not verify with its jwk".into()
        ));
    }
    let p = &jws.payload;
    match p.get("aud") {
        Some(Value::String(a)) if *a == rt.agency.iss => {}
        Some(a) => {
            return Err(bad(format!(
                "proof aud {a} is not this issuer ({})",
                rt.agency.iss
            )));
        }
        None => return Err(bad("proof aud is missing".into())),
    }
    let iat = p
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("proof iat is missing or not an integer".into()))?;
    if iat > now + 60 || iat < now - s.config.proof_max_age_secs {
        return Err(bad(format!(
            "proof iat {iat} is outside the accepted window (now {now})"
        )));
    }
    let nonce = p.get("nonce").and_then(Value::as_str).ok_or_else(|| {
        OAuthError::bad(
            "invalid_nonce",
            "proof nonce is missing; get one from the nonce endpoint",
        )
    })?;
    let fresh = s.consume_nonce(&rt.agency.id, nonce).await?;
    if !fresh {
        return Err(OAuthError::bad(
            "invalid_nonce",
            "the c_nonce is unknown, expired or already used; get a new one from the nonce endpoint",
        ));
    }
    Ok(key)
}

fn decrypt_request(rt: &AgencyRuntime, body: &[u8]) -> Result<Vec<u8>, OAuthError> {
    let bad = |d: String| OAuthError::bad("invalid_encryption_parameters", d);
    let text =
        std::str::from_utf8(body).map_err(|_| bad("the encrypted request is not text".into()))?;
    let decrypter = josekit::jwe::ECDH_ES
        .decrypter_from_jwk(&rt.enc_private)
        .map_err(|e| bad(format!("decrypter: {e}")))?;
    let (payload, header) =
        josekit::jwe::deserialize_compact(text.trim(), &decrypter).map_err(|e| {
            bad(format!(
                "the request JWE does not decrypt with this issuer's key: {e}"
            ))
        })?;
    let enc = header.content_encryption().unwrap_or("");
    if !ENC_VALUES.contains(&enc) {
        return Err(bad(format!("request enc {enc:?} is not supported")));
    }
    if let Some(kid) = header.key_id()
        && kid != rt.agency.enc_kid
    {
        return Err(bad(format!(
            "request JWE kid {kid:?} is not this issuer's encryption key"
        )));
    }
    Ok(payload)
}

/// What the wallet asked for in `credential_response_encryption`.
struct ResponseEncryption {
    jwk: josekit::jwk::Jwk,
    enc: String,
    kid: Option<String>,
}

impl ResponseEncryption {
    fn parse(v: &Value) -> Result<Self, OAuthError> {
        let bad = |d: &str| OAuthError::bad("invalid_encryption_parameters", d.to_owned());
        let o = v
            .as_object()
            .ok_or_else(|| bad("credential_response_encryption must be an object"))?;
        let jwk = o
            .get("jwk")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("credential_response_encryption.jwk is missing"))?;
        if jwk.contains_key("d") {
            return Err(bad("the response encryption jwk carries a private key"));
        }
        if jwk.get("alg").and_then(Value::as_str) != Some("ECDH-ES") {
            return Err(bad(
                "the response encryption jwk must have alg ECDH-ES (OpenID4VCI 1.0 §10)",
            ));
        }
        let enc = o
            .get("enc")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("credential_response_encryption.enc is missing"))?;
        if !ENC_VALUES.contains(&enc) {
            return Err(bad("enc must be A128GCM or A256GCM"));
        }
        if o.contains_key("zip") {
            return Err(bad("compression (zip) is not supported"));
        }
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let jwk =
            josekit::jwk::Jwk::from_map(jwk.clone()).map_err(|e| bad(&format!("jwk: {e}")))?;
        let parsed = ResponseEncryption {
            jwk,
            enc: enc.to_owned(),
            kid,
        };
        // Prove the key works now, before the offer is spent: a key josekit
        // cannot encrypt to would otherwise fail after the credential was
        // stored and leave the citizen without it.
        parsed.encrypt(b"probe")?;
        Ok(parsed)
    }

    fn encrypt(&self, payload: &[u8]) -> Result<String, OAuthError> {
        let bad = |d: String| OAuthError::bad("invalid_encryption_parameters", d);
        let encrypter = josekit::jwe::ECDH_ES
            .encrypter_from_jwk(&self.jwk)
            .map_err(|e| bad(format!("the response encryption key is unusable: {e}")))?;
        let mut h = josekit::jwe::JweHeader::new();
        h.set_content_encryption(&self.enc);
        if let Some(k) = &self.kid {
            h.set_key_id(k);
        }
        josekit::jwe::serialize_compact(payload, &h, &encrypter)
            .map_err(|e| bad(format!("encryption failed: {e}")))
    }
}
