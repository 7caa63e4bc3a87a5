//! The trust bundle: what a receiving counter syncs while online — the
//! signed trust list, the roots of trust it followed to verify it, and the
//! status list token of every listed issuer — kept as files beside a small
//! manifest. Another counter pinned to the same (or an older) root follows
//! the roots in the bundle offline.
//!
//! This module holds no I/O: [`TrustBundle::assemble`] checks freshly
//! fetched parts and says which files to write, [`TrustBundle::load`] reads
//! files through a callback. Either verifies everything, and a bundle that
//! fails anywhere is refused whole, never half-used. The CLI writes the files
//! atomically (content-addressed files first, the manifest last by rename).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::encoding::parse_json;
use crate::error::{ErrorCode, Rejection};
use crate::keys::KeyWithId;
use crate::resolver::{KeyQuery, KeyResolver, StatusAnswer, StatusQuery};
use crate::root::{MAX_ROOT_STEPS, TrustAnchors, peek_root_sequence};
use crate::status::{Status, StatusListToken};
use crate::trust::VerifiedTrustList;

/// The manifest's file name inside a bundle directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The bundle format version written. Version 2 adds the roots of trust.
pub const BUNDLE_VERSION: u32 = 2;
/// The oldest bundle format version read.
pub const OLDEST_BUNDLE_VERSION: u32 = 1;

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`BUNDLE_VERSION`].
    pub version: u32,
    /// When the bundle was assembled (Unix seconds): its age is measured from here.
    pub created_at: i64,
    /// The trust list's sequence number.
    pub sequence: u64,
    /// The signed trust list.
    pub trust_list: FileEntry,
    /// One entry per status list token.
    pub status_lists: Vec<StatusListEntry>,
    /// Version 2: the signed roots of trust followed beyond the syncing
    /// counter's pinned root, in chain order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roots: Vec<FileEntry>,
    /// Version 2: the sequence of the root the trust list was verified
    /// under (0: pinned bare keys).
    #[serde(default)]
    pub root_sequence: u64,
}

/// What a counter already holds, for rollback protection: the trust list's
/// sequence and the root of trust's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// The held trust list's sequence.
    pub sequence: Option<u64>,
    /// The held root of trust's sequence.
    pub root_sequence: Option<u64>,
}

/// A file of the bundle and its SHA-256 (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name inside the bundle directory.
    pub file: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// A status list token file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusListEntry {
    /// The issuer that publishes it.
    pub issuer: String,
    /// Its URI (the token's `sub`).
    pub uri: String,
    /// File name inside the bundle directory.
    pub file: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// Files to write into a bundle directory, `(name, bytes)`, the manifest last.
pub type BundleFiles = Vec<(String, Vec<u8>)>;

/// A verified status list, with the issuer it belongs to.
#[derive(Debug, Clone)]
pub struct BundledStatusList {
    /// The issuer (`iss`) it belongs to.
    pub issuer: String,
    /// The token's content.
    pub token: StatusListToken,
}

/// A fully verified trust bundle. It is a [`KeyResolver`] for keys and
/// status.
#[derive(Debug, Clone)]
pub struct TrustBundle {
    anchors: TrustAnchors,
    trust: VerifiedTrustList,
    status: HashMap<String, BundledStatusList>,
    manifest: Manifest,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Refuses names that could leave the bundle directory.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with('.')
}

impl TrustBundle {
    /// Verifies freshly fetched parts and returns the bundle and the files
    /// to write (name, bytes), the manifest last. `held` is the sequence of
    /// the trust list already held (rollback protection). The anchors are
    /// pinned bare keys; see [`TrustBundle::assemble_under`] for a root.
    pub fn assemble(
        trust_list_jws: &str,
        status_list_jwts: &[String],
        anchors: &[KeyWithId],
        held: Option<u64>,
        now: i64,
    ) -> Result<(TrustBundle, BundleFiles), Rejection> {
        TrustBundle::assemble_under(
            trust_list_jws,
            &[],
            status_list_jwts,
            &TrustAnchors::from_keys(anchors),
            Held {
                sequence: held,
                root_sequence: None,
            },
            now,
        )
    }

