//! The authorization code flow, client side (HAIP 1.0 §4; OpenID4VCI 1.0
//! §5): the request pushed (RFC 9126) with PKCE `S256` and the
//! configuration's `scope` (and the offer's `issuer_state`), the citizen
//! sent to the authorization endpoint in the system browser (or shown the
//! URL), the answer caught on a loopback port (RFC 8252 §7.3), its `state`
//! and `iss` (RFC 9207) checked, and the code exchanged for an access
//! token — every request to the authorization server with a DPoP proof
//! when the server takes DPoP.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use rand::RngCore as _;
use serde_json::Value;
use tongban_protocol::oauth::par::{
    AuthorizationCodeTokenRequest, AuthorizationResponse, ParResponse, PushedAuthorizationRequest,
};
use tongban_protocol::oauth::pkce::{challenge_s256, verifier_from_random};
use tongban_protocol::oauth::{AUTHORIZATION_CODE, PKCE_S256};
use tongban_protocol::oid4vci::{AuthorizationServerMetadata, TokenResponse};

use super::dpop::Dpop;
use super::flow::{Interaction, Options};
use super::http::{Client, Reply, oauth_error};
use super::offer::Offer;
use super::{ReceiveError, printable};

/// Longest request head read from the browser.
const MAX_HEAD: u64 = 16 * 1024;

/// What the flow hands on: the access token and whether it is DPoP-bound.
pub(super) struct Granted {
    pub(super) access_token: String,
    pub(super) dpop_bound: bool,
}

fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b)
}

/// Posts a form to the authorization server `aud` with a DPoP proof for
/// `url` when `dpop` is set, and the wallet attestation headers when the
/// wallet has one (`opts.attestation`); once more, with fresh proofs, with
/// the server's nonce when it asks for one.
pub(super) fn post_form(
    client: &Client,
    url: &str,
    form: &[(&str, &str)],
    mut dpop: Option<&mut Dpop>,
    aud: &str,
    opts: &Options,
) -> Result<Reply, ReceiveError> {
    client.check_url(url)?;
    let mut retried = false;
    loop {
        let mut req = client.agent.post(url);
        if let Some(d) = dpop.as_deref() {
            req = req.set("DPoP", &d.proof(url, None)?);
        }
        if let Some(a) = &opts.attestation {
            for (name, value) in a
                .headers(aud, opts.now)
                .map_err(|e| ReceiveError::Signing(e.to_string()))?
            {
                req = req.set(name, &value);
            }
        }
        let reply = Client::finish(url, req.send_form(form))?;
        let Some(d) = dpop.as_deref_mut() else {
            return Ok(reply);
        };
        if !retried && d.asks_for_nonce(&reply) {
            retried = true;
            continue;
        }
        d.observe(&reply);
        return Ok(reply);
    }
}

/// Listens on a loopback port for the browser's return.
struct Loopback {
    listener: TcpListener,
    redirect_uri: String,
}

impl Loopback {
    fn bind() -> Result<Loopback, ReceiveError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| ReceiveError::Loopback(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| ReceiveError::Loopback(e.to_string()))?
            .port();
        Ok(Loopback {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        })
    }

    /// The query of the first `GET /callback` within `timeout`; the browser
    /// is told it may close the page. Other requests get 404.
    fn wait(self, timeout: Duration) -> Result<String, ReceiveError> {
        let (tx, rx) = mpsc::channel();
        let listener = self.listener;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(query) = answer(stream) {
                    let _ = tx.send(query);
                    return;
                }
            }
        });
        rx.recv_timeout(timeout)
            .map_err(|_| ReceiveError::LoginTimeout(timeout.as_secs()))
    }
}

