//! Compact JWS (RFC 7515): parsing, the header policy, and signing.
//!
//! The header policy is the same for every JWS Tongban reads: `alg` must be
//! on the allow-list, the header may not bring its own key (`jwk`, `jku`,
//! `x5u`, `x5c`), no `crit` extension is understood, and `typ` must be the
//! expected media type.

use serde_json::{Map, Value};

use crate::encoding::{b64_decode_named, b64_encode, b64_json_object_named, to_compact_json};
use crate::error::{ErrorCode, Rejection};
use crate::keys::{Algorithm, SignError, Signer};

/// A parsed compact JWS whose signature is not yet verified.
#[derive(Debug, Clone)]
pub struct CompactJws<'a> {
    /// `base64url(header) "." base64url(payload)`: the bytes that were signed.
    pub signing_input: &'a str,
    /// The decoded protected header.
    pub header: Map<String, Value>,
    /// The decoded payload (always a JSON object for Tongban).
    pub payload: Map<String, Value>,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Parses `header.payload.signature`; `what` names the part in errors.
    pub fn parse(text: &'a str, what: &str) -> Result<CompactJws<'a>, Rejection> {
        let mut parts = text.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Rejection::new(
                ErrorCode::JwsMalformed,
                format!("{what} does not have exactly three '.'-separated parts"),
            ));
        };
        // The part names are formatted only when a part is refused.
        let header = b64_json_object_named(h, &format_args!("{what} header"))?;
        let payload = b64_json_object_named(p, &format_args!("{what} payload"))?;
        let signature = b64_decode_named(s, &format_args!("{what} signature"))?;
        Ok(CompactJws {
            signing_input: &text[..h.len() + 1 + p.len()],
            header,
            payload,
            signature,
        })
    }

    /// [`CompactJws::parse`] for a caller that reads the payload itself,
    /// with the same checks in the same order: the payload's base64url is
    /// decoded into `buf` and handed to `read`, and [`CompactJws::payload`]
    /// is left empty.
    pub(crate) fn parse_reading_payload<'b, P>(
        text: &'a str,
        what: &str,
        buf: &'b mut Vec<u8>,
        read: impl FnOnce(&'b [u8], &dyn core::fmt::Display) -> Result<P, Rejection>,
    ) -> Result<(CompactJws<'a>, P), Rejection> {
        let mut parts = text.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Rejection::new(
                ErrorCode::JwsMalformed,
                format!("{what} does not have exactly three '.'-separated parts"),
            ));
        };
        let header = b64_json_object_named(h, &format_args!("{what} header"))?;
        *buf = b64_decode_named(p, &format_args!("{what} payload"))?;
        let buf: &'b [u8] = buf;
        let payload = read(buf, &format_args!("{what} payload"))?;
        let signature = b64_decode_named(s, &format_args!("{what} signature"))?;
        let jws = CompactJws {
            signing_input: &text[..h.len() + 1 + p.len()],
            header,
            payload: Map::new(),
            signature,
        };
        Ok((jws, payload))
    }

    /// Applies the header policy and returns the algorithm and `kid`.
    ///
    /// `expected_typ` is compared as a media type (case-insensitive, with an
    /// optional `application/` prefix, RFC 7515 §4.1.9); `None` leaves `typ`
    /// unchecked (plain SD-JWT profiles that define none). `typ_missing` and
    /// `typ_invalid` are the codes to report for this kind of JWS.
    pub fn check_header(
        &self,
        what: &str,
        expected_typ: Option<&str>,
        typ_missing: ErrorCode,
        typ_invalid: ErrorCode,
    ) -> Result<Algorithm, Rejection> {
        self.header_policy(what, expected_typ, typ_missing, typ_invalid, false)
    }

    /// [`CompactJws::check_header`] for the JWS whose signer is found by
    /// X.509 certificate (HAIP 1.0): an SD-JWT VC and a status list token
    /// may carry `x5c`, which the caller must then validate to an anchor
    /// of its trust source ([`crate::x509`]); `jwk`, `jku` and `x5u` are
    /// refused as everywhere.
    pub fn check_header_allowing_x5c(
        &self,
        what: &str,
        expected_typ: Option<&str>,
        typ_missing: ErrorCode,
        typ_invalid: ErrorCode,
    ) -> Result<Algorithm, Rejection> {
        self.header_policy(what, expected_typ, typ_missing, typ_invalid, true)
    }

    /// The `x5c` header member, if any.
    pub fn x5c(&self) -> Option<&Value> {
        self.header.get("x5c")
    }

    fn header_policy(
        &self,
        what: &str,
        expected_typ: Option<&str>,
        typ_missing: ErrorCode,
        typ_invalid: ErrorCode,
        allow_x5c: bool,
    ) -> Result<Algorithm, Rejection> {
        let h = &self.header;
        let alg = match h.get("alg") {
            Some(Value::String(a)) => Algorithm::from_jws(a).ok_or_else(|| {
                Rejection::new(
                    ErrorCode::AlgUnsupported,
                    format!("{what} alg {a:?} is not accepted (EdDSA, Ed25519, ES256 are)"),
                )
            })?,
            _ => {
                return Err(Rejection::new(
                    ErrorCode::AlgUnsupported,
                    format!("{what} header has no string alg"),
                ));
            }
        };
        // One pass over the (small) header instead of five lookups; the
        // lookups below still decide which member is reported.
        let (mut key_params, mut crit) = (false, false);
        for k in h.keys() {
            match k.as_str() {
                "x5c" if allow_x5c => {}
                "jwk" | "jku" | "x5u" | "x5c" => key_params = true,
                "crit" => crit = true,
                _ => {}
            }
        }
        for key_param in ["jwk", "jku", "x5u", "x5c"] {
            if key_params && h.contains_key(key_param) && !(allow_x5c && key_param == "x5c") {
                return Err(Rejection::new(
                    ErrorCode::HeaderKeyInjection,
                    format!(
                        "{what} header carries {key_param:?}; keys come only from the trust source"
                    ),
                ));
            }
        }
        if crit {
            return Err(Rejection::new(
                ErrorCode::CritUnsupported,
                format!("{what} header lists crit extensions; none are understood"),
            ));
        }
        if let Some(kid) = h.get("kid")
            && !kid.is_string()
        {
            return Err(Rejection::new(
                ErrorCode::JsonInvalid,
                format!("{what} header kid is not a string"),
            ));
        }
        let Some(expected_typ) = expected_typ else {
            return Ok(alg);
        };
        match h.get("typ") {
            None => Err(Rejection::new(
                typ_missing,
                format!("{what} header has no typ"),
            )),
            Some(Value::String(t)) if media_type_eq(t, expected_typ) => Ok(alg),
            Some(t) => Err(Rejection::new(
                typ_invalid,
                format!("{what} typ is {t}, expected {expected_typ:?}"),
            )),
        }
    }

    /// The header `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// Compares a `typ` value with an expected media type per RFC 7515 §4.1.9.
