//! The PostgreSQL backend, for several replicas behind a load balancer:
//! every coordination (answering a transaction once, audit chains) is a
//! conditional update or a row lock in the database.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::PgPoolOptions;

use super::StoreError;
use super::sql::SqlStore;

/// The PostgreSQL store.
pub type PostgresStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    /// Connects and applies migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(SqlStore {
            write: pool.clone(),
            read: pool,
        })
    }
}
