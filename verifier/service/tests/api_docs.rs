#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The API documents keep up with the code: every route of
//! `tongban_verifier_service::api::ROUTES` is in
//! `specs/verifier-service.openapi.json` (the document served at
//! `/openapi.json`) and nothing else is; every error code of `ApiCode` is
//! in the document's `ApiError` enum and nothing else is, each named by a
//! response of its own HTTP status; and every code has its row, with both
//! sentences, in the table of `specs/verifier-service.md`.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode, header};
use serde_json::Value;
use tongban_test_support::openapi;
use tongban_verifier_service::api::{ApiCode, OPENAPI, ROUTES};

mod support;

const PROSE_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../specs/verifier-service.md"
);

fn openapi() -> Value {
    serde_json::from_str(OPENAPI).expect("specs/verifier-service.openapi.json is not JSON")
}

fn routes() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect()
}

/// Follows a local `$ref` (`#/a/b/c`).
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("only local $refs");
            doc.pointer(pointer)
                .unwrap_or_else(|| panic!("$ref {r} resolves to nothing"))
        }
        None => v,
    }
}

/// Every `$ref` anywhere in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// The codes a response's description names after `Codes:`.
fn named_codes(description: &str) -> Vec<String> {
    let Some((_, list)) = description.split_once("Codes:") else {
        return Vec::new();
    };
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_document_is_openapi_3_1_in_shape() {
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    for member in ["title", "version", "description"] {
        assert!(doc["info"][member].is_string(), "info.{member}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerToken"]["scheme"],
        "bearer"
    );
    let top: BTreeSet<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let allowed: BTreeSet<&str> = [
        "openapi",
        "info",
        "jsonSchemaDialect",
        "servers",
        "paths",
        "webhooks",
        "components",
        "security",
        "tags",
        "externalDocs",
    ]
    .into();
    assert!(
        top.is_subset(&allowed),
        "unknown top-level members: {top:?}"
    );
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let pointer = r.strip_prefix('#').expect("only local $refs");
        assert!(
            doc.pointer(pointer).is_some(),
            "$ref {r} resolves to nothing"
        );
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let params_in_path: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned()))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            assert!(
                openapi::METHODS.contains(&method.as_str()),
                "{path}: {method}"
            );
            let declared: BTreeSet<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| resolve(&doc, p))
                        .filter(|p| p["in"] == "path")
                        .map(|p| {
                            assert_eq!(p["required"], true, "{method} {path}: path parameter");
                            p["name"].as_str().unwrap().to_owned()
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(declared, params_in_path, "{method} {path}: path parameters");
            for (status, resp) in op["responses"].as_object().unwrap() {
                assert!(
                    status.len() == 3 && status.parse::<u16>().is_ok(),
                    "{method} {path}: response key {status}"
                );
                assert!(
                    resolve(&doc, resp)["description"].is_string(),
                    "{method} {path} {status}: no description"
                );
            }
        }
    }
}

#[test]
fn the_document_describes_exactly_the_routes() {
    openapi::assert_routes_documented(&openapi(), &routes(), "specs/verifier-service.openapi.json");
}

#[test]
fn every_operation_is_described_and_back_office_ones_need_a_token() {
    openapi::assert_operations_described(&openapi(), &routes(), "bearerToken", "/api/v1/");
}

#[test]
fn the_error_enum_is_exactly_the_service_codes() {
    let doc = openapi();
    let listed = openapi::enum_at(&doc, "/components/schemas/ApiError/properties/code/enum");
    let codes: BTreeSet<String> = ApiCode::ALL.iter().map(|c| c.code().to_owned()).collect();
    assert_eq!(
        listed, codes,
        "the ApiError.code enum of specs/verifier-service.openapi.json differs from ApiCode::ALL"
    );
}

#[test]
fn every_code_is_named_by_a_response_of_its_status() {
    let doc = openapi();
    let status: BTreeMap<&str, u16> = ApiCode::ALL
        .iter()
        .map(|c| (c.code(), c.status()))
        .collect();
    let mut named = BTreeSet::new();
    let mut check = |where_: &str, key: &str, resp: &Value| {
        let resp = resolve(&doc, resp);
        for code in named_codes(resp["description"].as_str().unwrap_or_default()) {
            let s = status
                .get(code.as_str())
                .unwrap_or_else(|| panic!("{where_}: `{code}` is not a code of the service"));
            if let Ok(k) = key.parse::<u16>() {
                assert_eq!(*s, k, "{where_}: `{code}` is answered with {s}, not {key}");
            }
            named.insert(code);
        }
    };
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (key, resp) in op["responses"].as_object().unwrap() {
                check(&format!("{method} {path} {key}"), key, resp);
            }
        }
    }
    for (name, resp) in doc["components"]["responses"].as_object().unwrap() {
        check(&format!("components.responses.{name}"), "", resp);
    }
    let missing: Vec<_> = status.keys().filter(|c| !named.contains(**c)).collect();
    assert!(
        missing.is_empty(),
        "codes no response of specs/verifier-service.openapi.json names: {missing:?}"
    );
}

#[test]
fn every_code_is_in_the_prose_with_its_status_and_both_sentences() {
    let prose = std::fs::read_to_string(PROSE_PATH).expect("specs/verifier-service.md is readable");
    for c in ApiCode::ALL {
        let row = format!(
            "| `{}` | {} | {} | {} |",
            c.code(),
            c.status(),
            c.message_en(),
            c.message_zh()
        );
        assert!(
            prose.lines().any(|l| l.trim() == row),
            "specs/verifier-service.md has no error-table row\n{row}"
        );
    }
}

#[tokio::test]
async fn the_service_serves_the_document_as_written() {
    let h = support::Harness::sqlite().await;
    let r = h
        .call(Method::GET, "/openapi.json", None, None, vec![])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(r.body.as_ref(), OPENAPI.as_bytes());
    h.finish().await;
}