pub fn media_type_eq(typ: &str, expected: &str) -> bool {
    fn strip(t: &str) -> &str {
        match t.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        }
    }
    strip(typ).eq_ignore_ascii_case(strip(expected))
}

/// Signs a compact JWS with `typ` and the signer's `alg` and `kid`.
pub fn sign_compact(signer: &dyn Signer, typ: &str, payload: &Value) -> Result<String, SignError> {
    let mut header = Map::new();
    header.insert(
        "alg".into(),
        Value::String(signer.algorithm().as_str().into()),
    );
    header.insert("typ".into(), Value::String(typ.into()));
    if let Some(kid) = signer.key_id() {
        header.insert("kid".into(), Value::String(kid.into()));
    }
    if let Some(x5c) = signer.x5c() {
        header.insert(
            "x5c".into(),
            Value::Array(x5c.iter().cloned().map(Value::String).collect()),
        );
    }
    let mut out = b64_encode(to_compact_json(&header));
    out.push('.');
    out.push_str(&b64_encode(to_compact_json(payload)));
    let sig = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64_encode(sig));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Ed25519Signer;

    fn jws_with_header(header: &str) -> String {
        format!(
            "{}.{}.{}",
            b64_encode(header),
            b64_encode("{}"),
            b64_encode([0u8; 64])
        )
    }

    fn check(header: &str) -> Result<Algorithm, ErrorCode> {
        let text = jws_with_header(header);
        let jws = CompactJws::parse(&text, "t").map_err(|r| r.code)?;
        jws.check_header(
            "t",
            Some("dc+sd-jwt"),
            ErrorCode::TypMissing,
            ErrorCode::TypInvalid,
        )
        .map_err(|r| r.code)
    }

    #[test]
    fn header_policy() {
        assert_eq!(
            check(r#"{"alg":"EdDSA","typ":"dc+sd-jwt"}"#),
            Ok(Algorithm::EdDsa)
        );
        assert_eq!(
            check(r#"{"alg":"Ed25519","typ":"application/DC+SD-JWT"}"#),
            Ok(Algorithm::Ed25519)
        );
        for alg in ["none", "HS256", "RS256", "ES384", "EdDsa", ""] {
            let h = format!(r#"{{"alg":"{alg}","typ":"dc+sd-jwt"}}"#);
            assert_eq!(check(&h), Err(ErrorCode::AlgUnsupported), "{alg}");
        }
        assert_eq!(
            check(r#"{"typ":"dc+sd-jwt"}"#),
            Err(ErrorCode::AlgUnsupported)
        );
        for p in ["jwk", "jku", "x5u", "x5c"] {
            let h = format!(r#"{{"alg":"EdDSA","typ":"dc+sd-jwt","{p}":"x"}}"#);
            assert_eq!(check(&h), Err(ErrorCode::HeaderKeyInjection), "{p}");
        }
        assert_eq!(
            check(r#"{"alg":"EdDSA","typ":"dc+sd-jwt","crit":["b64"],"b64":false}"#),
            Err(ErrorCode::CritUnsupported)
        );
        assert_eq!(check(r#"{"alg":"EdDSA"}"#), Err(ErrorCode::TypMissing));
        assert_eq!(
            check(r#"{"alg":"EdDSA","typ":"vc+sd-jwt"}"#),
            Err(ErrorCode::TypInvalid)
        );
        assert_eq!(
            check(r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":7}"#),
            Err(ErrorCode::JsonInvalid)
        );
    }

    #[test]
    fn parse_rejects_wrong_part_counts() {
        for bad in ["a.b", "a.b.c.d", "", "..."] {
            assert!(CompactJws::parse(bad, "t").is_err(), "{bad}");
        }
        assert_eq!(
            CompactJws::parse("a.b", "t").unwrap_err().code,
            ErrorCode::JwsMalformed
        );
    }

    #[test]
    fn sign_and_parse_round_trip() {
        let signer = Ed25519Signer::from_seed(&[9; 32], Some("k".into()));
        let text = sign_compact(&signer, "kb+jwt", &serde_json::json!({"a": "张三"})).unwrap();
        let jws = CompactJws::parse(&text, "t").unwrap();
        assert_eq!(jws.kid(), Some("k"));
        assert!(signer.public_key().verify(
            Algorithm::EdDsa,
            jws.signing_input.as_bytes(),
            &jws.signature
        ));
    }
}
