//! PostgreSQL's group commit: a group of credentials and its audit entries
//! in one call, linked to the chain heads this process last committed.
//!
//! The ordinary way ([`super::writes::insert_credentials_in`]) is a
//! transaction of six statements, each a round trip from the service to
//! the server and back: `BEGIN`, the rows, the chain's reservation, the
//! entries, the new head, `COMMIT`. The reservation locks the agency's
//! row, and the lock is held through the three round trips after it and
//! the commit's flush; every group of the agency waits for it. Under load
//! the service's cores are busy signing, each round trip waits for one,
//! and the server's backends were found sitting `idle in transaction`
//! about a quarter of the time (`docs/performance.md`, issue 16's fifth
//! issuing round).
//!
//! Here the service keeps each agency's chain head (counter and hash) as
//! its last group left it, links the group's entries to it, and sends
//! everything in one call of `tongban_issue_group` (migration
//! `0007_issue_group.sql`), which is one implicit transaction: the rows,
//! then each agency's head moved on only if it is still the one expected,
//! then the entries. The agency row's lock is held for the server's own
//! work and the flush alone.
//!
//! What it keeps: one transaction per group, every acknowledged credential
//! committed (flushed) with its audit entry before its caller is answered,
//! chains that never fork (the head moves only from the value the entries
//! were linked to, under the row's lock, and the audit log's primary key
//! refuses a repeated position). When the head is not the one expected
//! (another replica, or this one's revocations and token changes, moved
//! the chain on) the call changes nothing (the function checks the heads
//! before it writes a row); the head is read again and the call repeated
//! once, then the group goes the ordinary way. A deadlock or serialization
//! failure the server reports is treated the same. A taken
//! unique value (a licence id issued before) fails the call too, and the
//! group goes the ordinary way, which refuses only that credential.
//!
//! Groups of one agency commit one after the other (each holds the
//! agency's slot while its call runs, so no two are linked to the same
//! head); groups of different agencies do not wait for each other. A group
//! of several agencies takes their slots in the agencies' order, as the
//! function takes their rows, so neither can deadlock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use sqlx::{PgPool, Postgres};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::writes::{
    insert_credentials_in, issue_entries_by_agency, key_attestations, link_entries,
};
use super::{GroupCommit, GroupOutcome};
use crate::audit::AuditEntry;
use crate::store::{NewCredential, StoreError};

/// The call: 29 arrays and values (`0007_issue_group.sql` names them).
const ISSUE_GROUP: &str = "SELECT tongban_issue_group($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
     $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)";

/// The heads of agencies `$1` (an array), read when this process does not
/// know them.
const READ_HEADS: &str = "SELECT id, audit_seq, audit_head FROM agencies WHERE id = ANY($1)";

/// The SQLSTATE `tongban_issue_group` raises when an agency's head is not
/// the one expected.
const CHAIN_MOVED: &str = "TB001";

/// PostgreSQL's `unique_violation`.
const UNIQUE_VIOLATION: &str = "23505";

/// PostgreSQL's `deadlock_detected` and `serialization_failure`: the call
/// changed nothing and may be repeated.
const TRY_AGAIN: [&str; 2] = ["40P01", "40001"];

/// Calls per group before it goes the ordinary way: one with the head this
/// process knows, one with the head read again.
const CALLS: usize = 2;

/// An agency's audit chain head: its counter (the last entry's position)
/// and the last entry's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    seq: i64,
    hash: String,
}

/// An agency's slot: the head this process last committed, `None` when it
/// must be read (never known, or a call failed, or the group went the
/// ordinary way). Held while a group of the agency commits.
type Slot = Arc<AsyncMutex<Option<Head>>>;

/// PostgreSQL's [`GroupCommit`] on the store's pool. One slot per agency
/// that has issued through this process (agencies are few and made by
/// the operator, so the map stays small).
#[derive(Debug)]
pub struct ChainGroups {
    pool: PgPool,
    slots: Mutex<HashMap<String, Slot>>,
}

