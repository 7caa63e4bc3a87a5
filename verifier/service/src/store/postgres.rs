//! The PostgreSQL backend, for several replicas behind a load balancer:
//! every coordination (answering a transaction once, audit chains) is a
//! conditional update or a row lock in the database.

use sqlx::Postgres;
use tongban_service_kit::db;

use super::StoreError;
use super::sql::SqlStore;

/// The PostgreSQL store.
pub type PostgresStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    /// Connects and applies migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = db::open_postgres(
            url,
            max_connections,
            &sqlx::migrate!("./migrations/postgres"),
        )
        .await?;
        Ok(SqlStore {
            write: pool.clone(),
            read: pool,
        })
    }
}
