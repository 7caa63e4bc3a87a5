//! The sync sequence: trust list, its verification, status lists, bundle.

use std::fmt;
use std::path::Path;

use tongban_verifier::bundle::{BundleFiles, Held};
use tongban_verifier::jws_json::MultiJws;
use tongban_verifier::root::MAX_ROOT_STEPS;
use tongban_verifier::trust::VerifiedTrustList;
use tongban_verifier::{ErrorCode, KeyWithId, Rejection, TrustAnchors, TrustBundle};

use crate::fetch::Fetcher;
use crate::{SyncError, bundle_dir};

/// What a sync is doing, for a progress line or a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Fetching the trust list.
    TrustList {
        /// Its URL.
        url: String,
    },
    /// Fetching root of trust number `sequence`, which the trust list was
    /// signed under and this counter has not followed yet.
    Root {
        /// The root's sequence.
        sequence: u64,
        /// Its URL.
        url: String,
    },
    /// Fetching status list `index` (1-based) of `total`.
    StatusList {
        /// 1-based position.
        index: usize,
        /// How many the trust list names.
        total: usize,
        /// Its URL.
        url: String,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::TrustList { url } => write!(f, "fetching the trust list {url}"),
            Progress::Root { sequence, url } => {
                write!(f, "fetching root of trust {sequence} {url}")
            }
            Progress::StatusList { index, total, url } => {
                write!(f, "[{index}/{total}] fetching the status list {url}")
            }
        }
    }
}

/// Where root of trust `sequence` is published: `root-<n>.json` beside
/// the trust list (the trust list URL with its last path segment, and any
/// query, replaced).
pub fn root_url(trust_list_url: &str, sequence: u64) -> String {
    let base = trust_list_url
        .split(['?', '#'])
        .next()
        .unwrap_or(trust_list_url);
    let dir = match base.rfind('/') {
        Some(i) if base[..i].contains("//") && !base[..i].ends_with('/') => &base[..=i],
        _ => base,
    };
    let sep = if dir.ends_with('/') { "" } else { "/" };
    format!("{dir}{sep}root-{sequence}.json")
}

