//! The authorization response (§8): the VP token, the JWE payload of
//! `direct_post.jwt`, error responses, and the response URI's answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The VP token (§8.1): each answered credential query's id with its
/// presentations (SD-JWT VC presentations are strings, §B.3.6).
pub type VpToken = BTreeMap<String, Vec<String>>;

/// The response parameters (§8.1), as the payload of the encrypted
/// response (§8.3) or the form of a plain `direct_post`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    /// The presentations.
    pub vp_token: VpToken,
    /// The request's `state`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The error codes of §8.5 and RFC 6749 a wallet sends.
pub mod error_code {
    /// The citizen declined, or holds no matching credential.
    pub const ACCESS_DENIED: &str = "access_denied";
    /// The request breaks a rule.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// The client could not be authenticated.
    pub const INVALID_CLIENT: &str = "invalid_client";
    /// No requested format is supported.
    pub const VP_FORMATS_NOT_SUPPORTED: &str = "vp_formats_not_supported";
    /// `request_uri_method` is neither `get` nor `post`.
    pub const INVALID_REQUEST_URI_METHOD: &str = "invalid_request_uri_method";
    /// Transaction data the wallet cannot honour.
    pub const INVALID_TRANSACTION_DATA: &str = "invalid_transaction_data";
    /// The wallet is unavailable.
    pub const WALLET_UNAVAILABLE: &str = "wallet_unavailable";
}

/// An error response (§8.5), posted as a form to the response URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationErrorResponse {
    /// The error code (see [`error_code`]).
    pub error: String,
    /// A sentence for the verifier's developer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// The request's `state`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The response URI's answer (§8.2): where the wallet sends the user next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseUriAnswer {
    /// Where to send the user agent (same-device flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_response_payload_is_the_specs_shape() {
        let v = json!({"vp_token": {"licence": ["eyJ...~"]}, "state": "s1"});
        let r: AuthorizationResponse = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.vp_token["licence"], vec!["eyJ...~".to_string()]);
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        // A VP token of presentation objects (another format) is not ours.
        assert!(
            serde_json::from_value::<AuthorizationResponse>(json!({"vp_token": {"x": [{"a": 1}]}}))
                .is_err()
        );
        let e = AuthorizationErrorResponse {
            error: error_code::ACCESS_DENIED.into(),
            error_description: None,
            state: Some("s1".into()),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"error": "access_denied", "state": "s1"})
        );
    }
}
