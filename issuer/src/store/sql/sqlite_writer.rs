//! SQLite's group commit on a thread of its own, with a connection of its
//! own.
//!
//! Through sqlx, each statement of a group's transaction (`BEGIN`, the
//! credentials' `INSERT`, the audit chain's head, the audit entries, the
//! new head, `COMMIT`, and the ping sqlx makes when the connection goes
//! back to its pool) is a hand-off from the runtime to sqlx's connection
//! thread and back, and under load each hand-off waits for a core: a group
//! of about 36 credentials took 4 ms to commit, of which SQLite's own work
//! and the fsync were about a quarter, and the one writer set the pace
//! while part of the machine stayed idle (`docs/performance.md`, issue 16's
//! fourth issuing round). Here the whole transaction runs on one thread
//! that owns its connection: one hand-off in (the group) and one out (the
//! outcomes).
//!
//! What it keeps: one transaction per group, opened with `BEGIN IMMEDIATE`
//! so the write lock is held from before the audit chain's head is read
//! until `COMMIT`; `synchronous = FULL`, so a group is on disk when its
//! callers are answered; the statements of the shared SQL, the same texts
//! and built by the same functions (`writes.rs`; its `$N` placeholders are
//! bound here by name); a licence id already taken refusing only
//! its own credential.
//!
//! Two connections now write the file: this one and the store's sqlx
//! writer (status changes, offers, tokens, status-index blocks). SQLite
//! lets one of them write at a time, and they take turns in the order they
//! ask ([`super::SqlStore::write_turn`]): left to SQLite's own wait for its
//! lock, which retries after ever longer sleeps (up to 100 ms each), a
//! status-index block that kept finding the group writer busy would hold
//! up every issuing request behind it (one load run without the turns
//! stalled for 1.2 s with most of the machine idle).
//! Every transaction of the sqlx writer begins with `BEGIN IMMEDIATE` as
//! well ([`super::Dialect::BEGIN_WRITE`]), so neither reads a snapshot that
//! the other's commit makes stale, and a writer in another process (an
//! operator's command) is waited for within the busy timeout.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, named_params};
use tokio::sync::{mpsc, oneshot};

use super::statement::Placeholders;
use super::writes::{
    INSERT_CHUNK, LICENCE_ID_TAKEN, RESERVE_AUDIT_SEQ, SET_AUDIT_HEAD, audit_values,
    credential_values, issue_entries_by_agency, key_attestations, link_entries, stored_items,
    stored_rows_select, which_stored,
};
use super::{GroupCommit, GroupOutcome};
use crate::audit::PendingEntry;
use crate::store::{Conflict, NewCredential, StoreError};

/// Groups waiting for the writer. The commit task hands over one group at
/// a time and waits for it, so one would do; a few leave room for the
/// store's other callers (tests, tools) without blocking.
const QUEUE: usize = 4;

/// Prepared statements kept per connection: a group's `INSERT` text
/// depends on its size, and groups come in a few dozen sizes under load.
const STATEMENT_CACHE: usize = 128;

/// Each group's outcome ([`GroupOutcome`]).
type Outcome = GroupOutcome;

/// A group handed to the writer.
struct Job {
    items: Vec<NewCredential>,
    at: i64,
    reply: oneshot::Sender<Outcome>,
}

/// The handle of the writer thread; the thread ends when every handle is
/// gone, after the group it is committing.
#[derive(Debug)]
pub struct GroupWriter {
    jobs: mpsc::Sender<Job>,
    /// The store's write turn ([`super::SqlStore::write_turn`]): a group
    /// is committed in it, as every other write is.
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl GroupWriter {
    /// Opens the writer's connection to `file` (which the store has
    /// created and migrated) and starts its thread.
    pub(crate) fn start(file: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let conn = connect(file, busy_timeout)?;
        let (jobs, rx) = mpsc::channel(QUEUE);
        let writer = Writer {
            conn: Some(conn),
            file: file.to_owned(),
            busy_timeout,
        };
        std::thread::Builder::new()
            .name("sqlite-groups".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Corrupt(format!("cannot start the SQLite writer: {e}")))?;
        Ok(GroupWriter {
            jobs,
            turn: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Waits for the store's write turn, in the order asked for.
    async fn take_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.turn.clone().lock_owned().await
    }
}

impl GroupCommit for GroupWriter {
    /// Stores the credentials with their audit entries in one transaction
    /// on the writer's thread ([`crate::store::Store::insert_credentials`]).
    async fn insert(&self, items: &[NewCredential], at: i64) -> Outcome {
        let _turn = self.take_turn().await;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            items: items.to_vec(),
            at,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Whether the writer's thread still takes groups (it ends only when
    /// the store is dropped, or if it panicked): part of the store's
    /// readiness.
    fn check_running(&self) -> Result<(), StoreError> {
        if self.jobs.is_closed() {
            Err(stopped())
        } else {
            Ok(())
        }
    }

    /// Every write of the store waits for its turn.
    async fn turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        Some(self.take_turn().await)
    }
}

/// The writer thread is gone (it only stops when the store is dropped,
/// or if it panicked).
fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::WorkerCrashed)
}

/// The writer's connection: the file's own journal (WAL, which the store
/// set when it created the file), `synchronous = FULL` and foreign keys
/// as on the store's connections, and the same busy timeout.
fn connect(file: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let journal: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "{} is in journal mode {journal}, not WAL",
            file.display()
        )));
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// The writer thread's state.
struct Writer {
    /// Its connection; `None` after one was closed, until the next group
    /// opens another.
    conn: Option<Connection>,
    file: PathBuf,
    busy_timeout: Duration,
}

