//! The sync sequence: trust list, its verification, status lists, bundle.

use std::fmt;
use std::path::Path;

use tongban_verifier::bundle::BundleFiles;
use tongban_verifier::trust::VerifiedTrustList;
use tongban_verifier::{KeyWithId, TrustBundle};

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
            Progress::StatusList { index, total, url } => {
                write!(f, "[{index}/{total}] fetching the status list {url}")
            }
        }
    }
}

/// Fetches the trust list at `trust_list_url`, verifies it against
/// `anchors` (refusing a sequence below `held`) before following any URL it
/// names, fetches every status list it names and assembles the bundle as of
/// `now` (Unix seconds). Nothing is written.
pub fn sync(
    fetcher: &Fetcher,
    trust_list_url: &str,
    anchors: &[KeyWithId],
    held: Option<u64>,
    now: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(TrustBundle, BundleFiles), SyncError> {
    let refused = |rejection| SyncError::Refused { rejection };
    progress(Progress::TrustList {
        url: trust_list_url.to_owned(),
    });
    let tl = fetcher.get(trust_list_url)?;
    // Verify the list before following any URL it names.
    let verified = VerifiedTrustList::verify(&tl, anchors, held).map_err(refused)?;
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
    TrustBundle::assemble(&tl, &jwts, anchors, held, now).map_err(refused)
}

/// [`sync`] into the bundle directory `dir`: the sequence already held
/// there is the rollback floor, and the new bundle replaces it atomically
/// (on any error the previous bundle stays).
pub fn sync_into(
    fetcher: &Fetcher,
    trust_list_url: &str,
    anchors: &[KeyWithId],
    dir: &Path,
    now: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrustBundle, SyncError> {
    let held = bundle_dir::held_sequence(dir);
    let (bundle, files) = sync(fetcher, trust_list_url, anchors, held, now, progress)?;
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
