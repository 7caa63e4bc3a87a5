//! A PostgreSQL database made for one test on the server that
//! `TONGBAN_TEST_DATABASE_URL` names (`.ci/run` starts PostgreSQL 15 and
//! sets it), and dropped when the test is done: the issuer's and the
//! verifier service's harnesses and the issuer's store tests make theirs
//! here.
#![allow(clippy::panic)] // a test that cannot have its database fails loudly

use rand::RngCore as _;

/// The variable naming the server's URL (a role that may `CREATE
/// DATABASE`).
pub const URL_VAR: &str = "TONGBAN_TEST_DATABASE_URL";

/// A database of its own for one test.
#[derive(Debug)]
pub struct FreshDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshDatabase {
    /// Makes `<prefix>_<12 random hex digits>`, or says loudly on stderr that
    /// `what` is not tested and answers `None` when [`URL_VAR`] is not set.
    /// Panics when it is set but the server cannot be reached.
    pub async fn create(prefix: &str, what: &str) -> Option<FreshDatabase> {
        let Ok(admin_url) = std::env::var(URL_VAR) else {
            eprintln!(
                "\n*** PostgreSQL {what} NOT TESTED: {URL_VAR} is not set. \
                 .ci/run starts PostgreSQL 15 and sets it; locally: \
                 pg_ctlcluster 15 main start and export \
                 {URL_VAR}=postgres://user:pass@127.0.0.1/postgres ***\n"
            );
            return None;
        };
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL is not reachable: {e}"));
        let mut r = [0u8; 6];
        rand::rngs::OsRng.fill_bytes(&mut r);
        let suffix: String = r.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("{prefix}_{suffix}");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        admin.close().await;
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url.as_str(), String::new()),
        };
        let (server, _) = base
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("{URL_VAR} has no database path: {admin_url}"));
        let url = format!("{server}/{name}{query}");
        Some(FreshDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database, whoever is still connected. Best effort: a
    /// server that went away meanwhile leaves it behind.
    pub async fn drop_now(self) {
        if let Ok(admin) = sqlx::PgPool::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&admin)
            .await;
            admin.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_fresh_database_is_reachable_at_its_url_and_gone_after_drop() {
        let Some(db) = FreshDatabase::create("tongban_ts", "test support").await else {
            return;
        };
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        let name: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(name, db.name);
        pool.close().await;
        let (admin_url, dropped) = (db.admin_url.clone(), db.name.clone());
        db.drop_now().await;
        let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&dropped)
            .fetch_one(&admin)
            .await
            .unwrap();
        assert_eq!(left, 0);
    }
}
