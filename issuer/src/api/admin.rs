//! The admin API (`/admin/v1`): every route needs `Authorization: Bearer
//! tbat_…`; the token names its agency, so a route only ever sees that
//! agency's credentials and audit log (another agency's id answers 404,
//! exactly as an id that does not exist).

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiCode, ApiError};
use super::{ApiJson, AppState, content_type_is, parse_json};
use crate::app::{
    AgencyRuntime, CredentialFilter, CredentialRecord, CredentialStatus, IssueRequest, Issued,
    IssuedCredential, RecordRequest, Service, StatusChange, TokenRecord, png_base64,
};
use crate::audit::AuditEntry;
use crate::tokens::{Scope, TOKEN_PREFIX};
use axum::extract::FromRequest as _;

/// Requests in flight at once within one batch.
const BATCH_CONCURRENCY: usize = 64;

/// An authenticated admin: the token and its agency.
#[derive(Debug)]
pub struct Admin {
    /// The token record.
    pub token: Arc<TokenRecord>,
    /// Its agency, keys opened.
    pub rt: Arc<AgencyRuntime>,
}

impl Admin {
    /// Fails unless the token has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.token.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                ApiCode::ScopeMissing,
                format!(
                    "token {} has scopes [{}]; this needs {}",
                    self.token.id,
                    self.token.scopes,
                    scope.as_str()
                ),
            ))
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let secret = tongban_service_kit::tokens::bearer(&parts.headers)
            .filter(|t| t.starts_with(TOKEN_PREFIX))
            .ok_or_else(|| {
                ApiError::new(
                    ApiCode::Unauthorized,
                    "no Bearer tbat_… token in Authorization",
                )
            })?;
        let (token, rt) = s.authenticate(secret).await?;
        Ok(Admin { token, rt })
    }
}

/// `GET /admin/v1/agency`: who am I.
pub async fn whoami(State(s): State<AppState>, a: Admin) -> Result<Json<Value>, ApiError> {
    let ag = &a.rt.agency;
    let lists = s.status_lists(&a.rt).await?;
    Ok(Json(json!({
        "agency": {
            "id": ag.id, "issuer": ag.iss, "name_zh": ag.name_zh, "name_en": ag.name_en,
            "region": ag.region, "vcts": ag.vcts, "encryption_required": ag.encryption_required,
            "signing_kid": a.rt.keys.kid,
            "status_lists": lists.uris, "current_status_list": lists.current,
        },
        "token": { "id": a.token.id, "scopes": a.token.scopes, "label": a.token.label },
    })))
}

fn record_json(r: &CredentialRecord) -> Value {
    json!({
        "id": r.id,
        "vct": r.vct,
        "licence_id": r.licence_id,
        "status": r.status.as_str(),
        "status_list": {"list": r.status_list, "idx": r.status_idx},
        "holder_thumbprint": r.holder_thumbprint,
        "kid": r.kid,
        "issued_at": r.issued_at,
        "expires_at": r.expires_at,
        "offer_id": r.offer_id,
        "batch_id": r.batch_id,
        "key_storage": r.key_storage,
    })
}

/// The 201 body of an issued credential: the record's members in
/// [`record_json`]'s order, `status_list` with its `uri`, and the
/// credential. Serialised straight from the record, with no JSON tree in
/// between (it is the answer to every issue).
#[derive(Serialize)]
struct IssuedBody<'a> {
    id: &'a str,
    vct: &'a str,
    licence_id: Option<&'a str>,
    status: &'static str,
    status_list: IssuedPosition<'a>,
    holder_thumbprint: Option<&'a str>,
    kid: &'a str,
    issued_at: i64,
    expires_at: Option<i64>,
    offer_id: Option<&'a str>,
    credential: &'a str,
}

#[derive(Serialize)]
struct IssuedPosition<'a> {
    list: i64,
    idx: i64,
    uri: &'a str,
}

impl<'a> IssuedBody<'a> {
    fn of(c: &'a IssuedCredential) -> Self {
        let r = &c.record;
        IssuedBody {
            id: &r.id,
            vct: &r.vct,
            licence_id: r.licence_id.as_deref(),
            status: r.status.as_str(),
            status_list: IssuedPosition {
                list: r.status_list,
                idx: r.status_idx,
                uri: &c.status_uri,
            },
            holder_thumbprint: r.holder_thumbprint.as_deref(),
            kid: &r.kid,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            offer_id: r.offer_id.as_deref(),
            credential: &c.credential,
        }
    }
}

