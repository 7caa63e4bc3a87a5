//! The wallet's DPoP (RFC 9449): one fresh P-256 key per `receive`, a proof
//! on every token request and every use of the access token, and the
//! server's nonce kept from whichever answer last carried `DPoP-Nonce`.
//!
//! A proof's `iat` is the time the flow was given plus the monotonic time
//! elapsed since (the citizen may spend minutes at the login).

use std::time::Instant;

use rand::RngCore as _;
use tongban_protocol::oauth::USE_DPOP_NONCE;
use tongban_protocol::oauth::dpop::{DpopClaims, sign_dpop};
use tongban_verifier::P256Signer;

use super::ReceiveError;
use super::http::{Reply, oauth_error};

/// One flow's DPoP key and the server's latest nonce.
pub(super) struct Dpop {
    key: P256Signer,
    nonce: Option<String>,
    now: i64,
    started: Instant,
}

impl Dpop {
    /// A fresh key; `now` is the flow's time.
    pub(super) fn new(now: i64) -> Dpop {
        Dpop {
            key: P256Signer::generate(&mut rand::rngs::OsRng, None),
            nonce: None,
            now,
            started: Instant::now(),
        }
    }

    /// The key's RFC 7638 thumbprint.
    #[cfg(test)]
    pub(super) fn jkt(&self) -> String {
        use tongban_verifier::Signer as _;
        self.key.public_key().thumbprint()
    }

    /// A proof for `POST url`, over `access_token` when one is presented.
    pub(super) fn proof(
        &self,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, ReceiveError> {
        let mut jti = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut jti);
        let jti = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, jti);
        let elapsed = i64::try_from(self.started.elapsed().as_secs()).unwrap_or(0);
        sign_dpop(
            &self.key,
            &DpopClaims {
                htm: "POST",
                htu: url,
                iat: self.now.saturating_add(elapsed),
                jti: &jti,
                nonce: self.nonce.as_deref(),
                access_token,
            },
        )
        .map_err(|e| ReceiveError::Signing(format!("the DPoP proof: {e}")))
    }

    /// Keeps the nonce of an answer that carries one.
    pub(super) fn observe(&mut self, reply: &Reply) {
        if let Some(n) = &reply.dpop_nonce {
            self.nonce = Some(n.clone());
        }
    }

    /// Whether `reply` asks to retry with the nonce it carries (400
    /// `use_dpop_nonce` from an authorization server, 401 with
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` from the credential
    /// endpoint), and the nonce is new.
    pub(super) fn asks_for_nonce(&mut self, reply: &Reply) -> bool {
        let asked = match reply.status {
            400 => oauth_error(reply).0 == USE_DPOP_NONCE,
            401 => reply
                .www_authenticate
                .as_deref()
                .is_some_and(|w| w.contains(USE_DPOP_NONCE)),
            _ => false,
        };
        let fresh = reply.dpop_nonce.is_some() && reply.dpop_nonce != self.nonce;
        self.observe(reply);
        asked && fresh
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use tongban_protocol::oauth::dpop::{DpopExpect, check_dpop};

    fn reply(status: u16, body: &str, nonce: Option<&str>, www: Option<&str>) -> Reply {
        Reply {
            status,
            content_type: "application/json".into(),
            body: body.into(),
            dpop_nonce: nonce.map(str::to_owned),
            www_authenticate: www.map(str::to_owned),
        }
    }

    #[test]
    fn proofs_carry_the_latest_nonce_and_the_token_hash() {
        let mut d = Dpop::new(1_800_000_000);
        let url = "https://i.example/agencies/a/credential";
        d.observe(&reply(200, "{}", Some("n-1"), None));
        let p = d.proof(url, Some("at-1")).unwrap();
        let checked = check_dpop(
            &p,
            &DpopExpect {
                htm: "POST",
                htu: url,
                now: 1_800_000_000,
                max_age: 300,
                max_ahead: 60,
                access_token: Some("at-1"),
            },
        )
        .unwrap();
        assert_eq!(checked.jkt, d.jkt());
        assert_eq!(checked.nonce.as_deref(), Some("n-1"));
        assert_ne!(
            d.proof(url, None).unwrap(),
            d.proof(url, None).unwrap(),
            "a fresh jti each time"
        );
    }

    #[test]
    fn a_nonce_request_is_recognised_once_per_new_nonce() {
        let mut d = Dpop::new(0);
        let ask = reply(400, r#"{"error":"use_dpop_nonce"}"#, Some("n-1"), None);
        assert!(d.asks_for_nonce(&ask));
        assert!(
            !d.asks_for_nonce(&ask),
            "the same nonce again: no endless retry"
        );
        let resource = reply(401, "", Some("n-2"), Some(r#"DPoP error="use_dpop_nonce""#));
        assert!(d.asks_for_nonce(&resource));
        let other = reply(400, r#"{"error":"invalid_grant"}"#, Some("n-3"), None);
        assert!(!d.asks_for_nonce(&other));
        assert_eq!(d.nonce.as_deref(), Some("n-3"), "the latest nonce is kept");
    }
}