impl ChainGroups {
    /// Group commit on `pool`, knowing no heads yet.
    pub(crate) fn new(pool: PgPool) -> Self {
        ChainGroups {
            pool,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The agency's slot, made on first use.
    fn slot(&self, agency: &str) -> Slot {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slots.get(agency) {
            Some(s) => s.clone(),
            None => {
                let s = Slot::default();
                slots.insert(agency.to_owned(), s.clone());
                s
            }
        }
    }

    /// The held agencies' heads: the ones this process knows, and the
    /// others read from the database (and kept in their slots).
    async fn heads<'a>(
        &self,
        held: &mut [(&'a str, OwnedMutexGuard<Option<Head>>)],
    ) -> Result<BTreeMap<&'a str, Head>, StoreError> {
        let missing: Vec<&str> = held
            .iter()
            .filter(|(_, h)| h.is_none())
            .map(|(a, _)| *a)
            .collect();
        if !missing.is_empty() {
            self.read_into(held, &missing).await?;
        }
        Ok(held
            .iter()
            .filter_map(|(a, h)| h.as_ref().map(|h| (*a, h.clone())))
            .collect())
    }

    /// Reads the `missing` heads into their held slots.
    async fn read_into(
        &self,
        held: &mut [(&str, OwnedMutexGuard<Option<Head>>)],
        missing: &[&str],
    ) -> Result<(), StoreError> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(READ_HEADS)
            .bind(missing)
            .fetch_all(&self.pool)
            .await?;
        let mut read: HashMap<String, Head> = rows
            .into_iter()
            .map(|(id, seq, hash)| (id, Head { seq, hash }))
            .collect();
        for (agency, head) in held.iter_mut() {
            if head.is_none() {
                let Some(h) = read.remove(*agency) else {
                    // No slot is kept for an agency that does not exist.
                    self.slots
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .remove(*agency);
                    return Err(StoreError::NotFound(format!("agency {agency}")));
                };
                **head = Some(h);
            }
        }
        Ok(())
    }

    /// The ordinary way: one transaction of the shared SQL.
    async fn insert_ordinarily(&self, items: &[NewCredential], at: i64) -> GroupOutcome {
        let mut tx = self.pool.begin().await?;
        let out = insert_credentials_in::<Postgres>(&mut tx, items, at).await?;
        tx.commit().await?;
        Ok(out)
    }
}

impl GroupCommit for ChainGroups {
    async fn insert(&self, items: &[NewCredential], at: i64) -> GroupOutcome {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // The agencies in order; their slots taken in that order.
        let agencies: std::collections::BTreeSet<&str> =
            items.iter().map(|c| c.record.agency_id.as_str()).collect();
        let mut held = Vec::with_capacity(agencies.len());
        for agency in agencies {
            held.push((agency, self.slot(agency).lock_owned().await));
        }
        for _ in 0..CALLS {
            let heads = self.heads(&mut held).await?;
            let call = Call::link(items, &heads, at)?;
            let result = call.run(&self.pool).await;
            match result {
                Ok(()) => {
                    for (agency, head) in &mut held {
                        **head = call.heads_after.get(agency).cloned();
                    }
                    return Ok(vec![Ok(()); items.len()]);
                }
                Err(e) => {
                    for (_, head) in &mut held {
                        **head = None;
                    }
                    match failure(&e) {
                        Failure::ChainMoved => continue,
                        Failure::Taken => break,
                        Failure::Other => return Err(e.into()),
                    }
                }
            }
        }
        self.insert_ordinarily(items, at).await
    }

    fn check_running(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// None: PostgreSQL's rows lock themselves.
    async fn turn(&self) -> Option<OwnedMutexGuard<()>> {
        None
    }
}

/// Why a call failed, for what to do next.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// An agency's head was not the one expected (or the server broke a
    /// deadlock by failing the call): read the heads and call again.
    ChainMoved,
    /// A unique value was taken: the ordinary way says which.
    Taken,
    /// Anything else: the group fails.
    Other,
}

/// What a failed call's error means, by its SQLSTATE.
fn failure(e: &sqlx::Error) -> Failure {
    let code = match e {
        sqlx::Error::Database(db) => db.code(),
        _ => None,
    };
    match code.as_deref() {
        Some(CHAIN_MOVED) => Failure::ChainMoved,
        Some(c) if TRY_AGAIN.contains(&c) => Failure::ChainMoved,
        Some(UNIQUE_VIOLATION) => Failure::Taken,
        _ => Failure::Other,
    }
}

/// One call's arguments: the rows, each agency's head before and after,
/// and the linked entries, as the function's arrays.
struct Call<'a> {
    items: &'a [NewCredential],
    key_attestations: Vec<Option<String>>,
    heads_before: BTreeMap<&'a str, Head>,
    heads_after: BTreeMap<&'a str, Head>,
    entries: Vec<AuditEntry>,
    at: i64,
}

