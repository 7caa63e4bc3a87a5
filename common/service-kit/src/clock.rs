//! The clock a service is built with.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time in Unix seconds.
///
/// Services hold a [`SharedClock`] and ask it whenever they need "now";
/// tests hand them a [`ManualClock`] and move time by hand.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, in seconds since the Unix epoch.
    fn now(&self) -> i64;

    /// The current time, in milliseconds since the Unix epoch. A clock
    /// that only knows seconds (the default) says the second's start.
    fn now_ms(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
}

/// A clock shared by every part of a running service.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The system clock as a [`SharedClock`].
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }

    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that stands still until told to move: for tests of expiry.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: i64) -> Arc<Self> {
        Arc::new(ManualClock {
            now: AtomicI64::new(now),
        })
    }

    /// Sets the time.
    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward (or back, with a negative `secs`).
    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now(), 1_000);
        c.advance(30);
        assert_eq!(c.now(), 1_030);
        c.set(5);
        let shared: SharedClock = c.clone();
        assert_eq!(shared.now(), 5);
        assert_eq!(shared.now_ms(), 5_000);
    }

    #[test]
    fn the_system_clock_is_after_2025() {
        assert!(SystemClock.now() > 1_735_689_600);
        let (s, ms) = (SystemClock.now(), SystemClock.now_ms());
        assert!((ms / 1000 - s).abs() <= 1, "{s} s, {ms} ms");
    }
}
