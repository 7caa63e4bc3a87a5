//! What the SQL stores' unit tests share: a SQLite store with one agency
//! (`a`, key `k`), credentials to insert for it, and a fresh PostgreSQL
//! database when `TONGBAN_TEST_DATABASE_URL` is set.

use std::path::Path;

use rand_core::{OsRng, RngCore as _};

use crate::store::sqlite::SqliteStore;
use crate::store::{Agency, CredentialRecord, CredentialStatus, NewCredential, Store, StoredKey};

/// A fresh SQLite store in `dir` with agency `a` and its signing key `k`.
pub(crate) async fn store_with_agency(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("t.sqlite3")).await.unwrap();
    add_agency(&store, "a").await;
    store
}

/// Adds agency `id` with its signing key `k`.
pub(super) async fn add_agency(store: &dyn Store, id: &str) {
    let agency = Agency {
        id: id.into(),
        iss: format!("https://i.test/agencies/{id}"),
        name_zh: "甲".into(),
        name_en: "A".into(),
        region: "320509".into(),
        vcts: vec!["urn:tongban:business-licence:1".into()],
        encryption_required: false,
        status_list_size: 1024,
        index_key: "00".into(),
        created_at: 1,
        enc_kid: "e".into(),
        enc_public_jwk: "{}".into(),
        enc_sealed: vec![0],
    };
    let key = StoredKey {
        agency_id: id.into(),
        kid: "k".into(),
        public_jwk: "{}".into(),
        sealed: vec![0],
        created_at: 1,
        retired_at: None,
        x5c: None,
    };
    store.create_agency(&agency, &key, "test").await.unwrap();
}

/// A credential of agency `a` with this id, licence id and status index
/// (and status counter).
pub(crate) fn credential(id: &str, licence: &str, idx: i64) -> NewCredential {
    credential_of("a", id, licence, idx)
}

/// [`credential`] of another agency.
pub(super) fn credential_of(agency: &str, id: &str, licence: &str, idx: i64) -> NewCredential {
    NewCredential {
        status_seq: idx,
        record: CredentialRecord {
            id: id.into(),
            agency_id: agency.into(),
            vct: "urn:tongban:business-licence:1".into(),
            licence_id: Some(licence.into()),
            status_list: 0,
            status_idx: idx,
            status: CredentialStatus::Valid,
            holder_thumbprint: None,
            kid: "k".into(),
            issued_at: 1,
            expires_at: None,
            offer_id: None,
            batch_id: None,
            key_storage: None,
        },
        actor: "test".into(),
    }
}

/// A PostgreSQL database made for one test on the server of
/// `TONGBAN_TEST_DATABASE_URL`, dropped by [`PgDatabase::drop_now`].
pub(super) struct PgDatabase {
    admin: sqlx::PgPool,
    name: String,
    /// The database's URL.
    pub(super) url: String,
}

impl PgDatabase {
    /// A fresh database named `<prefix>_<random>`, or `None` (and a notice
    /// on stderr) when `TONGBAN_TEST_DATABASE_URL` is not set.
    pub(super) async fn create(prefix: &str, what: &str) -> Option<PgDatabase> {
        let Ok(url) = std::env::var("TONGBAN_TEST_DATABASE_URL") else {
            eprintln!(
                "\n*** PostgreSQL {what} NOT TESTED: TONGBAN_TEST_DATABASE_URL is not set ***\n"
            );
            return None;
        };
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        let mut r = [0u8; 6];
        OsRng.fill_bytes(&mut r);
        let name = format!("{prefix}_{}", hex::encode(r));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let (base, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let (host, _) = base.rsplit_once('/').unwrap();
        let url = format!(
            "{host}/{name}{}{query}",
            if query.is_empty() { "" } else { "?" }
        );
        Some(PgDatabase { admin, name, url })
    }

    /// Drops the database, whoever is still connected.
    pub(super) async fn drop_now(self) {
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await
        .unwrap();
    }
}
