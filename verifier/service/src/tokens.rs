//! Bearer tokens of the back-office API: random, shown once, stored only
//! as a SHA-256 hash.
//!
//! A token is `tbvs_` followed by 32 random bytes in base64url; its public
//! id (`tok_…`, in lists and the audit log) is separate from the secret.
//! A token is either the operator's **admin** token (manages tenants and
//! tokens, reads no transaction) or a **tenant** token (creates and reads
//! that one tenant's transactions, nothing else). SHA-256 without a salt
//! is the right hash: the secret has 256 bits of entropy, so there is
//! nothing to brute-force, and lookup by hash is exact.

use serde::Serialize;
use tongban_service_kit::tokens;

pub use tongban_service_kit::tokens::{NewToken, hash_secret, random_b64};

/// Prefix of every token of this service.
pub const TOKEN_PREFIX: &str = "tbvs_";

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "tenant", rename_all = "snake_case")]
pub enum TokenScope {
    /// The operator: tenants and tokens.
    Admin,
    /// One receiving agency: its transactions.
    Tenant(String),
}

impl TokenScope {
    /// The tenant, for a tenant token.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            TokenScope::Admin => None,
            TokenScope::Tenant(t) => Some(t),
        }
    }
}

/// Makes a new random token (`tbvs_…`).
pub fn generate() -> NewToken {
    tokens::generate(TOKEN_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed_and_never_printed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(TOKEN_PREFIX) && a.secret.len() == 5 + 43);
        assert_eq!(a.hash, hash_secret(&a.secret));
        assert!(!format!("{a:?}").contains(&a.secret));
    }
}
