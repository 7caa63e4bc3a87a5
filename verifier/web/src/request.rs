//! The counter's own request (`TBR1`, as `tongban-verify request` makes
//! it) and its QR code for the citizen's wallet.
//!
//! [`RequestOptions`] is the one place the page says what it wants. A
//! registered counter adds `signed` (its agency, service item and
//! request-signing private JWK, `specs/presentation-request.md`) and
//! [`make`] signs the request; without it the request is unsigned, and
//! wallets show it as from an unverified requester.

use serde::Deserialize;
use serde_json::{Value, json};
use tongban_verifier::catalogue::Catalogue;
use tongban_verifier::request::PresentationRequest;
use tongban_verifier::{AnySigner, ErrorCode, Rejection};

use crate::error::WebError;

/// The longest validity of a request the page makes: one hour.
pub const MAX_TTL_SECS: i64 = 3600;

/// What the page asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestOptions {
    /// The counter's identifier (the KB-JWT `aud`).
    pub aud: String,
    /// The licence type asked for, if one.
    #[serde(default)]
    pub vct: Option<String>,
    /// The claim paths asked for.
    pub claims: Vec<String>,
    /// How long the request stays valid, in seconds.
    pub ttl_secs: i64,
    /// A registered counter's signature, if it signs.
    #[serde(default)]
    pub signed: Option<Signing>,
}

/// Who signs: the counter's registration in the trust list.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// The receiving agency's id in the trust list.
    pub verifier: String,
    /// The registered service item the request serves.
    pub service_item: String,
    /// The counter's request-signing private JWK (with its `kid`).
    pub key: Value,
}

impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signing")
            .field("verifier", &self.verifier)
            .field("service_item", &self.service_item)
            .finish_non_exhaustive()
    }
}

/// A request made for the page: the document and its text (signed or not).
#[derive(Debug, Clone)]
pub struct Made {
    /// The request the counter keeps.
    pub request: PresentationRequest,
    /// Its `TBR1:` text, signed when the options said so.
    pub text: String,
}

fn bad(why: String) -> WebError {
    WebError::Refused(Rejection::new(ErrorCode::RequestInvalid, why))
}