    /// Verifies freshly fetched parts under the pinned root `pin`: follows
    /// the chain through `roots` (at most [`MAX_ROOT_STEPS`] versions),
    /// refuses a root or list older than `held`, verifies the trust list
    /// under the root reached and every status list under the trust list.
    /// Returns the bundle and the files to write, the manifest last; the
    /// roots followed are among them.
    pub fn assemble_under(
        trust_list_jws: &str,
        roots: &[String],
        status_list_jwts: &[String],
        pin: &TrustAnchors,
        held: Held,
        now: i64,
    ) -> Result<(TrustBundle, BundleFiles), Rejection> {
        let anchors = pin.follow(roots, MAX_ROOT_STEPS)?;
        anchors.check_not_older(held.root_sequence)?;
        let trust = VerifiedTrustList::verify_under(trust_list_jws, &anchors, held.sequence)?;
        let tl_bytes = trust.jws().as_bytes().to_vec();
        let tl_hash = sha256_hex(&tl_bytes);
        let ext = if trust.is_compact() { "jwt" } else { "json" };
        let tl_file = format!("trust-list-{}.{ext}", &tl_hash[..16]);
        let mut files = vec![(tl_file.clone(), tl_bytes)];
        let mut root_entries = Vec::new();
        for text in anchors.chain() {
            let hash = sha256_hex(text.as_bytes());
            let seq = peek_root_sequence(text).unwrap_or_default();
            let file = format!("root-{seq}-{}.json", &hash[..16]);
            root_entries.push(FileEntry {
                file: file.clone(),
                sha256: hash,
            });
            files.push((file, text.as_bytes().to_vec()));
        }
        let mut entries = Vec::new();
        let mut status = HashMap::new();
        for jwt in status_list_jwts {
            let jwt = jwt.trim();
            let bundled = verify_status_list(jwt, &trust)?;
            let hash = sha256_hex(jwt.as_bytes());
            let file = format!("status-{}.jwt", &hash[..16]);
            entries.push(StatusListEntry {
                issuer: bundled.issuer.clone(),
                uri: bundled.token.uri.clone(),
                file: file.clone(),
                sha256: hash,
            });
            files.push((file, jwt.as_bytes().to_vec()));
            if status.insert(bundled.token.uri.clone(), bundled).is_some() {
                return Err(Rejection::new(
                    ErrorCode::BundleManifestInvalid,
                    "two status lists with the same URI",
                ));
            }
        }
        check_complete(&trust, &status)?;
        let manifest = Manifest {
            version: BUNDLE_VERSION,
            created_at: now,
            sequence: trust.list().sequence,
            trust_list: FileEntry {
                file: tl_file,
                sha256: tl_hash,
            },
            status_lists: entries,
            roots: root_entries,
            root_sequence: anchors.sequence(),
        };
        let manifest_bytes = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Rejection::new(ErrorCode::BundleManifestInvalid, e.to_string()))?;
        files.push((MANIFEST_FILE.to_owned(), manifest_bytes));
        Ok((
            TrustBundle {
                anchors,
                trust,
                status,
                manifest,
            },
            files,
        ))
    }

    /// Loads and verifies a bundle: the manifest's bytes, and a callback
    /// that returns a file's bytes by name (or `None` if it is missing).
    /// The anchors are pinned bare keys; see [`TrustBundle::load_under`].
    pub fn load(
        manifest: &[u8],
        read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
        anchors: &[KeyWithId],
    ) -> Result<TrustBundle, Rejection> {
        TrustBundle::load_under(manifest, read, &TrustAnchors::from_keys(anchors))
    }

    /// Loads and verifies a bundle under the pinned root `pin`, following
    /// the roots the bundle keeps: what an air-gapped counter does with a
    /// bundle carried over from an online one.
    pub fn load_under(
        manifest: &[u8],
        read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
        pin: &TrustAnchors,
    ) -> Result<TrustBundle, Rejection> {
        let bad = |why: String| Rejection::new(ErrorCode::BundleManifestInvalid, why);
        let value = parse_json(manifest, "the bundle manifest").map_err(|r| bad(r.detail))?;
        let manifest: Manifest =
            serde_json::from_value(value).map_err(|e| bad(format!("the bundle manifest: {e}")))?;
        if !(OLDEST_BUNDLE_VERSION..=BUNDLE_VERSION).contains(&manifest.version) {
            return Err(bad(format!(
                "bundle version {} is not supported",
                manifest.version
            )));
        }
        let mut fetch = |entry_file: &str, sha: &str| -> Result<String, Rejection> {
            if !safe_name(entry_file) {
                return Err(bad(format!("file name {entry_file:?} is not allowed")));
            }
            let bytes = read(entry_file).ok_or_else(|| {
                Rejection::new(
                    ErrorCode::BundleFileMissing,
                    format!("{entry_file} is missing from the bundle"),
                )
            })?;
            if sha256_hex(&bytes) != sha {
                return Err(Rejection::new(
                    ErrorCode::BundleFileTampered,
                    format!("{entry_file} does not match its SHA-256 in the manifest"),
                ));
            }
            String::from_utf8(bytes).map_err(|_| {
                Rejection::new(
                    ErrorCode::BundleFileTampered,
                    format!("{entry_file} is not text"),
                )
            })
        };
        let tl = fetch(&manifest.trust_list.file, &manifest.trust_list.sha256)?;
        let roots = manifest
            .roots
            .iter()
            .map(|r| fetch(&r.file, &r.sha256))
            .collect::<Result<Vec<_>, _>>()?;
        let anchors = pin.follow(&roots, MAX_ROOT_STEPS)?;
        if anchors.sequence() < manifest.root_sequence {
            return Err(Rejection::new(
                ErrorCode::TrustRootChainBroken,
                format!(
                    "the bundle was verified under root {}, and its roots lead this counter's pinned root {} only to root {}",
                    manifest.root_sequence,
                    pin.sequence(),
                    anchors.sequence()
                ),
            ));
        }
        let trust = VerifiedTrustList::verify_under(&tl, &anchors, None)?;
        if trust.list().sequence != manifest.sequence {
            return Err(bad(
                "the manifest's sequence does not match its trust list".into()
            ));
        }
        let mut status = HashMap::new();
        for e in &manifest.status_lists {
            let jwt = fetch(&e.file, &e.sha256)?;
            let bundled = verify_status_list(&jwt, &trust)?;
            if bundled.token.uri != e.uri || bundled.issuer != e.issuer {
                return Err(bad(format!(
                    "manifest entry {} does not match its status list",
                    e.file
                )));
            }
            if status.insert(e.uri.clone(), bundled).is_some() {
                return Err(bad(format!("status list {} is listed twice", e.uri)));
            }
        }
        check_complete(&trust, &status)?;
        Ok(TrustBundle {
            anchors,
            trust,
            status,
            manifest,
        })
    }

    /// The roots of trust the bundle was verified under: the pinned one and
    /// the chain followed from it.
    pub fn anchors(&self) -> &TrustAnchors {
        &self.anchors
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The verified trust list.
    pub fn trust_list(&self) -> &VerifiedTrustList {
        &self.trust
    }

    /// The verified status lists, by URI.
    pub fn status_lists(&self) -> &HashMap<String, BundledStatusList> {
        &self.status
    }

    /// Seconds since the bundle was assembled.
    pub fn age(&self, now: i64) -> i64 {
        now.saturating_sub(self.manifest.created_at)
    }
}

