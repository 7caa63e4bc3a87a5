//! Backing up a running issuer and restoring it (`specs/issuer-api.md`
//! §8.1): an operator's tools, next to the service rather than inside it.
//!
//! * [`Database::backup_to`] writes a consistent copy of an SQLite database
//!   while the service keeps issuing (`VACUUM INTO`, never a file copy
//!   under writes), with the sealed signing keys, then opens the copy and
//!   checks every audit chain in it before calling it a backup.
//! * [`restore`] puts a backup in place of a lost database — never over an
//!   existing one — checks every chain, and moves every agency to a fresh
//!   status list, so credentials issued after the backup was taken (which
//!   the backup does not know, but wallets hold) never share a status index
//!   with the ones issued next.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`, point-in-time
//! recovery); after restoring one, [`Database::fresh_status_lists`] is the
//! step that remains.

use std::path::{Path, PathBuf};

use super::Database;
use crate::config::Config;
use crate::store::sqlite::SqliteStore;
use crate::store::{Backend, FreshList, StoreError};

/// Why a backup or restore did not happen. Nothing is left half-written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The backend backs up with its own tools.
    #[error(
        "a PostgreSQL database is backed up with pg_dump (or the server's point-in-time recovery), not by tongban-issuer; see specs/issuer-api.md §8.1"
    )]
    NotSqlite,
    /// The destination exists; backups and restores never overwrite.
    #[error("{0} already exists; a backup or restore never overwrites a file")]
    Exists(PathBuf),
    /// The file given as a backup is missing.
    #[error("{0} does not exist")]
    Missing(PathBuf),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database refused.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The database could not be opened, or a check on it failed.
    #[error("database: {0}")]
    Database(String),
    /// The copy (or the backup being restored) has an audit chain that does
    /// not verify: it is not used.
    #[error(
        "the audit chain of agency {agency} in {path} does not verify ({reason}); the file is not used"
    )]
    ChainBroken {
        /// The file checked.
        path: PathBuf,
        /// The agency.
        agency: String,
        /// Where it broke.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One agency in a backup or a restored database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyState {
    /// The agency.
    pub agency: String,
    /// Audit entries in its intact chain.
    pub audit_entries: i64,
}

/// What [`Database::backup_to`] wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The backup file.
    pub file: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Every agency in it, with its verified chain.
    pub agencies: Vec<AgencyState>,
}

/// What [`restore`] did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// The database file now in place.
    pub file: PathBuf,
    /// Every agency, with its verified chain.
    pub agencies: Vec<AgencyState>,
    /// The status lists every agency moved to.
    pub fresh_lists: Vec<FreshList>,
}

impl Database {
    /// Writes a consistent copy of this (SQLite) database to `dest`, a new
    /// file, while the service keeps working; then checks every audit chain
    /// of the copy. The copy is readable by its owner only.
    pub async fn backup_to(&self, dest: &Path) -> Result<BackupReport, BackupError> {
        if self.0.backend() != Backend::Sqlite {
            return Err(BackupError::NotSqlite);
        }
        if dest.exists() {
            return Err(BackupError::Exists(dest.to_owned()));
        }
        let tmp = temporary_beside(dest)?;
        let _ = std::fs::remove_file(&tmp);
        let written = self
            .0
            .backup_into(&tmp.to_string_lossy())
            .await
            .map_err(BackupError::from);
        let result = match written {
            Ok(_) => finish_file(&tmp, dest).await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Moves every agency to a fresh status list (see [`restore`]); the
    /// step to run after restoring a PostgreSQL database with its own tools.
    pub async fn fresh_status_lists(
        &self,
        actor: &str,
        now: i64,
    ) -> Result<Vec<FreshList>, BackupError> {
        Ok(self.0.advance_to_fresh_status_lists(actor, now).await?)
    }

    /// Every agency's chain, verified; the first broken one is an error.
    async fn verified_agencies(&self, file: &Path) -> Result<Vec<AgencyState>, BackupError> {
        let checks = self
            .verify_audit(None)
            .await
            .map_err(|e| BackupError::Database(e.to_string()))?;
        checks
            .into_iter()
            .map(|c| match c.result {
                Ok(n) => Ok(AgencyState {
                    agency: c.agency,
                    audit_entries: n,
                }),
                Err(e) => Err(BackupError::ChainBroken {
                    path: file.to_owned(),
                    agency: c.agency,
                    reason: e.to_string(),
                }),
            })
            .collect()
    }
}

/// `.NAME.tmp-PID` beside `dest`.
fn temporary_beside(dest: &Path) -> Result<PathBuf, BackupError> {
    let name = dest.file_name().ok_or_else(|| BackupError::Io {
        path: dest.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
    })?;
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Makes `tmp` private and durable, checks its chains, and renames it to
/// `dest`.
async fn finish_file(tmp: &Path, dest: &Path) -> Result<BackupReport, BackupError> {
    make_private_and_durable(tmp)?;
    let agencies = {
        let copy = Database(std::sync::Arc::new(SqliteStore::open(tmp).await?));
        copy.verified_agencies(dest).await?
    };
    remove_sqlite_sidecars(tmp);
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    std::fs::rename(tmp, dest).map_err(io(dest))?;
    sync_parent(dest)?;
    let bytes = std::fs::metadata(dest).map_err(io(dest))?.len();
    Ok(BackupReport {
        file: dest.to_owned(),
        bytes,
        agencies,
    })
}

fn make_private_and_durable(file: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(io(file))?;
    }
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .map_err(io(file))
}

fn sync_parent(file: &Path) -> Result<(), BackupError> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tongban_cli_support::fs::sync_dir(dir).map_err(io(dir))
}

/// SQLite leaves `-wal`/`-shm` beside a file it opened in WAL mode until
/// the last connection closes; a closed copy needs neither.
fn remove_sqlite_sidecars(file: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}

/// Restores the SQLite backup `from` as the database of `config` (whose
/// database file must not exist: a restore never overwrites), checks every
/// audit chain, and moves every agency to a fresh status list, recording
/// it in each agency's audit chain as `actor` at `now`.
pub async fn restore(
    config: &Config,
    from: &Path,
    actor: &str,
    now: i64,
) -> Result<RestoreReport, BackupError> {
    if config.database_url.is_some() {
        return Err(BackupError::NotSqlite);
    }
    if !from.is_file() {
        return Err(BackupError::Missing(from.to_owned()));
    }
    let target = config.sqlite_file();
    for suffix in ["", "-wal", "-shm"] {
        let f = PathBuf::from(format!("{}{suffix}", target.display()));
        if f.exists() {
            return Err(BackupError::Exists(f));
        }
    }
    let tmp = temporary_beside(&target)?;
    let _ = std::fs::remove_file(&tmp);
    let placed = async {
        std::fs::copy(from, &tmp).map_err(io(&tmp))?;
        make_private_and_durable(&tmp)?;
        {
            // The backup as it is must verify before anything is changed.
            let copy = Database(std::sync::Arc::new(SqliteStore::open(&tmp).await?));
            copy.verified_agencies(from).await?;
        }
        remove_sqlite_sidecars(&tmp);
        std::fs::rename(&tmp, &target).map_err(io(&target))?;
        sync_parent(&target)
    }
    .await;
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        remove_sqlite_sidecars(&tmp);
        return Err(e);
    }
    let database = Database::open(config)
        .await
        .map_err(|e| BackupError::Database(e.to_string()))?;
    let fresh_lists = database.fresh_status_lists(actor, now).await?;
    let agencies = database.verified_agencies(&target).await?;
    Ok(RestoreReport {
        file: target,
        agencies,
        fresh_lists,
    })
}
