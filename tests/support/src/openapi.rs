//! Checks that keep a service's hand-written OpenAPI document in step with
//! its router and its error codes (the issuer's and the receiving agency's
//! `tests/api_docs.rs`). Each panics with what differs: they are test
//! assertions, so panicking on a malformed document is their job.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::Value;

/// The HTTP methods a path item may hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every `(METHOD, path)` the document describes (method upper case).
pub fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for m in METHODS {
            if item.contains_key(m) {
                out.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The document (`file`, for messages) describes exactly `routes`.
pub fn assert_routes_documented(doc: &Value, routes: &BTreeSet<(String, String)>, file: &str) {
    let documented = operations(doc);
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from {file}: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(routes).collect();
    assert!(
        extra.is_empty(),
        "{file} documents routes the service does not have: {extra:?}"
    );
}

/// Every operation of `routes` has an `operationId` (unique), a
/// `summary`, a `description` and responses, and names the security
/// scheme `scheme` exactly when its path starts with `prefix`.
pub fn assert_operations_described(
    doc: &Value,
    routes: &BTreeSet<(String, String)>,
    scheme: &str,
    prefix: &str,
) {
    let mut ids = BTreeSet::new();
    for (method, path) in routes {
        let op = &doc["paths"][path][method.to_ascii_lowercase()];
        for member in ["operationId", "summary", "description"] {
            assert!(
                op[member].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}: no {member}"
            );
        }
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
        assert!(
            ids.insert(op["operationId"].as_str().unwrap_or_default().to_owned()),
            "{method} {path}: operationId is not unique"
        );
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get(scheme).is_some()));
        assert_eq!(
            secured,
            path.starts_with(prefix),
            "{method} {path}: {scheme} security iff under {prefix}"
        );
    }
}

/// The strings of the `enum` at `pointer` (a JSON pointer into `doc`).
pub fn enum_at(doc: &Value, pointer: &str) -> BTreeSet<String> {
    doc.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no enum at {pointer}"))
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}
