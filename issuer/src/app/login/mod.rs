//! The citizen's login at the authorization endpoint, delegated to the
//! agency's own identity provider (a province's unified login): the
//! issuer is an OpenID Connect relying party of it ([`oidc`]), configured
//! per agency (`[login.<agency>]`, `specs/issuer-api.md` §8).
//!
//! [`CitizenLogin`] is the seam: the service sends the browser to
//! [`begin`](CitizenLogin::begin)'s URL and, when the provider sends it
//! back, learns the authenticated subject from
//! [`finish`](CitizenLogin::finish). The service stores what `begin`
//! returns ([`PendingLogin`]) on the authorization request's row, so any
//! replica can finish a login another began.

use async_trait::async_trait;

pub mod oidc;

pub use oidc::OidcLogin;

/// What a login needs remembered between leaving and coming back.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// The `state` sent to the provider (stored as a hash).
    pub state: String,
    /// The OpenID Connect `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the provider's token endpoint.
    pub verifier: String,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin").finish_non_exhaustive()
    }
}

/// Where to send the citizen, and what to remember.
#[derive(Debug, Clone)]
pub struct LoginStart {
    /// The provider's authorization URL, with every parameter.
    pub url: String,
    /// What [`CitizenLogin::finish`] needs back.
    pub pending: PendingLogin,
}

/// Why a login could not be begun or finished.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The agency has no login configured.
    #[error("agency {0} has no citizen login configured")]
    NotConfigured(String),
    /// The provider could not be reached, or answered what it should not.
    #[error("the agency's login provider failed: {0}")]
    Provider(String),
    /// The provider's answer was refused (ID token, nonce, code).
    #[error("the login was not accepted: {0}")]
    Refused(String),
}

/// How citizens of an agency log in. [`OidcLogin`] in the service; tests
/// may plug in their own.
#[async_trait]
pub trait CitizenLogin: Send + Sync {
    /// Whether the agency has a login (else the authorization code flow
    /// is not offered for it).
    fn serves(&self, agency_id: &str) -> bool;

    /// Begins a login whose answer comes back to `redirect_uri`.
    async fn begin(&self, agency_id: &str, redirect_uri: &str) -> Result<LoginStart, LoginError>;

    /// Finishes it with the provider's `code`: the authenticated subject.
    async fn finish(
        &self,
        agency_id: &str,
        redirect_uri: &str,
        code: &str,
        pending: &PendingLogin,
        now: i64,
    ) -> Result<String, LoginError>;
}