impl<'a> Call<'a> {
    /// Links each agency's `credential.issue` entries to its head in
    /// `heads`; an agency of `items` without one is an error (its
    /// credentials would go in without their entries).
    fn link(
        items: &'a [NewCredential],
        heads: &BTreeMap<&'a str, Head>,
        at: i64,
    ) -> Result<Self, StoreError> {
        let mut heads_before = BTreeMap::new();
        let mut heads_after = BTreeMap::new();
        let mut entries = Vec::with_capacity(items.len());
        for (agency, pending) in issue_entries_by_agency(items) {
            let before = heads.get(agency).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the audit chain head of agency {agency} is unknown"
                ))
            })?;
            let n = i64::try_from(pending.len()).unwrap_or(i64::MAX);
            let last = before.seq.saturating_add(n);
            let mut hash = before.hash.clone();
            entries.extend(link_entries(agency, pending, last, &mut hash, at));
            heads_before.insert(agency, before.clone());
            heads_after.insert(agency, Head { seq: last, hash });
        }
        Ok(Call {
            items,
            key_attestations: key_attestations(items),
            heads_before,
            heads_after,
            entries,
            at,
        })
    }

    /// Runs the call: one round trip, one transaction.
    async fn run(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let rec = |f: fn(&'a NewCredential) -> &'a str| -> Vec<&'a str> {
            self.items.iter().map(f).collect()
        };
        let rec_opt = |f: fn(&'a NewCredential) -> Option<&'a str>| -> Vec<Option<&'a str>> {
            self.items.iter().map(f).collect()
        };
        let rec_int =
            |f: fn(&'a NewCredential) -> i64| -> Vec<i64> { self.items.iter().map(f).collect() };
        let entry =
            |f: fn(&AuditEntry) -> &str| -> Vec<&str> { self.entries.iter().map(f).collect() };
        sqlx::query(ISSUE_GROUP)
            .bind(rec(|c| &c.record.id))
            .bind(rec(|c| &c.record.agency_id))
            .bind(rec(|c| &c.record.vct))
            .bind(rec_opt(|c| c.record.licence_id.as_deref()))
            .bind(rec_int(|c| c.record.status_list))
            .bind(rec_int(|c| c.record.status_idx))
            .bind(rec_int(|c| c.record.status.code()))
            .bind(rec_opt(|c| c.record.holder_thumbprint.as_deref()))
            .bind(rec(|c| &c.record.kid))
            .bind(rec_int(|c| c.record.issued_at))
            .bind(
                self.items
                    .iter()
                    .map(|c| c.record.expires_at)
                    .collect::<Vec<Option<i64>>>(),
            )
            .bind(rec_opt(|c| c.record.offer_id.as_deref()))
            .bind(rec_opt(|c| c.record.batch_id.as_deref()))
            .bind(
                self.key_attestations
                    .iter()
                    .map(Option::as_deref)
                    .collect::<Vec<Option<&str>>>(),
            )
            .bind(rec_int(|c| c.status_seq))
            .bind(self.heads_before.keys().copied().collect::<Vec<&str>>())
            .bind(
                self.heads_before
                    .values()
                    .map(|h| h.seq)
                    .collect::<Vec<i64>>(),
            )
            .bind(
                self.heads_before
                    .values()
                    .map(|h| h.hash.as_str())
                    .collect::<Vec<&str>>(),
            )
            .bind(
                self.heads_after
                    .values()
                    .map(|h| h.seq)
                    .collect::<Vec<i64>>(),
            )
            .bind(
                self.heads_after
                    .values()
                    .map(|h| h.hash.as_str())
                    .collect::<Vec<&str>>(),
            )
            .bind(entry(|e| &e.chain))
            .bind(self.entries.iter().map(|e| e.seq).collect::<Vec<i64>>())
            .bind(self.at)
            .bind(entry(|e| &e.actor))
            .bind(entry(|e| &e.action))
            .bind(entry(|e| &e.subject))
            .bind(entry(|e| &e.detail))
            .bind(entry(|e| &e.prev_hash))
            .bind(entry(|e| &e.hash))
            .execute(pool)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    //! On PostgreSQL when `TONGBAN_TEST_DATABASE_URL` is set: groups
    //! commit in one call, recover when the chain moved under them (a
    //! revocation on this replica, another replica's groups), refuse only
    //! a credential whose licence id is taken, and leave every chain
    //! whole.

    use tongban_test_support::postgres::FreshDatabase;

    use super::super::fixtures::{add_agency, credential_of};
    use super::*;
    use crate::audit::SCHEME;
    use crate::store::postgres::PostgresStore;
    use crate::store::{Conflict, StatusChange, Store};

    /// The whole chain of `agency` verifies against its head; its length.
    async fn chain_length(store: &PostgresStore, agency: &str) -> i64 {
        let entries = store.audit_entries(agency, 0, 100_000).await.unwrap();
        let (seq, hash) = store.audit_head(agency).await.unwrap();
        tongban_service_kit::audit::verify_chain(SCHEME, agency, &entries, (seq, &hash)).unwrap()
    }

    /// The head this process knows for `agency`.
    async fn known_head(store: &PostgresStore, agency: &str) -> Option<Head> {
        store.groups.slot(agency).lock().await.clone()
    }

    /// `n` credentials of `agency` from counter `from`.
    fn group(agency: &str, from: i64, n: i64) -> Vec<NewCredential> {
        (from..from + n)
            .map(|i| {
                credential_of(
                    agency,
                    &format!("{agency}-c{i}"),
                    &format!("{agency}-L{i}"),
                    i,
                )
            })
            .collect()
    }

    /// A fresh database with these agencies, and a store on it.
    async fn fresh(agencies: &[&str]) -> Option<(FreshDatabase, PostgresStore)> {
        let db = FreshDatabase::create("tongban_g", "group commit").await?;
        let store = PostgresStore::open(db.url(), 8).await.unwrap();
        for a in agencies {
            add_agency(&store, a).await;
        }
        Some((db, store))
    }

    /// Credential rows stored.
    async fn stored(store: &PostgresStore) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM credentials")
            .fetch_one(&store.read)
            .await
            .unwrap()
    }

    /// Closes the store and drops its database.
    async fn done(db: FreshDatabase, store: PostgresStore) {
        store.write.close().await;
        db.drop_now().await;
    }

    #[tokio::test]
    async fn groups_commit_in_one_call_and_recover_when_the_chain_moved() {
        let Some((db, store)) = fresh(&["a"]).await else {
            return;
        };
        let created = chain_length(&store, "a").await;
        let out = store
            .insert_credentials(&group("a", 0, 5), 10)
            .await
            .unwrap();
        assert_eq!(out, vec![Ok(()); 5]);
        // The head it keeps is the stored one.
        let (seq, hash) = store.audit_head("a").await.unwrap();
        assert_eq!(seq, created + 5);
        assert_eq!(known_head(&store, "a").await, Some(Head { seq, hash }));

        // A revocation moves the chain on behind the known head.
        store
            .change_status("a", "a-c0", StatusChange::Revoke, None, "test", 11)
            .await
            .unwrap();
        let out = store
            .insert_credentials(&group("a", 5, 3), 12)
            .await
            .unwrap();
        assert_eq!(out, vec![Ok(()); 3]);
        assert_eq!(chain_length(&store, "a").await, created + 5 + 1 + 3);
        // It read the head again and committed in one call (the ordinary
        // way would have left the head unknown).
        let (seq, hash) = store.audit_head("a").await.unwrap();
        assert_eq!(known_head(&store, "a").await, Some(Head { seq, hash }));

        // Another replica on the same database, groups alternating.
        let other = PostgresStore::open(db.url(), 4).await.unwrap();
        for (i, s) in [&store, &other, &store, &other].into_iter().enumerate() {
            let from = 8 + 4 * i64::try_from(i).unwrap();
            let out = s
                .insert_credentials(&group("a", from, 4), 13)
                .await
                .unwrap();
            assert_eq!(out, vec![Ok(()); 4]);
        }
        assert_eq!(chain_length(&store, "a").await, created + 9 + 16);
        assert_eq!(stored(&store).await, 24);
        other.write.close().await;
        done(db, store).await;
    }

    #[tokio::test]
    async fn a_taken_licence_id_refuses_only_its_credential() {
        let Some((db, store)) = fresh(&["a"]).await else {
            return;
        };
        let created = chain_length(&store, "a").await;
        store
            .insert_credentials(&group("a", 0, 2), 10)
            .await
            .unwrap();
        // The second repeats a stored licence id.
        let mut next = group("a", 2, 3);
        next[1].record.licence_id = Some("a-L0".into());
        let out = store.insert_credentials(&next, 11).await.unwrap();
        assert_eq!(out, vec![Ok(()), Err(Conflict::LicenceId), Ok(())]);
        assert_eq!(chain_length(&store, "a").await, created + 4);
        // The group went the ordinary way; the next reads the head again.
        assert_eq!(known_head(&store, "a").await, None);
        let out = store
            .insert_credentials(&group("a", 5, 2), 12)
            .await
            .unwrap();
        assert_eq!(out, vec![Ok(()); 2]);
        assert_eq!(chain_length(&store, "a").await, created + 6);
        done(db, store).await;
    }

    #[tokio::test]
    async fn concurrent_groups_of_two_agencies_keep_both_chains_whole() {
        let Some((db, store)) = fresh(&["a", "b"]).await else {
            return;
        };
        let (ca, cb) = (
            chain_length(&store, "a").await,
            chain_length(&store, "b").await,
        );
        let mut tasks = Vec::new();
        for i in 0..12_i64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                // Groups of one agency, of the other, and of both.
                let mut items = match i % 3 {
                    0 => group("a", 10 * i, 5),
                    1 => group("b", 10 * i, 5),
                    _ => [group("b", 10 * i, 2), group("a", 10 * i + 5, 3)].concat(),
                };
                items.rotate_left(usize::try_from(i % 2).unwrap());
                let n = items.len();
                assert_eq!(
                    store.insert_credentials(&items, 10).await.unwrap(),
                    vec![Ok(()); n]
                );
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // a: 4 groups of 5 and 4 of 3; b: 4 of 5 and 4 of 2.
        assert_eq!(chain_length(&store, "a").await, ca + 32);
        assert_eq!(chain_length(&store, "b").await, cb + 28);
        done(db, store).await;
    }

    #[tokio::test]
    async fn an_unknown_agency_fails_the_group_and_stores_nothing() {
        let Some((db, store)) = fresh(&["a"]).await else {
            return;
        };
        let items = [group("a", 0, 2), group("nobody", 0, 1)].concat();
        let e = store.insert_credentials(&items, 10).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{e}");
        assert!(!store.groups.slots.lock().unwrap().contains_key("nobody"));
        assert_eq!(stored(&store).await, 0);
        done(db, store).await;
    }

    #[tokio::test]
    async fn a_head_moved_before_the_call_writes_no_row_and_arrays_must_line_up() {
        let Some((db, store)) = fresh(&["a"]).await else {
            return;
        };
        let (seq, hash) = store.audit_head("a").await.unwrap();
        let items = group("a", 0, 2);
        let stale = BTreeMap::from([(
            "a",
            Head {
                seq: seq - 1,
                hash: hash.clone(),
            },
        )]);
        let e = Call::link(&items, &stale, 10)
            .unwrap()
            .run(&store.write)
            .await
            .unwrap_err();
        assert_eq!(failure(&e), Failure::ChainMoved, "{e}");
        let mut call =
            Call::link(&items, &BTreeMap::from([("a", Head { seq, hash })]), 10).unwrap();
        call.entries.pop();
        let e = call.run(&store.write).await.unwrap_err();
        assert!(e.to_string().contains("arrays of different lengths"), "{e}");
        assert_eq!(stored(&store).await, 0);
        done(db, store).await;
    }

    #[test]
    fn only_the_chain_and_unique_codes_are_recovered_from() {
        assert_eq!(failure(&sqlx::Error::PoolTimedOut), Failure::Other);
        assert_eq!(failure(&sqlx::Error::RowNotFound), Failure::Other);
    }
}
