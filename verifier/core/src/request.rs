//! A counter's presentation request: which licence type and claims it
//! asks for, for which audience, with a fresh nonce and an expiry. Shown
//! as a QR code (`TBR1:` + base45(deflate(JSON))) that the citizen's wallet
//! scans, and kept by the counter to verify the answer. Specified in
//! `specs/presentation-request.md`.
//!
//! The **signed form** is a compact JWS (`typ` `tongban-request+jwt`) over
//! the same document naming the receiving agency (`verifier`) and its
//! registered service item (`service_item`), signed by a request-signing
//! key the trust list registers for that agency; in text form it is
//! `TBR1:` + base45(deflate(JWS)). [`ReceivedRequest::check_requester`]
//! verifies it against a verified trust list. The unsigned form keeps
//! working: a wallet shows it as from an unverified requester.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::encoding::parse_json;
use crate::error::{ErrorCode, Rejection};
use crate::jws::{CompactJws, sign_compact};
use crate::keys::{SignError, Signer};
use crate::relying_party::{Asked, Registered};
use crate::transport::{base45_decode, base45_encode};
use crate::trust::TrustList;

/// The `typ` of a signed counter request.
pub const TYP_REQUEST: &str = "tongban-request+jwt";

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
    /// Signed form only: the receiving agency (its trust list `id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    /// Signed form only: the registered service item the request serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_item: Option<String>,
}

/// A request as a wallet received it: the document, and the JWS when it
/// came signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// The request.
    pub request: PresentationRequest,
    /// The compact JWS of the signed form (`None`: unsigned).
    pub jws: Option<String>,
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
            verifier: None,
            service_item: None,
        }
    }

    /// Names the registered agency and service item (for the signed form).
    pub fn registered_as(mut self, verifier: &str, service_item: &str) -> PresentationRequest {
        self.verifier = Some(verifier.to_owned());
        self.service_item = Some(service_item.to_owned());
        self
    }

    /// The signed text form: `TBR1:` + base45(deflate(compact JWS)),
    /// signed by the counter's registered request-signing key (its `kid`
    /// goes in the header). The request must name `verifier` and
    /// `service_item`.
    pub fn to_signed_text(&self, signer: &dyn Signer) -> Result<String, SignError> {
        if self.verifier.is_none() || self.service_item.is_none() {
            return Err(SignError(
                "a signed request names its agency and service item".into(),
            ));
        }
        if signer.key_id().is_none() {
            return Err(SignError(
                "the request-signing key needs a kid (the trust list names it)".into(),
            ));
        }
        let payload = serde_json::to_value(self).map_err(|e| SignError(e.to_string()))?;
        let jws = sign_compact(signer, TYP_REQUEST, &payload)?;
        let compressed = miniz_oxide::deflate::compress_to_vec(jws.as_bytes(), 10);
        Ok(format!("{REQUEST_PREFIX}{}", base45_encode(&compressed)))
    }

    /// The text form for a QR code (`TBR1:…`, QR alphanumeric characters only).
    pub fn to_text(&self) -> String {
        let json = crate::encoding::to_compact_json(self);
        let compressed = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 10);
        format!("{REQUEST_PREFIX}{}", base45_encode(&compressed))
    }

    /// Parses the text form, signed or not (or the plain JSON), and checks
    /// the document; the signature is not checked here (see
    /// [`ReceivedRequest::check_requester`]).
    pub fn parse(text: &str) -> Result<PresentationRequest, Rejection> {
        ReceivedRequest::parse(text).map(|r| r.request)
    }

    fn from_value(value: Value, signed: bool) -> Result<PresentationRequest, Rejection> {
        let req: PresentationRequest =
            serde_json::from_value(value).map_err(|e| bad(format!("the request: {e}")))?;
        let names_both = req.verifier.is_some() && req.service_item.is_some();
        let names_any = req.verifier.is_some() || req.service_item.is_some();
        if (signed && !names_both) || (!signed && names_any) {
            return Err(bad(if signed {
                "a signed request must name its agency (verifier) and service item"
            } else {
                "an unsigned request may not name an agency or service item (nothing vouches for them)"
            }));
        }
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

    /// What the request asks, for checking against a registration.
    pub fn asked(&self) -> Asked {
        Asked {
            vct: self.vct.clone(),
            claims: self.claims.clone(),
            holder_binding: true,
        }
    }

    /// Whether the request has expired at `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.exp
    }
}

