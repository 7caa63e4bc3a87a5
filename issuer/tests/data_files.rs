//! The SQLite data directory's files are readable by their owner only
//! (`docs/security.md`, "File modes of the data directory").
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use tongban_issuer::bootstrap;
use tongban_issuer::config::{Config, Overrides};

fn config(dir: &Path) -> Config {
    Config::load_with(
        None,
        &Overrides {
            data_dir: Some(dir.to_owned()),
            ..Overrides::default()
        },
        |_| None,
    )
    .unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// *Outside review:* a pre-existing data directory kept its mode, so
/// `issuer.sqlite3` and its WAL were created 0644.
#[tokio::test]
async fn database_files_are_private_even_in_an_open_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = config(&dir);
    let warnings = bootstrap::secure_data_files(&c).unwrap();
    assert!(
        warnings.iter().any(|w| w.contains("mode 755")),
        "the open directory is reported: {warnings:?}"
    );
    let db = bootstrap::open_database(&c).await.unwrap();
    drop(db);
    let file = c.sqlite_file();
    assert_eq!(mode(&file), 0o600);
    for suffix in ["-wal", "-shm"] {
        let f = Path::new(&format!("{}{suffix}", file.display())).to_owned();
        if f.exists() {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }
}

#[tokio::test]
async fn files_left_readable_by_an_older_version_are_tightened() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let c = config(&dir);
    let db = bootstrap::open_database(&c).await.unwrap();
    drop(db);
    let file = c.sqlite_file();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warnings = bootstrap::secure_data_files(&c).unwrap();
    assert_eq!(mode(&file), 0o600);
    assert!(
        warnings.iter().any(|w| w.contains("had mode 644")),
        "{warnings:?}"
    );
    assert!(!warnings.iter().any(|w| w.contains("data directory")));
}
