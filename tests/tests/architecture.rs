//! The crate graph's rules (`docs/architecture.md`, "Arrows that must never
//! exist"), checked against what Cargo actually resolves: a dependency that
//! breaks one fails this test, not a review months later.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;
use tongban_test_support::workspace_root;

/// Which kinds of dependency an edge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Normal,
    Dev,
    Build,
}

/// Every workspace package's dependencies on other workspace packages.
fn graph() -> BTreeMap<String, BTreeSet<(String, Kind)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let ours: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| {
                    let name = d["name"].as_str()?;
                    let kind = match d["kind"].as_str() {
                        Some("dev") => Kind::Dev,
                        Some("build") => Kind::Build,
                        _ => Kind::Normal,
                    };
                    ours.contains(name).then(|| (name.to_owned(), kind))
                })
                .collect();
            (p["name"].as_str().unwrap_or_default().to_owned(), deps)
        })
        .collect()
}

/// The workspace packages `from` may not depend on in any way (normal,
/// build or dev), each with the reason.
fn forbidden(from: &str) -> Vec<(&'static str, &'static str)> {
    const SERVICE_OR_PROGRAM: [&str; 5] = [
        "tongban-issuer",
        "tongban-wallet",
        "tongban-verify",
        "tongban-verifier-service",
        "tongban-e2e",
    ];
    let mut rules = Vec::new();
    let mut deny = |crates: &[&'static str], why: &'static str| {
        rules.extend(crates.iter().map(|c| (*c, why)));
    };
    match from {
        "tongban-verifier" => {
            deny(
                &SERVICE_OR_PROGRAM,
                "the verifier library knows no service, wallet or CLI",
            );
            deny(
                &["tongban-cli-support", "tongban-service-kit"],
                "the verifier library does no I/O and reads no clock",
            );
            deny(
                &["tongban-protocol"],
                "protocols are built on the format, not the other way",
            );
            deny(
                &["tongban-trust-sync"],
                "fetching and bundle files live outside the I/O-free library",
            );
        }
        "tongban-trust-sync" => deny(
            &SERVICE_OR_PROGRAM,
            "the sync library serves the counter's CLI and the agency's service, below both",
        ),
        "tongban-protocol" => {
            deny(
                &SERVICE_OR_PROGRAM,
                "protocol types have no I/O and serve every side",
            );
            deny(
                &["tongban-cli-support", "tongban-service-kit"],
                "protocol types have no I/O and no clock",
            );
        }
        "tongban-verifier-web" | "tongban-counter-page" => {
            deny(
                &SERVICE_OR_PROGRAM,
                "the counter's page runs in a browser, below every program and service",
            );
            deny(
                &[
                    "tongban-cli-support",
                    "tongban-service-kit",
                    "tongban-trust-sync",
                ],
                "the page fetches with the browser and checks with the verifier library",
            );
        }
        "tongban-cli-support" | "tongban-service-kit" | "tongban-test-support" => {
            deny(
                &SERVICE_OR_PROGRAM,
                "shared crates sit below every program and service",
            );
        }
        "tongban-wallet" => deny(
            &["tongban-issuer", "tongban-verifier-service"],
            "the wallet never links the issuer or the receiving agency's service",
        ),
        "tongban-issuer" => deny(
            &[
                "tongban-wallet",
                "tongban-verify",
                "tongban-verifier-service",
            ],
            "the issuer never links the wallet, the counter's CLI or the receiving agency's service",
        ),
        "tongban-verify" => deny(
            &[
                "tongban-issuer",
                "tongban-wallet",
                "tongban-verifier-service",
            ],
            "the counter's CLI links neither the issuer, the wallet nor the receiving agency's service",
        ),
        "tongban-verifier-service" => deny(
            &["tongban-issuer", "tongban-wallet", "tongban-verify"],
            "the receiving agency's service links neither the issuer, the wallet nor the counter's CLI",
        ),
        _ => {}
    }
    rules
}

#[test]
fn no_arrow_runs_the_wrong_way() {
    let graph = graph();
    for name in [
        "tongban-verifier",
        "tongban-protocol",
        "tongban-cli-support",
        "tongban-service-kit",
        "tongban-test-support",
        "tongban-issuer",
        "tongban-wallet",
        "tongban-verify",
        "tongban-verifier-service",
        "tongban-trust-sync",
        "tongban-verifier-web",
        "tongban-counter-page",
    ] {
        assert!(graph.contains_key(name), "{name} is a workspace member");
    }
    let mut broken = Vec::new();
    for (from, deps) in &graph {
        for (to, why) in forbidden(from) {
            if let Some((_, kind)) = deps.iter().find(|(d, _)| d == to) {
                broken.push(format!("{from} → {to} ({kind:?}): {why}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "forbidden dependencies:\n{}",
        broken.join("\n")
    );
}

#[test]
fn library_crates_use_test_support_only_in_their_tests() {
    for (from, deps) in graph() {
        if from == "tongban-e2e" || from == "tongban-xtask" {
            continue; // test and tool crates
        }
        for (to, kind) in deps {
            assert!(
                to != "tongban-test-support" || kind == Kind::Dev,
                "{from} depends on the test-support crate outside its tests"
            );
        }
    }
}

#[test]
fn the_rules_catch_a_forbidden_edge() {
    // The checker itself: a wallet → issuer edge is named.
    let rules = forbidden("tongban-wallet");
    assert!(rules.iter().any(|(to, _)| *to == "tongban-issuer"));
    let rules = forbidden("tongban-verifier");
    assert!(rules.iter().any(|(to, _)| *to == "tongban-cli-support"));
    assert!(
        rules
            .iter()
            .any(|(to, _)| *to == "tongban-verifier-service")
    );
    assert!(rules.iter().any(|(to, _)| *to == "tongban-trust-sync"));
    let rules = forbidden("tongban-verifier-service");
    assert!(rules.iter().any(|(to, _)| *to == "tongban-issuer"));
}

#[test]
fn the_verifier_library_pulls_in_no_cli_network_or_service_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "tongban-verifier",
            "-e",
            "normal",
            "--no-default-features",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains("ed25519-dalek"), "the tree was read: {tree}");
    for banned in [
        "clap",
        "ureq",
        "indicatif",
        "rqrr",
        "image",
        "qrcode",
        "tokio",
        "axum",
        "sqlx",
        "time",
        "rand",
        "openssl",
        "josekit",
    ] {
        assert!(
            !names.contains(banned),
            "tongban-verifier depends on {banned}: the library must stay free of CLI, network and service crates"
        );
    }
}
