//! The OpenID Connect relying party (authorization code flow with PKCE
//! and `nonce`, OpenID Connect Core §3.1) over the `openidconnect` crate:
//! discovery, the authorization URL, the code exchange and the ID token's
//! checks (signature against the provider's JWKS, `iss`, `aud`, `exp`,
//! `nonce`) are the crate's; the time is the service's clock.
//!
//! HTTP goes through `ureq` on a blocking thread: no redirects followed,
//! a 10 s timeout, answers capped at 1 MiB. Discovered metadata is kept an
//! hour per agency.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use tongban_service_kit::SharedClock;

use super::{CitizenLogin, LoginError, LoginStart, PendingLogin};
use crate::config::AgencyLogin;

/// How long discovered provider metadata is used, seconds.
const METADATA_TTL: i64 = 3600;
/// Largest answer read from a provider.
const MAX_ANSWER: u64 = 1 << 20;

/// One HTTP exchange with the provider, as `openidconnect` awaits it.
type HttpFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send>>;

/// An HTTP failure towards the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

fn send(agent: &ureq::Agent, req: HttpRequest) -> Result<HttpResponse, HttpError> {
    let url = req.uri().to_string();
    let mut call = agent.request(req.method().as_str(), &url);
    for (name, value) in req.headers() {
        let v = value
            .to_str()
            .map_err(|e| HttpError(format!("header {name}: {e}")))?;
        call = call.set(name.as_str(), v);
    }
    let resp = match call.send_bytes(req.body()) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(HttpError(format!("{url}: {e}"))),
    };
    let mut builder = openidconnect::http::Response::builder().status(resp.status());
    for name in resp.headers_names() {
        if let Some(v) = resp.header(&name) {
            builder = builder.header(name.as_str(), v);
        }
    }
    let mut body = Vec::new();
    resp.into_reader()
        .take(MAX_ANSWER)
        .read_to_end(&mut body)
        .map_err(|e| HttpError(format!("{url}: reading the answer: {e}")))?;
    builder
        .body(body)
        .map_err(|e| HttpError(format!("{url}: {e}")))
}

/// The relying party of every agency with a `[login.<agency>]` section.
pub struct OidcLogin {
    logins: BTreeMap<String, AgencyLogin>,
    agent: ureq::Agent,
    discovered: Mutex<HashMap<String, (i64, Arc<CoreProviderMetadata>)>>,
    clock: SharedClock,
}

impl std::fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLogin")
            .field("agencies", &self.logins.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl OidcLogin {
    /// The relying party of these agencies, judging time by `clock`.
    pub fn new(logins: BTreeMap<String, AgencyLogin>, clock: SharedClock) -> OidcLogin {
        OidcLogin {
            logins,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(10))
                .redirects(0)
                .build(),
            discovered: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn login(&self, agency_id: &str) -> Result<&AgencyLogin, LoginError> {
        self.logins
            .get(agency_id)
            .ok_or_else(|| LoginError::NotConfigured(agency_id.to_owned()))
    }

    /// The HTTP client handed to `openidconnect`: each request on a
    /// blocking thread.
    fn http(&self) -> impl Fn(HttpRequest) -> HttpFuture + Send + Sync + use<> {
        let agent = self.agent.clone();
        move |req| {
            let agent = agent.clone();
            Box::pin(async move {
                tokio::task::spawn_blocking(move || send(&agent, req))
                    .await
                    .map_err(|e| HttpError(e.to_string()))?
            })
        }
    }

    /// The provider's metadata, discovered at most once an hour.
    async fn metadata(&self, agency_id: &str) -> Result<Arc<CoreProviderMetadata>, LoginError> {
        let now = self.clock.now();
        if let Some((at, m)) = self
            .discovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(agency_id)
            && now - *at < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let login = self.login(agency_id)?;
        let issuer = IssuerUrl::new(login.issuer.clone())
            .map_err(|e| LoginError::Provider(format!("issuer URL: {e}")))?;
        let http = self.http();
        let meta = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| LoginError::Provider(format!("discovery at {}: {e}", login.issuer)))?;
        let meta = Arc::new(meta);
        self.discovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(agency_id.to_owned(), (now, meta.clone()));
        Ok(meta)
    }

    fn client(
        login: &AgencyLogin,
        meta: &CoreProviderMetadata,
        redirect_uri: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        LoginError,
    > {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| LoginError::Provider(format!("redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            meta.clone(),
            ClientId::new(login.client_id.clone()),
            login.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }
}

#[async_trait]
impl CitizenLogin for OidcLogin {
    fn serves(&self, agency_id: &str) -> bool {
        self.logins.contains_key(agency_id)
    }

    async fn begin(&self, agency_id: &str, redirect_uri: &str) -> Result<LoginStart, LoginError> {
        let login = self.login(agency_id)?;
        let meta = self.metadata(agency_id).await?;
        let client = Self::client(login, &meta, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in &login.scopes {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(LoginStart {
            url: url.to_string(),
            pending: PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
            },
        })
    }

    async fn finish(
        &self,
        agency_id: &str,
        redirect_uri: &str,
        code: &str,
        pending: &PendingLogin,
        now: i64,
    ) -> Result<String, LoginError> {
        let login = self.login(agency_id)?;
        let meta = self.metadata(agency_id).await?;
        let client = Self::client(login, &meta, redirect_uri)?;
        let http = self.http();
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| LoginError::Provider(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| LoginError::Refused(format!("the provider refused the code: {e}")))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| LoginError::Refused("the provider's answer has no ID token".into()))?;
        let at = chrono::DateTime::from_timestamp(now, 0)
            .ok_or_else(|| LoginError::Refused("the service's clock is out of range".into()))?;
        let verifier = client.id_token_verifier().set_time_fn(move || at);
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|e| LoginError::Refused(format!("the ID token: {e}")))?;
        Ok(claims.subject().as_str().to_owned())
    }
}
