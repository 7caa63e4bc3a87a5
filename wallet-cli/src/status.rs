//! Checking a stored credential against its issuer's status list (Token
//! Status List): where the credential says its status is, fetching the
//! status list token, and reading the credential's entry once the token is
//! shown to be the issuer's.

use std::time::Duration;

use serde_json::Value;
use tongban_cli_support::net::{self, FetchError};
use tongban_verifier::{HeldCredential, PublicKey, Status, StatusListToken};

/// A credential's status as the wallet records and shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStatus {
    /// Valid.
    Valid,
    /// Revoked for good.
    Revoked,
    /// Suspended (may be reinstated).
    Suspended,
    /// A status value the wallet does not know, or an index outside the
    /// list.
    Unknown,
    /// The status list is past its `exp`, or older than `iat` + `ttl`: it
    /// no longer says whether the credential is valid. (A revocation in it
    /// still stands: revocation is for good.)
    Stale,
}

/// How far a status list's `iat` may be ahead of the wallet's clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// The largest status list token fetched: 16 MiB.
const MAX_STATUS_LIST: u64 = 16 * 1024 * 1024;

impl CredentialStatus {
    /// The word recorded in the wallet and printed (`valid`, `revoked`,
    /// `suspended`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Valid => "valid",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Suspended => "suspended",
            CredentialStatus::Unknown => "unknown",
            CredentialStatus::Stale => "stale",
        }
    }

    /// The same in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            CredentialStatus::Valid => "有效",
            CredentialStatus::Revoked => "已吊销",
            CredentialStatus::Suspended => "已暂停",
            CredentialStatus::Unknown => "未知",
            CredentialStatus::Stale => "状态列表已过期",
        }
    }

    fn from_entry(entry: Option<u8>) -> CredentialStatus {
        match entry.map(Status::from_value) {
            Some(Status::Valid) => CredentialStatus::Valid,
            Some(Status::Invalid) => CredentialStatus::Revoked,
            Some(Status::Suspended) => CredentialStatus::Suspended,
            Some(Status::Other(_)) | None => CredentialStatus::Unknown,
        }
    }
}

/// Why the status could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// The credential carries no `status.status_list` reference.
    #[error("{0} carries no status list reference; its issuer does not revoke it online")]
    NoReference(String),
    /// The status list could not be fetched.
    #[error("cannot fetch {uri}: {detail}")]
    Fetch {
        /// The status list URI.
        uri: String,
        /// Why.
        detail: String,
    },
    /// The status list was not fetched because its URL or a redirect broke
    /// the fetching rules (https, or plain http to this machine only; no
    /// redirect to another origin).
    #[error("{0}")]
    FetchRefused(FetchError),
    /// The status list token is issued in the future (beyond the allowed
    /// clock skew).
    #[error("the status list at {uri} is issued at {iat}, in the future")]
    IssuedInTheFuture {
        /// The status list URI.
        uri: String,
        /// Its `iat`.
        iat: i64,
    },
    /// The status list token is malformed.
    #[error("{0}")]
    TokenInvalid(String),
    /// The status list token is not signed by the issuer's key.
    #[error("the status list at {0} is not signed by the issuer's key")]
    NotSignedByIssuer(String),
    /// The token names another URI than the one it was fetched from.
    #[error("the status list at {uri} says it is {says}")]
    UriMismatch {
        /// Where it was fetched from.
        uri: String,
        /// What it says it is.
        says: String,
    },
}

impl StatusError {
    /// Whether the status list itself was refused (a refusal, exit 1),
    /// rather than the check being impossible (usage or network, exit 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StatusError::TokenInvalid(_)
                | StatusError::NotSignedByIssuer(_)
                | StatusError::UriMismatch { .. }
                | StatusError::IssuedInTheFuture { .. }
        )
    }

    /// The stable code of a fetch the rules refused, if this is one
    /// (`fetch_insecure_url`, `fetch_redirect_refused`, `fetch_too_large`).
    pub fn fetch_code(&self) -> Option<&'static str> {
        match self {
            StatusError::FetchRefused(e) => Some(e.code()),
            _ => None,
        }
    }
}

/// Where a credential's status is: the status list's URI and the
/// credential's index in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReference {
    /// The status list token's URI.
    pub uri: String,
    /// The index of the credential's entry.
    pub idx: u64,
}

