//! The SQL both backends run, written once as ordinary Rust generic over
//! the sqlx database: [`SqlStore<DB>`] implements [`Store`](super::Store)
//! for any `DB` that is a [`Dialect`] and whose types encode and decode
//! what the schema holds (text, 64-bit integers, bytes). The SQLite and
//! PostgreSQL stores are this type over `sqlx::Sqlite` and
//! `sqlx::Postgres`; each module only opens its pools.
//!
//! Why this shape:
//! - Generic code rather than a macro: rustfmt formats it, editors and
//!   rustdoc navigate it, and the compiler checks the shared code once
//!   against its bounds instead of twice after expansion. The cost is the
//!   `where` clauses (in `queries.rs` and `writes.rs`) that name every sqlx
//!   capability the queries use. It is monomorphised per backend, so each
//!   backend runs the statements the macro ran, with the same round trips,
//!   each prepared once per connection by sqlx's statement cache.
//! - Not `sqlx::Any`: in sqlx 0.8 its SQLite driver builds its options from
//!   the URL alone (`mode`, `cache`, `immutable`, `vfs`), so the store's
//!   pragmas (WAL, `synchronous = FULL`, busy timeout, foreign keys) would
//!   have to be re-issued by hand in a connect hook, and every value would
//!   pass through `Any`'s own conversion layer.
//! - One placeholder syntax: `$1`, `$2` … PostgreSQL's own, and accepted by
//!   SQLite (as named parameters) and by sqlx's SQLite driver, which binds
//!   `$N` to the N-th argument — so a number may repeat or come out of
//!   order. Statements whose text depends on the input (multi-row
//!   `INSERT`s, the credential listing's filters) are built by
//!   `statement.rs`: with `$N` on PostgreSQL, with `?` in order on SQLite
//!   (named parameters cost SQLite a walk of the list of names per value,
//!   which a group's `INSERT` of hundreds of values felt).
//! - Rows are read into one `FromRow` struct per table (`rows.rs`) and then
//!   converted to the store's public types; states (credential status,
//!   offer state) are bound from their enums, never written as numbers in
//!   the SQL text.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, Postgres, Sqlite, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::{Backend, Conflict, NewCredential, StoreError};

mod authorization;
pub(super) mod backfill;
#[cfg(test)]
pub(crate) mod fixtures;
pub(super) mod postgres_groups;
mod queries;
mod rows;
pub(super) mod sqlite_writer;
mod statement;
mod writes;

use statement::Placeholders;

/// A store on the pools of one sqlx database: the writer and the readers
/// (the same pool on PostgreSQL; one connection and a read-only pool on
/// SQLite). See [`super::sqlite::SqliteStore`] and
/// [`super::postgres::PostgresStore`].
#[derive(Debug)]
pub struct SqlStore<DB: Dialect> {
    pub(in crate::store) write: Pool<DB>,
    pub(in crate::store) read: Pool<DB>,
    /// Issuing's group commit ([`Dialect::Groups`]).
    pub(in crate::store) groups: Arc<DB::Groups>,
}

impl<DB: Dialect> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            write: self.write.clone(),
            read: self.read.clone(),
            groups: self.groups.clone(),
        }
    }
}

impl<DB: Dialect> SqlStore<DB> {
    /// Begins a write transaction on the writer pool, as
    /// [`Dialect::BEGIN_WRITE`] says, in the store's write turn.
    pub(in crate::store) async fn begin_write(&self) -> Result<WriteTx<DB>, sqlx::Error> {
        let turn = self.write_turn().await;
        let tx = match DB::BEGIN_WRITE {
            Some(statement) => self.write.begin_with(statement).await?,
            None => self.write.begin().await?,
        };
        Ok(InTurn {
            inner: tx,
            _turn: turn,
        })
    }

    /// The writer pool's connection, in the store's write turn, for writes
    /// of one statement each (outside a transaction).
    pub(in crate::store) async fn write_conn(&self) -> Result<WriteConn<DB>, sqlx::Error> {
        let turn = self.write_turn().await;
        Ok(InTurn {
            inner: self.write.acquire().await?,
            _turn: turn,
        })
    }

