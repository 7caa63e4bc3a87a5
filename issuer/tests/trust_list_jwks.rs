//! The operator's key fetch (`trust-list add-issuer --jwks-url`): the keys
//! it signs into the list come over https only (plain http to a loopback
//! host alone, for tests), never through a redirect, and only after the
//! operator has seen their RFC 7638 thumbprints and confirmed (`--yes`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use tongban_verifier::{Ed25519Signer, Signer as _};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tongban-issuer"))
        .args(args)
        .env_remove("TONGBAN_TRUST_LIST_DRAFT")
        .output()
        .unwrap()
}

/// A one-thread HTTP server on 127.0.0.1 serving the agency's JWKS at
/// `/jwks.json` and a redirect to it at `/moved`.
fn serve(jwks: Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let location = format!("{base}/jwks.json");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let response = if line.starts_with("GET /jwks.json ") {
                let body = jwks.to_string();
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                format!(
                    "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                )
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    base
}

fn agency_key() -> (Value, String) {
    let signer = Ed25519Signer::from_seed(&[42; 32], Some("wj-1".into()));
    let mut jwk = signer.public_key().to_jwk();
    jwk["kid"] = json!("wj-1");
    (json!({"keys": [jwk]}), signer.public_key().thumbprint())
}

fn draft(dir: &Path) -> String {
    let list = dir.join("zone.json").display().to_string();
    let out = run(&[
        "trust-list",
        "init",
        "--list",
        &list,
        "--anchor-id",
        "https://trust.example",
        "--name-zh",
        "示范区",
        "--name-en",
        "Zone",
    ]);
    assert!(out.status.success(), "{out:?}");
    list
}

fn add_issuer(list: &str, url: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "trust-list",
        "add-issuer",
        "--list",
        list,
        "--id",
        "https://amr.wujiang.example",
        "--name-zh",
        "吴江",
        "--name-en",
        "Wujiang",
        "--region",
        "320509",
        "--vct",
        "urn:tongban:business-licence:1",
        "--jwks-url",
        url,
        "--json",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn refused(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["error"].clone()
}

#[test]
fn plain_http_to_another_host_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let list = draft(dir.path());
    let before = std::fs::read(&list).unwrap();
    for url in [
        "http://issuer.example/jwks.json",
        "http://10.0.0.1/jwks.json",
        "ftp://issuer.example/jwks.json",
    ] {
        let err = refused(&add_issuer(&list, url, &["--yes"]));
        assert_eq!(err["code"], "url_not_allowed", "{url}: {err}");
    }
    assert_eq!(std::fs::read(&list).unwrap(), before, "nothing written");
}

#[test]
fn a_redirect_is_not_followed() {
    let (jwks, _) = agency_key();
    let base = serve(jwks);
    let dir = tempfile::tempdir().unwrap();
    let list = draft(dir.path());
    let before = std::fs::read(&list).unwrap();
    let err = refused(&add_issuer(&list, &format!("{base}/moved"), &["--yes"]));
    assert_eq!(err["code"], "fetch_failed", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("redirect"),
        "{err}"
    );
    assert_eq!(std::fs::read(&list).unwrap(), before, "nothing written");
}

#[test]
fn fetched_keys_are_shown_by_thumbprint_and_need_confirmation() {
    let (jwks, thumbprint) = agency_key();
    let base = serve(jwks);
    let url = format!("{base}/jwks.json");
    let dir = tempfile::tempdir().unwrap();
    let list = draft(dir.path());
    let before = std::fs::read(&list).unwrap();

    // Not a terminal and no --yes: refused, the thumbprint shown.
    let err = refused(&add_issuer(&list, &url, &[]));
    assert_eq!(err["code"], "confirmation_required", "{err}");
    assert!(err["message"].as_str().unwrap().contains(&thumbprint));
    assert_eq!(std::fs::read(&list).unwrap(), before, "nothing written");

    // Confirmed: added, and the JSON names each key's thumbprint.
    let out = add_issuer(&list, &url, &["--yes"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["key_thumbprints"],
        json!([{"kid": "wj-1", "thumbprint": thumbprint}])
    );
    assert_eq!(v["source"], url);
    assert_ne!(std::fs::read(&list).unwrap(), before);

    // The text form prints the thumbprint for the operator too.
    let out = run(&[
        "trust-list",
        "update-issuer",
        "--list",
        &list,
        "--id",
        "https://amr.wujiang.example",
        "--jwks-url",
        &url.replace("127.0.0.1", "localhost"),
        "--yes",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&thumbprint));
}

/// A one-thread HTTP server on 127.0.0.1 answering every GET with `doc`.
fn serve_doc(doc: Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let body = doc.to_string();
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    base
}

fn update_status_lists(list: &str, url: &str) -> Output {
    run(&[
        "trust-list",
        "update-issuer",
        "--list",
        list,
        "--id",
        "https://amr.wujiang.example",
        "--status-lists-from",
        url,
        "--json",
    ])
}

/// *Issuer's note:* when an agency moved to a new status list the
/// trust-list operator had to notice and type the URI. `update-issuer
/// --status-lists-from <issuer>/status` reads the agency's published list
/// (https rules as for keys) and adds its URIs, only ones under the
/// issuer's own `<id>/status/`.
#[test]
fn status_lists_are_taken_from_the_agencys_published_list() {
    let (jwks, _) = agency_key();
    let keys = serve(jwks);
    let dir = tempfile::tempdir().unwrap();
    let list = draft(dir.path());
    let out = add_issuer(&list, &format!("{keys}/jwks.json"), &["--yes"]);
    assert!(out.status.success(), "{out:?}");
    let id = "https://amr.wujiang.example";
    let good = serve_doc(json!({
        "issuer": id,
        "status_lists": [format!("{id}/status/0"), format!("{id}/status/1")],
        "current_status_list": format!("{id}/status/1"),
    }));
    let out = update_status_lists(&list, &format!("{good}/status"));
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["issuer"]["status_lists"],
        json!([format!("{id}/status/0"), format!("{id}/status/1")]),
        "{v}"
    );
    // Run again: nothing is added twice.
    let out = update_status_lists(&list, &format!("{good}/status"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["issuer"]["status_lists"].as_array().unwrap().len(), 2);
    let before = std::fs::read(&list).unwrap();
    // Another issuer's document, or a URI elsewhere, is refused unwritten.
    for doc in [
        json!({"issuer": "https://elsewhere.example", "status_lists": []}),
        json!({"issuer": id, "status_lists": ["https://evil.example/status/2"]}),
        json!({"issuer": id, "status_lists": [format!("{id}/status/2/../../x")]}),
    ] {
        let url = serve_doc(doc.clone());
        let err = refused(&update_status_lists(&list, &format!("{url}/status")));
        assert_eq!(err["code"], "status_lists_invalid", "{doc}: {err}");
    }
    let err = refused(&update_status_lists(
        &list,
        "http://issuer.example/agencies/wj/status",
    ));
    assert_eq!(err["code"], "url_not_allowed", "{err}");
    assert_eq!(std::fs::read(&list).unwrap(), before, "nothing written");
}
