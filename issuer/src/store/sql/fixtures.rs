//! What the SQL stores' unit tests share: a SQLite store with one agency
//! (`a`, key `k`) and credentials to insert for it.

use std::path::Path;

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