    /// The turn to write on SQLite, where the group writer
    /// ([`sqlite_writer`]) is a second connection writing the file: whoever
    /// writes holds it, and it is handed on in the order asked for. SQLite's
    /// own wait for its lock (the busy timeout) retries after ever longer
    /// sleeps, so a write that kept finding the group writer busy could wait
    /// for seconds, and the status-index block an issuing request waits for
    /// with it. `None` on PostgreSQL, whose rows lock themselves. Every
    /// write of the store takes it through [`Self::begin_write`] or
    /// [`Self::write_conn`].
    pub(in crate::store) async fn write_turn(&self) -> Option<OwnedMutexGuard<()>> {
        self.groups.turn().await
    }
}

/// A connection (or transaction) of the writer pool and the write turn it
/// holds until it is dropped. Reads and writes through it as through the
/// connection.
pub(in crate::store) struct InTurn<T> {
    inner: T,
    _turn: Option<OwnedMutexGuard<()>>,
}

/// A write transaction in the write turn ([`SqlStore::begin_write`]).
pub(in crate::store) type WriteTx<DB> = InTurn<Transaction<'static, DB>>;

/// The writer's connection in the write turn ([`SqlStore::write_conn`]).
pub(in crate::store) type WriteConn<DB> = InTurn<PoolConnection<DB>>;

impl<DB: Database> InTurn<Transaction<'static, DB>> {
    /// Commits, then hands the turn on.
    pub(in crate::store) async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }
}

impl<T: std::ops::Deref> std::ops::Deref for InTurn<T> {
    type Target = T::Target;

    fn deref(&self) -> &T::Target {
        &self.inner
    }
}

impl<T: std::ops::DerefMut> std::ops::DerefMut for InTurn<T> {
    fn deref_mut(&mut self) -> &mut T::Target {
        &mut self.inner
    }
}

/// What the shared SQL needs to know about a backend beyond sqlx's
/// `Database` trait.
pub trait Dialect: Database {
    /// Which backend this is.
    const BACKEND: Backend;

    /// How statements built from the input write their placeholders.
    const PLACEHOLDERS: Placeholders;

    /// The statement that begins a write transaction, if not sqlx's own.
    /// SQLite: `BEGIN IMMEDIATE`, which takes the write lock at once (or
    /// waits for it, up to the busy timeout): the file has a second writer
    /// ([`sqlite_writer`]), and a deferred transaction that read before
    /// another connection committed could not write afterwards.
    const BEGIN_WRITE: Option<&'static str>;

    /// How this backend commits issuing's groups of credentials.
    type Groups: GroupCommit;

    /// Rows an `INSERT`, `UPDATE` or `DELETE` changed (sqlx has no trait
    /// for it; each driver's result type has the method).
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// A group's outcome, one per credential (stored, or refused for a taken
/// unique value), or the error that failed the whole group (nothing of it
/// stored).
pub type GroupOutcome = Result<Vec<Result<(), Conflict>>, StoreError>;

/// How a backend commits issuing's groups of credentials
/// ([`crate::store::Store::insert_credentials`]): SQLite on a thread and
/// connection of its own ([`sqlite_writer`]), PostgreSQL in one call per
/// group against the audit chain heads it knows ([`postgres_groups`]).
pub trait GroupCommit: std::fmt::Debug + Send + Sync + 'static {
    /// Stores the credentials with their audit entries, all or none, except
    /// that a credential whose unique values are taken is refused alone.
    fn insert(&self, items: &[NewCredential], at: i64)
    -> impl Future<Output = GroupOutcome> + Send;

    /// Whether groups are still taken (part of the store's readiness).
    fn check_running(&self) -> Result<(), StoreError>;

    /// The store's write turn ([`SqlStore::write_turn`]), where the backend
    /// has one.
    fn turn(&self) -> impl Future<Output = Option<OwnedMutexGuard<()>>> + Send;
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const PLACEHOLDERS: Placeholders = Placeholders::InOrder;
    const BEGIN_WRITE: Option<&'static str> = Some("BEGIN IMMEDIATE");
    type Groups = sqlite_writer::GroupWriter;

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const PLACEHOLDERS: Placeholders = Placeholders::Numbered;
    const BEGIN_WRITE: Option<&'static str> = None;
    type Groups = postgres_groups::ChainGroups;

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}
