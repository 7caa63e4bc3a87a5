//! A strict validator for the subset of JSON Schema (2020-12) the
//! catalogue uses. A schema using any keyword outside the subset is refused
//! when compiled, so no constraint is ever silently ignored.
//!
//! Keywords: `type` (`object`, `string`, `integer`, `number`, `boolean`,
//! `array`), `properties`, `required`, `additionalProperties` (boolean),
//! `items`, `enum`, `pattern`, `minLength`, `maxLength`, `minimum`,
//! `maximum`, `format` (`date` and the `tongban-*` identifier formats), and
//! the annotations `$schema`, `$id`, `title`, `description`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::ids;

/// A schema that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema at {path}: {reason}")]
pub struct SchemaError {
    /// Where in the schema.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// One way a claim breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The claim path, e.g. `unified_social_credit_code` or `items.2`.
    pub path: String,
    /// The keyword that failed (`required`, `type`, `format`, `pattern`, …).
    pub keyword: &'static str,
    /// What is wrong, in English, naming the field.
    pub message: String,
}

/// Whether missing required claims count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every claim is present (the issuer, before signing).
    Complete,
    /// Only disclosed claims are present (a verifier): `required` is not
    /// checked, everything else is.
    Disclosed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    String,
    Integer,
    Number,
    Boolean,
    Array,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Date,
    Uscc,
    ResidentId,
    Region,
    LicenceId,
}

/// A compiled schema node.
#[derive(Debug, Clone)]
pub struct Schema {
    kind: Option<Kind>,
    properties: BTreeMap<String, Schema>,
    required: Vec<String>,
    additional: bool,
    items: Option<Box<Schema>>,
    enumeration: Option<Vec<Value>>,
    pattern: Option<regex::Regex>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    format: Option<Format>,
}

impl Schema {
    /// Compiles a schema document.
    pub fn compile(doc: &Value) -> Result<Schema, SchemaError> {
        Schema::node(doc, "#")
    }