impl StatusReference {
    /// The credential's `status.status_list` reference; `id` names it in
    /// the error.
    pub fn of(held: &HeldCredential, id: &str) -> Result<StatusReference, StatusError> {
        let reference = held
            .payload()
            .get("status")
            .and_then(|s| s.get("status_list"));
        let uri = reference.and_then(|r| r.get("uri")).and_then(Value::as_str);
        let idx = reference.and_then(|r| r.get("idx")).and_then(Value::as_u64);
        match (uri, idx) {
            (Some(uri), Some(idx)) => Ok(StatusReference {
                uri: uri.to_owned(),
                idx,
            }),
            _ => Err(StatusError::NoReference(id.to_owned())),
        }
    }

    /// Fetches the status list token (HTTP GET, `timeout`) by the shared
    /// fetching rules (`tongban_cli_support::net`).
    pub fn fetch(&self, timeout: Duration) -> Result<String, StatusError> {
        net::Fetcher::new(timeout)
            .get_text(&self.uri, MAX_STATUS_LIST)
            .map_err(|e| match e {
                FetchError::Failed { reason, .. } => StatusError::Fetch {
                    uri: self.uri.clone(),
                    detail: reason,
                },
                refused => StatusError::FetchRefused(refused),
            })
    }

    /// Checks the fetched token `jwt` with the issuer's `keys` and reads the
    /// credential's entry, at `now` (Unix seconds): a token issued in the
    /// future (beyond [`MAX_CLOCK_SKEW_SECS`]) is refused, and one past its
    /// `exp` or older than `iat` + `ttl` is [`CredentialStatus::Stale`]
    /// unless it revokes the credential.
    pub fn check(
        &self,
        jwt: &str,
        keys: &[PublicKey],
        now: i64,
    ) -> Result<CredentialStatus, StatusError> {
        let uri = &self.uri;
        let signed = StatusListToken::parse(jwt.trim())
            .map_err(|r| StatusError::TokenInvalid(r.to_string()))?;
        if !signed.signed_by_any(keys) {
            return Err(StatusError::NotSignedByIssuer(uri.clone()));
        }
        let token = &signed.token;
        if token.uri != *uri {
            return Err(StatusError::UriMismatch {
                uri: uri.clone(),
                says: token.uri.clone(),
            });
        }
        if token.iat > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
            return Err(StatusError::IssuedInTheFuture {
                uri: uri.clone(),
                iat: token.iat,
            });
        }
        let entry = usize::try_from(self.idx)
            .ok()
            .and_then(|i| token.list.get(i));
        let status = CredentialStatus::from_entry(entry);
        let expired = token.exp.is_some_and(|exp| now >= exp);
        let too_old = token.ttl.is_some_and(|ttl| {
            i64::try_from(ttl).is_ok_and(|ttl| now > token.iat.saturating_add(ttl))
        });
        if (expired || too_old) && status != CredentialStatus::Revoked {
            return Ok(CredentialStatus::Stale);
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;
    use tongban_verifier::status::Bits;
    use tongban_verifier::{CredentialBuilder, Ed25519Signer, Signer as _, StatusList};

    const URI: &str = "https://i.example/status/1";

    fn token(signer: &Ed25519Signer, uri: &str) -> String {
        let mut list = StatusList::new(Bits::new(2).unwrap(), 16);
        list.set(1, 1);
        list.set(2, 2);
        list.set(3, 3);
        StatusListToken::sign(
            signer,
            "https://i.example",
            uri,
            1_800_000_000,
            None,
            None,
            &list,
        )
        .unwrap()
    }

    fn at(idx: u64) -> StatusReference {
        StatusReference {
            uri: URI.into(),
            idx,
        }
    }

    #[test]
    fn each_entry_reads_as_its_status() {
        let issuer = Ed25519Signer::from_seed(&[1; 32], None);
        let jwt = token(&issuer, URI);
        let keys = [issuer.public_key()];
        let status = |idx| at(idx).check(&jwt, &keys, 1_800_000_000).unwrap();
        assert_eq!(status(0), CredentialStatus::Valid);
        assert_eq!(status(1), CredentialStatus::Revoked);
        assert_eq!(status(2), CredentialStatus::Suspended);
        assert_eq!(status(3), CredentialStatus::Unknown);
        assert_eq!(
            status(10_000),
            CredentialStatus::Unknown,
            "outside the list"
        );
        assert_eq!(
            [
                CredentialStatus::Valid,
                CredentialStatus::Revoked,
                CredentialStatus::Suspended,
                CredentialStatus::Unknown
            ]
            .map(|s| (s.as_str(), s.zh())),
            [
                ("valid", "有效"),
                ("revoked", "已吊销"),
                ("suspended", "已暂停"),
                ("unknown", "未知")
            ]
        );
    }

    #[test]
    fn a_list_not_from_the_issuer_or_for_another_uri_is_refused() {
        let issuer = Ed25519Signer::from_seed(&[1; 32], None);
        let other = Ed25519Signer::from_seed(&[2; 32], None);
        let e = at(0)
            .check(&token(&other, URI), &[issuer.public_key()], 1_800_000_000)
            .unwrap_err();
        assert_eq!(e, StatusError::NotSignedByIssuer(URI.into()));
        assert!(e.is_refusal());
        let e = at(0)
            .check(
                &token(&issuer, "https://i.example/status/2"),
                &[issuer.public_key()],
                1_800_000_000,
            )
            .unwrap_err();
        assert!(matches!(e, StatusError::UriMismatch { .. }), "{e}");
        let e = at(0)
            .check("not a jwt", &[issuer.public_key()], 1_800_000_000)
            .unwrap_err();
        assert!(matches!(e, StatusError::TokenInvalid(_)), "{e}");
    }

    #[test]
    fn an_old_list_is_stale_and_one_from_the_future_is_refused() {
        let issuer = Ed25519Signer::from_seed(&[1; 32], None);
        let keys = [issuer.public_key()];
        let iat = 1_800_000_000;
        let signed = |exp: Option<i64>, ttl: Option<u64>| {
            let mut list = StatusList::new(Bits::new(2).unwrap(), 16);
            list.set(1, 1);
            StatusListToken::sign(&issuer, "https://i.example", URI, iat, exp, ttl, &list).unwrap()
        };
        // Past exp: stale, not valid.
        let jwt = signed(Some(iat + 3600), None);
        assert_eq!(
            at(0).check(&jwt, &keys, iat + 3599).unwrap(),
            CredentialStatus::Valid
        );
        assert_eq!(
            at(0).check(&jwt, &keys, iat + 3600).unwrap(),
            CredentialStatus::Stale
        );
        // Older than iat + ttl: stale; a revocation in it still stands.
        let jwt = signed(None, Some(600));
        assert_eq!(
            at(0).check(&jwt, &keys, iat + 600).unwrap(),
            CredentialStatus::Valid
        );
        assert_eq!(
            at(0).check(&jwt, &keys, iat + 601).unwrap(),
            CredentialStatus::Stale
        );
        assert_eq!(
            at(1).check(&jwt, &keys, iat + 601).unwrap(),
            CredentialStatus::Revoked
        );
        assert_eq!(CredentialStatus::Stale.as_str(), "stale");
        // Issued in the future beyond the skew: refused.
        let jwt = signed(None, None);
        assert_eq!(
            at(0).check(&jwt, &keys, iat - MAX_CLOCK_SKEW_SECS).unwrap(),
            CredentialStatus::Valid
        );
        let e = at(0)
            .check(&jwt, &keys, iat - MAX_CLOCK_SKEW_SECS - 1)
            .unwrap_err();
        assert!(matches!(e, StatusError::IssuedInTheFuture { .. }), "{e}");
        assert!(e.is_refusal());
    }

    #[test]
    fn status_lists_are_fetched_over_https_only() {
        let plain = StatusReference {
            uri: "http://i.example/status/1".into(),
            idx: 0,
        };
        let e = plain.fetch(Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.fetch_code(), Some("fetch_insecure_url"), "{e}");
        assert!(!e.is_refusal());
    }

    #[test]
    fn the_reference_is_read_from_the_credential() {
        let issuer = Ed25519Signer::from_seed(&[1; 32], None);
        let holder = Ed25519Signer::from_seed(&[2; 32], None);
        let issue = |status: Option<Value>| {
            let mut b = CredentialBuilder::new("https://i.example", "urn:example:x", 1_800_000_000)
                .holder_key(holder.public_key());
            if let Some(s) = status {
                b = b.status(s);
            }
            let issued = b.issue(&issuer, &mut rand::rngs::OsRng).unwrap();
            HeldCredential::parse(&issued.sd_jwt).unwrap()
        };
        let held = issue(Some(json!({"status_list": {"uri": URI, "idx": 7}})));
        assert_eq!(StatusReference::of(&held, "c1").unwrap(), at(7));
        let held = issue(None);
        let e = StatusReference::of(&held, "c1").unwrap_err();
        assert_eq!(e, StatusError::NoReference("c1".into()));
        assert!(!e.is_refusal());
    }
}
