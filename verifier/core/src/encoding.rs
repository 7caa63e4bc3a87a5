//! Strict decoding of the two encodings every part of an SD-JWT uses:
//! unpadded base64url (RFC 4648 §5, canonical only) and JSON (RFC 8259,
//! with no duplicate member names and a fixed nesting bound).
//!
//! Being strict here is what keeps every byte that was signed the byte that
//! is verified: a second spelling of the same segment is refused, never
//! normalised.

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{ErrorCode, Rejection};

/// The deepest JSON nesting accepted anywhere (objects and arrays count).
pub const MAX_JSON_DEPTH: usize = 32;

/// Unpadded base64url that rejects padding and non-zero trailing bits.
const B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes bytes as unpadded base64url.
pub fn b64_encode(bytes: impl AsRef<[u8]>) -> String {
    B64.encode(bytes)
}

/// Unpadded base64url of a 32-byte digest, kept inline: the 43 characters
/// of a disclosure digest under SHA-256 or SM3, with no allocation.
#[derive(Clone, Copy)]
pub(crate) struct Digest32B64([u8; 43]);

impl Digest32B64 {
    /// The encoding of `digest`.
    pub(crate) fn new(digest: &[u8; 32]) -> Digest32B64 {
        let mut out = [0u8; 43];
        // 32 bytes always encode to exactly 43 characters; should the
        // encoder ever disagree, the text stays empty and matches no digest.
        if B64.encode_slice(digest, &mut out) != Ok(43) {
            out = [0u8; 43];
        }
        Digest32B64(out)
    }

    /// The text (base64url is ASCII, so this is never empty in practice).
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0)
            .ok()
            .filter(|s| !s.starts_with('\0'))
            .unwrap_or("")
    }
}

impl std::fmt::Debug for Digest32B64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decodes canonical unpadded base64url; anything else is `base64_invalid`.
pub fn b64_decode(text: &str, what: &str) -> Result<Vec<u8>, Rejection> {
    b64_decode_named(text, &what)
}

/// [`b64_decode`] with the name of the part formatted only on error.
pub(crate) fn b64_decode_named(
    text: &str,
    what: &dyn core::fmt::Display,
) -> Result<Vec<u8>, Rejection> {
    B64.decode(text).map_err(|e| {
        Rejection::new(
            ErrorCode::Base64Invalid,
            format!("{what} is not canonical base64url: {e}"),
        )
    })
}

/// Decodes a base64url segment that must hold UTF-8 JSON.
pub fn b64_json(text: &str, what: &str) -> Result<Value, Rejection> {
    let bytes = b64_decode(text, what)?;
    parse_json(&bytes, what)
}

/// Decodes a base64url segment that must hold a UTF-8 JSON object.
pub fn b64_json_object(text: &str, what: &str) -> Result<Map<String, Value>, Rejection> {
    b64_json_object_named(text, &what)
}

/// [`b64_json_object`] with the name of the part formatted only on error.
pub(crate) fn b64_json_object_named(
    text: &str,
    what: &dyn core::fmt::Display,
) -> Result<Map<String, Value>, Rejection> {
    let bytes = b64_decode_named(text, what)?;
    match parse_json_named(&bytes, what)? {
        Value::Object(map) => Ok(map),
        _ => Err(Rejection::new(
            ErrorCode::JsonInvalid,
            format!("{what} is JSON but not an object"),
        )),
    }
}

pub(crate) const TOO_DEEP: &str = "tongban:json_too_deep";
pub(crate) const DUPLICATE: &str = "tongban:json_duplicate_key";

/// The rejection of a JSON parse error, with the codes of too deep nesting
/// and duplicate member names told apart.
pub(crate) fn json_rejection(e: &serde_json::Error, what: &dyn core::fmt::Display) -> Rejection {
    let msg = e.to_string();
    let code = if msg.contains(TOO_DEEP) || msg.contains("recursion limit") {
        ErrorCode::JsonTooDeep
    } else if msg.contains(DUPLICATE) {
        ErrorCode::JsonDuplicateKey
    } else {
        ErrorCode::JsonInvalid
    };
    Rejection::new(code, format!("{what}: {msg}"))
}