impl Writer {
    /// Commits each group and answers it, until every handle is gone.
    fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        while let Some(Job { items, at, reply }) = jobs.blocking_recv() {
            let outcome = self.commit(&items, at);
            drop(items);
            let _ = reply.send(outcome);
        }
    }

    /// One group on the writer's connection. A connection that a failed
    /// group left inside its transaction (its rollback failed too) is
    /// closed, and the next group opens a new one.
    fn commit(&mut self, items: &[NewCredential], at: i64) -> Outcome {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => connect(&self.file, self.busy_timeout)?,
        };
        let outcome = commit_group(&mut conn, items, at);
        if outcome.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if conn.is_autocommit() {
            self.conn = Some(conn);
        } else {
            tracing::error!("the SQLite writer's connection is stuck in a transaction; closing it");
        }
        outcome
    }
}

/// One group, one transaction: the rows whose unique values are free, the
/// audit entries of those stored, then why each other one was refused.
fn commit_group(conn: &mut Connection, items: &[NewCredential], at: i64) -> Outcome {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored = insert_free_credential_rows(&tx, items)?;
    for (agency, entries) in issue_entries_by_agency(stored_items(items, &stored)) {
        append_audit(&tx, agency, entries, at)?;
    }
    let mut out = Vec::with_capacity(items.len());
    for (item, stored) in items.iter().zip(stored) {
        out.push(if stored {
            Ok(())
        } else {
            Err(refusal(&tx, item)?)
        });
    }
    tx.commit()?;
    Ok(out)
}

