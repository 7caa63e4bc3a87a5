//! What a stranger can make the wallet endpoints spend: every call on a
//! transaction costs a signature (request object) or a key agreement and
//! a decryption (response), and anyone who saw the QR code knows the
//! transaction's URIs. Each transaction therefore takes at most
//! `max_wallet_calls_per_transaction` calls of each kind in this process;
//! past that it answers `too_many_attempts` without touching a key. The
//! count lives in memory (per replica), one entry per transaction that was
//! called, dropped by maintenance once the transaction has expired.

use std::collections::HashMap;
use std::sync::Mutex;

/// Which wallet endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalletCall {
    /// The request object.
    Request,
    /// The response.
    Response,
}

/// Calls per transaction and kind, with the transaction's expiry.
#[derive(Debug, Default)]
pub struct Attempts {
    map: Mutex<HashMap<(String, WalletCall), (u32, i64)>>,
}

impl Attempts {
    /// Counts a call; `false` once the transaction has had `max` of this kind.
    pub fn allow(&self, id: &str, kind: WalletCall, expires_at: i64, max: u32) -> bool {
        let Ok(mut m) = self.map.lock() else {
            return false;
        };
        let e = m.entry((id.to_owned(), kind)).or_insert((0, expires_at));
        if e.0 >= max {
            return false;
        }
        e.0 += 1;
        true
    }

    /// Forgets transactions expired at `now`.
    pub fn forget_expired(&self, now: i64) {
        if let Ok(mut m) = self.map.lock() {
            m.retain(|_, (_, exp)| *exp > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_transaction_and_kind_has_its_own_budget_until_it_expires() {
        let a = Attempts::default();
        assert!(a.allow("t", WalletCall::Response, 100, 2));
        assert!(a.allow("t", WalletCall::Response, 100, 2));
        assert!(!a.allow("t", WalletCall::Response, 100, 2));
        assert!(a.allow("t", WalletCall::Request, 100, 2));
        assert!(a.allow("u", WalletCall::Response, 100, 2));
        a.forget_expired(100);
        assert!(a.map.lock().unwrap().is_empty());
    }
}
