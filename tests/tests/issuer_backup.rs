//! `tongban-issuer backup` under issuing load and `restore` after the
//! database is lost (`docs/security.md`, "Losing nothing"): everything
//! acknowledged before the backup is back with its status index and audit
//! entry, every chain verifies, and the restored service issues on without
//! giving any status index twice — not even one held by a credential issued
//! after the backup, which the restored database cannot know.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use tongban_e2e::cargo_bin;
use tongban_xtask::issuer_load::{self, Ack, LoadConfig, ServeProcess, Target};

fn start(bin: &Path, data: &Path, port: u16, log: &Path) -> ServeProcess {
    let public_url = format!("http://127.0.0.1:{port}");
    ServeProcess::start(
        bin,
        data,
        None,
        (port, Some(&public_url)),
        log,
        Duration::from_secs(60),
        &[],
    )
    .expect("tongban-issuer serve starts")
}

fn load(target: &Target, count: Option<u64>, prefix: u8, stop: &Arc<AtomicBool>) -> Vec<Ack> {
    let r = issuer_load::run_load(
        target,
        &LoadConfig {
            workers: 6,
            duration: None,
            count,
            serial_prefix: prefix,
            error_pause: Duration::from_millis(20),
        },
        stop,
    );
    assert!(
        r.errors.is_empty(),
        "issuing failed: {:?} ({})",
        r.errors,
        r.to_text()
    );
    r.acks
}

fn issuer(bin: &Path, args: &[&str], data: &Path) -> (bool, Value, String) {
    let out = Command::new(bin)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--json")
        .env_remove("TONGBAN_MASTER_KEY")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    (
        out.status.success(),
        v,
        text + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_backup_taken_under_load_restores_everything_it_acknowledged() {
    let bin = cargo_bin("tongban-issuer");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let port = issuer_load::free_port().unwrap();
    let mut service = start(&bin, &data, port, &log);
    let target = Target {
        base: service.base.clone(),
        token: service.token().expect("the first start prints a token"),
    };
    let never = Arc::new(AtomicBool::new(false));

    // Acknowledged before the backup starts: all must come back.
    let before = load(&target, Some(150), 1, &never);
    // Issuing goes on while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let during = {
        let (target, stop) = (target.clone(), stop.clone());
        std::thread::spawn(move || load(&target, None, 2, &stop))
    };
    std::thread::sleep(Duration::from_millis(400));
    let backup = dir.path().join("issuer-backup.sqlite3");
    let (ok, report, out) = issuer(&bin, &["backup", "--out", backup.to_str().unwrap()], &data);
    assert!(ok, "backup under load: {out}");
    assert_eq!(report["agencies"][0]["agency"], "demo", "{report}");
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::Relaxed);
    let during = during.join().unwrap();
    assert!(during.len() > 20, "issuing went on during the backup");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the backup holds personal data");
    }
    // A second backup to the same file is refused, the first untouched.
    let size = std::fs::metadata(&backup).unwrap().len();
    let (ok, report, _) = issuer(&bin, &["backup", "--out", backup.to_str().unwrap()], &data);
    assert!(!ok);
    assert_eq!(report["error"]["code"], "exists");
    assert_eq!(std::fs::metadata(&backup).unwrap().len(), size);

    // The database is lost (the master key in the data directory is not).
    service.kill().unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("issuer.sqlite3{suffix}")));
    }
    let (ok, report, out) = issuer(
        &bin,
        &["restore", "--from", backup.to_str().unwrap()],
        &data,
    );
    assert!(ok, "restore: {out}");
    let fresh = &report["fresh_lists"][0];
    assert!(fresh["to"].as_i64() > fresh["from"].as_i64(), "{report}");
    // Restoring again over the restored database is refused.
    let (ok, report, _) = issuer(
        &bin,
        &["restore", "--from", backup.to_str().unwrap()],
        &data,
    );
    assert!(!ok);
    assert_eq!(report["error"]["code"], "exists");

    // The restored service issues on.
    let mut service = start(&bin, &data, port, &log);
    let target = Target {
        base: service.base.clone(),
        ..target
    };
    let after = load(&target, Some(100), 3, &never);
    assert_eq!(after.len(), 100);
    // Everything acknowledged before the backup, and everything after the
    // restore, is there with its index and audit entry, no index twice.
    let mut kept = before.clone();
    kept.extend(after.iter().cloned());
    let check = issuer_load::check(&target, &kept);
    assert!(check.passed(), "{}", check.to_text());
    // No new credential shares an index with any credential issued before
    // the loss — including those issued after the backup, which the
    // restored database does not know but whose holders still have them.
    let old: HashMap<(i64, i64), &str> = before
        .iter()
        .chain(during.iter())
        .map(|a| ((a.list, a.idx), a.id.as_str()))
        .collect();
    for a in &after {
        assert!(
            !old.contains_key(&(a.list, a.idx)),
            "{} was given status index {:?}, already held by {}",
            a.id,
            (a.list, a.idx),
            old[&(a.list, a.idx)]
        );
    }
    service.terminate(Duration::from_secs(20)).unwrap();
    let (ok, _, out) = issuer(&bin, &["audit", "verify"], &data);
    assert!(ok, "audit verify after the restore: {out}");
}
