//! The operator commands, run as a person would: agencies, tokens, key
//! rotation, and `audit verify` finding a tampered log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tongban-issuer"));
    c.args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("TONGBAN_MASTER_KEY")
        .env_remove("TONGBAN_ISSUER_CONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn json(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn an_operator_session() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    // Nothing there yet: commands that need a database say so.
    let o = run(&dir, &["agency", "list"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no database"),
        "{o:?}"
    );

    let a = json(&run(
        &dir,
        &[
            "agency",
            "create",
            "--id",
            "wujiang-amr",
            "--name-zh",
            "苏州市吴江区市场监督管理局",
            "--name-en",
            "Wujiang AMR",
            "--region",
            "320509",
            "--vct",
            "urn:tongban:business-licence:1",
            "--json",
        ],
        &[],
    ));
    assert_eq!(a["iss"], "http://127.0.0.1:8080/agencies/wujiang-amr");
    assert!(dir.join("master.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(dir.join("master.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    // Refused: bad id, unknown region, unknown type, duplicate.
    for (args, code) in [
        (
            vec!["--id", "Bad Id", "--region", "320509", "--vct", "all"],
            "invalid_request",
        ),
        (
            vec!["--id", "x-1", "--region", "999999", "--vct", "all"],
            "invalid_request",
        ),
        (
            vec![
                "--id",
                "x-2",
                "--region",
                "320509",
                "--vct",
                "urn:tongban:passport:1",
            ],
            "unknown_vct",
        ),
        (
            vec!["--id", "wujiang-amr", "--region", "320509", "--vct", "all"],
            "invalid_request",
        ),
    ] {
        let mut full = vec![
            "agency",
            "create",
            "--name-zh",
            "x",
            "--name-en",
            "x",
            "--json",
        ];
        full.extend(args);
        let o = run(&dir, &full, &[]);
        assert_eq!(o.status.code(), Some(2), "{full:?}");
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["error"]["code"], code, "{full:?}: {v}");
    }

    let t = json(&run(
        &dir,
        &[
            "token",
            "create",
            "--agency",
            "wujiang-amr",
            "--scope",
            "issue,read",
            "--label",
            "counter 3",
            "--json",
        ],
        &[],
    ));
    assert!(t["token"].as_str().unwrap().starts_with("tbat_"));
    assert_eq!(t["scopes"], serde_json::json!(["issue", "read"]));
    let o = run(
        &dir,
        &[
            "token",
            "create",
            "--agency",
            "wujiang-amr",
            "--scope",
            "issue,admin",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown scope \"admin\""));
    let list = json(&run(
        &dir,
        &["token", "list", "--agency", "wujiang-amr", "--json"],
        &[],
    ));
    let listed = serde_json::to_string(&list).unwrap();
    assert!(
        !listed.contains(t["token"].as_str().unwrap()),
        "secrets are never listed"
    );
    let id = t["id"].as_str().unwrap();
    json(&run(
        &dir,
        &["token", "revoke", "--agency", "wujiang-amr", id, "--json"],
        &[],
    ));
    let o = run(
        &dir,
        &["token", "revoke", "--agency", "wujiang-amr", id],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "revoking twice is refused");

    let before = json(&run(
        &dir,
        &["key", "list", "--agency", "wujiang-amr", "--json"],
        &[],
    ));
    let r = json(&run(
        &dir,
        &["key", "rotate", "--agency", "wujiang-amr", "--json"],
        &[],
    ));
    let after = json(&run(
        &dir,
        &["key", "list", "--agency", "wujiang-amr", "--json"],
        &[],
    ));
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);
    assert_eq!(after["keys"].as_array().unwrap().len(), 2);
    assert_eq!(after["keys"][1]["kid"], r["kid"]);
    assert!(after["keys"][0]["retired_at"].is_i64() && after["keys"][1]["retired_at"].is_null());

    // A wrong master key is refused before anything is sealed under it.
    let wrong = "11".repeat(32);
    let o = run(
        &dir,
        &["key", "rotate", "--agency", "wujiang-amr"],
        &[("TONGBAN_MASTER_KEY", &wrong)],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not open"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let again = json(&run(
        &dir,
        &["key", "list", "--agency", "wujiang-amr", "--json"],
        &[],
    ));
    assert_eq!(again["keys"].as_array().unwrap().len(), 2);

    let v = json(&run(&dir, &["audit", "verify", "--json"], &[]));
    assert_eq!(v["ok"], true);
    // agency.create, key.create, token.create, token.revoke, key.rotate
    assert_eq!(v["agencies"][0]["entries"], 5);

    // Someone edits the log behind the service's back.
    let db = dir.join("issuer.sqlite3");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{\"scopes\":[\"issue\",\"read\",\"revoke\"]}' WHERE seq = 3").execute(&pool).await.unwrap();
        pool.close().await;
    });
    let o = run(&dir, &["audit", "verify"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("BROKEN") && err.contains("entry 3 was altered"),
        "{err}"
    );
}

#[test]
fn deleting_the_newest_audit_entry_is_found() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    json(&run(
        &dir,
        &[
            "agency",
            "create",
            "--id",
            "a1",
            "--name-zh",
            "甲",
            "--name-en",
            "A",
            "--region",
            "310118",
            "--vct",
            "all",
            "--json",
        ],
        &[],
    ));
    json(&run(
        &dir,
        &[
            "token", "create", "--agency", "a1", "--scope", "all", "--json",
        ],
        &[],
    ));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            dir.join("issuer.sqlite3").display()
        ))
        .await
        .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let o = run(&dir, &["audit", "verify", "--json"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["code"], "audit_chain_broken");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("end at entry 2 but the recorded head is entry 3"),
        "{v}"
    );
}

#[test]
fn help_teaches_the_commands() {
    let o = Command::new(env!("CARGO_BIN_EXE_tongban-issuer"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    for cmd in [
        "serve",
        "agency",
        "key",
        "token",
        "audit",
        "trust-list",
        "tongban-issuer serve",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_tongban-issuer"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--config",
        "--listen",
        "--data-dir",
        "--database-url",
        "--public-url",
    ] {
        assert!(text.contains(flag), "{flag} missing from serve --help");
    }
}

/// A kid is often a JWK thumbprint, which is base64url and starts with `-`
/// one time in 64: every `--kid`-like option takes such a value as it is
/// (`--kid -x`, not only `--kid=-x`).
#[test]
fn a_kid_may_start_with_a_hyphen() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("anchor.key");
    let out = json(
        &Command::new(env!("CARGO_BIN_EXE_tongban-issuer"))
            .args(["trust-list", "anchor-key", "--out"])
            .arg(&key)
            .args(["--kid", "-Xq3_thumbprint-like", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(out["kid"], "-Xq3_thumbprint-like", "{out}");
    let jwk: Value = serde_json::from_slice(&std::fs::read(&key).unwrap()).unwrap();
    assert_eq!(jwk["kid"], "-Xq3_thumbprint-like");
}
