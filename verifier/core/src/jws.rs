//! Compact JWS (RFC 7515): parsing, the header policy, and signing.
//!
//! The header policy is the same for every JWS Tongban reads: `alg` must be
//! on the allow-list, the header may not bring its own key (`jwk`, `jku`,
//! `x5u`, `x5c`), no `crit` extension is understood, and `typ` must be the
//! expected media type.

use serde_json::{Map, Value};

use crate::encoding::{b64_decode_named, b64_encode, b64_json_object_named, to_compact_json};
use crate::error::{ErrorCode, Rejection};
use crate::json_tree::{self, Node, Obj};
use crate::keys::{Algorithm, SignError, Signer};

/// The three `.`-separated parts of a compact JWS.
fn split_parts<'a>(text: &'a str, what: &str) -> Result<[&'a str; 3], Rejection> {
    let mut parts = text.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err(Rejection::new(
            ErrorCode::JwsMalformed,
            format!("{what} does not have exactly three '.'-separated parts"),
        )),
    }
}

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
        let [h, p, s] = split_parts(text, what)?;
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
        let rules = HeaderRules {
            what,
            expected_typ,
            typ_missing,
            typ_invalid,
            allow_x5c: false,
        };
        header_policy(&Obj::borrow_map(&self.header), &rules)
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
        let rules = HeaderRules {
            what,
            expected_typ,
            typ_missing,
            typ_invalid,
            allow_x5c: true,
        };
        header_policy(&Obj::borrow_map(&self.header), &rules)
    }

    /// The `x5c` header member, if any.
    pub fn x5c(&self) -> Option<&Value> {
        self.header.get("x5c")
    }

    /// The header `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// A compact JWS as the verification path reads it: the header parsed into
/// the borrowed tree of [`crate::json_tree`] (the same rules as
/// [`CompactJws::parse`], no owned copy of its members), the payload handed
/// to the caller's reader.
#[derive(Debug)]
pub(crate) struct TreeJws<'a, 'b> {
    /// `base64url(header) "." base64url(payload)`: the bytes that were signed.
    pub(crate) signing_input: &'a str,
    /// The decoded protected header.
    pub(crate) header: Obj<'b>,
    /// The raw signature bytes.
    pub(crate) signature: Vec<u8>,
}

impl<'a, 'b> TreeJws<'a, 'b> {
    /// [`CompactJws::parse`] with the same checks in the same order: the
    /// header's base64url is decoded into `header_buf` and read as a tree,
    /// the payload's into `payload_buf` and handed to `read`.
    pub(crate) fn parse<P>(
        text: &'a str,
        what: &str,
        header_buf: &'b mut Vec<u8>,
        payload_buf: &'b mut Vec<u8>,
        read: impl FnOnce(&'b [u8], &dyn core::fmt::Display) -> Result<P, Rejection>,
    ) -> Result<(TreeJws<'a, 'b>, P), Rejection> {
        let [h, p, s] = split_parts(text, what)?;
        *header_buf = b64_decode_named(h, &format_args!("{what} header"))?;
        let header_bytes: &'b [u8] = header_buf;
        let header = json_tree::parse_object(header_bytes, &format_args!("{what} header"))?;
        *payload_buf = b64_decode_named(p, &format_args!("{what} payload"))?;
        let payload_bytes: &'b [u8] = payload_buf;
        let payload = read(payload_bytes, &format_args!("{what} payload"))?;
        let signature = b64_decode_named(s, &format_args!("{what} signature"))?;
        let jws = TreeJws {
            signing_input: &text[..h.len() + 1 + p.len()],
            header,
            signature,
        };
        Ok((jws, payload))
    }

    /// [`CompactJws::check_header`] (or, with `allow_x5c`,
    /// [`CompactJws::check_header_allowing_x5c`]) on this header.
    pub(crate) fn check_header(&self, rules: &HeaderRules<'_>) -> Result<Algorithm, Rejection> {
        header_policy(&self.header, rules)
    }

    /// The header `kid`, if it is a string.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Node::as_str)
    }
}

/// What the header policy expects of one kind of JWS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderRules<'r> {
    /// The JWS's name in errors ("the credential", "the KB-JWT").
    pub(crate) what: &'r str,
    /// The media type `typ` must be; `None` leaves `typ` unchecked.
    pub(crate) expected_typ: Option<&'r str>,
    /// The code when `typ` is missing.
    pub(crate) typ_missing: ErrorCode,
    /// The code when `typ` is another type.
    pub(crate) typ_invalid: ErrorCode,
    /// Whether an `x5c` member is allowed (HAIP's X.509 path).
    pub(crate) allow_x5c: bool,
}