impl ReceivedRequest {
    /// Parses the text form (`TBR1:`, whose content is the JSON document
    /// or, signed, a compact JWS over it) or the plain JSON.
    pub fn parse(text: &str) -> Result<ReceivedRequest, Rejection> {
        let text = text.trim();
        let content = if let Some(b45) = text.strip_prefix(REQUEST_PREFIX) {
            let compressed = base45_decode(b45).map_err(|r| bad(r.detail))?;
            miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, MAX_REQUEST)
                .map_err(|e| bad(format!("the request's content is damaged: {e}")))?
        } else if text.starts_with('{') || text.starts_with("ey") {
            text.as_bytes().to_vec()
        } else {
            return Err(bad("not a presentation request (TBR1: or JSON)"));
        };
        if content.first() == Some(&b'{') {
            let value = parse_json(&content, "the request").map_err(|r| bad(r.detail))?;
            return Ok(ReceivedRequest {
                request: PresentationRequest::from_value(value, false)?,
                jws: None,
            });
        }
        let jws = String::from_utf8(content)
            .map_err(|_| bad("the signed request is not text"))?
            .trim()
            .to_owned();
        let parsed = CompactJws::parse(&jws, "the signed request").map_err(|r| bad(r.detail))?;
        let request = PresentationRequest::from_value(Value::Object(parsed.payload), true)?;
        Ok(ReceivedRequest {
            request,
            jws: Some(jws),
        })
    }

    /// Whether the request came signed.
    pub fn is_signed(&self) -> bool {
        self.jws.is_some()
    }

    /// Identifies the requester of a signed request through the trust
    /// list, at `now`: the agency it names is registered (valid now), the
    /// header's `kid` is one of its request-signing keys (within its window,
    /// never compromised), the signature verifies under it, and the service
    /// item is registered. Any failure refuses the request; an unsigned
    /// request is `requester_unknown` (the wallet shows it as unverified
    /// instead of calling this).
    pub fn check_requester(&self, list: &TrustList, now: i64) -> Result<Registered, Rejection> {
        let Some(jws) = &self.jws else {
            return Err(Rejection::new(
                ErrorCode::RequesterUnknown,
                "the request is not signed: its requester is unverified",
            ));
        };
        let r = &self.request;
        let (Some(verifier), Some(item)) = (&r.verifier, &r.service_item) else {
            return Err(bad(
                "a signed request must name its agency and service item",
            ));
        };
        let parsed = CompactJws::parse(jws, "the signed request")?;
        let alg = parsed.check_header(
            "the signed request",
            Some(TYP_REQUEST),
            ErrorCode::RequestInvalid,
            ErrorCode::RequestInvalid,
        )?;
        let agency = list.verifier(verifier).ok_or_else(|| {
            Rejection::new(
                ErrorCode::RequesterUnknown,
                format!("{verifier:?} is not a receiving agency of the trust list"),
            )
        })?;
        agency.check_registration(now)?;
        let keys = agency.request_keys(parsed.kid(), alg, now)?;
        if !keys.iter().any(|k| {
            k.verify(
                alg,
                parsed.signing_input.as_bytes(),
                parsed.signature.as_slice(),
            )
        }) {
            return Err(Rejection::new(
                ErrorCode::RequestSignatureInvalid,
                format!(
                    "the signature does not verify under {verifier}'s key {:?}",
                    parsed.kid().unwrap_or_default()
                ),
            ));
        }
        agency.registered(item, now)
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

    mod signed {
        use super::*;
        use crate::keys::{Ed25519Signer, P256Signer};
        use crate::relying_party::{LicenceGrant, ServiceItem, TrustedVerifier};
        use crate::trust::{Anchor, TRUST_LIST_VERSION, TrustedKey};

        const NOW: i64 = 1_800_000_000;

        fn counter_key() -> P256Signer {
            P256Signer::from_bytes(&[5; 32], Some("qp-counter-1".into())).unwrap()
        }

        fn list(key: &TrustedKey) -> TrustList {
            TrustList {
                version: TRUST_LIST_VERSION,
                anchor: Anchor {
                    id: "https://trust.example".into(),
                    name_zh: "示范区".into(),
                    name_en: "Zone".into(),
                },
                sequence: 1,
                issued_at: NOW - 10,
                next_update: NOW + 1000,
                issuers: vec![],
                root_sequence: None,
                verifiers: Some(vec![TrustedVerifier {
                    id: "https://amr.qingpu.example".into(),
                    name_zh: "青浦区市场监督管理局".into(),
                    name_en: "Qingpu AMR".into(),
                    region: "310118".into(),
                    keys: vec![key.clone()],
                    certificates: vec![],
                    dns_names: vec![],
                    not_before: NOW - 100,
                    not_after: Some(NOW + 100),
                    service_items: vec![ServiceItem {
                        id: "310118-food-01".into(),
                        name_zh: "食品经营许可".into(),
                        name_en: "Food business permit".into(),
                        purpose_zh: "核验经营主体".into(),
                        purpose_en: "Verify the business".into(),
                        licences: vec![LicenceGrant {
                            vct: "urn:x:1".into(),
                            claims: vec!["company_name".into()],
                            holder_binding_required: true,
                        }],
                    }],
                }]),
            }
        }

        fn key_entry(signer: &dyn Signer) -> TrustedKey {
            let mut jwk = signer.public_key().to_jwk();
            jwk["kid"] = signer.key_id().unwrap_or_default().into();
            TrustedKey {
                jwk,
                not_before: NOW - 100,
                not_after: None,
                revoked_at: None,
                compromised_at: None,
            }
        }

        fn request() -> PresentationRequest {
            PresentationRequest::new(
                "https://counter.qingpu.example/1",
                Some("urn:x:1".into()),
                vec!["company_name".into()],
                NOW,
                300,
                &mut rand_core::OsRng,
            )
            .registered_as("https://amr.qingpu.example", "310118-food-01")
        }

        #[test]
        fn a_registered_counter_s_signed_request_names_its_agency() {
            let k = counter_key();
            let text = request().to_signed_text(&k).unwrap();
            assert!(text.starts_with(REQUEST_PREFIX));
            let got = ReceivedRequest::parse(&text).unwrap();
            assert!(got.is_signed());
            let reg = got.check_requester(&list(&key_entry(&k)), NOW).unwrap();
            assert_eq!(reg.name_en, "Qingpu AMR");
            assert_eq!(reg.service_item.id, "310118-food-01");
            assert!(reg.service_item.excess(&[got.request.asked()]).is_empty());
            // The counter reads its own signed request back.
            assert_eq!(
                PresentationRequest::parse(&text).unwrap(),
                request_like(&got)
            );
        }

        fn request_like(r: &ReceivedRequest) -> PresentationRequest {
            r.request.clone()
        }

        #[test]
        fn forged_unknown_revoked_and_expired_requesters_are_refused() {
            let k = counter_key();
            let good = list(&key_entry(&k));
            // Signed by another key under the registered kid.
            let thief = P256Signer::from_bytes(&[6; 32], Some("qp-counter-1".into())).unwrap();
            let forged =
                ReceivedRequest::parse(&request().to_signed_text(&thief).unwrap()).unwrap();
            assert_eq!(
                forged.check_requester(&good, NOW).unwrap_err().code,
                ErrorCode::RequestSignatureInvalid
            );
            // A kid the agency does not list.
            let other = Ed25519Signer::from_seed(&[7; 32], Some("nope".into()));
            let unknown =
                ReceivedRequest::parse(&request().to_signed_text(&other).unwrap()).unwrap();
            assert_eq!(
                unknown.check_requester(&good, NOW).unwrap_err().code,
                ErrorCode::RequesterUnknown
            );
            // An agency not in the list.
            let stranger = request().registered_as("https://fake.example", "310118-food-01");
            let stranger = ReceivedRequest::parse(&stranger.to_signed_text(&k).unwrap()).unwrap();
            assert_eq!(
                stranger.check_requester(&good, NOW).unwrap_err().code,
                ErrorCode::RequesterUnknown
            );
            // A compromised key.
            let mut stolen = key_entry(&k);
            stolen.compromised_at = Some(NOW - 50);
            let signed = ReceivedRequest::parse(&request().to_signed_text(&k).unwrap()).unwrap();
            assert_eq!(
                signed
                    .check_requester(&list(&stolen), NOW)
                    .unwrap_err()
                    .code,
                ErrorCode::RequesterKeyRevoked
            );
            // The registration has ended.
            assert_eq!(
                signed.check_requester(&good, NOW + 100).unwrap_err().code,
                ErrorCode::RequesterRegistrationExpired
            );
            // An unregistered service item.
            let item = request().registered_as("https://amr.qingpu.example", "other");
            let item = ReceivedRequest::parse(&item.to_signed_text(&k).unwrap()).unwrap();
            assert_eq!(
                item.check_requester(&good, NOW).unwrap_err().code,
                ErrorCode::ServiceItemUnregistered
            );
            // Tampered payload: the JWS no longer verifies.
            let jws = signed.jws.clone().unwrap();
            let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
            let mut payload = signed.request.clone();
            payload.claims.push("legal_representative".into());
            parts[1] = crate::encoding::b64_encode(crate::encoding::to_compact_json(&payload));
            let tampered = ReceivedRequest::parse(&parts.join(".")).unwrap();
            assert_eq!(
                tampered.check_requester(&good, NOW).unwrap_err().code,
                ErrorCode::RequestSignatureInvalid
            );
        }

        #[test]
        fn unsigned_requests_may_not_claim_an_agency_and_signed_ones_must() {
            let named = request();
            assert_eq!(
                PresentationRequest::parse(&named.to_text())
                    .unwrap_err()
                    .code,
                ErrorCode::RequestInvalid
            );
            let mut half = request();
            half.service_item = None;
            assert!(PresentationRequest::parse(&half.to_text()).is_err());
            assert!(half.to_signed_text(&counter_key()).is_err());
        }

        #[test]
        fn the_signed_form_fits_one_qr_code() {
            let text = request().to_signed_text(&counter_key()).unwrap();
            // A version 17 QR code (85 x 85 modules) at level M holds 734
            // alphanumeric characters (specs/presentation-request.md).
            assert!(text.len() <= 734, "{}", text.len());
        }
    }
}
