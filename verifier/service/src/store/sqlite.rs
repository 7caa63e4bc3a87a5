//! The embedded SQLite backend (the default): one file in the data
//! directory, WAL journal, `synchronous = FULL`. Writes go through one
//! connection (SQLite has one writer), reads through a small pool.
//!
//! Neither pool pings a connection before handing it out (sqlx's default):
//! a connection to a local file does not go stale, and the ping is one
//! more hand-off to the connection's thread and back on every query.

use std::path::Path;

use sqlx::Sqlite;
use tongban_service_kit::db::{self, SqlitePools, SqliteSettings};

use super::StoreError;
use super::sql::SqlStore;

/// The SQLite store.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(file: &Path) -> Result<Self, StoreError> {
        let settings = SqliteSettings {
            ping_before_acquire: false,
            ..SqliteSettings::default()
        };
        let SqlitePools { write, read } =
            db::open_sqlite(file, &settings, &sqlx::migrate!("./migrations/sqlite")).await?;
        Ok(SqlStore { write, read })
    }
}
