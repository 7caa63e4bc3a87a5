//! The PostgreSQL backend, for several replicas behind a load balancer. All
//! coordination is in the database: status indices come from an atomic
//! `UPDATE … RETURNING` on the agency row, audit chains from the same row's
//! lock, offers and nonces from conditional updates and deletes.

use std::sync::Arc;

use sqlx::Postgres;
use tongban_service_kit::db;

use super::StoreError;
use super::sql::SqlStore;
use super::sql::backfill::backfill_status_seq;
use super::sql::postgres_groups::ChainGroups;

/// The PostgreSQL store: the shared SQL ([`SqlStore`]) over PostgreSQL.
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
        backfill_status_seq(&pool).await?;
        Ok(SqlStore {
            groups: Arc::new(ChainGroups::new(pool.clone())),
            write: pool.clone(),
            read: pool,
        })
    }
}
