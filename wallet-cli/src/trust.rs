//! The trust list the wallet holds: the zone's signed list of issuers and
//! of receiving agencies with their registered service items, verified
//! against a pinned root of trust (or anchor keys) exactly as a counter
//! verifies its bundle, synced through `tongban-trust-sync` or imported
//! from files. It is stored in the encrypted wallet file with the pin and
//! the sequences held, so a list older than the one held (an old list
//! replayed to hide a removed agency) is refused (`trust_list_rollback`).
//!
//! An issuer may also say where the zone's list is published
//! (`tongban_trust_list_uri` in its OpenID4VCI metadata): [`offered`]
//! fetches it by `sync`'s rules under the root the wallet has already
//! pinned. The wallet never takes its root of trust from an issuer: with
//! no pin, nothing is fetched (no trust on first use).

use tongban_trust_sync::fetch::Fetcher;
use tongban_verifier::bundle::Held;
use tongban_verifier::root::MAX_ROOT_STEPS;
use tongban_verifier::trust::VerifiedTrustList;
use tongban_verifier::{Rejection, TrustAnchors};

use crate::store::HeldTrust;

/// Why the trust list could not be stored or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The pin, a root or the list was refused.
    #[error("{}: {}", .0.code, .0.detail)]
    Refused(Rejection),
    /// Fetching failed (network, https only, size).
    #[error("{message}")]
    Fetch {
        /// The stable code.
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// Nothing to verify with: no pinned root given or held.
    #[error(
        "give the zone's root of trust (--anchor-key FILE) the first time; the wallet keeps it"
    )]
    NoPin,
}

impl TrustError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Refused(r) => r.code.code(),
            TrustError::Fetch { code, .. } => code,
            TrustError::NoPin => "anchor_key_missing",
        }
    }
}

fn pin_of(pin: &str) -> Result<TrustAnchors, TrustError> {
    TrustAnchors::from_pin_document(pin.as_bytes()).map_err(TrustError::Refused)
}

/// Verifies the list held, under its pin and roots (the sequences held are
/// the floor: nothing older).
pub fn verify_held(held: &HeldTrust) -> Result<VerifiedTrustList, TrustError> {
    let anchors = pin_of(&held.pin)?
        .follow(&held.roots, MAX_ROOT_STEPS)
        .map_err(TrustError::Refused)?;
    VerifiedTrustList::verify_under(&held.trust_list, &anchors, Some(held.sequence))
        .map_err(TrustError::Refused)
}

/// The pin to verify with: the one given, else the one held.
fn choose_pin(pin: Option<String>, held: Option<&HeldTrust>) -> Result<String, TrustError> {
    pin.or_else(|| held.map(|h| h.pin.clone()))
        .ok_or(TrustError::NoPin)
}

/// Verifies a list (and the roots a rotation added) from files, refusing
/// anything older than what is held; returns what to store.
pub fn import(
    pin: Option<String>,
    roots: Vec<String>,
    trust_list: String,
    held: Option<&HeldTrust>,
    now: i64,
) -> Result<(HeldTrust, VerifiedTrustList), TrustError> {
    let pin = choose_pin(pin, held)?;
    let mut chain: Vec<String> = held
        .filter(|h| h.pin == pin)
        .map(|h| h.roots.clone())
        .unwrap_or_default();
    for r in roots {
        if !chain.contains(&r) {
            chain.push(r);
        }
    }
    let anchors = pin_of(&pin)?
        .follow(&chain, MAX_ROOT_STEPS)
        .map_err(TrustError::Refused)?;
    anchors
        .check_not_older(held.map(|h| h.root_sequence))
        .map_err(TrustError::Refused)?;
    let verified = VerifiedTrustList::verify_under(&trust_list, &anchors, held.map(|h| h.sequence))
        .map_err(TrustError::Refused)?;
    let stored = HeldTrust {
        pin,
        roots: anchors.chain().to_vec(),
        trust_list: verified.jws().to_owned(),
        sequence: verified.list().sequence,
        root_sequence: anchors.sequence(),
        url: held.and_then(|h| h.url.clone()),
        stored_at: now,
    };
    Ok((stored, verified))
}

/// Syncs the list from `url` by the counter's rules (`tongban-trust-sync`:
/// https only, verified before any URL it names is followed, no rollback).
pub fn sync(
    fetcher: &Fetcher,
    url: &str,
    pin: Option<String>,
    held: Option<&HeldTrust>,
    now: i64,
) -> Result<(HeldTrust, VerifiedTrustList), TrustError> {
    let pin = choose_pin(pin, held)?;
    let anchors = pin_of(&pin)?;
    let held_roots: Vec<String> = held
        .filter(|h| h.pin == pin)
        .map(|h| h.roots.clone())
        .unwrap_or_default();
    let floor = Held {
        sequence: held.map(|h| h.sequence),
        root_sequence: held.map(|h| h.root_sequence),
    };
    let (bundle, _files) = tongban_trust_sync::sync_under(
        fetcher,
        url,
        &anchors,
        &held_roots,
        floor,
        now,
        &mut |_| {},
    )
    .map_err(|e| match e {
        tongban_trust_sync::SyncError::Refused { rejection } => TrustError::Refused(rejection),
        other => TrustError::Fetch {
            code: other.code(),
            message: other.to_string(),
        },
    })?;
    let verified = bundle.trust_list().clone();
    let stored = HeldTrust {
        pin,
        roots: bundle.anchors().chain().to_vec(),
        trust_list: verified.jws().to_owned(),
        sequence: verified.list().sequence,
        root_sequence: bundle.anchors().sequence(),
        url: Some(url.to_owned()),
        stored_at: now,
    };
    Ok((stored, verified))
}

/// What became of the trust list an issuer's metadata named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    /// Verified under the pinned root, newer than the one held: store it.
    Newer(Box<HeldTrust>),
    /// Verified, and the list held already (same sequence and root).
    Unchanged {
        /// The sequence held.
        sequence: u64,
    },
}

/// Fetches the list an issuer's metadata names (`url`) and verifies it
/// exactly as [`sync`] does, under the pin held (never one from the
/// issuer: [`TrustError::NoPin`] without one, before anything is fetched),
/// refusing anything older than what is held. The URL the citizen syncs
/// from, if any, is kept.
pub fn offered(
    fetcher: &Fetcher,
    url: &str,
    held: Option<&HeldTrust>,
    now: i64,
) -> Result<Offered, TrustError> {
    let held = held.ok_or(TrustError::NoPin)?;
    let (mut stored, _) = sync(fetcher, url, None, Some(held), now)?;
    if stored.sequence == held.sequence && stored.root_sequence == held.root_sequence {
        return Ok(Offered::Unchanged {
            sequence: held.sequence,
        });
    }
    if held.url.is_some() {
        stored.url.clone_from(&held.url);
    }
    Ok(Offered::Newer(Box::new(stored)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_list_an_issuer_names_is_not_fetched_without_a_pinned_root() {
        // Nothing listens on port 1: a fetch would fail with a network
        // code, so `anchor_key_missing` shows nothing was attempted.
        let fetcher = Fetcher::new(Duration::from_secs(1));
        let e = offered(&fetcher, "http://127.0.0.1:1/trust-list.json", None, 0).unwrap_err();
        assert!(matches!(e, TrustError::NoPin), "{e}");
        assert_eq!(e.code(), "anchor_key_missing");
    }
}
