//! The pushed authorization request endpoint (RFC 9126), the only way
//! into this issuer's authorization endpoint (`require_pushed_authorization_requests`).
//!
//! Every check is made here, before anything is stored: the wallet's
//! `redirect_uri` (https, loopback http of RFC 8252 §7.3, or a private-use
//! scheme of §7.1), PKCE with `S256` only, exactly one credential
//! configuration of the agency named by `scope` and/or
//! `authorization_details` (OpenID4VCI §5.1.1, §5.1.2), an `issuer_state`
//! from one of the agency's authorization code offers (§5.1.3), the
//! `resource` (RFC 8707), and the DPoP key the code will be bound to
//! (RFC 9449 §10). Strangers reach this endpoint: its body is small
//! (`max_par_bytes`), and an agency has at most
//! `max_pending_authorizations` requests pending at once.

use tongban_protocol::oauth::par::{
    FormError, ParResponse, PushedAuthorizationRequest, parse_authorization_details,
};
use tongban_protocol::oauth::pkce::challenge_is_valid;
use tongban_protocol::oauth::{
    INVALID_DPOP_PROOF, OPENID_CREDENTIAL, PKCE_S256, REQUEST_URI_PREFIX,
};
use tongban_verifier::catalogue::LicenceType;

use super::super::{AgencyRuntime, Service, ServiceError};
use super::token::form_urlencoded_pairs;
use super::{Oid4vciError, refused};
use crate::store::AuthorizationRecord;
use crate::tokens::{hash_secret, random_b64};

/// Longest `client_id`, `state` and `redirect_uri` accepted.
const MAX_CLIENT_ID: usize = 255;
const MAX_STATE: usize = 512;
const MAX_REDIRECT_URI: usize = 2048;

pub(super) fn form_refused(e: &FormError) -> Oid4vciError {
    refused("invalid_request", e.to_string())
}

/// Whether a wallet's `redirect_uri` is one this issuer sends codes to:
/// https; http only to the loopback interface (RFC 8252 §7.3); or a
/// private-use scheme in reverse-domain form (RFC 8252 §7.1). Never a
/// fragment.
pub(super) fn redirect_uri_is_acceptable(uri: &str) -> bool {
    let Ok(url) = openidconnect::url::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || uri.len() > MAX_REDIRECT_URI {
        return false;
    }
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => {
            matches!(
                url.host(),
                Some(openidconnect::url::Host::Ipv4(ip)) if ip.is_loopback()
            ) || matches!(
                url.host(),
                Some(openidconnect::url::Host::Ipv6(ip)) if ip.is_loopback()
            ) || url.host_str() == Some("localhost")
        }
        scheme => scheme.contains('.') && !scheme.starts_with("javascript"),
    }
}

fn printable(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| !c.is_control())
}