/// The header policy of the module's documentation, on a parsed header.
fn header_policy(h: &Obj<'_>, rules: &HeaderRules<'_>) -> Result<Algorithm, Rejection> {
    let HeaderRules {
        what,
        expected_typ,
        typ_missing,
        typ_invalid,
        allow_x5c,
    } = *rules;
    let alg = match h.get("alg") {
        Some(Node::Str(a)) => Algorithm::from_jws(a).ok_or_else(|| {
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
    for (k, _) in h.iter() {
        match k.as_ref() {
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
        && !matches!(kid, Node::Str(_))
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
        Some(Node::Str(t)) if media_type_eq(t, expected_typ) => Ok(alg),
        Some(t) => Err(Rejection::new(
            typ_invalid,
            format!("{what} typ is {}, expected {expected_typ:?}", t.to_value()),
        )),
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

    /// The verification path's tree-header reading gives the owned
    /// parse's verdict, code and sentence on every header.
    #[test]
    fn the_tree_header_agrees_with_the_owned_one() {
        let long = format!(
            r#"{{"alg":"EdDSA","typ":"dc+sd-jwt","x":"{}"}}"#,
            "y".repeat(300)
        );
        let headers = [
            r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"k"}"#,
            r#"{"alg":"Ed25519","typ":"application/DC+SD-JWT"}"#,
            r#"{"alg":"none","typ":"dc+sd-jwt"}"#,
            r#"{"typ":"dc+sd-jwt"}"#,
            r#"{"alg":7,"typ":"dc+sd-jwt"}"#,
            r#"{"alg":"EdDSA","typ":"dc+sd-jwt","jwk":{}}"#,
            r#"{"alg":"EdDSA","typ":"dc+sd-jwt","x5c":["AA"]}"#,
            r#"{"alg":"EdDSA","typ":"dc+sd-jwt","x5u":"u","x5c":[]}"#,
            r#"{"alg":"EdDSA","typ":"dc+sd-jwt","crit":["b64"]}"#,
            r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":7}"#,
            r#"{"alg":"EdDSA"}"#,
            r#"{"alg":"EdDSA","typ":"vc+sd-jwt"}"#,
            r#"{"alg":"EdDSA","typ":["dc+sd-jwt"]}"#,
            r#"{"alg":"EdDSA","typ":"dc+sd-jwt","typ":"dc+sd-jwt"}"#,
            r#"{"alg":"EdDSA","typ":"dc\u002bsd-jwt"}"#,
            r#"["alg"]"#,
            r#"{"alg":"EdDSA""#,
            &long,
        ];
        for header in headers {
            let text = jws_with_header(header);
            for (allow_x5c, typ) in [
                (false, Some("dc+sd-jwt")),
                (true, Some("dc+sd-jwt")),
                (false, None),
            ] {
                let owned = CompactJws::parse(&text, "t").and_then(|j| {
                    if allow_x5c {
                        j.check_header_allowing_x5c(
                            "t",
                            typ,
                            ErrorCode::TypMissing,
                            ErrorCode::TypInvalid,
                        )
                    } else {
                        j.check_header("t", typ, ErrorCode::TypMissing, ErrorCode::TypInvalid)
                    }
                });
                let (mut h, mut p) = (Vec::new(), Vec::new());
                let rules = HeaderRules {
                    what: "t",
                    expected_typ: typ,
                    typ_missing: ErrorCode::TypMissing,
                    typ_invalid: ErrorCode::TypInvalid,
                    allow_x5c,
                };
                let tree = TreeJws::parse(&text, "t", &mut h, &mut p, json_tree::parse_object)
                    .and_then(|(j, _)| j.check_header(&rules));
                assert_eq!(
                    owned, tree,
                    "{header} (x5c allowed: {allow_x5c}, typ {typ:?})"
                );
            }
        }
        // Bad base64 in any part, and the signing input and kid.
        for text in ["!.e30.AA", "e30.!.AA", "e30.e30.!"] {
            let (mut h, mut p) = (Vec::new(), Vec::new());
            assert_eq!(
                CompactJws::parse(text, "t").map(|_| ()),
                TreeJws::parse(text, "t", &mut h, &mut p, json_tree::parse_object).map(|_| ()),
                "{text}"
            );
        }
        let text = jws_with_header(r#"{"alg":"EdDSA","kid":"k1"}"#);
        let (mut h, mut p) = (Vec::new(), Vec::new());
        let (tree, _) =
            TreeJws::parse(&text, "t", &mut h, &mut p, json_tree::parse_object).unwrap();
        let owned = CompactJws::parse(&text, "t").unwrap();
        assert_eq!(tree.signing_input, owned.signing_input);
        assert_eq!(tree.signature, owned.signature);
        assert_eq!(tree.kid(), Some("k1"));
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
