//! Answering a receiving agency's online request: OpenID for Verifiable
//! Presentations 1.0, request by reference, as HAIP 1.0 profiles it.
//!
//! 1. **Link** ([`read_link`], [`AuthorizationRequest`]): an
//!    `openid4vp://` (or `haip-vp://`) URI with `client_id`, `request_uri`
//!    and optionally `request_uri_method`, as text, a file, or a PNG of its
//!    QR code.
//! 2. **Fetch** ([`fetch`]): with `request_uri_method=post` a form POST of
//!    the wallet's metadata and a fresh `wallet_nonce`; otherwise GET. No
//!    redirect is followed; the URL must be https (or http to this
//!    machine); the object is at most 256 KiB.
//! 3. **Check** ([`check_request_object`]): compact JWS, `typ`
//!    `oauth-authz-req+jwt`, `alg` ES256, an `x5c` chain whose leaf is the
//!    client identifier's (`x509_hash`: its SHA-256; `x509_san_dns`: a
//!    dNSName, and the response URI on that host), the signature under the
//!    leaf's key, the leaf not self-signed and issued (directly or through
//!    `x5c` intermediates) by a verifier CA the citizen trusts, every
//!    certificate valid at the time given; then the claims: `client_id`
//!    equal to the link's, `wallet_nonce` echoed, `response_type`
//!    `vp_token`, `response_mode` `direct_post.jwt` (plain `direct_post`
//!    only when allowed), an https `response_uri`, `aud` if present
//!    `https://self-issued.me/v2`, `exp` not passed, a valid DCQL query,
//!    and a P-256 ECDH-ES key to encrypt to. A request that fails any of
//!    these is refused and nothing is sent to it.
//! 4. **Match** ([`match_credentials`]) the DCQL query against the stored
//!    credentials; the caller lets the citizen choose, shows what leaves
//!    the wallet and asks consent.
//! 5. **Answer** ([`vp_token`], [`response_form`], [`post_response`]):
//!    presentations with a KB-JWT (`aud` = the full client identifier,
//!    `nonce` = the request's), encrypted as a compact JWE (ECDH-ES,
//!    A256GCM when listed, else A128GCM, the key's `kid` copied), posted as
//!    `response=…`; the verifier's `redirect_uri` is returned. A refusal by
//!    the citizen is posted as `access_denied` ([`error_form`]).
//!
//! Nothing here writes the wallet.

mod answer;
mod error;
mod http;
mod request;
pub mod x509;

/// The test verifier's certificates and signed requests, shared with the
/// integration tests.
#[cfg(test)]
#[path = "../../tests/support/verifier.rs"]
mod fixtures;

use std::time::Duration;

pub use answer::{
    ACCESS_DENIED, Candidate, Choice, INVALID_TRANSACTION_DATA, QueryMatch, Transaction, encrypt,
    error_form, match_credentials, response_form, transactions, vp_token,
};
pub use error::{AnswerError, RequestFault};
pub use http::{MAX_REQUEST_OBJECT, fetch_request_object, post_response, wallet_metadata};
pub use request::{CheckedRequest, Expected, ResponseProtection, check_request_object};

use tongban_protocol::oid4vp::request::{HAIP_SCHEME, LinkError, OPENID4VP_SCHEME};
use tongban_protocol::oid4vp::{AuthorizationRequest, RequestUriMethod};
use x509::Cert;

/// Whether `text` is a request link (`openid4vp://` or `haip-vp://`).
pub fn is_link(text: &str) -> bool {
    let t = text.trim_start();
    [OPENID4VP_SCHEME, HAIP_SCHEME]
        .iter()
        .any(|s| t.strip_prefix(s).is_some_and(|r| r.starts_with("://")))
}

/// The request link in `arg`: the link itself, a file holding it, or a
/// PNG/JPEG of its QR code. `None` when `arg` is none of these.
pub fn read_link(arg: &str) -> Option<String> {
    if is_link(arg) {
        return Some(arg.trim().to_owned());
    }
    let bytes = std::fs::read(arg).ok()?;
    if tongban_cli_support::qr::is_image(&bytes) {
        return tongban_cli_support::qr::decode_image(&bytes)
            .ok()?
            .into_iter()
            .find(|t| is_link(t));
    }
    let text = String::from_utf8(bytes).ok()?;
    is_link(&text).then(|| text.trim().to_owned())
}

/// How an answer is made.
pub struct Options {
    /// Each request's timeout.
    pub timeout: Duration,
    /// Accept a request for an unencrypted response (`direct_post`).
    pub allow_unencrypted: bool,
    /// The verifier CAs trusted.
    pub trusted: Vec<Cert>,
    /// The time (Unix seconds).
    pub now: i64,
}

/// A fetched and checked request, and the client to answer it with.
pub struct Fetched {
    /// The link.
    pub link: AuthorizationRequest,
    /// The request.
    pub request: CheckedRequest,
    agent: ureq::Agent,
}

/// Parses the link, fetches the request object and checks it.
pub fn fetch(link: &str, opts: &Options) -> Result<Fetched, AnswerError> {
    let link = AuthorizationRequest::parse(link).map_err(|e| match e {
        LinkError::Method(m) => AnswerError::RequestUriMethodInvalid(m),
        other => AnswerError::LinkInvalid(other.to_string()),
    })?;
    let wallet_nonce = match link.request_uri_method {
        None | Some(RequestUriMethod::Get) => None,
        Some(RequestUriMethod::Post) => Some(fresh_nonce()),
    };
    let agent = crate::net::agent(opts.timeout);
    let jws = fetch_request_object(
        &agent,
        &link.request_uri,
        wallet_nonce.as_deref(),
        opts.allow_unencrypted,
    )?;
    let expected = Expected {
        client_id: &link.client_id,
        wallet_nonce: wallet_nonce.as_deref(),
        allow_unencrypted: opts.allow_unencrypted,
    };
    let request = check_request_object(&jws, &expected, &opts.trusted, opts.now)?;
    Ok(Fetched {
        link,
        request,
        agent,
    })
}

impl Fetched {
    /// Posts `form` to the request's response URI; the verifier's
    /// `redirect_uri`, if it gave one.
    pub fn post(&self, form: &[(String, String)]) -> Result<Option<String>, AnswerError> {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        post_response(&self.agent, &self.request.response_uri, &pairs)
    }
}

/// A fresh `wallet_nonce`: 16 random bytes, base64url.
fn fresh_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    tongban_verifier::encoding::b64_encode(bytes)
}
