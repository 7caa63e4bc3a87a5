//! Claims path pointers (OpenID4VP 1.0 §7): a non-empty array of keys,
//! `null` (every element of an array) and non-negative indices, applied to
//! a JSON credential.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One component of a claims path pointer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A key of an object (a JSON string).
    Key(String),
    /// An index into an array (a non-negative JSON integer).
    Index(u64),
    /// Every element of an array (JSON `null`).
    All,
}

/// A claims path pointer (§7): never empty, each component a string,
/// `null` or a non-negative integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<Value>", into = "Vec<Value>")]
pub struct ClaimPath(Vec<PathElement>);

/// Why a JSON array is not a claims path pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathSyntaxError {
    /// The array is empty.
    #[error("a claims path pointer must not be empty")]
    Empty,
    /// A component is neither a string, `null` nor a non-negative integer.
    #[error(
        "component {index} of a claims path pointer is {found}; only strings, null and non-negative integers are allowed"
    )]
    BadComponent {
        /// The component's position.
        index: usize,
        /// A short rendering of what was found.
        found: String,
    },
}

/// Why a path could not be applied to a credential (§7.1.1): the credential
/// does not have the claim, or has it in another shape. Both mean "this
/// credential does not carry the claim".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A key was applied to something that is not an object, or an index or
    /// `null` to something that is not an array.
    #[error("the credential's claims do not have the shape {0} expects")]
    Shape(String),
    /// Nothing was selected.
    #[error("the credential has no claim at {0}")]
    NotFound(String),
}

impl ClaimPath {
    /// A path of object keys only (the usual case: `["address", "city"]`).
    pub fn keys<I, S>(keys: I) -> Option<ClaimPath>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let path: Vec<PathElement> = keys
            .into_iter()
            .map(|k| PathElement::Key(k.into()))
            .collect();
        (!path.is_empty()).then_some(ClaimPath(path))
    }

    /// The components, never empty.
    pub fn elements(&self) -> &[PathElement] {
        &self.0
    }

    /// The top-level claim name, when the path starts with a key.
    pub fn top_level(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathElement::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// Applies the path to `root` (§7.1.1) and returns the selected values,
    /// never an empty set.
    pub fn select<'v>(&self, root: &'v Value) -> Result<Vec<&'v Value>, PathError> {
        let mut selected = vec![root];
        for element in &self.0 {
            let mut next = Vec::with_capacity(selected.len());
            for value in selected {
                match (element, value) {
                    (PathElement::Key(k), Value::Object(map)) => next.extend(map.get(k)),
                    (PathElement::Index(i), Value::Array(items)) => {
                        next.extend(usize::try_from(*i).ok().and_then(|i| items.get(i)))
                    }
                    (PathElement::All, Value::Array(items)) => next.extend(items.iter()),
                    _ => return Err(PathError::Shape(self.to_string())),
                }
            }
            selected = next;
        }
        if selected.is_empty() {
            return Err(PathError::NotFound(self.to_string()));
        }
        Ok(selected)
    }
}

impl ClaimPath {
    /// The concrete paths this pointer selects in `root`, `null` expanded to
    /// every index, in the verifier library's form: what a wallet discloses
    /// to answer the pointer.
    pub fn concrete(&self, root: &Value) -> Result<Vec<tongban_verifier::ClaimPath>, PathError> {
        use tongban_verifier::PathSegment;
        let mut selected: Vec<(Vec<PathSegment>, &Value)> = vec![(Vec::new(), root)];
        for element in &self.0 {
            let mut next = Vec::with_capacity(selected.len());
            for (prefix, value) in selected {
                let extend = |segment: PathSegment| {
                    let mut p = prefix.clone();
                    p.push(segment);
                    p
                };
                match (element, value) {
                    (PathElement::Key(k), Value::Object(map)) => {
                        if let Some(v) = map.get(k) {
                            next.push((extend(PathSegment::Key(k.clone())), v));
                        }
                    }
                    (PathElement::Index(i), Value::Array(items)) => {
                        if let Some((i, v)) = usize::try_from(*i)
                            .ok()
                            .and_then(|i| items.get(i).map(|v| (i, v)))
                        {
                            next.push((extend(PathSegment::Index(i)), v));
                        }
                    }
                    (PathElement::All, Value::Array(items)) => next.extend(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (extend(PathSegment::Index(i)), v)),
                    ),
                    _ => return Err(PathError::Shape(self.to_string())),
                }
            }
            selected = next;
        }
        if selected.is_empty() {
            return Err(PathError::NotFound(self.to_string()));
        }
        Ok(selected
            .into_iter()
            .map(|(p, _)| tongban_verifier::ClaimPath(p))
            .collect())
    }
}

impl TryFrom<Vec<Value>> for ClaimPath {
    type Error = PathSyntaxError;