fn issued_json(i: &Issued) -> Value {
    match i {
        Issued::Credential(c) => serde_json::to_value(IssuedBody::of(c)).unwrap_or(Value::Null),
        Issued::Offer(o) => json!({
            "offer_id": o.offer_id,
            "offer_link": o.uri,
            "credential_offer": o.offer,
            "tx_code": o.tx_code,
            "expires_at": o.expires_at,
            "qr_png_base64": png_base64(&o.qr_png),
        }),
    }
}

/// `POST /admin/v1/credentials`: issue one credential, or make an offer.
pub async fn issue(
    State(s): State<AppState>,
    a: Admin,
    req: Request,
) -> Result<Response, ApiError> {
    // The scope first: a token that may not issue learns nothing about the body.
    a.require(Scope::Issue)?;
    let ApiJson(req) = ApiJson::<IssueRequest>::from_request(req, &s).await?;
    let issued = s.issue(&a.rt, &a.token.id, req).await?;
    Ok(match &issued {
        Issued::Credential(c) => issued_response(c),
        Issued::Offer(_) => (StatusCode::CREATED, Json(issued_json(&issued))).into_response(),
    })
}

/// The 201 of an issued credential, its body written once into a buffer
/// sized for it (the credential is most of it, about 3.5 KB), not grown
/// from a small one by repeated copies.
fn issued_response(c: &IssuedCredential) -> Response {
    let mut body = Vec::with_capacity(c.credential.len() + ISSUED_BODY_SLACK);
    match serde_json::to_writer(&mut body, &IssuedBody::of(c)) {
        Ok(()) => (
            StatusCode::CREATED,
            [(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        // A record of strings and numbers cannot fail to serialise; if it
        // ever did, axum's JSON answer reports it (a 500).
        Err(_) => (StatusCode::CREATED, Json(IssuedBody::of(c))).into_response(),
    }
}

/// What the 201 body holds besides the credential: the record's members
/// and the status list's URI (about 400 bytes; more only for long ids).
const ISSUED_BODY_SLACK: usize = 768;

/// `POST /admin/v1/records`: load (or replace) a citizen's record, which
/// a wallet then asks for with the authorization code flow after the
/// citizen logs in at the agency's login.
pub async fn put_record(
    State(s): State<AppState>,
    a: Admin,
    req: Request,
) -> Result<Response, ApiError> {
    a.require(Scope::Issue)?;
    let ApiJson(req) = ApiJson::<RecordRequest>::from_request(req, &s).await?;
    let loaded = s.put_record(&a.rt, &a.token.id, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "subject": loaded.subject,
            "vct": loaded.vct,
            "scope": loaded.scope,
            "available_until": loaded.available_until,
        })),
    )
        .into_response())
}

/// `POST /admin/v1/credentials/batch`: one issue request per line
/// (`application/x-ndjson`); answers one result per line, in order,
/// streamed as they complete, then a summary line.
pub async fn issue_batch(
    State(s): State<AppState>,
    a: Admin,
    req: Request,
) -> Result<Response, ApiError> {
    a.require(Scope::Issue)?;
    if !content_type_is(req.headers(), "application/x-ndjson") {
        return Err(ApiError::new(
            ApiCode::UnsupportedMediaType,
            "send Content-Type: application/x-ndjson, one issue request per line",
        ));
    }
    let max_line = s.config().max_body_bytes;
    let lines = ndjson_lines(req.into_body(), max_line, s.config().max_batch_bytes);
    let actor = a.token.id.clone();
    let rt = a.rt.clone();
    let results = lines
        .map(move |(n, line)| {
            let s = s.clone();
            let rt = rt.clone();
            let actor = actor.clone();
            async move { batch_item(&s, &rt, &actor, n, line).await }
        })
        .buffered(BATCH_CONCURRENCY);
    let body = Body::from_stream(with_summary(results.boxed()));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// Emits each result line, counting successes and failures, then one
/// summary line with the counts.
fn with_summary(
    s: futures_util::stream::BoxStream<'static, (bool, Value)>,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    stream::unfold((s, Some((0u64, 0u64))), |(mut s, counts)| async move {
        let (ok, failed) = counts?;
        match s.next().await {
            Some((good, v)) => {
                let counts = if good {
                    (ok + 1, failed)
                } else {
                    (ok, failed + 1)
                };
                Some((Ok(line_bytes(&v)), (s, Some(counts))))
            }
            None => {
                let summary = json!({"summary": {"ok": ok, "failed": failed}});
                Some((Ok(line_bytes(&summary)), (s, None)))
            }
        }
    })
}

