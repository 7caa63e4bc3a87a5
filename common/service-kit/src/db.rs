//! Opening a service's database: the embedded SQLite file (WAL journal,
//! `synchronous = FULL` so a commit is on disk when it returns, one writer
//! connection since SQLite has one writer anyway, reads through a small
//! read-only pool) or PostgreSQL (one pool for several replicas), each
//! running the service's own migrations before it is used.
//!
//! The SQLite pragmas and pool sizes are parameters ([`SqliteSettings`]),
//! so a service tunes them where it opens its store.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Connecting (or the SQLite file).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the migrations.
    #[error("migration: {0}")]
    Migrate(#[from] MigrateError),
}

/// The SQLite pragmas and pool sizes.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// Journal mode (default WAL).
    pub journal_mode: SqliteJournalMode,
    /// When a commit is synced (default FULL: on disk when it returns).
    pub synchronous: SqliteSynchronous,
    /// Whether foreign keys are enforced (default on).
    pub foreign_keys: bool,
    /// How long a connection waits for a lock (default 10 s).
    pub busy_timeout: Duration,
    /// Connections of the writer pool (default 1).
    pub writers: u32,
    /// Connections of the read-only pool (default 4).
    pub readers: u32,
    /// Whether a pooled connection is pinged before it is handed out
    /// (sqlx's default, on). A connection to a local file does not go
    /// stale, and the ping is one more hand-off to the connection's thread
    /// and back on every query; a service under load turns it off.
    pub ping_before_acquire: bool,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        SqliteSettings {
            journal_mode: SqliteJournalMode::Wal,
            synchronous: SqliteSynchronous::Full,
            foreign_keys: true,
            busy_timeout: Duration::from_secs(10),
            writers: 1,
            readers: 4,
            ping_before_acquire: true,
        }
    }
}

/// A SQLite database's two pools.
#[derive(Debug, Clone)]
pub struct SqlitePools {
    /// Every write goes through here.
    pub write: SqlitePool,
    /// Reads (read-only connections).
    pub read: SqlitePool,
}

/// Opens (creating if needed) the SQLite file with `settings` and applies
/// `migrator` through the writer.
pub async fn open_sqlite(
    file: &Path,
    settings: &SqliteSettings,
    migrator: &Migrator,
) -> Result<SqlitePools, OpenError> {
    let opts = SqliteConnectOptions::from_str("sqlite://")?
        .filename(file)
        .create_if_missing(true)
        .journal_mode(settings.journal_mode)
        .synchronous(settings.synchronous)
        .foreign_keys(settings.foreign_keys)
        .busy_timeout(settings.busy_timeout);
    let write = SqlitePoolOptions::new()
        .max_connections(settings.writers)
        .test_before_acquire(settings.ping_before_acquire)
        .connect_with(opts.clone())
        .await?;
    migrator.run(&write).await?;
    let read = SqlitePoolOptions::new()
        .max_connections(settings.readers)
        .test_before_acquire(settings.ping_before_acquire)
        .connect_with(opts.read_only(true))
        .await?;
    Ok(SqlitePools { write, read })
}

/// How long a PostgreSQL pool waits for a free connection.
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to PostgreSQL with at most `max_connections` and applies
/// `migrator`.
pub async fn open_postgres(
    url: &str,
    max_connections: u32,
    migrator: &Migrator,
) -> Result<PgPool, OpenError> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .connect(url)
        .await?;
    migrator.run(&pool).await?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sqlite_file_opens_with_its_pragmas_and_a_read_only_pool() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.sqlite3");
        let pools = open_sqlite(&file, &SqliteSettings::default(), &Migrator::DEFAULT)
            .await
            .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pools.write)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&pools.write)
            .await
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&pools.read)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        assert!(
            sqlx::query("CREATE TABLE t (x INTEGER)")
                .execute(&pools.read)
                .await
                .is_err()
        );
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&pools.write)
            .await
            .unwrap();
    }
}
