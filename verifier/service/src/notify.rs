//! Wake-ups for back offices waiting on a transaction (`?wait=` long-polls
//! and the event stream), so nobody polls the database in a loop.
//!
//! A waiter [`subscribe`](Waiters::subscribe)s to a transaction *before*
//! reading its state, then waits on the subscription; the response
//! endpoint [`wake`](Waiters::wake)s the transaction after its commit. A
//! wake between the read and the wait is not lost (the subscription was
//! enabled first). Entries are removed when their last waiter leaves, so
//! the map holds only transactions someone is waiting on.
//!
//! Wake-ups are in-process: with several replicas on one PostgreSQL
//! database, the answer may land on another replica, so a waiter also
//! re-reads the state after [`RECHECK`] — a slow safety net, not a poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// How long a waiter sleeps at most before re-reading the state itself.
pub const RECHECK: Duration = Duration::from_secs(5);

/// The transactions someone waits on.
#[derive(Debug, Default)]
pub struct Waiters {
    map: Mutex<HashMap<String, Arc<Notify>>>,
}

/// One waiter's subscription to one transaction.
#[derive(Debug)]
pub struct Subscription<'a> {
    waiters: &'a Waiters,
    id: String,
    notify: Arc<Notify>,
}

impl Waiters {
    /// Subscribes to `id`'s wake-ups; read the state after this.
    pub fn subscribe(&self, id: &str) -> Subscription<'_> {
        let notify = match self.map.lock() {
            Ok(mut m) => m.entry(id.to_owned()).or_default().clone(),
            Err(_) => Arc::new(Notify::new()),
        };
        Subscription {
            waiters: self,
            id: id.to_owned(),
            notify,
        }
    }

    /// Wakes every waiter of `id`.
    pub fn wake(&self, id: &str) {
        if let Ok(m) = self.map.lock()
            && let Some(n) = m.get(id)
        {
            n.notify_waiters();
        }
    }

    /// Transactions with waiters (for tests and metrics).
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Subscription<'_> {
    /// A future that completes at the next wake-up after it was made.
    /// Make it, then read the state, then await it.
    pub fn notified(&self) -> std::pin::Pin<Box<tokio::sync::futures::Notified<'_>>> {
        let mut n = Box::pin(self.notify.notified());
        // Enabled now, so a wake before the first poll is kept.
        n.as_mut().enable();
        n
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.waiters.map.lock()
            && let Some(n) = m.get(&self.id)
            // The map's own reference and this one: the last waiter leaves.
            && Arc::strong_count(n) <= 2
        {
            m.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_between_reading_and_waiting_is_not_lost_and_entries_go_away() {
        let w = Waiters::default();
        {
            let sub = w.subscribe("t1");
            let n = sub.notified();
            w.wake("t1"); // the answer lands after the read, before the wait
            tokio::time::timeout(Duration::from_secs(1), n)
                .await
                .unwrap();
            assert_eq!(w.len(), 1);
        }
        assert!(w.is_empty());
        w.wake("nobody"); // no entry is made by waking
        assert!(w.is_empty());
    }
}
