//! The two requests of an answer: fetching the request object (POST with
//! the wallet's metadata and a fresh `wallet_nonce`, or GET), and posting
//! the response (or an error) to the `response_uri`. No redirect is
//! followed; URLs must be https (or http to this machine); answers are
//! bounded.

use serde_json::{Value, json};

use super::error::{AnswerError, RequestFault};

use tongban_protocol::oid4vp::request::REQUEST_OBJECT_CONTENT_TYPE as REQUEST_OBJECT_MEDIA_TYPE;
use tongban_protocol::oid4vp::{RequestUriPost, ResponseUriAnswer};
/// The largest request object read.
pub const MAX_REQUEST_OBJECT: u64 = 256 * 1024;
/// The largest answer of the response URI read.
pub const MAX_RESPONSE_ANSWER: u64 = 64 * 1024;

/// What this wallet supports, sent as `wallet_metadata`.
pub fn wallet_metadata(allow_unencrypted: bool) -> Value {
    let mut modes = vec!["direct_post.jwt"];
    if allow_unencrypted {
        modes.push("direct_post");
    }
    json!({
        "vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["EdDSA", "ES256"], "kb-jwt_alg_values": ["EdDSA"]}},
        "client_id_prefixes_supported": ["x509_hash", "x509_san_dns"],
        "request_object_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["vp_token"],
        "response_modes_supported": modes,
        "authorization_encryption_alg_values_supported": ["ECDH-ES"],
        "authorization_encryption_enc_values_supported": ["A128GCM", "A256GCM"],
    })
}

fn checked(url: &str) -> Result<(), AnswerError> {
    tongban_cli_support::net::check_url(url)
        .map(|_| ())
        .map_err(|e| AnswerError::InsecureUrl {
            url: url.into(),
            reason: e.to_string(),
        })
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

fn finish(
    url: &str,
    result: Result<ureq::Response, ureq::Error>,
    limit: u64,
) -> Result<Reply, AnswerError> {
    let resp = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => {
            return Err(AnswerError::Unreachable {
                url: url.into(),
                detail: t.to_string(),
            });
        }
    };
    let status = resp.status();
    if (300..400).contains(&status) {
        return Err(AnswerError::RedirectRefused {
            url: url.into(),
            status,
        });
    }
    let content_type = resp.content_type().to_ascii_lowercase();
    let body = crate::net::read_bounded(resp, limit)
        .map_err(|e| AnswerError::Unreachable {
            url: url.into(),
            detail: format!("reading the answer: {e}"),
        })?
        .ok_or_else(|| AnswerError::TooLarge {
            url: url.into(),
            limit,
        })?;
    Ok(Reply {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Fetches the request object at `request_uri`: POST (form
/// `wallet_metadata`, `wallet_nonce`) when `wallet_nonce` is given, else GET.
pub fn fetch_request_object(
    agent: &ureq::Agent,
    request_uri: &str,
    wallet_nonce: Option<&str>,
    allow_unencrypted: bool,
) -> Result<String, AnswerError> {
    checked(request_uri)?;
    let result = match wallet_nonce {
        Some(nonce) => {
            let post = RequestUriPost {
                wallet_metadata: Some(wallet_metadata(allow_unencrypted).to_string()),
                wallet_nonce: Some(nonce.to_owned()),
            };
            let mut form: Vec<(&str, &str)> = Vec::new();
            form.extend(
                post.wallet_metadata
                    .as_deref()
                    .map(|m| ("wallet_metadata", m)),
            );
            form.extend(post.wallet_nonce.as_deref().map(|n| ("wallet_nonce", n)));
            agent
                .post(request_uri)
                .set("Accept", REQUEST_OBJECT_MEDIA_TYPE)
                .send_form(&form)
        }
        None => agent
            .get(request_uri)
            .set("Accept", REQUEST_OBJECT_MEDIA_TYPE)
            .call(),
    };
    let reply = finish(request_uri, result, MAX_REQUEST_OBJECT)?;
    if reply.status != 200 {
        return Err(AnswerError::Unreachable {
            url: request_uri.into(),
            detail: format!(
                "HTTP {} {}",
                reply.status,
                crate::receive::printable(&reply.body)
            ),
        });
    }
    if reply.content_type != REQUEST_OBJECT_MEDIA_TYPE {
        return Err(AnswerError::refused(
            RequestFault::NotSigned,
            format!(
                "the request object comes as {:?}, not {REQUEST_OBJECT_MEDIA_TYPE}",
                reply.content_type
            ),
        ));
    }
    Ok(reply.body.trim().to_owned())
}

/// Posts `form` to the response URI; returns the `redirect_uri` of its
/// answer, if any. An error status is [`AnswerError::ResponseRejected`].
pub fn post_response(
    agent: &ureq::Agent,
    response_uri: &str,
    form: &[(&str, &str)],
) -> Result<Option<String>, AnswerError> {
    checked(response_uri)?;
    let reply = finish(
        response_uri,
        agent
            .post(response_uri)
            .set("Accept", "application/json")
            .send_form(form),
        MAX_RESPONSE_ANSWER,
    )?;
    let body: Option<Value> = serde_json::from_str(&reply.body).ok();
    if reply.status != 200 {
        let field = |n: &str| {
            body.as_ref()
                .and_then(|b| b.get(n))
                .and_then(Value::as_str)
                .map(crate::receive::printable)
        };
        return Err(AnswerError::ResponseRejected {
            error: field("error").unwrap_or_else(|| format!("http_{}", reply.status)),
            description: field("error_description")
                .unwrap_or_else(|| crate::receive::printable(&reply.body)),
        });
    }
    let answer: ResponseUriAnswer = body
        .and_then(|b| serde_json::from_value(b).ok())
        .unwrap_or_default();
    Ok(answer
        .redirect_uri
        .as_deref()
        .map(crate::receive::printable))
}