impl Service {
    /// The licence type a request's `scope` and `authorization_details`
    /// name: exactly one of the agency's configurations.
    pub(super) fn requested_type(
        &self,
        rt: &AgencyRuntime,
        scope: Option<&str>,
        details: Option<&str>,
    ) -> Result<(&'static LicenceType, bool), Oid4vciError> {
        let types: Vec<&'static LicenceType> = rt
            .agency
            .vcts
            .iter()
            .filter_map(|v| self.catalogue.by_vct(v))
            .collect();
        let mut named: Vec<&'static LicenceType> = Vec::new();
        for s in scope
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
        {
            // `openid` and other scopes this server does not know are
            // refused: a wallet asking for more than it gets should learn.
            let lt = types.iter().find(|lt| lt.slug == s).ok_or_else(|| {
                refused(
                    "invalid_scope",
                    format!(
                        "scope {s:?} is not one of this issuer's credential configurations ({})",
                        types
                            .iter()
                            .map(|lt| lt.slug)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            named.push(lt);
        }
        let by_details = details.is_some();
        if let Some(text) = details {
            let details = parse_authorization_details(text)
                .map_err(|e| refused("invalid_authorization_details", e.to_string()))?;
            for d in details {
                if d.kind != OPENID_CREDENTIAL {
                    return Err(refused(
                        "invalid_authorization_details",
                        format!(
                            "authorization_details type {:?} is not openid_credential",
                            d.kind
                        ),
                    ));
                }
                let id = d.credential_configuration_id.as_deref().ok_or_else(|| {
                    refused(
                        "invalid_authorization_details",
                        "each authorization_details entry needs a credential_configuration_id",
                    )
                })?;
                let lt = types.iter().find(|lt| lt.slug == id).ok_or_else(|| {
                    refused(
                        "invalid_authorization_details",
                        format!("{id:?} is not one of this issuer's credential configurations"),
                    )
                })?;
                named.push(lt);
            }
        }
        named.dedup_by(|a, b| a.vct == b.vct);
        match named.as_slice() {
            [lt] => Ok((lt, by_details)),
            [] => Err(refused(
                "invalid_scope",
                "name the credential configuration in scope (or authorization_details)",
            )),
            _ => Err(refused(
                "invalid_request",
                "one authorization is for one credential configuration; push one request per credential",
            )),
        }
    }

    /// A pushed authorization request (RFC 9126 §2.1) of the agency: its
    /// form body as sent, and the `DPoP` header's proof if any.
    pub async fn pushed_authorization_request(
        &self,
        rt: &AgencyRuntime,
        form: &[u8],
        dpop_proof: Option<&str>,
    ) -> Result<ParResponse, Oid4vciError> {
        let agency = &rt.agency;
        if !self.login.serves(&agency.id) {
            return Err(refused(
                "unsupported_response_type",
                "this agency has no citizen login configured, so it offers no authorization code flow; use its pre-authorized offers",
            ));
        }
        let proof_jkt = self.check_dpop_proof(
            &agency.id,
            &format!("{}/par", agency.iss),
            dpop_proof,
            super::dpop::DpopAt::AuthorizationServer,
        )?;
        let r = PushedAuthorizationRequest::from_pairs(&form_urlencoded_pairs(form))
            .map_err(|e| form_refused(&e))?;
        if r.response_type != "code" {
            return Err(refused(
                "unsupported_response_type",
                format!(
                    "response_type {:?} is not supported; use code",
                    r.response_type
                ),
            ));
        }
        if r.client_id.len() > MAX_CLIENT_ID || !printable(&r.client_id) {
            return Err(refused(
                "invalid_request",
                "client_id must be 1 to 255 printable characters",
            ));
        }
        if !redirect_uri_is_acceptable(&r.redirect_uri) {
            return Err(refused(
                "invalid_request",
                "redirect_uri must be https, http to the loopback interface (RFC 8252 §7.3), or a private-use scheme (RFC 8252 §7.1), without a fragment",
            ));
        }
        let challenge = r.code_challenge.as_deref().ok_or_else(|| {
            refused(
                "invalid_request",
                "code_challenge is missing: PKCE with S256 is required",
            )
        })?;
        match r.code_challenge_method.as_deref() {
            Some(PKCE_S256) => {}
            Some(other) => {
                return Err(refused(
                    "invalid_request",
                    format!("code_challenge_method {other:?} is not accepted; only S256 is"),
                ));
            }
            None => {
                return Err(refused(
                    "invalid_request",
                    "code_challenge_method is missing; send S256 (plain, the default, is not accepted)",
                ));
            }
        }
        if !challenge_is_valid(challenge) {
            return Err(refused(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the code_verifier",
            ));
        }
        if let Some(res) = &r.resource
            && *res != agency.iss
        {
            return Err(refused(
                "invalid_target",
                format!(
                    "resource {res:?} is not this credential issuer ({})",
                    agency.iss
                ),
            ));
        }
        if r.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
            return Err(refused(
                "invalid_request",
                "state is longer than 512 characters",
            ));
        }
        let jkt = match (proof_jkt, r.dpop_jkt) {
            (Some(p), Some(given)) if p != given => {
                return Err(refused(
                    INVALID_DPOP_PROOF,
                    "dpop_jkt is not the thumbprint of the key of the DPoP proof sent",
                ));
            }
            (Some(p), _) => Some(p),
            (None, Some(given)) if challenge_is_valid(&given) => Some(given),
            (None, Some(_)) => {
                return Err(refused(
                    "invalid_request",
                    "dpop_jkt is not a JWK SHA-256 thumbprint",
                ));
            }
            (None, None) => None,
        };
        let (lt, by_details) =
            self.requested_type(rt, r.scope.as_deref(), r.authorization_details.as_deref())?;
        let now = self.now();
        let offer_id = match &r.issuer_state {
            None => None,
            Some(state) => {
                let offer = self
                    .store
                    .offer_by_issuer_state(&agency.id, &hash_secret(state), now)
                    .await
                    .map_err(ServiceError::from)?
                    .ok_or_else(|| {
                        refused(
                            "invalid_request",
                            "issuer_state is unknown, expired or already used; ask the agency for a new offer",
                        )
                    })?;
                if offer.vct != lt.vct {
                    return Err(refused(
                        "invalid_request",
                        format!("the offer of this issuer_state is not for {}", lt.slug),
                    ));
                }
                Some(offer.id)
            }
        };
        let auth = &self.config.authorization;
        if self
            .store
            .pending_authorizations(&agency.id, now)
            .await
            .map_err(ServiceError::from)?
            >= auth.max_pending_authorizations
        {
            return Err(Oid4vciError::Service(ServiceError::StorageUnavailable {
                detail: "too many authorization requests are pending; try again shortly".into(),
                cause: None,
            }));
        }
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_b64(32));
        let record = AuthorizationRecord {
            id: format!("auth_{}", random_b64(12)),
            agency_id: agency.id.clone(),
            request_uri_hash: hash_secret(&request_uri),
            client_id: r.client_id,
            redirect_uri: r.redirect_uri,
            code_challenge: challenge.to_owned(),
            vct: lt.vct.clone(),
            by_details,
            offer_id,
            client_state: r.state,
            dpop_jkt: jkt,
            stage: crate::store::AuthorizationStage::Pushed,
            expires_at: now + auth.par_ttl_secs,
            login_nonce: None,
            login_verifier: None,
            subject: None,
            created_at: now,
        };
        self.store
            .push_authorization(&record)
            .await
            .map_err(ServiceError::from)?;
        self.metrics
            .add("tongban_par_requests_total", &[("agency", &agency.id)], 1);
        Ok(ParResponse {
            request_uri,
            expires_in: u64::try_from(auth.par_ttl_secs).unwrap_or(60),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_rfc_8252() {
        for good in [
            "https://wallet.example/cb",
            "http://127.0.0.1:49152/cb",
            "http://[::1]:8000/",
            "http://localhost:8000/cb",
            "cn.gov.tongban.wallet:/cb",
        ] {
            assert!(redirect_uri_is_acceptable(good), "{good}");
        }
        for bad in [
            "http://wallet.example/cb",
            "https://wallet.example/cb#f",
            "wallet:/cb",
            "not a url",
            "javascript.x:alert(1)",
        ] {
            assert!(!redirect_uri_is_acceptable(bad), "{bad}");
        }
    }
}
