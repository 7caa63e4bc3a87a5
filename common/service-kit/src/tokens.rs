//! Bearer tokens of a service's administrative API: random, shown once,
//! stored only as a SHA-256 hash.
//!
//! A token is the service's prefix (the issuer's `tbat_`, the receiving
//! agency's service's `tbvs_`) followed by 32 random bytes in base64url. Its
//! public id (`tok_…`, in lists and the audit log) is separate from the
//! secret. SHA-256 without a salt is the right hash here: the secret has 256
//! bits of entropy, so there is nothing to brute-force, and lookup by hash
//! is exact. What a token may do (scopes, tenants) is each service's own.

use std::fmt;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// A freshly made token: the secret (show once) and its hash (store).
#[derive(Clone)]
pub struct NewToken {
    /// The bearer secret, `<prefix>…`.
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

/// Makes a new random token whose secret starts with `prefix`.
pub fn generate(prefix: &str) -> NewToken {
    let secret = format!("{prefix}{}", random_b64(32));
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

/// The token of an `Authorization: Bearer …` header (trimmed), if there is
/// one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed_and_never_printed() {
        let a = generate("tbxx_");
        let b = generate("tbxx_");
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("tbxx_") && a.secret.len() == 5 + 43);
        assert_eq!(a.hash, hash_secret(&a.secret));
        assert!(a.id.starts_with("tok_") && a.id.len() == 4 + 12);
        assert!(!format!("{a:?}").contains(&a.secret));
    }

    #[test]
    fn a_stored_hash_is_the_hex_sha256_of_the_secret() {
        // A hash as the services stored it before the fold.
        assert_eq!(
            hash_secret("tbat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "44719094a8d5e7bb13cfd6a1f321fa52de4cae25c7fcef96ae7694141fdbb626"
        );
    }

    #[test]
    fn the_bearer_token_is_read_from_authorization() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer  tbat_x ".parse().unwrap());
        assert_eq!(bearer(&h), Some("tbat_x"));
    }
}
