//! A trust bundle on disk: content-addressed files plus `manifest.json`.
//!
//! Writing is crash-safe: every new file is written to a temporary name,
//! fsynced and renamed into place; the manifest is replaced last the same
//! way, and the directory is fsynced. Until that final rename the previous
//! manifest, and every file it names, is untouched, so a crash or a full
//! disk mid-sync leaves the previous bundle intact. Files no manifest names
//! any more are removed after the switch.

use std::fs;
use std::path::Path;

use tongban_cli_support::fs as fs_support;
use tongban_verifier::bundle::{BundleFiles, Held, MANIFEST_FILE, Manifest, TrustBundle};
use tongban_verifier::{KeyWithId, TrustAnchors};

use crate::SyncError;

fn io_err(dir: &Path, what: &str, e: std::io::Error) -> SyncError {
    SyncError::Bundle {
        dir: dir.to_path_buf(),
        reason: format!("{what}: {e}"),
    }
}

/// Loads and verifies the bundle in `dir` under pinned bare anchor keys.
pub fn load(dir: &Path, anchors: &[KeyWithId]) -> Result<TrustBundle, SyncError> {
    load_under(dir, &TrustAnchors::from_keys(anchors))
}

/// Loads and verifies the bundle in `dir` under the pinned root `pin`,
/// following the roots of trust the bundle keeps.
pub fn load_under(dir: &Path, pin: &TrustAnchors) -> Result<TrustBundle, SyncError> {
    let manifest = fs::read(dir.join(MANIFEST_FILE)).map_err(|e| {
        io_err(
            dir,
            "cannot read manifest.json (has this counter synced?)",
            e,
        )
    })?;
    TrustBundle::load_under(&manifest, &mut |name| fs::read(dir.join(name)).ok(), pin)
        .map_err(|rejection| SyncError::Refused { rejection })
}

/// The sequence number of the bundle already in `dir`, for rollback
/// protection (`None` if there is no readable manifest).
pub fn held_sequence(dir: &Path) -> Option<u64> {
    let bytes = fs::read(dir.join(MANIFEST_FILE)).ok()?;
    serde_json::from_slice::<Manifest>(&bytes)
        .ok()
        .map(|m| m.sequence)
}

/// What the bundle in `dir` holds, for rollback protection: the trust
/// list's and the root's sequence (both `None` without a readable
/// manifest).
pub fn held(dir: &Path) -> Held {
    let Some(m) = read_manifest(dir) else {
        return Held::default();
    };
    Held {
        sequence: Some(m.sequence),
        root_sequence: Some(m.root_sequence),
    }
}

/// The signed roots of trust the bundle in `dir` keeps (unverified: a sync
/// walks them again from its pinned root). Unreadable ones are skipped.
pub fn held_roots(dir: &Path) -> Vec<String> {
    let Some(m) = read_manifest(dir) else {
        return Vec::new();
    };
    m.roots
        .iter()
        .filter(|r| !r.file.contains('/') && !r.file.starts_with('.'))
        .filter_map(|r| fs::read_to_string(dir.join(&r.file)).ok())
        .collect()
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let bytes = fs::read(dir.join(MANIFEST_FILE)).ok()?;
    serde_json::from_slice::<Manifest>(&bytes).ok()
}

/// Writes `files` (the manifest last) atomically into `dir`.
pub fn write(dir: &Path, files: &BundleFiles) -> Result<(), SyncError> {
    write_with(dir, files, || Ok(()))
}

/// [`write`] with a hook run just before the manifest switch (tests use it
/// to simulate a crash there).
pub fn write_with(
    dir: &Path,
    files: &BundleFiles,
    before_switch: impl FnOnce() -> std::io::Result<()>,
) -> Result<(), SyncError> {
    fs::create_dir_all(dir).map_err(|e| io_err(dir, "cannot create the bundle directory", e))?;
    let (manifest, rest): (Vec<_>, Vec<_>) =
        files.iter().partition(|(name, _)| name == MANIFEST_FILE);
    for (name, bytes) in rest {
        let target = dir.join(name);
        if fs::read(&target).is_ok_and(|existing| existing == *bytes) {
            continue; // content-addressed: already there
        }
        write_atomically(dir, name, bytes)?;
    }
    before_switch().map_err(|e| io_err(dir, "interrupted before the switch", e))?;
    let Some((_, manifest)) = manifest.first() else {
        return Err(io_err(
            dir,
            "no manifest to write",
            std::io::Error::other("internal"),
        ));
    };
    write_atomically(dir, MANIFEST_FILE, manifest)?;
    remove_unreferenced(dir, files);
    Ok(())
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SyncError> {
    fs_support::write_atomic(&dir.join(name), bytes, fs_support::Access::Default)
        .map_err(|e| io_err(dir, &format!("cannot write {name}"), e))
}

/// Removes bundle files the new manifest no longer names. Best effort: a
/// leftover file is harmless.
fn remove_unreferenced(dir: &Path, files: &BundleFiles) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let ours = ((name.starts_with("trust-list-") || name.starts_with("status-"))
            && name.ends_with(".jwt"))
            || ((name.starts_with("trust-list-") || name.starts_with("root-"))
                && name.ends_with(".json"));
        if ours && !files.iter().any(|(n, _)| *n == name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_before_the_switch_leaves_the_old_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let old: BundleFiles = vec![
            ("status-aaaa.jwt".into(), b"old".to_vec()),
            (MANIFEST_FILE.into(), b"{\"old\":1}".to_vec()),
        ];
        write(dir.path(), &old).unwrap();
        let new: BundleFiles = vec![
            ("status-bbbb.jwt".into(), b"new".to_vec()),
            (MANIFEST_FILE.into(), b"{\"new\":1}".to_vec()),
        ];
        let err =
            write_with(dir.path(), &new, || Err(std::io::Error::other("power cut"))).unwrap_err();
        assert!(err.to_string().contains("power cut"));
        assert_eq!(
            fs::read(dir.path().join(MANIFEST_FILE)).unwrap(),
            b"{\"old\":1}"
        );
        assert_eq!(
            fs::read(dir.path().join("status-aaaa.jwt")).unwrap(),
            b"old"
        );
        // The next complete sync switches and cleans up.
        write(dir.path(), &new).unwrap();
        assert_eq!(
            fs::read(dir.path().join(MANIFEST_FILE)).unwrap(),
            b"{\"new\":1}"
        );
        assert!(!dir.path().join("status-aaaa.jwt").exists());
    }
}
