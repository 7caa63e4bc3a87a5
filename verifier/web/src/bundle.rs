//! The trust bundle in the browser, by the rules of `tongban-verify sync`:
//! the trust list is verified against the pinned anchors, and a sequence
//! below the one held is refused, *before* any URL it names is followed;
//! its status lists are then checked and the bundle assembled at the time
//! the page passes in. The bytes are the bundle directory's files, kept by
//! the page in IndexedDB as a name → text map and verified again on every
//! load.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tongban_verifier::bundle::{BundleFiles, MANIFEST_FILE};
use tongban_verifier::trust::VerifiedTrustList;
use tongban_verifier::{ErrorCode, KeyWithId, Rejection, TrustBundle};

use crate::error::WebError;

/// A bundle directory's files: name → text.
pub type Files = BTreeMap<String, String>;

/// Reads the pinned anchor keys: a JWK, a JWKS, or a list of either.
pub fn anchors(doc: &Value) -> Result<Vec<KeyWithId>, WebError> {
    let docs: Vec<&Value> = match doc {
        Value::Array(many) => many.iter().collect(),
        one => vec![one],
    };
    let mut keys = Vec::new();
    for d in docs {
        keys.extend(
            KeyWithId::from_key_document(d).map_err(|e| WebError::AnchorsInvalid(e.to_string()))?,
        );
    }
    if keys.is_empty() {
        return Err(WebError::AnchorsInvalid("no key is given".into()));
    }
    Ok(keys)
}

/// The status list URLs a fetched trust list names, after verifying it
/// (signature by an anchor, no rollback below `held`): the page fetches
/// these and nothing before this check passed.
pub fn status_urls(
    trust_list: &str,
    anchors: &[KeyWithId],
    held: Option<u64>,
) -> Result<Vec<String>, WebError> {
    let verified = VerifiedTrustList::verify(trust_list, anchors, held)?;
    Ok(verified
        .list()
        .issuers
        .iter()
        .flat_map(|i| i.status_lists.clone())
        .collect())
}

fn to_files(files: BundleFiles) -> Result<Files, WebError> {
    files
        .into_iter()
        .map(|(name, bytes)| {
            String::from_utf8(bytes)
                .map(|text| (name, text))
                .map_err(|_| WebError::Argument("a bundle file is not text".into()))
        })
        .collect()
}

/// Assembles a bundle from a fetched trust list and status lists, as
/// `tongban-verify sync` does; returns it with the files to store.
pub fn assemble(
    trust_list: &str,
    status_lists: &[String],
    anchors: &[KeyWithId],
    held: Option<u64>,
    now: i64,
) -> Result<(TrustBundle, Files), WebError> {
    let (bundle, files) = TrustBundle::assemble(trust_list, status_lists, anchors, held, now)?;
    Ok((bundle, to_files(files)?))
}

/// Loads a stored bundle (the page's own copy, or a bundle directory
/// carried on a USB stick), verifying every file again and refusing a
/// sequence below `held`.
pub fn load(
    files: &Files,
    anchors: &[KeyWithId],
    held: Option<u64>,
) -> Result<TrustBundle, WebError> {
    let manifest = files.get(MANIFEST_FILE).ok_or_else(|| {
        Rejection::new(
            ErrorCode::BundleFileMissing,
            format!("{MANIFEST_FILE} is missing from the bundle"),
        )
    })?;
    let bundle = TrustBundle::load(
        manifest.as_bytes(),
        &mut |name| files.get(name).map(|t| t.as_bytes().to_vec()),
        anchors,
    )?;
    let sequence = bundle.manifest().sequence;
    if let Some(held) = held
        && sequence < held
    {
        return Err(WebError::Refused(Rejection::new(
            ErrorCode::TrustListRollback,
            format!(
                "the bundle's trust list #{sequence} is older than the #{held} this counter held"
            ),
        )));
    }
    Ok(bundle)
}

/// Imports what an air-gapped counter was given: either a bundle
/// directory's files (with `manifest.json`, loaded as they are, keeping
/// the age of when they were synced), or a trust list and its status list
/// tokens (assembled now, as `tongban-verify bundle import` does).
pub fn import(
    files: &Files,
    anchors: &[KeyWithId],
    held: Option<u64>,
    now: i64,
) -> Result<(TrustBundle, Files), WebError> {
    if files.contains_key(MANIFEST_FILE) {
        let bundle = load(files, anchors, held)?;
        // Keep only the files the manifest names.
        let m = bundle.manifest();
        let mut keep = Files::new();
        for name in std::iter::once(&m.trust_list.file)
            .chain(m.status_lists.iter().map(|s| &s.file))
            .chain(std::iter::once(&MANIFEST_FILE.to_owned()))
        {
            if let Some(text) = files.get(name) {
                keep.insert(name.clone(), text.clone());
            }
        }
        return Ok((bundle, keep));
    }
    // The trust list is the one text that verifies as one; a wrong anchor
    // or a rollback is reported as such rather than as "no trust list".
    let mut first_error = None;
    for (name, text) in files {
        match VerifiedTrustList::verify(text, anchors, held) {
            Ok(_) => {
                let others: Vec<String> = files
                    .iter()
                    .filter(|(n, _)| *n != name)
                    .map(|(_, t)| t.clone())
                    .collect();
                return assemble(text, &others, anchors, held, now);
            }
            Err(r) if r.code != ErrorCode::TrustListMalformed => {
                first_error.get_or_insert(r);
            }
            Err(_) => {}
        }
    }
    Err(WebError::Refused(first_error.unwrap_or_else(|| {
        Rejection::new(
            ErrorCode::TrustListMalformed,
            "none of the files is a trust list",
        )
    })))
}

/// What the page shows about the held bundle: its list, age and freshness
/// under the counter's status age limit.
pub fn summary(bundle: &TrustBundle, now: i64, max_status_age_secs: u32) -> Value {
    let list = bundle.trust_list().list();
    let mut stale = Vec::new();
    if now >= list.next_update {
        stale.push(json!({"what": "trust_list", "since": list.next_update}));
    }
    let mut fresh_until = list.next_update;
    for s in bundle.status_lists().values() {
        let until = s.token.fresh_until(max_status_age_secs);
        fresh_until = fresh_until.min(until);
        if now >= until {
            stale.push(json!({"what": "status_list", "uri": s.token.uri, "since": until}));
        }
    }
    let issuers: Vec<Value> = list
        .issuers
        .iter()
        .map(|i| json!({"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "region": i.region, "vcts": i.vcts}))
        .collect();
    json!({
        "sequence": list.sequence,
        "anchor": {"id": list.anchor.id, "name_zh": list.anchor.name_zh, "name_en": list.anchor.name_en},
        "issued_at": list.issued_at,
        "next_update": list.next_update,
        "created_at": bundle.manifest().created_at,
        "age_secs": bundle.age(now),
        "fresh_until": fresh_until,
        "stale": !stale.is_empty(),
        "stale_parts": stale,
        "status_lists": bundle.status_lists().len(),
        "issuers": issuers,
    })
}
