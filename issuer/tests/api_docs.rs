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
use tongban_test_support::openapi;

const PROSE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/issuer-api.md");

fn prose() -> String {
    std::fs::read_to_string(PROSE_PATH).expect("specs/issuer-api.md is readable")
}

fn openapi() -> Value {
    serde_json::from_str(OPENAPI).expect("specs/issuer-api.openapi.json is not JSON")
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
fn the_document_describes_exactly_the_routes() {
    openapi::assert_routes_documented(&openapi(), &routes(), "specs/issuer-api.openapi.json");
}

#[test]
fn every_operation_is_described_and_admin_ones_need_a_token() {
    openapi::assert_operations_described(&openapi(), &routes(), "adminToken", "/admin/v1/");
}

#[test]
fn every_error_code_is_in_the_api_error_schema() {
    let doc = openapi();
    let listed = openapi::enum_at(&doc, "/components/schemas/ApiError/properties/error/enum");
    let codes: BTreeSet<String> = ApiCode::ALL.iter().map(|c| c.code().to_owned()).collect();
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
