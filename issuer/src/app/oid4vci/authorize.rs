//! The authorization endpoint, the citizen's return from the agency's
//! login, and the authorization code grant at the token endpoint.
//!
//! 1. `GET authorize?client_id&request_uri` (RFC 9126 §4): the pushed
//!    request is taken (once, in time, by its client) and the browser is
//!    sent to the agency's login ([`crate::app::login`]).
//! 2. `GET login/callback?code&state`: the login's `state` takes the
//!    request back (once), the login's code is exchanged for the
//!    citizen's subject, and the subject is judged: an issuer-initiated
//!    offer (`issuer_state`) is for its citizen only; otherwise the agency
//!    must hold a record of the type for the subject ([`crate::app::records`]).
//!    The browser goes back to the wallet's `redirect_uri` with `code`,
//!    `state` and `iss` (RFC 9207), or with `error=access_denied`.
//! 3. The token request with `grant_type=authorization_code`: the code is
//!    spent first (a code presented twice withdraws the token the first
//!    use got, RFC 6749 §4.1.2), then `client_id`, `redirect_uri`, the PKCE
//!    verifier and the DPoP key are compared with the pushed request's.

use tongban_protocol::oauth::par::{AuthorizationCodeTokenRequest, AuthorizationResponse};
use tongban_protocol::oauth::pkce::verify_s256;
use tongban_protocol::oauth::{AUTHORIZATION_CODE, OPENID_CREDENTIAL};
use tongban_protocol::oid4vci::{GrantedAuthorizationDetail, TokenResponse};

use super::super::login::PendingLogin;
use super::super::{AgencyRuntime, Service, ServiceError, internal};
use super::dpop::DpopAt;
use super::par::form_refused;
use super::{Oid4vciError, refused};
use crate::store::{
    AuthorizationRecord, AuthorizedOffer, CodeClaim, LoginBinding, OfferGrant, OfferRecord,
    OfferState,
};
use crate::tokens::{hash_secret, random_b64};

/// Where the authorization endpoint sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect(pub String);

/// The value of one query parameter (no parameter twice).
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Oid4vciError> {
    let mut found = pairs.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(refused(
            "invalid_request",
            format!("parameter {name} is repeated"),
        ));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// The wallet's `redirect_uri` with the authorization response's
/// parameters added to its query.
fn wallet_redirect(
    redirect_uri: &str,
    response: &AuthorizationResponse,
) -> Result<String, ServiceError> {
    let mut url = openidconnect::url::Url::parse(redirect_uri).map_err(internal)?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in response.query_pairs() {
            q.append_pair(k, v);
        }
    }
    Ok(url.to_string())
}

impl Service {
    /// The login callback URL of the agency.
    fn login_callback_url(rt: &AgencyRuntime) -> String {
        format!("{}/login/callback", rt.agency.iss)
    }

    /// The authorization endpoint (`GET`, the query's decoded pairs): the
    /// pushed request named by `request_uri` is taken, and the browser is
    /// sent to the agency's login. Refusals are shown to the citizen (no
    /// redirect to a `redirect_uri` that nothing vouches for).
    pub async fn authorize(
        &self,
        rt: &AgencyRuntime,
        query: &[(String, String)],
    ) -> Result<Redirect, Oid4vciError> {
        let agency = &rt.agency;
        let client_id = param(query, "client_id")?
            .ok_or_else(|| refused("invalid_request", "client_id is missing"))?;
        let request_uri = param(query, "request_uri")?.ok_or_else(|| {
            refused(
                "invalid_request",
                "request_uri is missing: this server takes pushed authorization requests only (RFC 9126)",
            )
        })?;
        let start = self
            .login
            .begin(&agency.id, &Self::login_callback_url(rt))
            .await
            .map_err(|e| Oid4vciError::Service(ServiceError::LoginUnavailable(e.to_string())))?;
        let now = self.now();
        let login = LoginBinding {
            state_hash: hash_secret(&start.pending.state),
            nonce: start.pending.nonce.clone(),
            verifier: start.pending.verifier.clone(),
            expires_at: now + self.config.authorization.login_ttl_secs,
        };
        self.store
            .start_login(&agency.id, &hash_secret(request_uri), client_id, &login, now)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(|| {
                refused(
                    "invalid_request_uri",
                    "the request_uri is unknown, expired, already used or not this client's; push the authorization request again",
                )
            })?;
        Ok(Redirect(start.url))
    }