fn line_bytes(v: &Value) -> Bytes {
    let mut t = v.to_string();
    t.push('\n');
    Bytes::from(t)
}

enum Line {
    Text(Bytes),
    Error(ApiError),
}

async fn batch_item(
    s: &Service,
    rt: &AgencyRuntime,
    actor: &str,
    n: u64,
    line: Line,
) -> (bool, Value) {
    let outcome = match line {
        Line::Error(e) => Err(e),
        Line::Text(bytes) => match parse_json::<IssueRequest>(&bytes) {
            Ok(req) => s.issue(rt, actor, req).await.map_err(ApiError::from),
            Err(e) => Err(e),
        },
    };
    match outcome {
        Ok(i) => (
            true,
            json!({"line": n, "ok": true, "result": issued_json(&i)}),
        ),
        Err(e) => (false, json!({"line": n, "ok": false, "error": e.body()})),
    }
}

/// Reads numbered, non-blank lines from a body. A line longer than
/// `max_line`, or a body over the batch limit, becomes an error item.
struct LineReader {
    data: axum::body::BodyDataStream,
    buf: Vec<u8>,
    n: u64,
    ended: bool,
    max_line: usize,
    /// An error to report after the current item (the body was cut off
    /// while an overlong line was being skipped).
    pending: Option<(u64, Line)>,
}

impl LineReader {
    fn too_long(&self) -> Line {
        Line::Error(ApiError::new(
            ApiCode::BodyTooLarge,
            format!("line {} is longer than {} bytes", self.n, self.max_line),
        ))
    }

    fn take_line(&mut self, mut line: Vec<u8>) -> Option<(u64, Line)> {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        self.n += 1;
        if line.len() > self.max_line {
            return Some((self.n, self.too_long()));
        }
        Some((self.n, Line::Text(Bytes::from(line))))
    }

    fn cut_off(&mut self, e: &dyn std::fmt::Display) -> (u64, Line) {
        self.ended = true;
        self.buf.clear();
        self.n += 1;
        let e = ApiError::new(
            ApiCode::BodyTooLarge,
            format!("the batch was cut off at line {}: {e}", self.n),
        );
        (self.n, Line::Error(e))
    }

    async fn next_line(&mut self) -> Option<(u64, Line)> {
        if let Some(item) = self.pending.take() {
            return Some(item);
        }
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let rest = self.buf.split_off(pos + 1);
                let mut line = std::mem::replace(&mut self.buf, rest);
                line.pop();
                match self.take_line(line) {
                    Some(item) => return Some(item),
                    None => continue,
                }
            }
            if self.ended {
                let line = std::mem::take(&mut self.buf);
                return self.take_line(line);
            }
            if self.buf.len() > self.max_line {
                // An overlong line: report it and skip to its end.
                self.n += 1;
                let item = (self.n, self.too_long());
                self.buf.clear();
                loop {
                    match self.data.next().await {
                        Some(Ok(chunk)) => {
                            if let Some(p) = chunk.iter().position(|b| *b == b'\n') {
                                self.buf.extend_from_slice(&chunk[p + 1..]);
                                break;
                            }
                        }
                        Some(Err(e)) => {
                            self.pending = Some(self.cut_off(&e));
                            break;
                        }
                        None => {
                            self.ended = true;
                            break;
                        }
                    }
                }
                return Some(item);
            }
            match self.data.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(e)) => return Some(self.cut_off(&e)),
                None => self.ended = true,
            }
        }
    }
}

fn ndjson_lines(
    body: Body,
    max_line: usize,
    max_body: usize,
) -> impl Stream<Item = (u64, Line)> + Send {
    let limited = Body::new(http_body_util::Limited::new(body, max_body));
    let reader = LineReader {
        data: limited.into_data_stream(),
        buf: Vec::new(),
        n: 0,
        ended: false,
        max_line,
        pending: None,
    };
    stream::unfold(reader, |mut r| async move {
        r.next_line().await.map(|item| (item, r))
    })
}

/// Query of `GET /admin/v1/credentials`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this type.
    pub vct: Option<String>,
    /// Only this status (`valid`, `revoked`, `suspended`).
    pub status: Option<String>,
    /// Only this licence id.
    pub licence_id: Option<String>,
    /// Issued at or after (Unix seconds).
    pub issued_from: Option<i64>,
    /// Issued before (Unix seconds).
    pub issued_until: Option<i64>,
    /// The `next` cursor of the previous page.
    pub after: Option<i64>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<i64>,
}

fn query<T: serde::de::DeserializeOwned>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|e| ApiError::new(ApiCode::InvalidRequest, e.body_text()))
}

