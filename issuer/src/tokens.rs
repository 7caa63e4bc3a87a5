//! Admin tokens: random, shown once, stored only as a SHA-256 hash, scoped
//! to one agency and a set of actions.
//!
//! A token is `tbat_` followed by 32 random bytes in base64url. Its public
//! id (`tok_…`, in lists and the audit log) is separate from the secret.
//! SHA-256 without a salt is the right hash here: the secret has 256 bits of
//! entropy, so there is nothing to brute-force, and lookup by hash is exact.

use std::fmt;

use serde::{Serialize, Serializer};
use tongban_service_kit::tokens;

pub use tongban_service_kit::tokens::{NewToken, hash_secret, random_b64};

/// Prefix of every admin token.
pub const TOKEN_PREFIX: &str = "tbat_";

/// One action a token may be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Issue credentials (single, batch, offers).
    Issue,
    /// Read credentials (get, list).
    Read,
    /// Revoke credentials.
    Revoke,
    /// Suspend and reinstate credentials.
    Suspend,
    /// Read the audit log.
    Audit,
}

impl Scope {
    /// Every scope, in display order.
    pub const ALL: [Scope; 5] = [
        Scope::Issue,
        Scope::Read,
        Scope::Revoke,
        Scope::Suspend,
        Scope::Audit,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Issue => "issue",
            Scope::Read => "read",
            Scope::Revoke => "revoke",
            Scope::Suspend => "suspend",
            Scope::Audit => "audit",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

/// An unknown scope name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}; the scopes are issue, read, revoke, suspend, audit (or all)")]
pub struct UnknownScope(pub String);

impl Scopes {
    /// Every scope.
    pub fn all() -> Self {
        Scope::ALL.into_iter().fold(Scopes(0), |s, x| s.with(x))
    }

    /// Adds a scope.
    pub fn with(self, s: Scope) -> Self {
        Scopes(self.0 | s.bit())
    }

    /// Whether the set holds `s`.
    pub fn contains(self, s: Scope) -> bool {
        self.0 & s.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses `issue,revoke` (or `all`).
    pub fn parse(text: &str) -> Result<Self, UnknownScope> {
        let mut s = Scopes(0);
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "all" {
                s = Scopes::all();
                continue;
            }
            let scope = Scope::ALL
                .into_iter()
                .find(|x| x.as_str() == name)
                .ok_or_else(|| UnknownScope(name.to_owned()))?;
            s = s.with(scope);
        }
        Ok(s)
    }

    /// The scopes, in display order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |x| self.contains(*x))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Scope::as_str))
    }
}

/// Makes a new random token (`tbat_…`).
pub fn generate() -> NewToken {
    tokens::generate(TOKEN_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        let s = Scopes::parse("revoke, issue").unwrap();
        assert!(s.contains(Scope::Issue) && s.contains(Scope::Revoke));
        assert!(!s.contains(Scope::Read));
        assert_eq!(s.to_string(), "issue,revoke");
        assert_eq!(Scopes::parse("all").unwrap(), Scopes::all());
        assert_eq!(Scopes::parse("issue,admin").unwrap_err().0, "admin");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(TOKEN_PREFIX) && a.secret.len() == 5 + 43);
        assert_eq!(a.hash, hash_secret(&a.secret));
        assert!(!format!("{a:?}").contains(&a.secret));
    }
}
