//! JWS JSON Serialization (RFC 7515 §7.2.1, the general syntax): one
//! payload, several signatures, each with its own protected header.
//!
//! Every signature of the general syntax is a compact JWS in disguise: its
//! signing input is `protected "." payload`, so each one is checked by
//! exactly the compact code and header policy ([`CompactJws`]). Tongban
//! refuses the unprotected `header` member and any member it does not
//! define, so nothing unsigned can steer a verification. A compact JWS is
//! read as the general syntax with one signature.

use serde_json::{Map, Value};

use crate::encoding::{b64_encode, b64_json_object, parse_json, to_compact_json};
use crate::error::{ErrorCode, Rejection};
use crate::jws::CompactJws;
use crate::keys::{SignError, Signer};

/// The most signatures one document may carry (bounds the work of a
/// verification; a zone has a handful of anchors).
pub const MAX_SIGNATURES: usize = 32;

/// One signature of the general syntax (base64url members, as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsSignature {
    /// `base64url(protected header)`.
    pub protected: String,
    /// `base64url(signature)`.
    pub signature: String,
}

/// A JWS in the general JSON serialization whose signatures are not yet
/// verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiJws {
    /// `base64url(payload)`, as written.
    pub payload_b64: String,
    /// The decoded payload (a JSON object).
    pub payload: Map<String, Value>,
    /// The signatures, in the order written.
    pub signatures: Vec<JwsSignature>,
    /// Whether the document came in the compact serialization.
    pub compact: bool,
}