/// `GET /admin/v1/credentials`: the agency's credentials, filtered, paged.
pub async fn list(
    State(s): State<AppState>,
    a: Admin,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    a.require(Scope::Read)?;
    let q = query(q)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(t) => Some(CredentialStatus::parse(t).ok_or_else(|| {
            ApiError::new(
                ApiCode::InvalidRequest,
                format!("status {t:?}: use valid, revoked or suspended"),
            )
        })?),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            ApiCode::InvalidRequest,
            "limit must be 1..=1000",
        ));
    }
    let f = CredentialFilter {
        vct: q.vct,
        status,
        licence_id: q.licence_id,
        issued_from: q.issued_from,
        issued_until: q.issued_until,
        after: q.after,
        limit,
    };
    let rows = s.list_credentials(&a.rt.agency.id, &f).await?;
    let next = (i64::try_from(rows.len()).unwrap_or(0) == limit)
        .then(|| rows.last().map(|(c, _)| *c))
        .flatten();
    let items: Vec<Value> = rows.iter().map(|(_, r)| record_json(r)).collect();
    Ok(Json(json!({"credentials": items, "next": next})))
}

/// `GET /admin/v1/credentials/{id}`.
pub async fn get_one(
    State(s): State<AppState>,
    a: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    a.require(Scope::Read)?;
    let r = s.credential(&a.rt.agency.id, &id).await?;
    Ok(Json(record_json(&r)))
}

/// Optional body of a status change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// Why (kept in the audit log).
    pub reason: Option<String>,
}

async fn change(
    s: &Service,
    a: &Admin,
    id: &str,
    change: StatusChange,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    a.require(match change {
        StatusChange::Revoke => Scope::Revoke,
        StatusChange::Suspend | StatusChange::Reinstate => Scope::Suspend,
    })?;
    let json_type = content_type_is(req.headers(), "application/json");
    let body = super::body_bytes(req, s).await?;
    let body: ChangeBody = if body.iter().all(u8::is_ascii_whitespace) {
        ChangeBody::default()
    } else if !json_type {
        return Err(ApiError::new(
            ApiCode::UnsupportedMediaType,
            "a body with a reason must be Content-Type: application/json",
        ));
    } else {
        parse_json(&body)?
    };
    if body
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(ApiError::new(
            ApiCode::InvalidRequest,
            "reason is longer than 500 characters",
        ));
    }
    let r = s
        .change_status(
            &a.rt.agency.id,
            id,
            change,
            body.reason.as_deref(),
            &a.token.id,
        )
        .await?;
    Ok(Json(record_json(&r)))
}

/// `POST /admin/v1/credentials/{id}/revoke` (scope `revoke`): final.
pub async fn revoke(
    State(s): State<AppState>,
    a: Admin,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    change(&s, &a, &id, StatusChange::Revoke, req).await
}

/// `POST /admin/v1/credentials/{id}/suspend` (scope `suspend`).
pub async fn suspend(
    State(s): State<AppState>,
    a: Admin,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    change(&s, &a, &id, StatusChange::Suspend, req).await
}

/// `POST /admin/v1/credentials/{id}/reinstate` (scope `suspend`).
pub async fn reinstate(
    State(s): State<AppState>,
    a: Admin,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    change(&s, &a, &id, StatusChange::Reinstate, req).await
}

/// Query of `GET /admin/v1/audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries after this sequence number (default 0).
    pub after: Option<i64>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<i64>,
}

/// `GET /admin/v1/audit` (scope `audit`): the agency's audit chain.
pub async fn audit(
    State(s): State<AppState>,
    a: Admin,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    a.require(Scope::Audit)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            ApiCode::InvalidRequest,
            "limit must be 1..=1000",
        ));
    }
    let page = s
        .audit_page(&a.rt.agency.id, q.after.unwrap_or(0), limit)
        .await?;
    let (entries, head_seq, head_hash) = (page.entries, page.head_seq, page.head_hash);
    let next = (i64::try_from(entries.len()).unwrap_or(0) == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    let entries: Vec<Value> = entries.iter().map(audit_entry).collect();
    Ok(Json(
        json!({"entries": entries, "head": {"seq": head_seq, "hash": head_hash}, "next": next}),
    ))
}

/// An audit entry as the API shows it: its chain is the agency, named
/// `agency_id` (specs/issuer-api.md §Audit).
fn audit_entry(e: &AuditEntry) -> Value {
    json!({
        "agency_id": e.chain,
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "detail": e.detail,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    })
}