/// [`super::writes::insert_free_credential_rows`] on this connection.
fn insert_free_credential_rows(
    conn: &Connection,
    items: &[NewCredential],
) -> Result<Vec<bool>, StoreError> {
    let mut stored = Vec::with_capacity(items.len());
    for chunk in items.chunks(INSERT_CHUNK) {
        let key_attestations = key_attestations(chunk);
        let mut insert = credential_values(Placeholders::InOrder, chunk, &key_attestations);
        insert.push(" ON CONFLICT DO NOTHING");
        let n = conn
            .prepare_cached(insert.sql())?
            .execute(rusqlite::params_from_iter(insert.params()))?;
        if n == chunk.len() {
            stored.extend(std::iter::repeat_n(true, chunk.len()));
            continue;
        }
        let select = stored_rows_select(Placeholders::InOrder, chunk);
        let rows = conn
            .prepare_cached(select.sql())?
            .query_map(rusqlite::params_from_iter(select.params()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<(String, i64, i64)>, _>>()?;
        stored.extend(which_stored(chunk, &rows));
    }
    Ok(stored)
}

/// [`super::writes::append_audit`] on this connection, inside its
/// transaction (which holds the write lock, so the chain cannot fork).
fn append_audit(
    conn: &Connection,
    agency: &str,
    entries: Vec<PendingEntry>,
    at: i64,
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    let (last, mut prev): (i64, String) = conn
        .prepare_cached(RESERVE_AUDIT_SEQ)?
        .query_row(named_params! {"$1": agency, "$2": n}, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("agency {agency}")))?;
    let chained = link_entries(agency, entries, last, &mut prev, at);
    for chunk in chained.chunks(INSERT_CHUNK) {
        let insert = audit_values(Placeholders::InOrder, chunk);
        conn.prepare_cached(insert.sql())?
            .execute(rusqlite::params_from_iter(insert.params()))?;
    }
    conn.prepare_cached(SET_AUDIT_HEAD)?
        .execute(named_params! {"$1": agency, "$2": prev})?;
    Ok(())
}

/// [`super::writes::refusal`] on this connection.
fn refusal(conn: &Connection, item: &NewCredential) -> Result<Conflict, StoreError> {
    let Some(licence) = item.record.licence_id.as_deref() else {
        return Ok(Conflict::StatusIndex);
    };
    let taken = conn
        .prepare_cached(LICENCE_ID_TAKEN)?
        .exists(named_params! {"$1": item.record.agency_id, "$2": licence})?;
    Ok(if taken {
        Conflict::LicenceId
    } else {
        Conflict::StatusIndex
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rusqlite::Connection;

    use super::super::fixtures::{credential, store_with_agency};
    use super::connect;
    use crate::store::{CredentialStatus, StatusChange, Store, StoreError};

    /// Another connection to the store's file, as a second writer would
    /// hold it.
    fn other_writer(dir: &std::path::Path) -> Connection {
        let c = Connection::open(dir.join("t.sqlite3")).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        c
    }

    #[test]
    fn the_writer_connection_syncs_fully_in_wal_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.sqlite3");
        let c = Connection::open(&file).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        drop(c);
        let c = connect(&file, Duration::from_secs(1)).unwrap();
        let sync: i64 = c
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        let fk: i64 = c
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!((sync, fk), (2, 1), "synchronous = FULL, foreign_keys = ON");
    }

    #[test]
    fn a_file_not_in_wal_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("d.sqlite3");
        Connection::open(&file)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = connect(&file, Duration::from_secs(1)).unwrap_err();
        assert!(
            matches!(&e, StoreError::Corrupt(m) if m.contains("journal mode delete, not WAL")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_group_waits_for_the_other_writers_transaction_then_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_agency(dir.path()).await;
        let other = other_writer(dir.path());
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let s = store.clone();
        let group =
            tokio::spawn(
                async move { s.insert_credentials(&[credential("c1", "L1", 1)], 2).await },
            );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !group.is_finished(),
            "the group committed under another writer's lock"
        );
        other.execute_batch("COMMIT").unwrap();
        assert_eq!(group.await.unwrap().unwrap(), vec![Ok(())]);
        assert_eq!(store.credential("a", "c1").await.unwrap().id, "c1");
    }

    #[tokio::test]
    async fn the_stores_other_writes_wait_for_the_lock_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_agency(dir.path()).await;
        store
            .insert_credentials(&[credential("c1", "L1", 1)], 2)
            .await
            .unwrap();
        // Another writer holds the lock: the store's own write transaction
        // (BEGIN IMMEDIATE) waits for it, within the busy timeout.
        let other = other_writer(dir.path());
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let s = store.clone();
        let revoke = tokio::spawn(async move {
            s.change_status("a", "c1", StatusChange::Revoke, None, "test", 3)
                .await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!revoke.is_finished());
        other.execute_batch("COMMIT").unwrap();
        let record = revoke.await.unwrap().unwrap();
        assert_eq!(record.status, CredentialStatus::Revoked);
    }

    #[tokio::test]
    async fn a_group_waits_for_the_write_turn_and_a_write_waits_behind_the_group() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_agency(dir.path()).await;
        let turn = store.write_turn().await.expect("SQLite has a write turn");
        let s = store.clone();
        let group =
            tokio::spawn(
                async move { s.insert_credentials(&[credential("c1", "L1", 1)], 2).await },
            );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !group.is_finished(),
            "the group committed outside the write turn"
        );
        let s = store.clone();
        let reserve = tokio::spawn(async move { s.reserve_status_indices("a", 10).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!reserve.is_finished(), "a write went ahead of the turn");
        drop(turn);
        assert_eq!(group.await.unwrap().unwrap(), vec![Ok(())]);
        reserve.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_writer_whose_thread_is_gone_makes_the_store_unready() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_agency(dir.path()).await;
        store.ping().await.unwrap();
        let (jobs, rx) = tokio::sync::mpsc::channel(1);
        drop(rx);
        let gone = super::GroupWriter {
            jobs,
            turn: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        };
        let unready = super::super::SqlStore {
            write: store.write.clone(),
            read: store.read.clone(),
            groups: std::sync::Arc::new(gone),
        };
        assert!(matches!(
            unready.ping().await,
            Err(StoreError::Database(sqlx::Error::WorkerCrashed))
        ));
        let e = unready
            .insert_credentials(&[credential("c1", "L1", 1)], 2)
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Database(sqlx::Error::WorkerCrashed)),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_failed_group_stores_nothing_and_the_next_group_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_agency(dir.path()).await;
        // An agency that does not exist: its row breaks a foreign key.
        let mut stray = credential("c1", "L1", 1);
        stray.record.agency_id = "nobody".into();
        let e = store
            .insert_credentials(&[credential("c0", "L0", 0), stray], 2)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Sqlite(_)), "{e}");
        assert!(matches!(
            store.credential("a", "c0").await,
            Err(StoreError::NotFound(_))
        ));
        let outcomes = store
            .insert_credentials(&[credential("c2", "L2", 2)], 3)
            .await
            .unwrap();
        assert_eq!(outcomes, vec![Ok(())]);
        let (seq, _) = store.audit_head("a").await.unwrap();
        let entries = store.audit_entries("a", 0, 100).await.unwrap();
        assert_eq!(entries.last().map(|e| e.subject.as_str()), Some("c2"));
        assert_eq!(entries.last().map(|e| e.seq), Some(seq));
    }
}
