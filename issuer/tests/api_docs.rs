#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The API documents keep up with the code: every route of
//! `tongban_issuer::api::ROUTES` is in `specs/issuer-api.openapi.json` (the
//! document served at `/openapi.json`) and nothing else is, and every error
//! code is in the document's `ApiError` schema and in the table of
//! `specs/issuer-api.md` with its HTTP status and English message.

use std::collections::BTreeSet;

use serde_json::Value;
use tongban_issuer::api::ApiCode;
use tongban_issuer::api::{OPENAPI, ROUTES};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const PROSE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/issuer-api.md");

fn prose() -> String {
    std::fs::read_to_string(PROSE_PATH).expect("specs/issuer-api.md is readable")
}

fn openapi() -> Value {
    serde_json::from_str(OPENAPI).expect("specs/issuer-api.openapi.json is not JSON")
}

/// Every (METHOD, path) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
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

fn routes() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect()
}

#[test]
fn the_document_is_openapi_3_1() {
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["adminToken"]["scheme"],
        "bearer"
    );
}

#[test]
fn every_route_is_documented() {
    let documented = documented(&openapi());
    let missing: Vec<_> = routes().difference(&documented).cloned().collect();
    assert!(
        missing.is_empty(),
        "routes missing from specs/issuer-api.openapi.json: {missing:?}"
    );
}

#[test]
fn every_documented_route_exists() {
    let documented = documented(&openapi());
    let extra: Vec<_> = documented.difference(&routes()).cloned().collect();
    assert!(
        extra.is_empty(),
        "specs/issuer-api.openapi.json documents routes the service does not have: {extra:?}"
    );
}

#[test]
fn every_operation_is_described_and_admin_ones_need_a_token() {
    let doc = openapi();
    let mut ids = BTreeSet::new();
    for (method, path) in routes() {
        let op = &doc["paths"][&path][method.to_ascii_lowercase()];
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
        let admin = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("adminToken").is_some()));
        assert_eq!(
            admin,
            path.starts_with("/admin/v1/"),
            "{method} {path}: adminToken security iff under /admin/v1"
        );
    }
}

#[test]
fn every_error_code_is_in_the_api_error_schema() {
    let doc = openapi();
    let listed: BTreeSet<&str> =
        doc["components"]["schemas"]["ApiError"]["properties"]["error"]["enum"]
            .as_array()
            .expect("ApiError.error has an enum")
            .iter()
            .filter_map(Value::as_str)
            .collect();
    let codes: BTreeSet<&str> = ApiCode::ALL.iter().map(|c| c.code()).collect();
    assert_eq!(
        listed, codes,
        "the ApiError.error enum of specs/issuer-api.openapi.json differs from ApiCode::ALL"
    );
}

#[test]
fn every_error_code_is_in_the_prose_with_its_status_and_message() {
    let prose = prose();
    for c in ApiCode::ALL {
        assert!(
            prose.contains(c.code()),
            "specs/issuer-api.md does not mention {}",
            c.code()
        );
        let row = format!("| `{}` | {} | {} |", c.code(), c.status(), c.message_en());
        assert!(
            prose.lines().any(|l| l.trim() == row),
            "specs/issuer-api.md has no error-table row\n{row}"
        );
    }
}