    fn node(doc: &Value, path: &str) -> Result<Schema, SchemaError> {
        let err = |reason: String| SchemaError {
            path: path.to_owned(),
            reason,
        };
        let obj = doc.as_object().ok_or_else(|| err("not an object".into()))?;
        let mut s = Schema {
            kind: None,
            properties: BTreeMap::new(),
            required: Vec::new(),
            additional: true,
            items: None,
            enumeration: None,
            pattern: None,
            min_length: None,
            max_length: None,
            minimum: None,
            maximum: None,
            format: None,
        };
        let usize_of = |v: &Value, k: &str| {
            v.as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| err(format!("{k} is not a non-negative integer")))
        };
        for (k, v) in obj {
            match k.as_str() {
                "$schema" | "$id" | "title" | "description" => {}
                "type" => {
                    s.kind = Some(match v.as_str() {
                        Some("object") => Kind::Object,
                        Some("string") => Kind::String,
                        Some("integer") => Kind::Integer,
                        Some("number") => Kind::Number,
                        Some("boolean") => Kind::Boolean,
                        Some("array") => Kind::Array,
                        _ => return Err(err(format!("type {v} is not supported"))),
                    })
                }
                "properties" => {
                    let props = v
                        .as_object()
                        .ok_or_else(|| err("properties is not an object".into()))?;
                    for (name, sub) in props {
                        s.properties.insert(
                            name.clone(),
                            Schema::node(sub, &format!("{path}/properties/{name}"))?,
                        );
                    }
                }
                "required" => {
                    s.required = v
                        .as_array()
                        .and_then(|a| {
                            a.iter()
                                .map(|x| x.as_str().map(str::to_owned))
                                .collect::<Option<Vec<_>>>()
                        })
                        .ok_or_else(|| err("required is not an array of strings".into()))?;
                }
                "additionalProperties" => {
                    s.additional = v.as_bool().ok_or_else(|| {
                        err("only boolean additionalProperties is supported".into())
                    })?
                }
                "items" => s.items = Some(Box::new(Schema::node(v, &format!("{path}/items"))?)),
                "enum" => {
                    s.enumeration = Some(
                        v.as_array()
                            .cloned()
                            .ok_or_else(|| err("enum is not an array".into()))?,
                    )
                }
                "pattern" => {
                    let p = v
                        .as_str()
                        .ok_or_else(|| err("pattern is not a string".into()))?;
                    s.pattern =
                        Some(regex::Regex::new(p).map_err(|e| err(format!("pattern: {e}")))?);
                }
                "minLength" => s.min_length = Some(usize_of(v, k)?),
                "maxLength" => s.max_length = Some(usize_of(v, k)?),
                "minimum" => {
                    s.minimum = Some(
                        v.as_f64()
                            .ok_or_else(|| err("minimum is not a number".into()))?,
                    )
                }
                "maximum" => {
                    s.maximum = Some(
                        v.as_f64()
                            .ok_or_else(|| err("maximum is not a number".into()))?,
                    )
                }
                "format" => {
                    s.format = Some(match v.as_str() {
                        Some("date") => Format::Date,
                        Some("tongban-uscc") => Format::Uscc,
                        Some("tongban-resident-id") => Format::ResidentId,
                        Some("tongban-region") => Format::Region,
                        Some("tongban-licence-id") => Format::LicenceId,
                        _ => return Err(err(format!("format {v} is not supported"))),
                    })
                }
                other => {
                    return Err(err(format!(
                        "keyword {other:?} is not supported (the validator refuses what it cannot check)"
                    )));
                }
            }
        }
        for r in &s.required {
            if !s.properties.contains_key(r) {
                return Err(err(format!("required property {r:?} has no schema")));
            }
        }
        Ok(s)
    }

    /// The names of the object's properties, in name order.
    pub fn property_names(&self) -> impl Iterator<Item = &str> {
        self.properties.keys().map(String::as_str)
    }

    /// Validates claims (a JSON object) and returns every violation.
    pub fn validate(&self, claims: &Map<String, Value>, mode: Mode) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check_object(claims, "", mode, &[], &mut out);
        out
    }

    /// Validates `claims` as if the members named in `skip` were absent.
    /// The violations are the same as [`Schema::validate`] gives for a copy
    /// without those members, though not necessarily in the same order.
    pub(crate) fn validate_except(
        &self,
        claims: &Map<String, Value>,
        mode: Mode,
        skip: &[&str],
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check_object(claims, "", mode, skip, &mut out);
        out
    }

    fn check_object(
        &self,
        obj: &Map<String, Value>,
        path: &str,
        mode: Mode,
        skip: &[&str],
        out: &mut Vec<Violation>,
    ) {
        let join = |k: &str| {
            if path.is_empty() {
                k.to_owned()
            } else {
                format!("{path}.{k}")
            }
        };
        if mode == Mode::Complete {
            for r in &self.required {
                if !obj.contains_key(r) || skip.contains(&r.as_str()) {
                    out.push(Violation {
                        path: join(r),
                        keyword: "required",
                        message: format!("{} is required", join(r)),
                    });
                }
            }
        }
        for (k, v) in obj {
            if skip.contains(&k.as_str()) {
                continue;
            }
            match self.properties.get(k) {
                Some(s) => s.check(v, Step::Member(path, k), mode, out),
                None if !self.additional => out.push(Violation {
                    path: join(k),
                    keyword: "additionalProperties",
                    message: format!("{} is not a field of this licence type", join(k)),
                }),
                None => {}
            }
        }
    }

    fn check(&self, v: &Value, at: Step<'_>, mode: Mode, out: &mut Vec<Violation>) {
        // The path is written out only when it is needed (a violation, or
        // members and elements below this one).
        let path = || at.path();
        let mut fail = |keyword: &'static str, message: String| {
            out.push(Violation {
                path: path(),
                keyword,
                message,
            })
        };
        if let Some(kind) = self.kind {
            let ok = match kind {
                Kind::Object => v.is_object(),
                Kind::String => v.is_string(),
                Kind::Integer => v.is_i64() || v.is_u64(),
                Kind::Number => v.is_number(),
                Kind::Boolean => v.is_boolean(),
                Kind::Array => v.is_array(),
            };
            if !ok {
                fail(
                    "type",
                    format!(
                        "{} must be of type {}",
                        path(),
                        format!("{kind:?}").to_lowercase()
                    ),
                );
                return;
            }
        }
        if let Some(values) = &self.enumeration
            && !values.contains(v)
        {
            fail(
                "enum",
                format!("{} must be one of {}", path(), Value::Array(values.clone())),
            );
        }
        if let Value::String(s) = v {
            let len = s.chars().count();
            if self.min_length.is_some_and(|m| len < m) || self.max_length.is_some_and(|m| len > m)
            {
                fail(
                    "length",
                    format!(
                        "{} has {len} characters, outside {:?}..={:?}",
                        path(),
                        self.min_length,
                        self.max_length
                    ),
                );
            }
            if let Some(p) = &self.pattern
                && !p.is_match(s)
            {
                fail(
                    "pattern",
                    format!("{} does not match {}", path(), p.as_str()),
                );
            }
            if let Some(f) = self.format {
                let (name, result) = match f {
                    Format::Date => ("a date (YYYY-MM-DD)", ids::check_date(s)),
                    Format::Uscc => (
                        "a unified social credit code (GB 32100)",
                        ids::check_uscc(s),
                    ),
                    Format::ResidentId => (
                        "a resident identity number (GB 11643)",
                        ids::check_resident_id(s),
                    ),
                    Format::Region => ("a GB/T 2260 region code", ids::check_region(s)),
                    Format::LicenceId => ("an e-licence identifier", ids::check_licence_id(s)),
                };
                if let Err(e) = result {
                    fail("format", format!("{} is not {name}: {e}", path()));
                }
            }
        }
        if let Some(n) = v.as_f64()
            && (self.minimum.is_some_and(|m| n < m) || self.maximum.is_some_and(|m| n > m))
        {
            fail(
                "range",
                format!(
                    "{} = {n} is outside {:?}..={:?}",
                    path(),
                    self.minimum,
                    self.maximum
                ),
            );
        }
        match (v, &self.items) {
            (Value::Object(o), _) => self.check_object(o, &path(), mode, &[], out),
            (Value::Array(a), Some(items)) => {
                let path = path();
                for (i, x) in a.iter().enumerate() {
                    items.check(x, Step::Element(&path, i), mode, out);
                }
            }
            _ => {}
        }
    }
}

