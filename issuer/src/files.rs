//! Files the operator's tooling writes: atomically (temporary file, fsync,
//! rename), and secret keys readable by their owner only.

use std::path::{Path, PathBuf};

use tongban_cli_support::fs;

/// A file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

fn err(path: &Path, reason: impl ToString) -> FileError {
    FileError {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes `bytes` to `path` atomically: a crash leaves the old file or the
/// new one, never half of either.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    fs::write_atomic(path, bytes, fs::Access::Default).map_err(|e| err(path, e))
}

/// Creates a new secret file (mode 0600 on Unix); refuses to overwrite.
pub fn create_secret(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    fs::create_secret(path, bytes).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            err(path, "already exists; refusing to overwrite a key")
        } else {
            err(path, e)
        }
    })
}

/// Reads a file as text.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|e| err(path, e))
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<serde_json::Value, FileError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| err(path, format!("not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.json");
        create_secret(&p, b"secret").unwrap();
        assert!(create_secret(&p, b"other").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        write_atomic(&dir.path().join("list.json"), b"{}").unwrap();
        write_atomic(&dir.path().join("list.json"), b"[]").unwrap();
        assert_eq!(std::fs::read(dir.path().join("list.json")).unwrap(), b"[]");
    }
}
