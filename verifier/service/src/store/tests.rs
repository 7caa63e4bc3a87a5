//! The group write on both backends: every write of a group gets its own
//! result, a refused one does not stop the others, and the audit entries
//! of a group extend the chain without a gap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use super::{
    Answer, ClientIdPrefix, Store, StoreError, Tenant, TransactionRecord, TxState, Write, Written,
};
use crate::audit::{PendingEntry, verify_chain};

fn tenant() -> Tenant {
    Tenant {
        id: "t1".into(),
        name_zh: "青浦".into(),
        name_en: "Qingpu".into(),
        region: "310118".into(),
        dns: "t1.example".into(),
        client_id_prefix: ClientIdPrefix::X509Hash,
        allow_plain_direct_post: false,
        cert_der: vec![1],
        sealed_key: vec![2],
        created_at: 100,
    }
}

fn record(id: &str) -> TransactionRecord {
    TransactionRecord {
        id: id.into(),
        tenant_id: "t1".into(),
        token_id: "tok".into(),
        state: TxState::Pending,
        flow: "cross_device".into(),
        nonce: "n".into(),
        state_param: "s".into(),
        dcql: "{}".into(),
        transaction_data: None,
        purpose: "{}".into(),
        response_mode: "direct_post.jwt".into(),
        enc_kid: "k".into(),
        enc_sealed: vec![3],
        enc_public_jwk: "{}".into(),
        redirect_page: None,
        response_code_hash: None,
        created_at: 100,
        expires_at: 400,
        answered_at: None,
        outcome: None,
        claims: None,
        claims_erase_at: None,
    }
}

fn entry(action: &str, subject: &str) -> PendingEntry {
    PendingEntry::new("t1", "test", action, subject, json!({}))
}

fn create(id: &str) -> Write {
    Write::Create {
        record: Box::new(record(id)),
        audit: entry("transaction.create", id),
    }
}

fn answer(id: &str, now: i64) -> Write {
    Write::Answer {
        id: id.into(),
        answer: Answer {
            state: TxState::Accepted,
            outcome: "{}".into(),
            claims: Some(format!("{{\"of\":\"{id}\"}}")),
            claims_erase_at: Some(now + 600),
            response_code_hash: None,
        },
        now,
        audit: entry("transaction.answer", id),
    }
}

fn take(id: &str) -> Write {
    Write::TakeClaims {
        id: id.into(),
        now: 300,
        audit: entry("transaction.claims_read", id),
    }
}

async fn group_writes(store: &dyn Store) {
    store
        .create_tenant(&tenant(), entry("tenant.create", "t1"))
        .await
        .unwrap();
    let r = store
        .write_group(&[create("a"), create("b"), create("c")])
        .await
        .unwrap();
    assert!(r.iter().all(|r| matches!(r, Ok(Written::Created))));
    let r = store
        .write_group(&[
            answer("a", 200),
            answer("a", 200),
            answer("b", 500),
            answer("c", 200),
            take("a"),
            take("a"),
            take("b"),
        ])
        .await
        .unwrap();
    assert!(matches!(r[0], Ok(Written::Answered)));
    assert!(matches!(r[1], Err(StoreError::InvalidTransition(_))));
    assert!(
        matches!(r[2], Err(StoreError::InvalidTransition(_))),
        "b expired at 400"
    );
    assert!(matches!(r[3], Ok(Written::Answered)));
    assert_eq!(
        r[4].as_ref().unwrap(),
        &Written::Claims(Some("{\"of\":\"a\"}".into()))
    );
    assert_eq!(r[5].as_ref().unwrap(), &Written::Claims(None));
    assert_eq!(r[6].as_ref().unwrap(), &Written::Claims(None));
    assert_eq!(
        store.transaction("b").await.unwrap().state,
        TxState::Pending
    );
    assert_eq!(
        store.transaction("c").await.unwrap().state,
        TxState::Accepted
    );
    // A duplicate id spoils its group: nothing of it is committed.
    assert!(
        store
            .write_group(&[create("d"), create("a")])
            .await
            .is_err()
    );
    assert!(matches!(
        store.transaction("d").await,
        Err(StoreError::NotFound(_))
    ));
    // tenant + 3 creates + 2 answers + 1 claims read, in order, no gap.
    let entries = store.audit_entries("t1", 0, 100).await.unwrap();
    let (seq, head) = store.audit_head("t1").await.unwrap();
    assert_eq!(verify_chain("t1", &entries, (seq, &head)).unwrap(), 7);
    let actions: Vec<_> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(
        actions[4..],
        [
            ("transaction.answer", "a"),
            ("transaction.answer", "c"),
            ("transaction.claims_read", "a"),
        ]
    );
}

#[tokio::test]
async fn a_group_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite3"))
        .await
        .unwrap();
    group_writes(&store).await;
}

#[tokio::test]
async fn a_group_on_postgres() {
    let Ok(url) = std::env::var("TONGBAN_TEST_DATABASE_URL") else {
        eprintln!("PostgreSQL NOT TESTED: TONGBAN_TEST_DATABASE_URL is not set");
        return;
    };
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let name = format!(
        "tongban_vs_group_{}",
        crate::tokens::random_b64(6)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, query) = url
        .split_once('?')
        .map_or((url.as_str(), String::new()), |(b, q)| (b, format!("?{q}")));
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let store = PostgresStore::open(&format!("{prefix}/{name}{query}"), 4)
        .await
        .unwrap();
    group_writes(&store).await;
    store.write.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await;
}
