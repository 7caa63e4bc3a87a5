//! The counter's own request (`TBR1`, as `tongban-verify request` makes
//! it) and its QR code for the citizen's wallet.
//!
//! Today's request is the unsigned form. [`RequestOptions`] is the one
//! place the page says what it wants; the signed form of a registered
//! counter (agency, service item, the counter's key) adds its members
//! here and its signing in [`make`], and the page needs no other change.

use serde::Deserialize;
use serde_json::{Value, json};
use tongban_verifier::catalogue::Catalogue;
use tongban_verifier::request::PresentationRequest;
use tongban_verifier::{ErrorCode, Rejection};

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
}

fn bad(why: String) -> WebError {
    WebError::Refused(Rejection::new(ErrorCode::RequestInvalid, why))
}

/// Makes a request with a fresh nonce from `rng`, checking the claims
/// against the catalogue when the type is in it (as the CLI does).
pub fn make(
    opts: &RequestOptions,
    now: i64,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<PresentationRequest, WebError> {
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
    Ok(PresentationRequest::new(
        opts.aud.trim(),
        opts.vct.clone(),
        opts.claims.clone(),
        now,
        opts.ttl_secs,
        rng,
    ))
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
pub fn to_json(req: &PresentationRequest) -> Result<Value, WebError> {
    let text = req.to_text();
    let svg = qr_svg(&text)?;
    Ok(
        json!({"request": req, "text": text, "svg": svg, "expires_at_text": crate::view::cst(req.exp)}),
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
        let req = make(&o, 1_800_000_000, &mut rng).unwrap();
        let j = to_json(&req).unwrap();
        let text = j["text"].as_str().unwrap();
        assert_eq!(PresentationRequest::parse(text).unwrap(), req);
        assert!(j["svg"].as_str().unwrap().starts_with("<?xml"));
        assert_eq!(req.exp, 1_800_000_600);
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
