//! Strict JSON parsed into a tree that borrows its strings from the decoded
//! bytes, for the verification path: the issuer payload, the KB-JWT payload
//! and the disclosures are read once in this form, and owned
//! [`serde_json::Value`]s are built only for what ends up in the report (the
//! disclosed claims, `status`).
//!
//! The rules are those of [`crate::encoding::parse_json`], with the same
//! deserializer underneath: the same refusals (invalid UTF-8, syntax,
//! non-finite numbers, duplicate member names, nesting deeper than
//! [`MAX_JSON_DEPTH`]) with the same codes. Only the result's form differs.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::encoding::{DUPLICATE, MAX_JSON_DEPTH, TOO_DEEP, json_rejection};
use crate::error::{ErrorCode, Rejection};

/// A JSON value whose strings borrow from the parsed text where they hold
/// no escapes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Obj<'a>),
}

/// A JSON object: its members in document order, names unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Obj<'a>(Vec<(Cow<'a, str>, Node<'a>)>);

impl<'a> Obj<'a> {
    /// The member called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Node<'a>> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Whether a member is called `name`.
    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The number of members.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The members in document order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Cow<'a, str>, &Node<'a>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// An owned copy.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        let mut out = Map::with_capacity(self.0.len());
        for (k, v) in &self.0 {
            out.insert(k.as_ref().to_owned(), v.to_value());
        }
        out
    }

    /// Borrows an owned object (for the public functions that take one).
    pub(crate) fn borrow_map(map: &'a Map<String, Value>) -> Obj<'a> {
        Obj(map
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), Node::borrow_value(v)))
            .collect())
    }
}

impl<'a> Node<'a> {
    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an `i64`, as [`Value::as_i64`] reads it.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as a `u64`, as [`Value::as_u64`] reads it.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// An owned copy.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::Str(s) => Value::String(s.as_ref().to_owned()),
            Node::Array(a) => Value::Array(a.iter().map(Node::to_value).collect()),
            Node::Object(o) => Value::Object(o.to_map()),
        }
    }

    /// Borrows an owned value.
    pub(crate) fn borrow_value(v: &'a Value) -> Node<'a> {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::Str(Cow::Borrowed(s)),
            Value::Array(a) => Node::Array(a.iter().map(Node::borrow_value).collect()),
            Value::Object(o) => Node::Object(Obj::borrow_map(o)),
        }
    }
}

/// Parses UTF-8 JSON with [`crate::encoding::parse_json`]'s rules into a
/// borrowed tree; `what` names the part in errors.
pub(crate) fn parse<'a>(
    bytes: &'a [u8],
    what: &dyn core::fmt::Display,
) -> Result<Node<'a>, Rejection> {
    let text = core::str::from_utf8(bytes).map_err(|e| {
        Rejection::new(
            ErrorCode::InvalidUtf8,
            format!("{what} is not valid UTF-8: {e}"),
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    Seed { depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| json_rejection(&e, what))
}

/// Parses a JSON object (anything else is `json_invalid`).
pub(crate) fn parse_object<'a>(
    bytes: &'a [u8],
    what: &dyn core::fmt::Display,
) -> Result<Obj<'a>, Rejection> {
    match parse(bytes, what)? {
        Node::Object(o) => Ok(o),
        _ => Err(Rejection::new(
            ErrorCode::JsonInvalid,
            format!("{what} is JSON but not an object"),
        )),
    }
}

/// Objects up to this many members are checked for duplicate names by a
/// scan; larger ones (never in a genuine credential) by a hash set.
const SCAN_MEMBERS: usize = 16;

struct Seed {
    depth: usize,
}

impl Seed {
    fn child<E: de::Error>(&self) -> Result<usize, E> {
        if self.depth + 1 > MAX_JSON_DEPTH {
            return Err(E::custom(format_args!(
                "{TOO_DEEP}: nesting deeper than {MAX_JSON_DEPTH}"
            )));
        }
        Ok(self.depth + 1)
    }
}

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Node<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node<'de>, E> {
        Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let depth = self.child()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(Seed { depth })? {
            out.push(v);
        }
        Ok(Node::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node<'de>, A::Error> {
        let depth = self.child()?;
        let mut out: Vec<(Cow<'de, str>, Node<'de>)> = Vec::new();
        let mut large: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(key) = access.next_key_seed(KeySeed)? {
            // The duplicate is refused after its value is read, as
            // `parse_json` does (so the same error wins).
            let v = access.next_value_seed(Seed { depth })?;
            let seen = match &mut large {
                Some(set) => !set.insert(key.clone()),
                None => out.iter().any(|(k, _)| *k == key),
            };
            if seen {
                return Err(de::Error::custom(format_args!(
                    "{DUPLICATE}: member {key:?} appears twice"
                )));
            }
            if large.is_none() && out.len() == SCAN_MEMBERS {
                let mut set: HashSet<Cow<'de, str>> = out.iter().map(|(k, _)| k.clone()).collect();
                set.insert(key.clone());
                large = Some(set);
            }
            out.push((key, v));
        }
        Ok(Node::Object(Obj(out)))
    }
}

/// A member name, borrowed when it holds no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::parse_json;

    /// The same verdict and code as `parse_json`, and the same value.
    fn same(text: &str) {
        let owned = parse_json(text.as_bytes(), "t");
        let tree = parse(text.as_bytes(), &"t");
        match (owned, tree) {
            (Ok(v), Ok(n)) => assert_eq!(n.to_value(), v, "{text}"),
            (Err(a), Err(b)) => assert_eq!(a.code, b.code, "{text}"),
            (a, b) => panic!("{text}: {a:?} against {b:?}"),
        }
    }

    #[test]
    fn agrees_with_parse_json() {
        let many: String = (0..40)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        for text in [
            r#"{"a":1,"b":[true,null,-2,3.5,"x\u00e9\n"],"c":{"d":"张三"}}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"{"a":1} x"#,
            r#"{"a":1e400}"#,
            r#"18446744073709551615"#,
            r#"-9223372036854775808"#,
            r#""\ud800""#,
            r#"{"a":1,}"#,
            "",
            &format!("{{{many}}}"),
            &format!("{{{many},\"k39\":0}}"),
            &format!("{{{many},\"k3\":0}}"),
            &("[".repeat(MAX_JSON_DEPTH) + &"]".repeat(MAX_JSON_DEPTH)),
            &("[".repeat(MAX_JSON_DEPTH + 1) + &"]".repeat(MAX_JSON_DEPTH + 1)),
            &"[".repeat(100_000),
        ] {
            same(text);
        }
        assert_eq!(
            parse(b"\"\xff\"", &"t").unwrap_err().code,
            ErrorCode::InvalidUtf8
        );
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let o = parse_object(br#"{"a":"b","c\n":"d\n"}"#, &"t").unwrap();
        let members: Vec<_> = o.iter().collect();
        assert!(matches!(members[0].0, Cow::Borrowed(_)));
        assert!(matches!(members[0].1, Node::Str(Cow::Borrowed(_))));
        assert!(matches!(members[1].0, Cow::Owned(_)));
        assert_eq!(o.get("c\n").and_then(Node::as_str), Some("d\n"));
    }
}
