//! Group commit: the state changes of the hot path (a transaction
//! created, answered, its claims handed over) go to one task that commits
//! whatever has queued up in one database transaction — one commit, one
//! fsync, for all of them — and answers each caller with its own result.
//! A caller still returns only after its change is durable; under load,
//! many changes share the commit's cost instead of queueing for the single
//! writer one fsync at a time.
//!
//! If a group fails as a whole (a database error, or one write spoiling
//! it, such as a duplicate id), each of its writes is committed again
//! alone, so only the write at fault fails.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{Store, StoreError, Write, WriteResult, Written};

/// The most writes one commit takes.
pub(crate) const MAX_GROUP: usize = 128;

/// A write waiting for its commit.
pub(crate) struct Queued {
    write: Write,
    reply: oneshot::Sender<WriteResult>,
}

/// The sending side: what the service holds.
#[derive(Debug, Clone)]
pub(crate) struct Committer(mpsc::Sender<Queued>);

impl Committer {
    /// Starts the commit task on the current tokio runtime. It ends when
    /// the last `Committer` is dropped.
    pub(crate) fn start(store: Arc<dyn Store>) -> Committer {
        let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(store, rx));
        Committer(tx)
    }

    /// Commits `write` (with whatever else is waiting) and returns its result.
    pub(crate) async fn commit(&self, write: Write) -> Result<Written, CommitError> {
        let (reply, wait) = oneshot::channel();
        self.0
            .send(Queued { write, reply })
            .await
            .map_err(|_| CommitError::Stopped)?;
        wait.await
            .map_err(|_| CommitError::Stopped)?
            .map_err(CommitError::Store)
    }
}

/// Why a write was not committed.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The store refused it or failed.
    Store(StoreError),
    /// The commit task is gone (the service is stopping).
    Stopped,
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Queued>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(q) => group.push(q),
                Err(_) => break,
            }
        }
        let (writes, replies): (Vec<Write>, Vec<_>) =
            group.into_iter().map(|q| (q.write, q.reply)).unzip();
        match store.write_group(&writes).await {
            Ok(results) if results.len() == replies.len() => {
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
            }
            Err(e) if writes.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
            _ => {
                for (write, reply) in writes.iter().zip(replies) {
                    let r = store
                        .write_group(std::slice::from_ref(write))
                        .await
                        .and_then(|mut v| {
                            v.pop()
                                .unwrap_or_else(|| Err(StoreError::Corrupt("no result".into())))
                        });
                    let _ = reply.send(r);
                }
            }
        }
    }
}