/// Every status list a listed issuer publishes must be in the bundle.
fn check_complete(
    trust: &VerifiedTrustList,
    status: &HashMap<String, BundledStatusList>,
) -> Result<(), Rejection> {
    let mut listed = HashSet::new();
    for issuer in &trust.list().issuers {
        for uri in &issuer.status_lists {
            listed.insert(uri.as_str());
            if !status.contains_key(uri) {
                return Err(Rejection::new(
                    ErrorCode::BundleIncomplete,
                    format!("the status list {uri} of issuer {} is missing", issuer.id),
                ));
            }
        }
    }
    Ok(())
}

/// Verifies a status list token against the trust list: its URI must be
/// one a listed issuer publishes, and that issuer's key (valid at the
/// token's `iat`) must have signed it.
fn verify_status_list(
    jwt: &str,
    trust: &VerifiedTrustList,
) -> Result<BundledStatusList, Rejection> {
    let signed = StatusListToken::parse(jwt)?;
    let token = &signed.token;
    let issuer = trust
        .list()
        .issuers
        .iter()
        .find(|i| i.status_lists.contains(&token.uri))
        .ok_or_else(|| {
            Rejection::new(
                ErrorCode::StatusListIssuerUnknown,
                format!("no listed issuer publishes the status list {}", token.uri),
            )
        })?;
    if token.iss.as_deref().is_some_and(|iss| iss != issuer.id) {
        return Err(Rejection::new(
            ErrorCode::StatusListIssuerUnknown,
            format!(
                "the status list {} names issuer {:?}, not {}",
                token.uri, token.iss, issuer.id
            ),
        ));
    }
    // A token naming its signer by certificate has its chain validated at
    // its `iat` (loading a bundle has no clock; the token's age is bounded
    // by the freshness rules when a credential's status is read).
    let keys = match signed.jws.x5c() {
        Some(x5c) => trust.keys_by_x5c(
            &issuer.id,
            signed.jws.kid(),
            x5c,
            token.iat,
            signed.alg,
            token.iat,
        ),
        None => trust.keys_for_alg(&issuer.id, signed.jws.kid(), token.iat, signed.alg),
    }
    .map_err(|r| {
        Rejection::new(
            ErrorCode::StatusListSignatureInvalid,
            format!("{}: {}", r.code, r.detail),
        )
    })?;
    if !signed.signed_by_any(&keys) {
        return Err(Rejection::new(
            ErrorCode::StatusListSignatureInvalid,
            format!(
                "the status list {} is not signed by a valid key of {}",
                token.uri, issuer.id
            ),
        ));
    }
    Ok(BundledStatusList {
        issuer: issuer.id.clone(),
        token: signed.token,
    })
}

