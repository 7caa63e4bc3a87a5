//! The authorization code flow's messages: the pushed authorization
//! request (RFC 9126 §2.1) with OpenID4VCI's `issuer_state` (§5.1.3) and
//! `authorization_details` (§5.1.1), the PAR response (RFC 9126 §2.2), the
//! authorization response (RFC 6749 §4.1.2 with `iss`, RFC 9207), and the
//! authorization code token request (RFC 6749 §4.1.3 with PKCE).
//!
//! Forms are handled as decoded `(name, value)` pairs: callers own the
//! `application/x-www-form-urlencoded` coding.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AUTHORIZATION_CODE, OPENID_CREDENTIAL};

/// Why a form was refused before its values were judged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A parameter appears more than once (RFC 6749 §3.1).
    #[error("parameter {0} is repeated")]
    Repeated(String),
    /// A required parameter is missing or empty.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A parameter that must not be there is (e.g. `request_uri` in a
    /// pushed request, RFC 9126 §2.1).
    #[error("{0} is not allowed here")]
    NotAllowed(&'static str),
    /// `authorization_details` is not a JSON array of objects with a
    /// string `type`.
    #[error("authorization_details is not a JSON array of objects with a type: {0}")]
    AuthorizationDetails(String),
}

/// The pairs with no name twice; empty values count as absent.
fn unique(pairs: &[(String, String)]) -> Result<Vec<(&str, &str)>, FormError> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if out.iter().any(|(n, _)| n == k) {
            return Err(FormError::Repeated(k.clone()));
        }
        out.push((k.as_str(), v.as_str()));
    }
    Ok(out)
}

fn get<'a>(pairs: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| *v)
        .filter(|v| !v.is_empty())
}

fn owned(pairs: &[(&str, &str)], name: &str) -> Option<String> {
    get(pairs, name).map(str::to_owned)
}

/// One entry of `authorization_details` (OpenID4VCI §5.1.1, RFC 9396).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationDetail {
    /// `openid_credential` for a credential.
    #[serde(rename = "type")]
    pub kind: String,
    /// The credential configuration asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<String>,
}

impl AuthorizationDetail {
    /// A request for `configuration_id`.
    pub fn credential(configuration_id: impl Into<String>) -> AuthorizationDetail {
        AuthorizationDetail {
            kind: OPENID_CREDENTIAL.to_owned(),
            credential_configuration_id: Some(configuration_id.into()),
        }
    }
}

/// Parses `authorization_details` (a JSON array in a form value).
pub fn parse_authorization_details(text: &str) -> Result<Vec<AuthorizationDetail>, FormError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| FormError::AuthorizationDetails(e.to_string()))?;
    if !v.is_array() {
        return Err(FormError::AuthorizationDetails("not an array".into()));
    }
    serde_json::from_value(v).map_err(|e| FormError::AuthorizationDetails(e.to_string()))
}

/// A pushed authorization request (RFC 9126 §2.1) as OpenID4VCI uses it.
/// Its `Debug` shows no value a stranger could replay.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PushedAuthorizationRequest {
    /// `code`.
    pub response_type: String,
    /// The wallet's client identifier.
    pub client_id: String,
    /// Where the authorization response goes.
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub code_challenge: Option<String>,
    /// The PKCE method (`S256`).
    pub code_challenge_method: Option<String>,
    /// Scope values (space-separated), one per credential configuration.
    pub scope: Option<String>,
    /// `authorization_details` as sent (JSON text).
    pub authorization_details: Option<String>,
    /// The wallet's `state`.
    pub state: Option<String>,
    /// `issuer_state` from an issuer-initiated offer.
    pub issuer_state: Option<String>,
    /// The resource indicator (RFC 8707): the credential issuer.
    pub resource: Option<String>,
    /// The DPoP key's thumbprint (RFC 9449 §10), when no DPoP proof is sent.
    pub dpop_jkt: Option<String>,
}

impl std::fmt::Debug for PushedAuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushedAuthorizationRequest")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("code_challenge_method", &self.code_challenge_method)
            .finish_non_exhaustive()
    }
}

