//! HTTP with `ureq`: https only (or loopback, or when allowed), no
//! redirect followed (the issuer's metadata names every endpoint; an answer
//! from elsewhere is not the issuer's), every answer read whole, OAuth
//! error bodies decoded.

use serde_json::{Map, Value};
use tongban_protocol::oid4vci::ErrorResponse;

use super::{Options, ReceiveError, printable};

/// An HTTP answer: status, media type (lower-cased, without parameters)
/// and body, whatever the status.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) content_type: String,
    pub(super) body: String,
    /// The `DPoP-Nonce` header (RFC 9449 §8), if any.
    pub(super) dpop_nonce: Option<String>,
    /// The `WWW-Authenticate` header, if any.
    pub(super) www_authenticate: Option<String>,
}

/// The wallet's HTTP client and its rule on plain http.
pub(super) struct Client {
    pub(super) agent: ureq::Agent,
    pub(super) allow_http: bool,
}

/// Whether the URL's host is this machine.
pub(super) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl Client {
    pub(super) fn new(opts: &Options) -> Client {
        Client {
            agent: crate::net::agent(opts.timeout),
            allow_http: opts.allow_http,
        }
    }

    /// Refuses anything but https, except on loopback or when allowed.
    pub(super) fn check_url(&self, url: &str) -> Result<(), ReceiveError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| ReceiveError::MetadataInvalid(format!("{url:?} is not a URL ({e})")))?;
        match parsed.scheme() {
            "https" => Ok(()),
            "http" if self.allow_http || is_loopback(&parsed) => Ok(()),
            "http" => Err(ReceiveError::InsecureUrl(url.into())),
            other => Err(ReceiveError::MetadataInvalid(format!(
                "{url:?}: scheme {other} is not http(s)"
            ))),
        }
    }

    pub(super) fn finish(
        url: &str,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<Reply, ReceiveError> {
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => {
                return Err(ReceiveError::Unreachable {
                    url: url.into(),
                    detail: match t.message() {
                        Some(m) => format!("{}: {m}", t.kind()),
                        None => t.kind().to_string(),
                    },
                });
            }
        };
        let status = resp.status();
        let content_type = resp.content_type().to_ascii_lowercase();
        let dpop_nonce = resp
            .header("DPoP-Nonce")
            .map(printable)
            .filter(|n| !n.is_empty());
        let www_authenticate = resp.header("WWW-Authenticate").map(printable);
        let body = resp.into_string().map_err(|e| ReceiveError::Unreachable {
            url: url.into(),
            detail: format!("reading the answer: {e}"),
        })?;
        Ok(Reply {
            status,
            content_type,
            body,
            dpop_nonce,
            www_authenticate,
        })
    }

    /// GETs a JSON object; anything but 200 with a JSON object is an error
    /// made by `bad`.
    pub(super) fn get_json(
        &self,
        url: &str,
        bad: impl Fn(String) -> ReceiveError,
    ) -> Result<Map<String, Value>, ReceiveError> {
        self.check_url(url)?;
        let reply = Self::finish(
            url,
            self.agent.get(url).set("Accept", "application/json").call(),
        )?;
        if reply.status != 200 {
            return Err(bad(format!(
                "{url} answered HTTP {} {}",
                reply.status,
                printable(&reply.body)
            )));
        }
        match serde_json::from_str(&reply.body) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(bad(format!("{url} did not answer a JSON object"))),
        }
    }
}

/// The OAuth error of a reply (`error`, `error_description`), or the HTTP
/// status when the body is not one; a refused attestation's
/// `attestation_error` code is appended to the description in brackets.
pub(super) fn oauth_error(reply: &Reply) -> (String, String) {
    match serde_json::from_str::<ErrorResponse>(&reply.body) {
        Ok(e) => {
            let description = e
                .error_description
                .as_deref()
                .map_or_else(|| printable(&reply.body), printable);
            // A Tongban issuer names a refused attestation's exact reason.
            let description = match e.attestation_error.as_deref() {
                Some(code) => format!("{description} [{}]", printable(code)),
                None => description,
            };
            (printable(&e.error), description)
        }
        Err(_) => (format!("http_{}", reply.status), printable(&reply.body)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_unless_allowed() {
        let mut opts = Options::new(0);
        let c = Client::new(&opts);
        assert!(c.check_url("https://i.example/x").is_ok());
        assert!(c.check_url("http://127.0.0.1:9/x").is_ok());
        assert!(c.check_url("http://localhost/x").is_ok());
        assert!(c.check_url("http://[::1]/x").is_ok());
        assert_eq!(
            c.check_url("http://i.example/x").unwrap_err().code(),
            "insecure_url"
        );
        opts.allow_http = true;
        assert!(Client::new(&opts).check_url("http://i.example/x").is_ok());
    }

    use crate::net::testing::serve_once;

    #[test]
    fn a_redirect_is_not_followed() {
        let (elsewhere, asked_elsewhere) = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                .into(),
        );
        let (issuer, _) = serve_once(format!(
            "HTTP/1.1 302 Found\r\nLocation: {elsewhere}\r\nContent-Length: 0\r\n\r\n"
        ));
        let c = Client::new(&Options::new(0));
        let e = c
            .get_json(&issuer, ReceiveError::MetadataInvalid)
            .unwrap_err();
        assert!(e.to_string().contains("302"), "{e}");
        assert!(
            !asked_elsewhere.recv().unwrap(),
            "the redirect's target was never asked"
        );
    }
}
