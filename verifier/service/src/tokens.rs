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

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};

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

/// A freshly made token: the secret (show once) and its hash (store).
#[derive(Clone)]
pub struct NewToken {
    /// The bearer secret, `tbvs_…`.
    pub secret: String,
    /// Its hash, for storage.
    pub hash: String,
    /// Its public id.
    pub id: String,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Makes a new random token.
pub fn generate() -> NewToken {
    let secret = format!("{TOKEN_PREFIX}{}", random_b64(32));
    NewToken {
        hash: hash_secret(&secret),
        id: format!("tok_{}", random_b64(9)),
        secret,
    }
}

/// The stored hash of a secret (hex SHA-256).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `n` random bytes in base64url.
pub fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
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