    fn try_from(components: Vec<Value>) -> Result<Self, Self::Error> {
        if components.is_empty() {
            return Err(PathSyntaxError::Empty);
        }
        components
            .into_iter()
            .enumerate()
            .map(|(index, v)| match v {
                Value::String(s) => Ok(PathElement::Key(s)),
                Value::Null => Ok(PathElement::All),
                Value::Number(n) if n.as_u64().is_some() => {
                    Ok(PathElement::Index(n.as_u64().unwrap_or_default()))
                }
                other => Err(PathSyntaxError::BadComponent {
                    index,
                    found: truncate(&other.to_string()),
                }),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ClaimPath)
    }
}

impl From<ClaimPath> for Vec<Value> {
    fn from(path: ClaimPath) -> Vec<Value> {
        path.0
            .into_iter()
            .map(|e| match e {
                PathElement::Key(k) => Value::String(k),
                PathElement::Index(i) => Value::from(i),
                PathElement::All => Value::Null,
            })
            .collect()
    }
}

impl fmt::Display for ClaimPath {
    /// The path as JSON, e.g. `["address","city"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = Value::Array(Vec::<Value>::from(self.clone()));
        write!(f, "{json}")
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn path(v: Value) -> ClaimPath {
        serde_json::from_value(v).unwrap()
    }

    /// The example credential of §7.3 and the selections the spec lists.
    #[test]
    fn the_specs_worked_example_selects_what_it_says() {
        let credential = json!({
            "name": "Arthur Dent",
            "address": {"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"},
            "degrees": [
                {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
                {"type": "Master of Science", "university": "University of Betelgeuse"}
            ],
            "nationalities": ["British", "Betelgeusian"]
        });
        assert_eq!(
            path(json!(["name"])).select(&credential).unwrap(),
            vec![&json!("Arthur Dent")]
        );
        assert_eq!(
            path(json!(["address"])).select(&credential).unwrap(),
            vec![&credential["address"]]
        );
        assert_eq!(
            path(json!(["address", "street_address"]))
                .select(&credential)
                .unwrap(),
            vec![&json!("42 Market Street")]
        );
        assert_eq!(
            path(json!(["degrees", null, "type"]))
                .select(&credential)
                .unwrap(),
            vec![&json!("Bachelor of Science"), &json!("Master of Science")]
        );
        assert_eq!(
            path(json!(["nationalities", 1]))
                .select(&credential)
                .unwrap(),
            vec![&json!("Betelgeusian")]
        );
    }

    #[test]
    fn missing_claims_and_wrong_shapes_select_nothing() {
        let c = json!({"a": {"b": 1}, "list": [1, 2]});
        assert!(matches!(
            path(json!(["x"])).select(&c),
            Err(PathError::NotFound(_))
        ));
        assert!(matches!(
            path(json!(["list", 5])).select(&c),
            Err(PathError::NotFound(_))
        ));
        assert!(matches!(
            path(json!(["a", "b", "c"])).select(&c),
            Err(PathError::Shape(_))
        ));
        assert!(matches!(
            path(json!(["a", null])).select(&c),
            Err(PathError::Shape(_))
        ));
        assert!(matches!(
            path(json!(["list", "k"])).select(&c),
            Err(PathError::Shape(_))
        ));
    }

    #[test]
    fn wildcards_expand_to_the_concrete_paths_a_wallet_discloses() {
        let c = json!({"degrees": [{"type": "BSc"}, {"type": "MSc"}], "name": "A"});
        let concrete: Vec<String> = path(json!(["degrees", null, "type"]))
            .concrete(&c)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(concrete, vec!["degrees.0.type", "degrees.1.type"]);
        assert_eq!(
            path(json!(["name"])).concrete(&c).unwrap()[0].to_string(),
            "name"
        );
        assert!(path(json!(["nope"])).concrete(&c).is_err());
    }

    #[test]
    fn only_strings_nulls_and_non_negative_integers_make_a_path() {
        assert!(serde_json::from_value::<ClaimPath>(json!([])).is_err());
        assert!(serde_json::from_value::<ClaimPath>(json!([-1])).is_err());
        assert!(serde_json::from_value::<ClaimPath>(json!([1.5])).is_err());
        assert!(serde_json::from_value::<ClaimPath>(json!([true])).is_err());
        assert!(serde_json::from_value::<ClaimPath>(json!([{"a": 1}])).is_err());
        assert!(serde_json::from_value::<ClaimPath>(json!("name")).is_err());
        let p = path(json!(["a", null, 0]));
        assert_eq!(serde_json::to_value(&p).unwrap(), json!(["a", null, 0]));
        assert_eq!(p.to_string(), r#"["a",null,0]"#);
    }
}