impl PushedAuthorizationRequest {
    /// Reads the decoded form: no parameter twice, no `request_uri` (RFC
    /// 9126 §2.1), `response_type`, `client_id` and `redirect_uri`
    /// present. Values are judged by the server afterwards.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, FormError> {
        let p = unique(pairs)?;
        if get(&p, "request_uri").is_some() {
            return Err(FormError::NotAllowed("request_uri"));
        }
        if get(&p, "request").is_some() {
            return Err(FormError::NotAllowed("request"));
        }
        Ok(PushedAuthorizationRequest {
            response_type: owned(&p, "response_type").ok_or(FormError::Missing("response_type"))?,
            client_id: owned(&p, "client_id").ok_or(FormError::Missing("client_id"))?,
            redirect_uri: owned(&p, "redirect_uri").ok_or(FormError::Missing("redirect_uri"))?,
            code_challenge: owned(&p, "code_challenge"),
            code_challenge_method: owned(&p, "code_challenge_method"),
            scope: owned(&p, "scope"),
            authorization_details: owned(&p, "authorization_details"),
            state: owned(&p, "state"),
            issuer_state: owned(&p, "issuer_state"),
            resource: owned(&p, "resource"),
            dpop_jkt: owned(&p, "dpop_jkt"),
        })
    }

    /// The form parameters, in order.
    pub fn form_pairs(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![
            ("response_type", self.response_type.as_str()),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
        ];
        let optional = [
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("scope", &self.scope),
            ("authorization_details", &self.authorization_details),
            ("state", &self.state),
            ("issuer_state", &self.issuer_state),
            ("resource", &self.resource),
            ("dpop_jkt", &self.dpop_jkt),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                out.push((k, v.as_str()));
            }
        }
        out
    }
}

/// The PAR endpoint's answer (RFC 9126 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParResponse {
    /// `urn:ietf:params:oauth:request_uri:…`, single-use.
    pub request_uri: String,
    /// Seconds it stays usable.
    pub expires_in: u64,
}

/// What comes back to the wallet's `redirect_uri` (RFC 6749 §4.1.2,
/// §4.1.2.1; `iss` of RFC 9207).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AuthorizationResponse {
    /// The authorization code, on success.
    pub code: Option<String>,
    /// The wallet's `state`, echoed.
    pub state: Option<String>,
    /// The authorization server's identifier (RFC 9207).
    pub iss: Option<String>,
    /// The OAuth error, on failure.
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
}

impl std::fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationResponse")
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl AuthorizationResponse {
    /// Reads the redirect's decoded query pairs (no parameter twice).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, FormError> {
        let p = unique(pairs)?;
        Ok(AuthorizationResponse {
            code: owned(&p, "code"),
            state: owned(&p, "state"),
            iss: owned(&p, "iss"),
            error: owned(&p, "error"),
            error_description: owned(&p, "error_description"),
        })
    }

    /// The query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("code", &self.code),
            ("state", &self.state),
            ("iss", &self.iss),
            ("error", &self.error),
            ("error_description", &self.error_description),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// The token request of the authorization code grant (RFC 6749 §4.1.3,
/// RFC 7636 §4.5). Its `Debug` never shows the code or verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCodeTokenRequest {
    /// The code from the authorization response.
    pub code: String,
    /// The same `redirect_uri` as in the authorization request.
    pub redirect_uri: String,
    /// The PKCE verifier.
    pub code_verifier: String,
    /// The wallet's client identifier (a public client authenticates with
    /// nothing else).
    pub client_id: String,
}