/// Parses UTF-8 JSON strictly: duplicate member names and nesting deeper
/// than [`MAX_JSON_DEPTH`] are refused with their own codes.
pub fn parse_json(bytes: &[u8], what: &str) -> Result<Value, Rejection> {
    parse_json_named(bytes, &what)
}

/// [`parse_json`] with the name of the part formatted only on error.
pub(crate) fn parse_json_named(
    bytes: &[u8],
    what: &dyn core::fmt::Display,
) -> Result<Value, Rejection> {
    let text = core::str::from_utf8(bytes).map_err(|e| {
        Rejection::new(
            ErrorCode::InvalidUtf8,
            format!("{what} is not valid UTF-8: {e}"),
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictSeed { depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| json_rejection(&e, what))?;
    Ok(value)
}

/// A seed that builds a [`Value`] while counting depth and refusing
/// duplicate member names.
struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl StrictSeed {
    fn child<E: de::Error>(&self) -> Result<StrictSeed, E> {
        if self.depth + 1 > MAX_JSON_DEPTH {
            return Err(E::custom(format_args!(
                "{TOO_DEEP}: nesting deeper than {MAX_JSON_DEPTH}"
            )));
        }
        Ok(StrictSeed {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for StrictSeed {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let child = self.child()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(StrictSeed { depth: child.depth })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let child = self.child()?;
        let mut out = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let v = access.next_value_seed(StrictSeed { depth: child.depth })?;
            // One lookup for both the duplicate check and the insertion.
            match out.entry(key) {
                serde_json::map::Entry::Occupied(o) => {
                    return Err(de::Error::custom(format_args!(
                        "{DUPLICATE}: member {:?} appears twice",
                        o.key()
                    )));
                }
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Serialises JSON compactly with raw UTF-8 (Chinese text is not
/// `\u`-escaped: escaping would double its size in a QR code).
pub fn to_compact_json(value: &impl serde::Serialize) -> String {
    // serde_json's compact formatter never escapes non-ASCII and cannot fail
    // on a `Value` or on the plain structs this crate serialises.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rejects_padding_and_non_canonical_trailing_bits() {
        assert_eq!(b64_decode("QQ", "t").unwrap(), b"A");
        assert_eq!(
            b64_decode("QQ==", "t").unwrap_err().code,
            ErrorCode::Base64Invalid
        );
        // "QR" decodes to "A" too, but with non-zero trailing bits.
        assert_eq!(
            b64_decode("QR", "t").unwrap_err().code,
            ErrorCode::Base64Invalid
        );
        // standard alphabet characters are not base64url
        assert_eq!(
            b64_decode("a+/b", "t").unwrap_err().code,
            ErrorCode::Base64Invalid
        );
    }

    #[test]
    fn json_rejects_duplicates_depth_and_bad_utf8() {
        assert_eq!(
            parse_json(br#"{"a":1,"a":2}"#, "t").unwrap_err().code,
            ErrorCode::JsonDuplicateKey
        );
        let deep = "[".repeat(MAX_JSON_DEPTH + 1) + &"]".repeat(MAX_JSON_DEPTH + 1);
        assert_eq!(
            parse_json(deep.as_bytes(), "t").unwrap_err().code,
            ErrorCode::JsonTooDeep
        );
        let ok = "[".repeat(MAX_JSON_DEPTH) + &"]".repeat(MAX_JSON_DEPTH);
        assert!(parse_json(ok.as_bytes(), "t").is_ok());
        let very_deep = "[".repeat(100_000);
        assert_eq!(
            parse_json(very_deep.as_bytes(), "t").unwrap_err().code,
            ErrorCode::JsonTooDeep
        );
        assert_eq!(
            parse_json(b"\"\xff\"", "t").unwrap_err().code,
            ErrorCode::InvalidUtf8
        );
        assert_eq!(
            parse_json(b"{} x", "t").unwrap_err().code,
            ErrorCode::JsonInvalid
        );
    }

    #[test]
    fn compact_json_keeps_chinese_raw() {
        let v = serde_json::json!({"name": "张三"});
        assert_eq!(to_compact_json(&v), r#"{"name":"张三"}"#);
    }
}
