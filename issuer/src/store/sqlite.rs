//! The embedded SQLite backend (the default): one file in the data
//! directory, WAL journal, `synchronous = FULL` so a commit is on disk when
//! it returns. Issued credentials are committed in groups by a thread with
//! a connection of its own (`sql/sqlite_writer.rs`); the store's
//! other writes go through one sqlx connection. The two take turns in the
//! order they ask (`SqlStore::write_turn`), and both begin their
//! transactions with `BEGIN IMMEDIATE`, so a writer in another process is
//! waited for within the busy timeout. Reads go through a small read-only
//! pool.

use std::path::Path;
use std::sync::Arc;

use sqlx::Sqlite;
use tongban_service_kit::db::{self, SqlitePools, SqliteSettings};

use super::StoreError;
use super::sql::SqlStore;
use super::sql::backfill::backfill_status_seq;
use super::sql::sqlite_writer::GroupWriter;

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
        let groups = GroupWriter::start(file, settings.busy_timeout)?;
        Ok(SqlStore {
            write,
            read,
            groups: Arc::new(groups),
        })
    }
}
