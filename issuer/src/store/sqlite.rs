//! The embedded SQLite backend (the default): one file in the data
//! directory, WAL journal, `synchronous = FULL` so a commit is on disk when
//! it returns. Writes go through a single connection (SQLite has one writer
//! anyway; this avoids busy retries), reads through a small pool.

use std::path::Path;

use sqlx::Sqlite;
use tongban_service_kit::db::{self, SqlitePools, SqliteSettings};

use super::StoreError;
use super::sql::SqlStore;
use super::sql::backfill::backfill_status_seq;

/// The SQLite store: the shared SQL ([`SqlStore`]) over SQLite.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(file: &Path) -> Result<Self, StoreError> {
        // No ping before each query: a local file does not go stale, and
        // the ping is one more hand-off to the connection's thread.
        let settings = SqliteSettings {
            ping_before_acquire: false,
            ..SqliteSettings::default()
        };
        let SqlitePools { write, read } =
            db::open_sqlite(file, &settings, &sqlx::migrate!("./migrations/sqlite")).await?;
        backfill_status_seq(&write).await?;
        Ok(SqlStore { write, read })
    }
}