impl KeyResolver for TrustBundle {
    fn resolve(&self, query: &KeyQuery<'_>) -> Result<Vec<crate::keys::PublicKey>, Rejection> {
        self.trust.resolve(query)
    }

    fn status_required(&self, iss: &str) -> bool {
        self.trust.status_required(iss)
    }

    fn status(&self, q: &StatusQuery<'_>) -> StatusAnswer {
        let Some(bundled) = self.status.get(q.uri) else {
            return StatusAnswer::Failed(Rejection::new(
                ErrorCode::StatusListMissing,
                format!("the bundle has no status list {}", q.uri),
            ));
        };
        if bundled.issuer != q.iss {
            return StatusAnswer::Failed(Rejection::new(
                ErrorCode::StatusListIssuerMismatch,
                format!(
                    "the status list {} belongs to {}, not {}",
                    q.uri, bundled.issuer, q.iss
                ),
            ));
        }
        let Some(value) = usize::try_from(q.idx)
            .ok()
            .and_then(|i| bundled.token.list.get(i))
        else {
            return StatusAnswer::Failed(Rejection::new(
                ErrorCode::StatusIndexOutOfRange,
                format!(
                    "index {} is beyond the {} entries of {}",
                    q.idx,
                    bundled.token.list.len(),
                    q.uri
                ),
            ));
        };
        let mut stale = None;
        if let Some(exp) = bundled.token.exp
            && q.now >= exp
        {
            stale = Some(format!("the status list {} expired at {exp}", q.uri));
        }
        let age = q.now.saturating_sub(bundled.token.iat);
        if age > i64::from(q.max_age_secs) {
            stale = Some(format!(
                "the status list {} is {age}s old (this counter's limit is {}s)",
                q.uri, q.max_age_secs
            ));
        }
        let next_update = self.trust.list().next_update;
        if q.now >= next_update {
            stale = Some(format!(
                "the trust list was due to be replaced at {next_update}"
            ));
        }
        if let Some(expires) = self.anchors.expires()
            && q.now >= expires
        {
            stale = Some(format!(
                "the root of trust {} expired at {expires}",
                self.anchors.sequence()
            ));
        }
        StatusAnswer::Found {
            status: Status::from_value(value),
            stale,
        }
    }
}