/// Fetches the trust list at `trust_list_url`, verifies it against
/// `anchors` (refusing a sequence below `held`) before following any URL it
/// names, fetches every status list it names and assembles the bundle as of
/// `now` (Unix seconds). Nothing is written. The anchors are pinned bare
/// keys (see [`sync_under`] for a pinned root).
pub fn sync(
    fetcher: &Fetcher,
    trust_list_url: &str,
    anchors: &[KeyWithId],
    held: Option<u64>,
    now: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(TrustBundle, BundleFiles), SyncError> {
    sync_under(
        fetcher,
        trust_list_url,
        &TrustAnchors::from_keys(anchors),
        &[],
        Held {
            sequence: held,
            root_sequence: None,
        },
        now,
        progress,
    )
}

/// [`sync`] under the pinned root `pin`: starts the chain walk from the
/// roots already held (`held_roots`, verified again from `pin`), fetches
/// the roots the trust list needs beyond them ([`root_url`], at most
/// [`MAX_ROOT_STEPS`] per sync), refuses a root or list older than `held`,
/// and verifies the list under the root reached before following any URL
/// it names.
pub fn sync_under(
    fetcher: &Fetcher,
    trust_list_url: &str,
    pin: &TrustAnchors,
    held_roots: &[String],
    held: Held,
    now: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(TrustBundle, BundleFiles), SyncError> {
    let refused = |rejection| SyncError::Refused { rejection };
    progress(Progress::TrustList {
        url: trust_list_url.to_owned(),
    });
    let tl = fetcher.get(trust_list_url)?;
    // The held roots were verified when stored; if they no longer follow
    // from the pin (a re-pinned counter), start from the pin alone.
    let mut roots: Vec<String> = held_roots.to_vec();
    let start = pin.follow(&roots, MAX_ROOT_STEPS).unwrap_or_else(|_| {
        roots.clear();
        pin.clone()
    });
    // Which root the list says it was signed under (unverified: only to
    // know what to fetch; the list is verified under what the chain gives).
    let needs = MultiJws::parse(&tl, "the trust list", ErrorCode::TrustListMalformed)
        .map_err(refused)?
        .payload
        .get("root_sequence")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if needs > start.sequence() {
        let missing = needs - start.sequence();
        if missing > MAX_ROOT_STEPS as u64 {
            return Err(refused(Rejection::new(
                ErrorCode::TrustRootChainBroken,
                format!(
                    "the trust list needs root {needs}, {missing} versions beyond this counter's root {}; at most {MAX_ROOT_STEPS} are followed per sync, so the pinned root must be renewed",
                    start.sequence()
                ),
            )));
        }
        for sequence in start.sequence() + 1..=needs {
            let url = root_url(trust_list_url, sequence);
            progress(Progress::Root {
                sequence,
                url: url.clone(),
            });
            roots.push(fetcher.get(&url)?);
        }
    }
    let anchors = pin.follow(&roots, MAX_ROOT_STEPS).map_err(refused)?;
    anchors
        .check_not_older(held.root_sequence)
        .map_err(refused)?;
    // Verify the list before following any URL it names.
    let verified =
        VerifiedTrustList::verify_under(&tl, &anchors, held.sequence).map_err(refused)?;
    let urls: Vec<String> = verified
        .list()
        .issuers
        .iter()
        .flat_map(|i| i.status_lists.clone())
        .collect();
    let mut jwts = Vec::with_capacity(urls.len());
    for (i, url) in urls.iter().enumerate() {
        progress(Progress::StatusList {
            index: i + 1,
            total: urls.len(),
            url: url.clone(),
        });
        jwts.push(fetcher.get(url)?);
    }
    TrustBundle::assemble_under(&tl, &roots, &jwts, pin, held, now).map_err(refused)
}

/// [`sync`] into the bundle directory `dir`: the sequence already held
/// there is the rollback floor, and the new bundle replaces it atomically
/// (on any error the previous bundle stays). The anchors are pinned bare
/// keys (see [`sync_into_under`] for a pinned root).
pub fn sync_into(
    fetcher: &Fetcher,
    trust_list_url: &str,
    anchors: &[KeyWithId],
    dir: &Path,
    now: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrustBundle, SyncError> {
    sync_into_under(
        fetcher,
        trust_list_url,
        &TrustAnchors::from_keys(anchors),
        dir,
        now,
        progress,
    )
}

/// [`sync_under`] into the bundle directory `dir`: the roots it keeps are
/// where the chain walk starts, the list and root sequences it holds are
/// the rollback floors, and the new bundle replaces it atomically.
pub fn sync_into_under(
    fetcher: &Fetcher,
    trust_list_url: &str,
    pin: &TrustAnchors,
    dir: &Path,
    now: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrustBundle, SyncError> {
    let held = bundle_dir::held(dir);
    let held_roots = bundle_dir::held_roots(dir);
    let (bundle, files) = sync_under(
        fetcher,
        trust_list_url,
        pin,
        &held_roots,
        held,
        now,
        progress,
    )?;
    bundle_dir::write(dir, &files)?;
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_read_as_before() {
        assert_eq!(
            Progress::TrustList {
                url: "https://t/l".into()
            }
            .to_string(),
            "fetching the trust list https://t/l"
        );
        assert_eq!(
            Progress::StatusList {
                index: 2,
                total: 3,
                url: "https://s/1".into()
            }
            .to_string(),
            "[2/3] fetching the status list https://s/1"
        );
    }

    #[test]
    fn roots_are_published_beside_the_trust_list() {
        assert_eq!(
            root_url("https://trust.example/zone/trust-list.json", 2),
            "https://trust.example/zone/root-2.json"
        );
        assert_eq!(
            root_url("https://trust.example/list?v=1", 3),
            "https://trust.example/root-3.json"
        );
        assert_eq!(
            root_url("https://trust.example", 1),
            "https://trust.example/root-1.json"
        );
    }

    #[test]
    fn an_insecure_trust_list_url_is_refused_before_any_request() {
        let fetcher = Fetcher::new(std::time::Duration::from_secs(1));
        let mut seen = Vec::new();
        let err = sync(
            &fetcher,
            "http://trust.example/list.jwt",
            &[],
            None,
            0,
            &mut |p| seen.push(p),
        )
        .map(|_| ())
        .unwrap_err();
        assert_eq!(err.code(), "fetch_insecure_url");
        assert_eq!(seen.len(), 1);
    }
}
