//! A counter's presentation request: which licence type and claims it
//! asks for, for which audience, with a fresh nonce and an expiry. Shown
//! as a QR code (`TBR1:` + base45(deflate(JSON))) that the citizen's wallet
//! scans, and kept by the counter to verify the answer. Specified in
//! `specs/presentation-request.md`.

use serde::{Deserialize, Serialize};

use crate::encoding::parse_json;
use crate::error::{ErrorCode, Rejection};
use crate::transport::{base45_decode, base45_encode};

/// Prefix of a request in text form (version 1).
pub const REQUEST_PREFIX: &str = "TBR1:";
/// The largest decompressed request accepted.
const MAX_REQUEST: usize = 16 * 1024;

/// What a counter asks a wallet to present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresentationRequest {
    /// Format version: 1.
    pub version: u32,
    /// The counter's identifier: the KB-JWT `aud`.
    pub aud: String,
    /// A fresh random nonce: the KB-JWT `nonce`.
    pub nonce: String,
    /// The licence type asked for, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// The claim paths asked for (dotted, e.g. `address.city`).
    pub claims: Vec<String>,
    /// When the request was made (Unix seconds).
    pub iat: i64,
    /// When it expires (Unix seconds); a wallet refuses to answer after it.
    pub exp: i64,
}

/// A fresh nonce: the letter `n` and 128 random bits in base64url. The
/// letter keeps it from starting with `-` (one base64url character in 64),
/// which a command line would read as an option.
fn fresh_nonce(rng: &mut impl rand_core::CryptoRngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    format!("n{}", crate::encoding::b64_encode(bytes))
}

fn bad(why: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::RequestInvalid, why)
}

impl PresentationRequest {
    /// A new request with a nonce from `rng`, valid for `ttl_secs`.
    pub fn new(
        aud: impl Into<String>,
        vct: Option<String>,
        claims: Vec<String>,
        now: i64,
        ttl_secs: i64,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> PresentationRequest {
        PresentationRequest {
            version: 1,
            aud: aud.into(),
            nonce: fresh_nonce(rng),
            vct,
            claims,
            iat: now,
            exp: now.saturating_add(ttl_secs),
        }
    }

    /// The text form for a QR code (`TBR1:…`, QR alphanumeric characters only).
    pub fn to_text(&self) -> String {
        let json = crate::encoding::to_compact_json(self);
        let compressed = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 10);
        format!("{REQUEST_PREFIX}{}", base45_encode(&compressed))
    }

    /// Parses the text form (or the plain JSON) and checks it.
    pub fn parse(text: &str) -> Result<PresentationRequest, Rejection> {
        let text = text.trim();
        let json = if let Some(b45) = text.strip_prefix(REQUEST_PREFIX) {
            let compressed = base45_decode(b45).map_err(|r| bad(r.detail))?;
            miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, MAX_REQUEST)
                .map_err(|e| bad(format!("the request's content is damaged: {e}")))?
        } else if text.starts_with('{') {
            text.as_bytes().to_vec()
        } else {
            return Err(bad("not a presentation request (TBR1: or JSON)"));
        };
        let value = parse_json(&json, "the request").map_err(|r| bad(r.detail))?;
        let req: PresentationRequest =
            serde_json::from_value(value).map_err(|e| bad(format!("the request: {e}")))?;
        if req.version != 1 {
            return Err(bad(format!(
                "request version {} is not supported",
                req.version
            )));
        }
        if req.aud.is_empty() || req.nonce.len() < 8 || req.claims.is_empty() || req.exp <= req.iat
        {
            return Err(bad(
                "a request needs an audience, a nonce of at least 8 characters, claims and exp after iat",
            ));
        }
        Ok(req)
    }

    /// Whether the request has expired at `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.exp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generator that yields one byte over and over.
    struct Repeat(u8);

    impl rand_core::RngCore for Repeat {
        fn next_u32(&mut self) -> u32 {
            u32::from_le_bytes([self.0; 4])
        }
        fn next_u64(&mut self) -> u64 {
            u64::from_le_bytes([self.0; 8])
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(self.0);
            Ok(())
        }
    }

    impl rand_core::CryptoRng for Repeat {}

    #[test]
    fn a_nonce_never_starts_with_a_hyphen_and_keeps_128_random_bits() {
        // 0xF8 starts with the six bits 111110: base64url's `-`.
        for byte in [0xF8, 0xFB, 0x00, 0xFF] {
            let r = PresentationRequest::new("a", None, vec!["x".into()], 0, 1, &mut Repeat(byte));
            assert!(!r.nonce.starts_with('-'), "{}", r.nonce);
            let random = crate::encoding::b64_decode(&r.nonce[1..], "nonce").unwrap();
            assert_eq!(random, [byte; 16], "all 16 random bytes are carried");
        }
        let a = PresentationRequest::new("a", None, vec!["x".into()], 0, 1, &mut rand_core::OsRng);
        let b = PresentationRequest::new("a", None, vec!["x".into()], 0, 1, &mut rand_core::OsRng);
        assert_ne!(a.nonce, b.nonce);
    }

    #[test]
    fn round_trip_and_validation() {
        let mut rng = rand_core::OsRng;
        let r = PresentationRequest::new(
            "https://counter.example",
            Some("urn:x:1".into()),
            vec!["a".into(), "b.c".into()],
            100,
            300,
            &mut rng,
        );
        let t = r.to_text();
        assert!(t.starts_with(REQUEST_PREFIX));
        assert!(
            t.bytes()
                .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b))
        );
        assert_eq!(PresentationRequest::parse(&t).unwrap(), r);
        assert_eq!(
            PresentationRequest::parse(&crate::encoding::to_compact_json(&r)).unwrap(),
            r
        );
        assert!(r.is_expired(400) && !r.is_expired(399));
        for bad_text in ["hello", "TBR1:abc", "{\"version\":1}", "TBR1:"] {
            assert_eq!(
                PresentationRequest::parse(bad_text).unwrap_err().code,
                ErrorCode::RequestInvalid,
                "{bad_text}"
            );
        }
        let mut weak = r.clone();
        weak.nonce = "1".into();
        assert!(PresentationRequest::parse(&weak.to_text()).is_err());
    }
}