    /// The citizen back from the agency's login (`GET`, the query's decoded
    /// pairs): on to the wallet with a code, or with `access_denied`.
    pub async fn login_callback(
        &self,
        rt: &AgencyRuntime,
        query: &[(String, String)],
    ) -> Result<Redirect, Oid4vciError> {
        let agency = &rt.agency;
        let state = param(query, "state")?
            .ok_or_else(|| refused("invalid_request", "the login answered without state"))?;
        let now = self.now();
        let auth = self
            .store
            .finish_login(&agency.id, &hash_secret(state), now)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(|| {
                refused(
                    "invalid_request",
                    "this login is unknown, expired or already finished; start again from the wallet",
                )
            })?;
        match self.judge_login(rt, &auth, query, now).await {
            Ok(subject) => {
                let code = random_b64(32);
                self.store
                    .grant_code(
                        &auth.id,
                        &hash_secret(&code),
                        &subject,
                        now + self.config.authorization.authorization_code_ttl_secs,
                    )
                    .await
                    .map_err(ServiceError::from)?;
                self.metrics.add(
                    "tongban_authorizations_total",
                    &[("agency", &agency.id), ("outcome", "code")],
                    1,
                );
                let response = AuthorizationResponse {
                    code: Some(code),
                    state: auth.client_state.clone(),
                    iss: Some(agency.iss.clone()),
                    ..Default::default()
                };
                Ok(Redirect(wallet_redirect(&auth.redirect_uri, &response)?))
            }
            Err(description) => {
                self.store
                    .refuse_authorization(&auth.id)
                    .await
                    .map_err(ServiceError::from)?;
                self.metrics.add(
                    "tongban_authorizations_total",
                    &[("agency", &agency.id), ("outcome", "denied")],
                    1,
                );
                let response = AuthorizationResponse {
                    state: auth.client_state.clone(),
                    iss: Some(agency.iss.clone()),
                    error: Some("access_denied".into()),
                    error_description: Some(description),
                    ..Default::default()
                };
                Ok(Redirect(wallet_redirect(&auth.redirect_uri, &response)?))
            }
        }
    }

