//! The token endpoint (§6) and the nonce endpoint (§7).

use serde::{Deserialize, Serialize};

use super::PRE_AUTH_GRANT;

/// A token request (§6.1), sent form-encoded.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// The grant type ([`PRE_AUTH_GRANT`]).
    pub grant_type: String,
    /// The code from the offer.
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// The PIN, when the offer asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("pre_authorized_code", &"<redacted>")
            .field("tx_code", &self.tx_code.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl TokenRequest {
    /// A pre-authorized code token request.
    pub fn pre_authorized(code: impl Into<String>, tx_code: Option<String>) -> TokenRequest {
        TokenRequest {
            grant_type: PRE_AUTH_GRANT.to_owned(),
            pre_authorized_code: code.into(),
            tx_code,
        }
    }

    /// The form parameters, in order, for an
    /// `application/x-www-form-urlencoded` body.
    pub fn form_pairs(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![
            ("grant_type", self.grant_type.as_str()),
            ("pre-authorized_code", self.pre_authorized_code.as_str()),
        ];
        if let Some(p) = &self.tx_code {
            form.push(("tx_code", p.as_str()));
        }
        form
    }
}

/// A successful token response (§6.2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token for the credential endpoint.
    pub access_token: String,
    /// `Bearer` (or `DPoP`), compared case-insensitively.
    pub token_type: String,
    /// Seconds the access token lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The granted `authorization_details` (§6.2), each with its
    /// `credential_identifiers`, when the wallet asked with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Vec<GrantedAuthorizationDetail>>,
}

/// One granted `authorization_details` entry of a token response (§6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedAuthorizationDetail {
    /// `openid_credential`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The configuration granted.
    pub credential_configuration_id: String,
    /// The identifiers the credential request names the dataset by.
    pub credential_identifiers: Vec<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl TokenResponse {
    /// Whether the token is a plain bearer token (RFC 6750).
    pub fn is_bearer(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("Bearer")
    }
}

/// A nonce response (§7.2): `{"c_nonce": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    /// The nonce for the next key proof.
    pub c_nonce: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_token_request_is_the_form_the_issuer_reads() {
        let r = TokenRequest::pre_authorized("code-1", Some("123456".into()));
        assert_eq!(
            r.form_pairs(),
            [
                ("grant_type", PRE_AUTH_GRANT),
                ("pre-authorized_code", "code-1"),
                ("tx_code", "123456"),
            ]
        );
        assert_eq!(
            TokenRequest::pre_authorized("c", None).form_pairs().len(),
            2,
            "no tx_code parameter without a PIN"
        );
        assert!(!format!("{r:?}").contains("code-1"));
        assert!(!format!("{r:?}").contains("123456"));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": "code-1", "tx_code": "123456"})
        );
    }

    #[test]
    fn the_issuers_token_and_nonce_responses_round_trip() {
        let v = json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 300});
        let t: TokenResponse = serde_json::from_value(v.clone()).unwrap();
        assert!(t.is_bearer());
        assert_eq!(serde_json::to_value(&t).unwrap(), v);
        assert!(!format!("{t:?}").contains("at-1"));
        let dpop: TokenResponse =
            serde_json::from_value(json!({"access_token": "a", "token_type": "DPoP"})).unwrap();
        assert!(!dpop.is_bearer());
        assert!(serde_json::from_value::<TokenResponse>(json!({"token_type": "Bearer"})).is_err());

        let v = json!({"c_nonce": "n-1"});
        let n: NonceResponse = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(n.c_nonce, "n-1");
        assert_eq!(serde_json::to_value(&n).unwrap(), v);
        assert!(serde_json::from_value::<NonceResponse>(json!({})).is_err());
    }
}
