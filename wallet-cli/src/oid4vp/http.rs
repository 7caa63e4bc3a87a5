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
    if reply.status == 410 {
        // Gone: the agency no longer hands out this request (its
        // transaction expired or was answered). Not a network failure: the
        // citizen starts again on the agency's page.
        return Err(AnswerError::refused(
            RequestFault::Expired,
            format!(
                "{request_uri} answers 410 Gone: {}",
                crate::receive::printable(&reply.body)
            ),
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::net::testing::serve_once;

    fn agent() -> ureq::Agent {
        crate::net::agent(std::time::Duration::from_secs(5))
    }

    #[test]
    fn a_redirect_from_the_request_uri_is_not_followed() {
        let (elsewhere, asked_elsewhere) = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Type: application/oauth-authz-req+jwt\r\nContent-Length: 5\r\n\r\na.b.c".into(),
        );
        let (request_uri, _) = serve_once(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}\r\nContent-Length: 0\r\n\r\n"
        ));
        let e = fetch_request_object(&agent(), &request_uri, Some("wn"), false).unwrap_err();
        assert_eq!(e.code(), "fetch_redirect_refused", "{e}");
        assert!(
            !asked_elsewhere.recv().unwrap(),
            "the redirect's target (which would see the wallet nonce) was never asked"
        );
    }

    #[test]
    fn the_request_object_is_bounded_typed_and_fetched_securely() {
        let big = "a".repeat(MAX_REQUEST_OBJECT as usize + 10);
        let (uri, _) = serve_once(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/oauth-authz-req+jwt\r\nContent-Length: {}\r\n\r\n{big}",
            big.len()
        ));
        let e = fetch_request_object(&agent(), &uri, None, false).unwrap_err();
        assert_eq!(e.code(), "fetch_too_large", "{e}");
        let (uri, _) = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                .into(),
        );
        let e = fetch_request_object(&agent(), &uri, None, false).unwrap_err();
        assert_eq!(e.code(), "request_not_signed", "{e}");
        let body = r#"{"code":"transaction_expired","error":"invalid_request"}"#;
        let (uri, _) = serve_once(format!(
            "HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        let e = fetch_request_object(&agent(), &uri, Some("wn"), false).unwrap_err();
        assert_eq!(e.code(), "request_expired", "{e}");
        assert!(
            e.is_refusal(),
            "an expired request is a refusal, not a network failure"
        );
        let (uri, _) = serve_once("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into());
        let e = fetch_request_object(&agent(), &uri, None, false).unwrap_err();
        assert_eq!(e.code(), "verifier_unreachable", "{e}");
        let e =
            fetch_request_object(&agent(), "http://verifier.example/r", None, false).unwrap_err();
        assert_eq!(e.code(), "fetch_insecure_url", "{e}");
    }

    #[test]
    fn a_response_uri_redirect_is_not_followed_and_an_error_is_a_rejection() {
        let (uri, _) = serve_once(
            "HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example/\r\nContent-Length: 0\r\n\r\n"
                .into(),
        );
        let e = post_response(&agent(), &uri, &[("response", "x")]).unwrap_err();
        assert_eq!(e.code(), "fetch_redirect_refused", "{e}");
        let body = r#"{"error":"invalid_request","error_description":"replayed"}"#;
        let (uri, _) = serve_once(format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        let e = post_response(&agent(), &uri, &[("response", "x")]).unwrap_err();
        assert_eq!(e.code(), "response_rejected");
        assert!(e.to_string().contains("invalid_request: replayed"), "{e}");
    }
}