/// Where a checked value sits: a member of an object or an element of an
/// array, below the path of its parent.
#[derive(Clone, Copy)]
enum Step<'a> {
    Member(&'a str, &'a str),
    Element(&'a str, usize),
}

impl Step<'_> {
    fn path(self) -> String {
        match self {
            Step::Member("", k) => k.to_owned(),
            Step::Member(parent, k) => format!("{parent}.{k}"),
            Step::Element(parent, i) => format!("{parent}.{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keywords_are_refused() {
        assert!(Schema::compile(&json!({"type": "object", "oneOf": []})).is_err());
        assert!(Schema::compile(&json!({"type": "string", "format": "email"})).is_err());
        assert!(
            Schema::compile(&json!({"required": ["a"]})).is_err(),
            "required without a schema"
        );
    }

    #[test]
    fn violations_name_every_failing_field() {
        let s = Schema::compile(&json!({
            "type": "object", "additionalProperties": false, "required": ["code", "name"],
            "properties": {"code": {"type": "string", "format": "tongban-uscc"}, "name": {"type": "string", "maxLength": 4},
                           "n": {"type": "integer", "minimum": 1}, "sex": {"type": "string", "enum": ["男", "女"]}}
        }))
        .unwrap();
        let claims = json!({"code": "91320509MA1Q8K3T2D", "n": 0, "sex": "x", "extra": 1})
            .as_object()
            .cloned()
            .unwrap();
        let v = s.validate(&claims, Mode::Complete);
        let got: Vec<(&str, &str)> = v.iter().map(|x| (x.path.as_str(), x.keyword)).collect();
        assert_eq!(
            got,
            vec![
                ("name", "required"),
                ("code", "format"),
                ("n", "range"),
                ("sex", "enum"),
                ("extra", "additionalProperties")
            ]
        );
        assert!(v[1].message.contains("check character"));
        // A verifier does not require undisclosed claims.
        let v = s.validate(&claims, Mode::Disclosed);
        assert!(!v.iter().any(|x| x.keyword == "required"));
        let ok = json!({"code": "91320509MA1Q8K3T2C", "name": "张三"})
            .as_object()
            .cloned()
            .unwrap();
        assert!(s.validate(&ok, Mode::Complete).is_empty());
    }

    #[test]
    fn validate_except_is_validate_without_the_skipped_members() {
        let s = Schema::compile(&json!({
            "type": "object", "additionalProperties": false, "required": ["code", "iss"],
            "properties": {"code": {"type": "string", "format": "tongban-uscc"},
                           "iss": {"type": "string"},
                           "tags": {"type": "array", "items": {"type": "string", "maxLength": 2}}}
        }))
        .unwrap();
        let claims = json!({"iss": 5, "code": "x", "exp": 1, "tags": ["ab", "abc"], "extra": 1})
            .as_object()
            .cloned()
            .unwrap();
        let skip = ["iss", "exp"];
        let mut stripped = claims.clone();
        for k in skip {
            stripped.remove(k);
        }
        for mode in [Mode::Complete, Mode::Disclosed] {
            let mut fast = s.validate_except(&claims, mode, &skip);
            let mut slow = s.validate(&stripped, mode);
            assert!(!fast.is_empty());
            let key = |v: &Violation| (v.path.clone(), v.keyword, v.message.clone());
            fast.sort_by_key(key);
            slow.sort_by_key(key);
            assert_eq!(fast, slow, "{mode:?}");
        }
        let ok = json!({"code": "91320509MA1Q8K3T2C", "iss": 1, "exp": 2})
            .as_object()
            .cloned()
            .unwrap();
        assert!(s.validate_except(&ok, Mode::Disclosed, &skip).is_empty());
    }
}