/// Answers one browser request: `Some(query)` for `GET /callback?…`.
fn answer(mut stream: TcpStream) -> Option<String> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    let mut head = BufReader::new(std::io::Read::take(&mut stream, MAX_HEAD));
    head.read_line(&mut line).ok()?;
    // The rest of the head is read too: a socket closed with unread data
    // is reset, and the browser would show an error instead of the page.
    let mut header = String::new();
    while head.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    drop(head);
    let target = line.strip_prefix("GET ")?.split(' ').next()?.to_owned();
    let query = match target.split_once('?') {
        Some(("/callback", q)) => Some(q.to_owned()),
        None if target == "/callback" => Some(String::new()),
        _ => None,
    };
    let (status, body) = if query.is_some() {
        (
            "200 OK",
            "<!doctype html><meta charset=\"utf-8\"><title>通办钱包</title><p>钱包已收到发证机构的答复，可以关闭此页面。</p><p>The wallet has the issuer's answer; you may close this page.</p>",
        )
    } else {
        ("404 Not Found", "")
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    query
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Runs the authorization code flow for the offer's configuration, whose
/// OAuth scope is `scope`, at the authorization server `as_id` described
/// by `as_meta`.
#[allow(clippy::too_many_arguments)]
pub(super) fn authorize(
    client: &Client,
    as_id: &str,
    as_meta: &AuthorizationServerMetadata,
    token_endpoint: &str,
    scope: &str,
    offer: &Offer,
    mut dpop: Option<&mut Dpop>,
    ui: &mut dyn Interaction,
    opts: &Options,
) -> Result<Granted, ReceiveError> {
    if !as_meta.supports_grant(AUTHORIZATION_CODE) {
        return Err(ReceiveError::OfferUnsupported(
            "the authorization server does not support the authorization code grant".into(),
        ));
    }
    let (Some(authorization_endpoint), Some(par_endpoint)) = (
        as_meta.authorization_endpoint.as_deref(),
        as_meta.pushed_authorization_request_endpoint.as_deref(),
    ) else {
        return Err(ReceiveError::MetadataInvalid(
            "the authorization server publishes no authorization and pushed authorization request endpoints (this wallet pushes every request, RFC 9126)".into(),
        ));
    };
    if as_meta
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|m| !m.iter().any(|m| m == PKCE_S256))
    {
        return Err(ReceiveError::OfferUnsupported(
            "the authorization server does not take PKCE with S256".into(),
        ));
    }
    client.check_url(authorization_endpoint)?;
    let loopback = Loopback::bind()?;
    let mut random = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let verifier = verifier_from_random(&random);
    let state = random_b64(16);
    let request = PushedAuthorizationRequest {
        response_type: "code".into(),
        client_id: opts.client_id().to_owned(),
        redirect_uri: loopback.redirect_uri.clone(),
        code_challenge: Some(challenge_s256(&verifier)),
        code_challenge_method: Some(PKCE_S256.into()),
        scope: Some(scope.to_owned()),
        state: Some(state.clone()),
        issuer_state: offer.issuer_state.clone(),
        ..Default::default()
    };
    ui.progress("Asking the issuer to authorize this wallet 正在向发证机构申请授权");
    let reply = post_form(
        client,
        par_endpoint,
        &request.form_pairs(),
        dpop.as_deref_mut(),
        as_id,
        opts,
    )?;
    if !(reply.status == 201 || reply.status == 200) {
        let (error, description) = oauth_error(&reply);
        return Err(ReceiveError::IssuerError {
            endpoint: "pushed authorization request",
            error,
            description,
        });
    }
    let par: ParResponse = serde_json::from_str(&reply.body).map_err(|e| {
        ReceiveError::ResponseInvalid(format!("the pushed authorization response ({e})"))
    })?;
    let mut url = url::Url::parse(authorization_endpoint)
        .map_err(|e| ReceiveError::MetadataInvalid(format!("authorization_endpoint: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", opts.client_id())
        .append_pair("request_uri", &par.request_uri);
    ui.open_in_browser(url.as_str());
    let query = loopback.wait(opts.login_timeout)?;
    let response = AuthorizationResponse::from_pairs(&query_pairs(&query))
        .map_err(|e| ReceiveError::AuthorizationResponseInvalid(e.to_string()))?;
    if response.state.as_deref() != Some(state.as_str()) {
        return Err(ReceiveError::AuthorizationResponseInvalid(
            "its state is not this request's (another browser tab, or a forged answer)".into(),
        ));
    }
    // RFC 9207: the issuer says who answered; a mix-up is refused.
    match response.iss.as_deref() {
        Some(iss) if iss == as_id => {}
        Some(iss) => {
            return Err(ReceiveError::AuthorizationResponseInvalid(format!(
                "it names the issuer {:?}, not {as_id:?} (RFC 9207)",
                printable(iss)
            )));
        }
        None if as_meta.authorization_response_iss_parameter_supported == Some(true) => {
            return Err(ReceiveError::AuthorizationResponseInvalid(
                "it has no iss, which this authorization server promises (RFC 9207)".into(),
            ));
        }
        None => {}
    }
    if let Some(error) = &response.error {
        return Err(ReceiveError::AuthorizationDenied(format!(
            "{}: {}",
            printable(error),
            printable(response.error_description.as_deref().unwrap_or_default())
        )));
    }
    let code = response.code.ok_or_else(|| {
        ReceiveError::AuthorizationResponseInvalid("it carries neither a code nor an error".into())
    })?;
    ui.progress("Authorized; fetching the access token 已授权，正在获取访问令牌");
    let token_request = AuthorizationCodeTokenRequest {
        code,
        redirect_uri: loopback_redirect(&request),
        code_verifier: verifier,
        client_id: opts.client_id().to_owned(),
    };
    let reply = post_form(
        client,
        token_endpoint,
        &token_request.form_pairs(),
        dpop.as_deref_mut(),
        as_id,
        opts,
    )?;
    if reply.status != 200 {
        let (error, description) = oauth_error(&reply);
        return Err(ReceiveError::IssuerError {
            endpoint: "token",
            error,
            description,
        });
    }
    let v: Value = serde_json::from_str(&reply.body)
        .map_err(|_| ReceiveError::ResponseInvalid("the token response is not JSON".into()))?;
    let t: TokenResponse = serde_json::from_value(v).map_err(|e| {
        ReceiveError::ResponseInvalid(format!(
            "the token response has no usable access_token and token_type ({e})"
        ))
    })?;
    granted(t, dpop.is_some())
}

fn loopback_redirect(request: &PushedAuthorizationRequest) -> String {
    request.redirect_uri.clone()
}

/// Judges a token response: a bearer token, or a DPoP one when a proof was
/// sent.
pub(super) fn granted(t: TokenResponse, sent_dpop: bool) -> Result<Granted, ReceiveError> {
    if t.access_token.is_empty() {
        return Err(ReceiveError::ResponseInvalid(
            "the token response has no access_token".into(),
        ));
    }
    let dpop_bound = t.token_type.eq_ignore_ascii_case("DPoP");
    if !(t.is_bearer() || dpop_bound && sent_dpop) {
        return Err(ReceiveError::ResponseInvalid(format!(
            "token_type {:?} is neither Bearer nor the DPoP this wallet asked for",
            printable(&t.token_type)
        )));
    }
    Ok(Granted {
        access_token: t.access_token,
        dpop_bound,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_loopback_catches_the_callback_and_ignores_other_paths() {
        let lb = Loopback::bind().unwrap();
        let uri = lb.redirect_uri.clone();
        assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"));
        let port: u16 = uri
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/callback")
            .parse()
            .unwrap();
        let browser = std::thread::spawn(move || {
            let agent = ureq::AgentBuilder::new().build();
            let miss = agent
                .get(&format!("http://127.0.0.1:{port}/favicon.ico"))
                .call();
            assert!(matches!(miss, Err(ureq::Error::Status(404, _))));
            let page = agent
                .get(&format!("{uri}?code=c&state=s&iss=https%3A%2F%2Fi.example"))
                .call()
                .unwrap()
                .into_string()
                .unwrap();
            assert!(page.contains("close"));
        });
        let q = lb.wait(Duration::from_secs(10)).unwrap();
        browser.join().unwrap();
        let r = AuthorizationResponse::from_pairs(&query_pairs(&q)).unwrap();
        assert_eq!(r.code.as_deref(), Some("c"));
        assert_eq!(r.iss.as_deref(), Some("https://i.example"));
    }

    #[test]
    fn no_browser_is_a_timeout() {
        let lb = Loopback::bind().unwrap();
        let e = lb.wait(Duration::from_millis(50)).unwrap_err();
        assert_eq!(e.code(), "login_timeout");
    }

    #[test]
    fn a_dpop_token_is_taken_only_after_a_proof() {
        let t = |ty: &str| TokenResponse {
            access_token: "a".into(),
            token_type: ty.into(),
            expires_in: None,
            authorization_details: None,
        };
        assert!(granted(t("Bearer"), false).is_ok());
        assert!(granted(t("DPoP"), true).unwrap().dpop_bound);
        assert!(granted(t("DPoP"), false).is_err());
        assert!(granted(t("MAC"), true).is_err());
    }
}
