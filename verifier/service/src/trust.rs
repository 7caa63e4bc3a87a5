//! The trust bundle the service verifies with, and its scheduled refresh.
//!
//! The service keeps the bundle fresh itself: every `sync_interval_secs` a
//! [`BundleSource`] produces a new verified [`TrustBundle`] (on a blocking
//! thread: fetching and verifying are synchronous) and it replaces the one
//! in memory. With a `trust_list_url`, the source fetches the signed trust
//! list and its status lists and writes the bundle directory, exactly as
//! `tongban-verify sync` does; without one, it re-reads the bundle
//! directory, which an operator fills with `tongban-verify sync --bundle`.
//! A failed refresh keeps the previous bundle (and says so in the log and
//! `/readyz`); the bundle's age is in every verification result, and
//! `/readyz` fails once it is older than `max_bundle_age_secs`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tongban_trust_sync::bundle_dir;
use tongban_trust_sync::fetch::Fetcher;
use tongban_verifier::{KeyWithId, TrustBundle};

/// Where new bundles come from. `refresh` runs on a blocking thread.
pub trait BundleSource: Send + Sync + 'static {
    /// A new verified bundle, given the sequence of the trust list held
    /// (rollback protection) and the time.
    fn refresh(&self, held: Option<u64>, now: i64) -> Result<TrustBundle, String>;
}

/// Reads the anchor key files (JWK or JWK set documents, with `kid`).
pub fn read_anchor_keys(files: &[PathBuf]) -> Result<Vec<KeyWithId>, String> {
    let mut keys = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("anchor key file {}: {e}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("anchor key file {}: not JSON: {e}", path.display()))?;
        keys.extend(
            KeyWithId::from_key_document(&value)
                .map_err(|e| format!("anchor key file {}: {e}", path.display()))?,
        );
    }
    Ok(keys)
}

/// Loads and verifies the bundle in `dir`.
pub fn load_dir(dir: &Path, anchors: &[KeyWithId]) -> Result<TrustBundle, String> {
    bundle_dir::load(dir, anchors).map_err(|e| format!("{}: {e}", e.code()))
}

/// The sequence of the trust list in `dir`'s manifest, if any.
pub fn held_sequence(dir: &Path) -> Option<u64> {
    bundle_dir::held_sequence(dir)
}

/// Syncs from a trust list URL into the bundle directory, by the rules of
/// `tongban-verify sync` (the shared `tongban-trust-sync` crate): the list
/// is verified against the anchors before any URL it names is followed,
/// rollback below the held sequence is refused, and the directory is
/// replaced atomically.
pub struct TrustListSource {
    /// The signed trust list.
    pub url: String,
    /// The anchor keys.
    pub anchors: Vec<KeyWithId>,
    /// The bundle directory.
    pub dir: PathBuf,
    /// The fetcher (timeouts, size bound, https only).
    pub fetcher: Fetcher,
}

impl std::fmt::Debug for TrustListSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustListSource")
            .field("url", &self.url)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl TrustListSource {
    /// A source with a 30-second fetch timeout.
    pub fn new(url: String, anchors: Vec<KeyWithId>, dir: PathBuf) -> Self {
        TrustListSource {
            url,
            anchors,
            dir,
            fetcher: Fetcher::new(Duration::from_secs(30)),
        }
    }
}

impl BundleSource for TrustListSource {
    fn refresh(&self, _held: Option<u64>, now: i64) -> Result<TrustBundle, String> {
        tongban_trust_sync::sync_into(
            &self.fetcher,
            &self.url,
            &self.anchors,
            &self.dir,
            now,
            &mut |p| tracing::debug!("{p}"),
        )
        .map_err(|e| format!("{}: {e}", e.code()))
    }
}

/// Re-reads a bundle directory someone else keeps in sync.
#[derive(Debug, Clone)]
pub struct DirectorySource {
    /// The bundle directory.
    pub dir: PathBuf,
    /// The anchor keys.
    pub anchors: Vec<KeyWithId>,
}

impl BundleSource for DirectorySource {
    fn refresh(&self, _held: Option<u64>, _now: i64) -> Result<TrustBundle, String> {
        load_dir(&self.dir, &self.anchors)
    }
}

/// How fresh the bundle a result was verified with is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freshness {
    /// The trust list's sequence number.
    pub trust_list_sequence: u64,
    /// When the bundle was assembled (Unix seconds).
    pub bundle_created_at: i64,
    /// Its age at the time of verification, seconds.
    pub bundle_age_secs: i64,
    /// Whether it was younger than the service's `max_bundle_age_secs`.
    pub fresh: bool,
}

/// The bundle in memory and how the last refresh went.
#[derive(Debug, Default)]
pub struct TrustState {
    bundle: RwLock<Option<Arc<TrustBundle>>>,
    last_error: Mutex<Option<String>>,
}

impl TrustState {
    /// The current bundle, if any.
    pub fn current(&self) -> Option<Arc<TrustBundle>> {
        self.bundle.read().ok().and_then(|b| b.clone())
    }

    /// Replaces the bundle (a successful refresh).
    pub fn set(&self, bundle: TrustBundle) {
        if let Ok(mut b) = self.bundle.write() {
            *b = Some(Arc::new(bundle));
        }
        if let Ok(mut e) = self.last_error.lock() {
            *e = None;
        }
    }

    /// Records a failed refresh (the previous bundle stays).
    pub fn failed(&self, why: String) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(why);
        }
    }

    /// Why the last refresh failed, if it did.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// The freshness of `bundle` at `now` under `max_age`.
    pub fn freshness(bundle: &TrustBundle, now: i64, max_age: i64) -> Freshness {
        let age = bundle.age(now);
        Freshness {
            trust_list_sequence: bundle.trust_list().list().sequence,
            bundle_created_at: bundle.manifest().created_at,
            bundle_age_secs: age,
            fresh: age <= max_age,
        }
    }
}

/// Runs one refresh of `source` on a blocking thread and stores the result.
pub async fn refresh_once(
    state: &TrustState,
    source: Arc<dyn BundleSource>,
    held: Option<u64>,
    now: i64,
) -> Result<(), String> {
    let r = tokio::task::spawn_blocking(move || source.refresh(held, now))
        .await
        .map_err(|e| format!("the refresh task failed: {e}"))
        .and_then(|r| r);
    match r {
        Ok(b) => {
            tracing::info!(
                sequence = b.trust_list().list().sequence,
                "trust bundle refreshed"
            );
            state.set(b);
            Ok(())
        }
        Err(why) => {
            tracing::warn!(error = %why, "trust bundle refresh failed; keeping the previous bundle");
            state.failed(why.clone());
            Err(why)
        }
    }
}
