//! End-to-end tests for Tongban: they drive the real binaries in temporary
//! directories. The helpers here locate the workspace and shared vectors.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}
