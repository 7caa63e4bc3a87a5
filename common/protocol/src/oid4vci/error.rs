//! OAuth error responses (RFC 6749 §5.2; OpenID4VCI §6.3, §8.3.1).

use serde::{Deserialize, Serialize};

/// An error body: `{"error", "error_description"}`, and Tongban's
/// extension member `tx_code_attempts_remaining` after a wrong PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error code (`invalid_grant`, `invalid_proof`, `invalid_nonce`…).
    pub error: String,
    /// A sentence for the client's developer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// After a wrong or locked PIN: the attempts left (0 when the offer is
    /// locked), so wallets need not read the sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code_attempts_remaining: Option<u32>,
    /// Tongban's extension member after a refused wallet or key
    /// attestation: the stable code of exactly what was wrong
    /// (`attestation_untrusted_provider`, `wallet_attestation_pop_replayed`…,
    /// listed in `specs/issuer-api.md`), so wallets need not read the
    /// sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation_error: Option<String>,
}

impl ErrorResponse {
    /// An error with its description.
    pub fn new(error: impl Into<String>, description: impl Into<String>) -> ErrorResponse {
        ErrorResponse {
            error: error.into(),
            error_description: Some(description.into()),
            tx_code_attempts_remaining: None,
            attestation_error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_issuers_error_bodies_round_trip() {
        let wrong_pin = json!({
            "error": "invalid_grant",
            "error_description": "the tx_code is wrong; 4 attempt(s) left",
            "tx_code_attempts_remaining": 4,
        });
        let e: ErrorResponse = serde_json::from_value(wrong_pin.clone()).unwrap();
        assert_eq!(e.tx_code_attempts_remaining, Some(4));
        assert_eq!(serde_json::to_value(&e).unwrap(), wrong_pin);
        let plain = json!({"error": "invalid_proof", "error_description": "proof aud is missing"});
        let e = ErrorResponse::new("invalid_proof", "proof aud is missing");
        assert_eq!(serde_json::to_value(&e).unwrap(), plain);
        assert_eq!(serde_json::from_value::<ErrorResponse>(plain).unwrap(), e);
        assert!(serde_json::from_value::<ErrorResponse>(json!({"message": "x"})).is_err());
    }
}