    /// The login's outcome: the subject, if it may have the credential;
    /// otherwise why not (for the wallet's `error_description`).
    async fn judge_login(
        &self,
        rt: &AgencyRuntime,
        auth: &AuthorizationRecord,
        query: &[(String, String)],
        now: i64,
    ) -> Result<String, String> {
        let agency = &rt.agency;
        if let Ok(Some(e)) = param(query, "error") {
            return Err(format!("the citizen login answered {e}"));
        }
        let code = match param(query, "code") {
            Ok(Some(c)) => c,
            _ => return Err("the citizen login answered without a code".into()),
        };
        let pending = PendingLogin {
            state: String::new(),
            nonce: auth.login_nonce.clone().unwrap_or_default(),
            verifier: auth.login_verifier.clone().unwrap_or_default(),
        };
        let subject = self
            .login
            .finish(
                &agency.id,
                &Self::login_callback_url(rt),
                code,
                &pending,
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        match &auth.offer_id {
            Some(offer_id) => {
                let offer = self
                    .store
                    .offer_by_id(&agency.id, offer_id)
                    .await
                    .map_err(|e| ServiceError::from(e).to_string())?;
                match offer {
                    Some(o)
                        if o.state == OfferState::Pending
                            && o.subject.as_deref() == Some(subject.as_str()) =>
                    {
                        Ok(subject)
                    }
                    Some(o) if o.state == OfferState::Pending => Err(
                        "this offer was made for another citizen; log in as the citizen it names"
                            .into(),
                    ),
                    _ => Err("the offer is no longer open; ask the agency for a new one".into()),
                }
            }
            None => match self
                .claims
                .claims_for(&agency.id, &subject, &auth.vct, now)
                .await
            {
                Ok(Some(_)) => Ok(subject),
                Ok(None) => Err(format!(
                    "the agency holds no record of this type ({}) for the citizen who logged in",
                    auth.vct
                )),
                Err(e) => Err(e.to_string()),
            },
        }
    }

    /// The token request of the authorization code grant, its decoded
    /// form pairs and the DPoP key its proof showed.
    pub(super) async fn authorization_code_token(
        &self,
        rt: &AgencyRuntime,
        pairs: &[(String, String)],
        proof_jkt: Option<String>,
    ) -> Result<TokenResponse, Oid4vciError> {
        let agency = &rt.agency;
        let r = AuthorizationCodeTokenRequest::from_pairs(pairs).map_err(|e| form_refused(&e))?;
        let now = self.now();
        let bad_code = || {
            refused(
                "invalid_grant",
                "the authorization code is unknown, expired or already used",
            )
        };
        let auth = match self
            .store
            .claim_code(&agency.id, &hash_secret(&r.code), now)
            .await
            .map_err(ServiceError::from)?
        {
            CodeClaim::Claimed(a) => a,
            CodeClaim::Reused(a) => {
                self.store
                    .revoke_authorization_token(&a, now)
                    .await
                    .map_err(ServiceError::from)?;
                return Err(bad_code());
            }
            CodeClaim::Unknown => return Err(bad_code()),
        };
        if r.client_id != auth.client_id {
            return Err(refused(
                "invalid_grant",
                "the code was issued to another client_id",
            ));
        }
        if r.redirect_uri != auth.redirect_uri {
            return Err(refused(
                "invalid_grant",
                "redirect_uri is not the one of the authorization request",
            ));
        }
        verify_s256(&r.code_verifier, &auth.code_challenge)
            .map_err(|e| refused("invalid_grant", e.to_string()))?;
        let at = DpopAt::AuthorizationServer;
        let jkt = match (&auth.dpop_jkt, proof_jkt) {
            (Some(bound), Some(p)) if *bound == p => Some(p),
            (Some(_), Some(_)) => return Err(self.dpop_wrong_key(&agency.id, at)),
            (Some(_), None) => return Err(self.dpop_missing(&agency.id, at)),
            (None, p) => p,
        };
        let subject = auth
            .subject
            .clone()
            .ok_or_else(|| Oid4vciError::Service(internal("a code without a subject")))?;
        let lt = self
            .catalogue
            .by_vct(&auth.vct)
            .ok_or_else(|| refused("invalid_grant", "the credential type left the catalogue"))?;
        let access = random_b64(32);
        let ttl = self.config.access_token_ttl_secs;
        let new_offer;
        let offer = match &auth.offer_id {
            Some(id) => AuthorizedOffer::Existing(id),
            None => {
                let claims = self
                    .claims
                    .claims_for(&agency.id, &subject, &auth.vct, now)
                    .await?
                    .ok_or_else(|| {
                        refused(
                            "invalid_grant",
                            "the agency's record for this citizen is gone",
                        )
                    })?;
                new_offer = OfferRecord {
                    id: format!("offer_{}", random_b64(12)),
                    agency_id: agency.id.clone(),
                    vct: auth.vct.clone(),
                    claims: serde_json::Value::Object(claims.claims).to_string(),
                    expires_credential_at: claims.expires_at,
                    not_before_credential: claims.not_before,
                    // Never handed out: this offer is redeemed by its access token only.
                    code_hash: hash_secret(&random_b64(32)),
                    tx_code_hash: None,
                    tx_code_length: None,
                    tx_attempts: 0,
                    code_expires_at: now + ttl,
                    state: OfferState::TokenIssued,
                    access_token_hash: None,
                    token_expires_at: None,
                    credential_id: None,
                    actor: format!("oid4vci:{}", auth.id),
                    created_at: now,
                    grant: OfferGrant::WalletInitiatedCode,
                    subject: Some(subject.clone()),
                    issuer_state_hash: None,
                    dpop_jkt: None,
                };
                AuthorizedOffer::New(&new_offer)
            }
        };
        let offer = self
            .store
            .authorized_token(
                &auth,
                offer,
                &subject,
                &hash_secret(&access),
                now + ttl,
                jkt.as_deref(),
                now,
            )
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(|| refused("invalid_grant", "the offer is no longer open"))?;
        self.metrics.add(
            "tongban_oid4vci_tokens_total",
            &[("agency", &agency.id), ("outcome", "granted")],
            1,
        );
        Ok(TokenResponse {
            access_token: access,
            token_type: if jkt.is_some() { "DPoP" } else { "Bearer" }.to_owned(),
            expires_in: u64::try_from(ttl).ok(),
            authorization_details: auth.by_details.then(|| {
                vec![GrantedAuthorizationDetail {
                    kind: OPENID_CREDENTIAL.to_owned(),
                    credential_configuration_id: lt.slug.to_owned(),
                    credential_identifiers: vec![offer.id.clone()],
                }]
            }),
        })
    }
}

/// The grant type of the authorization code flow, for the token endpoint.
pub(super) const GRANT: &str = AUTHORIZATION_CODE;