impl MultiJws {
    /// Parses the general JSON serialization, or a compact JWS (one
    /// signature). `what` names the document in errors; every structural
    /// fault is reported with `code`.
    pub fn parse(text: &str, what: &str, code: ErrorCode) -> Result<MultiJws, Rejection> {
        let text = text.trim();
        let bad = |why: String| Rejection::new(code, format!("{what}: {why}"));
        if !text.starts_with('{') {
            let jws = CompactJws::parse(text, what).map_err(|r| Rejection::new(code, r.detail))?;
            let mut parts = text.splitn(3, '.');
            let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("not a JWS".into()));
            };
            return Ok(MultiJws {
                payload_b64: p.to_owned(),
                payload: jws.payload,
                signatures: vec![JwsSignature {
                    protected: h.to_owned(),
                    signature: s.to_owned(),
                }],
                compact: true,
            });
        }
        let value =
            parse_json(text.as_bytes(), what).map_err(|r| Rejection::new(code, r.detail))?;
        let Value::Object(mut top) = value else {
            return Err(bad("not a JSON object".into()));
        };
        let payload_b64 = match top.remove("payload") {
            Some(Value::String(p)) => p,
            _ => return Err(bad("payload is missing or not a string".into())),
        };
        let signatures = match top.remove("signatures") {
            Some(Value::Array(s)) => s,
            _ => {
                return Err(bad(
                    "signatures is missing or not an array (RFC 7515 §7.2.1)".into(),
                ));
            }
        };
        if let Some(extra) = top.keys().next() {
            return Err(bad(format!("member {extra:?} is not allowed")));
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(bad(format!(
                "{} signatures (at most {MAX_SIGNATURES})",
                signatures.len()
            )));
        }
        let payload = b64_json_object(&payload_b64, &format!("{what} payload"))
            .map_err(|r| Rejection::new(code, r.detail))?;
        let mut out = Vec::with_capacity(signatures.len());
        for (i, s) in signatures.into_iter().enumerate() {
            let Value::Object(mut s) = s else {
                return Err(bad(format!("signature {i} is not an object")));
            };
            let (Some(Value::String(protected)), Some(Value::String(signature))) =
                (s.remove("protected"), s.remove("signature"))
            else {
                return Err(bad(format!(
                    "signature {i} needs string members protected and signature"
                )));
            };
            if let Some(extra) = s.keys().next() {
                return Err(bad(format!(
                    "signature {i}: member {extra:?} is not allowed (no unprotected header)"
                )));
            }
            out.push(JwsSignature {
                protected,
                signature,
            });
        }
        Ok(MultiJws {
            payload_b64,
            payload,
            signatures: out,
            compact: false,
        })
    }

    /// A document with this payload and no signature yet (a proposal).
    pub fn unsigned(payload: &Value) -> MultiJws {
        let payload_b64 = b64_encode(to_compact_json(payload));
        MultiJws {
            payload_b64,
            payload: payload.as_object().cloned().unwrap_or_default(),
            signatures: Vec::new(),
            compact: false,
        }
    }

    /// Adds a signature by `signer` with a protected header of its `alg`,
    /// `typ` and `kid`.
    pub fn add_signature(&mut self, signer: &dyn Signer, typ: &str) -> Result<(), SignError> {
        let mut header = Map::new();
        header.insert(
            "alg".into(),
            Value::String(signer.algorithm().as_str().into()),
        );
        header.insert("typ".into(), Value::String(typ.into()));
        if let Some(kid) = signer.key_id() {
            header.insert("kid".into(), Value::String(kid.into()));
        }
        let protected = b64_encode(to_compact_json(&header));
        let input = format!("{protected}.{}", self.payload_b64);
        let signature = b64_encode(signer.sign(input.as_bytes())?);
        self.signatures.push(JwsSignature {
            protected,
            signature,
        });
        self.compact = false;
        Ok(())
    }

    /// Each signature as the compact JWS it amounts to
    /// (`protected.payload.signature`).
    pub fn compact_forms(&self) -> Vec<String> {
        self.signatures
            .iter()
            .map(|s| format!("{}.{}.{}", s.protected, self.payload_b64, s.signature))
            .collect()
    }

    /// The general JSON serialization (pretty-printed, a trailing newline).
    pub fn to_json_text(&self) -> String {
        let sigs: Vec<Value> = self
            .signatures
            .iter()
            .map(|s| serde_json::json!({"protected": s.protected, "signature": s.signature}))
            .collect();
        let doc = serde_json::json!({"payload": self.payload_b64, "signatures": sigs});
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Applies the header policy to one signature of a document and returns
/// it parsed. Faults are reported with `code`.
pub(crate) fn parse_signature<'a>(
    compact: &'a str,
    what: &str,
    typ: &str,
    code: ErrorCode,
) -> Result<(CompactJws<'a>, crate::keys::Algorithm), Rejection> {
    let jws = CompactJws::parse(compact, what).map_err(|r| Rejection::new(code, r.detail))?;
    let alg = jws
        .check_header(what, Some(typ), code, code)
        .map_err(|r| Rejection::new(code, r.detail))?;
    Ok((jws, alg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Ed25519Signer;

    const CODE: ErrorCode = ErrorCode::TrustListMalformed;

    #[test]
    fn general_syntax_round_trips_and_each_signature_is_a_compact_jws() {
        let a = Ed25519Signer::from_seed(&[1; 32], Some("a".into()));
        let b = Ed25519Signer::from_seed(&[2; 32], Some("b".into()));
        let mut doc = MultiJws::unsigned(&serde_json::json!({"n": "张三"}));
        doc.add_signature(&a, "t+jwt").unwrap();
        doc.add_signature(&b, "t+jwt").unwrap();
        let text = doc.to_json_text();
        let back = MultiJws::parse(&text, "doc", CODE).unwrap();
        assert_eq!(back, doc);
        let forms = back.compact_forms();
        assert_eq!(forms.len(), 2);
        let (jws, alg) = parse_signature(&forms[1], "doc", "t+jwt", CODE).unwrap();
        assert_eq!(jws.kid(), Some("b"));
        assert!(
            b.public_key()
                .verify(alg, jws.signing_input.as_bytes(), &jws.signature)
        );
    }

    #[test]
    fn unprotected_headers_and_unknown_members_are_refused() {
        let a = Ed25519Signer::from_seed(&[1; 32], Some("a".into()));
        let mut doc = MultiJws::unsigned(&serde_json::json!({}));
        doc.add_signature(&a, "t").unwrap();
        let mut v: Value = serde_json::from_str(&doc.to_json_text()).unwrap();
        v["signatures"][0]["header"] = serde_json::json!({"kid": "b"});
        let err = MultiJws::parse(&v.to_string(), "doc", CODE).unwrap_err();
        assert!(err.detail.contains("unprotected"), "{err}");
        let mut v: Value = serde_json::from_str(&doc.to_json_text()).unwrap();
        v["extra"] = serde_json::json!(1);
        assert!(MultiJws::parse(&v.to_string(), "doc", CODE).is_err());
        let flattened =
            serde_json::json!({"payload": "e30", "protected": "e30", "signature": "AA"});
        assert!(MultiJws::parse(&flattened.to_string(), "doc", CODE).is_err());
        assert_eq!(
            MultiJws::parse("not json", "doc", CODE).unwrap_err().code,
            CODE
        );
    }

    #[test]
    fn compact_is_one_signature() {
        let a = Ed25519Signer::from_seed(&[1; 32], Some("a".into()));
        let text = crate::jws::sign_compact(&a, "t", &serde_json::json!({"x": 1})).unwrap();
        let doc = MultiJws::parse(&text, "doc", CODE).unwrap();
        assert!(doc.compact);
        assert_eq!(doc.compact_forms(), vec![text]);
    }
}