/// Makes a request with a fresh nonce from `rng`, checking the claims
/// against the catalogue when the type is in it (as the CLI does), signed
/// when the options carry the counter's registration.
pub fn make(
    opts: &RequestOptions,
    now: i64,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<Made, WebError> {
    if opts.aud.trim().is_empty() {
        return Err(bad("the counter's identifier (aud) is empty".into()));
    }
    if opts.claims.is_empty() {
        return Err(bad("no claim is asked for".into()));
    }
    if !(1..=MAX_TTL_SECS).contains(&opts.ttl_secs) {
        return Err(bad(format!(
            "the validity must be 1 to {MAX_TTL_SECS} seconds"
        )));
    }
    if let Some(vct) = &opts.vct
        && let Some(t) = Catalogue::builtin().ok().and_then(|c| c.by_vct(vct))
    {
        for c in &opts.claims {
            let top = c.split('.').next().unwrap_or_default();
            if t.claim(top).is_none() {
                return Err(bad(format!("{vct} has no claim {c:?}")));
            }
        }
    }
    let request = PresentationRequest::new(
        opts.aud.trim(),
        opts.vct.clone(),
        opts.claims.clone(),
        now,
        opts.ttl_secs,
        rng,
    );
    let Some(signing) = &opts.signed else {
        let text = request.to_text();
        return Ok(Made { request, text });
    };
    let signer = AnySigner::from_private_jwk(&signing.key)
        .map_err(|e| bad(format!("the counter's request-signing key: {e}")))?;
    let request = request.registered_as(&signing.verifier, &signing.service_item);
    let text = request
        .to_signed_text(&signer)
        .map_err(|e| bad(format!("signing the request: {e}")))?;
    Ok(Made { request, text })
}

/// An SVG of one QR code (error correction M, as the CLI's codes).
pub fn qr_svg(text: &str) -> Result<String, WebError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| WebError::QrEncode(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The request, its text and its QR code, as the page receives them.
pub fn to_json(made: &Made) -> Result<Value, WebError> {
    let req = &made.request;
    let svg = qr_svg(&made.text)?;
    Ok(
        json!({"request": req, "text": made.text, "signed": req.verifier.is_some(), "svg": svg, "expires_at_text": crate::view::cst(req.exp)}),
    )
}

/// The catalogue's licence types and claims, for the request form.
pub fn catalogue() -> Value {
    let types: Vec<Value> = Catalogue::builtin()
        .map(|c| {
            c.types()
                .iter()
                .map(|t| {
                    json!({
                        "vct": t.vct, "name_zh": t.name_zh, "name_en": t.name_en,
                        "claims": t.claims.iter().map(|c| json!({"name": c.name, "label_zh": c.label_zh, "label_en": c.label_en})).collect::<Vec<_>>(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Array(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(claims: &[&str]) -> RequestOptions {
        RequestOptions {
            aud: "https://counter.qingpu.example/1".into(),
            vct: Some("urn:tongban:business-licence:1".into()),
            claims: claims.iter().map(|c| (*c).to_owned()).collect(),
            ttl_secs: 600,
            signed: None,
        }
    }

    #[test]
    fn a_request_round_trips_and_its_qr_is_an_svg() {
        let mut rng = rand_core::OsRng;
        let claims: Vec<String> = Catalogue::builtin()
            .unwrap()
            .by_vct("urn:tongban:business-licence:1")
            .unwrap()
            .claims
            .iter()
            .take(2)
            .map(|c| c.name.clone())
            .collect();
        let o = opts(&claims.iter().map(String::as_str).collect::<Vec<_>>());
        let made = make(&o, 1_800_000_000, &mut rng).unwrap();
        let j = to_json(&made).unwrap();
        let text = j["text"].as_str().unwrap();
        assert_eq!(PresentationRequest::parse(text).unwrap(), made.request);
        assert!(j["svg"].as_str().unwrap().starts_with("<?xml"));
        assert_eq!(made.request.exp, 1_800_000_600);
        assert_eq!(j["signed"], false);
    }

    #[test]
    fn a_registered_counter_signs_its_request() {
        use tongban_verifier::request::ReceivedRequest;
        let key = tongban_verifier::Ed25519Signer::from_seed(&[9; 32], None);
        let mut jwk = key.to_private_jwk();
        jwk["kid"] = json!("qp-counter-1");
        let mut o = opts(&["company_name"]);
        o.signed = Some(Signing {
            verifier: "https://amr.qingpu.example".into(),
            service_item: "310118-food-permit".into(),
            key: jwk,
        });
        let made = make(&o, 1_800_000_000, &mut rand_core::OsRng).unwrap();
        let j = to_json(&made).unwrap();
        assert_eq!(j["signed"], true);
        let got = ReceivedRequest::parse(j["text"].as_str().unwrap()).unwrap();
        assert!(got.is_signed());
        assert_eq!(got.request, made.request);
        assert!(!format!("{o:?}").contains("\"d\""), "the key is not logged");
        o.signed.as_mut().unwrap().key = json!({"kty": "oct"});
        assert_eq!(
            make(&o, 0, &mut rand_core::OsRng).unwrap_err().code(),
            "request_invalid"
        );
    }

    #[test]
    fn unknown_claims_empty_requests_and_long_validity_are_refused() {
        let mut rng = rand_core::OsRng;
        assert_eq!(
            make(&opts(&["no_such_claim"]), 0, &mut rng)
                .unwrap_err()
                .code(),
            "request_invalid"
        );
        assert_eq!(
            make(&opts(&[]), 0, &mut rng).unwrap_err().code(),
            "request_invalid"
        );
        let mut o = opts(&["x"]);
        o.vct = None;
        o.ttl_secs = 86_400;
        assert_eq!(make(&o, 0, &mut rng).unwrap_err().code(), "request_invalid");
    }
}