impl std::fmt::Debug for AuthorizationCodeTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationCodeTokenRequest")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl AuthorizationCodeTokenRequest {
    /// Reads the token request's decoded form: `grant_type` must be
    /// `authorization_code` (the caller dispatched on it), no parameter
    /// twice. A missing `code_verifier` is reported as missing.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, FormError> {
        let p = unique(pairs)?;
        if get(&p, "grant_type") != Some(AUTHORIZATION_CODE) {
            return Err(FormError::Missing("grant_type"));
        }
        Ok(AuthorizationCodeTokenRequest {
            code: owned(&p, "code").ok_or(FormError::Missing("code"))?,
            redirect_uri: owned(&p, "redirect_uri").ok_or(FormError::Missing("redirect_uri"))?,
            code_verifier: owned(&p, "code_verifier").ok_or(FormError::Missing("code_verifier"))?,
            client_id: owned(&p, "client_id").ok_or(FormError::Missing("client_id"))?,
        })
    }

    /// The form parameters, in order.
    pub fn form_pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("grant_type", AUTHORIZATION_CODE),
            ("code", self.code.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", self.code_verifier.as_str()),
            ("client_id", self.client_id.as_str()),
        ]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_pushed_request_round_trips_through_its_form() {
        let r = PushedAuthorizationRequest {
            response_type: "code".into(),
            client_id: "wallet".into(),
            redirect_uri: "http://127.0.0.1:5000/cb".into(),
            code_challenge: Some("c".into()),
            code_challenge_method: Some("S256".into()),
            scope: Some("business-licence".into()),
            issuer_state: Some("is".into()),
            ..Default::default()
        };
        let form: Vec<(String, String)> = r
            .form_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(PushedAuthorizationRequest::from_pairs(&form).unwrap(), r);
    }

    #[test]
    fn a_pushed_request_refuses_repeats_request_uri_and_missing_members() {
        let base = [
            ("response_type", "code"),
            ("client_id", "w"),
            ("redirect_uri", "https://w.example/cb"),
        ];
        assert!(PushedAuthorizationRequest::from_pairs(&pairs(&base)).is_ok());
        let mut p = base.to_vec();
        p.push(("client_id", "x"));
        assert_eq!(
            PushedAuthorizationRequest::from_pairs(&pairs(&p)),
            Err(FormError::Repeated("client_id".into()))
        );
        let mut p = base.to_vec();
        p.push(("request_uri", "urn:x"));
        assert_eq!(
            PushedAuthorizationRequest::from_pairs(&pairs(&p)),
            Err(FormError::NotAllowed("request_uri"))
        );
        assert_eq!(
            PushedAuthorizationRequest::from_pairs(&pairs(&base[..2])),
            Err(FormError::Missing("redirect_uri"))
        );
    }

    #[test]
    fn authorization_details_are_an_array_of_typed_objects() {
        let d = parse_authorization_details(
            r#"[{"type":"openid_credential","credential_configuration_id":"x","locations":["l"]}]"#,
        )
        .unwrap();
        assert_eq!(d, vec![AuthorizationDetail::credential("x")]);
        assert!(parse_authorization_details(r#"{"type":"openid_credential"}"#).is_err());
        assert!(parse_authorization_details(r#"[{"credential_configuration_id":"x"}]"#).is_err());
        assert!(parse_authorization_details("[").is_err());
    }

    #[test]
    fn the_code_token_request_needs_its_verifier_and_hides_secrets() {
        let r = AuthorizationCodeTokenRequest {
            code: "code-1".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            code_verifier: "v".repeat(43),
            client_id: "w".into(),
        };
        let form: Vec<(String, String)> = r
            .form_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(AuthorizationCodeTokenRequest::from_pairs(&form).unwrap(), r);
        let without: Vec<_> = form
            .iter()
            .filter(|(k, _)| k != "code_verifier")
            .cloned()
            .collect();
        assert_eq!(
            AuthorizationCodeTokenRequest::from_pairs(&without),
            Err(FormError::Missing("code_verifier"))
        );
        assert!(!format!("{r:?}").contains("code-1"));
    }

    #[test]
    fn the_authorization_response_reads_code_state_and_iss() {
        let r = AuthorizationResponse::from_pairs(&pairs(&[
            ("code", "c"),
            ("state", "s"),
            ("iss", "https://i.example/agencies/a"),
        ]))
        .unwrap();
        assert_eq!(r.code.as_deref(), Some("c"));
        assert_eq!(r.iss.as_deref(), Some("https://i.example/agencies/a"));
        assert_eq!(r.query_pairs().len(), 3);
        assert!(!format!("{r:?}").contains("\"c\""));
    }
}
