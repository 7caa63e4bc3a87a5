//! The trust bundle in the browser, by the rules of `tongban-verify sync`
//! (`specs/trust-list.md` §1.1, §1.3, §3): the counter pins a signed root
//! of trust (or bare anchor keys, *k* = 1); a sync fetches the trust list,
//! then the roots it was signed under that this counter has not followed
//! yet (`root-<n>.json` beside the list), walks the chain from the pin,
//! refuses a root or a list older than the ones held, and verifies the
//! list's threshold of anchor signatures — all *before* any status list
//! URL the list names is followed; then the status lists are checked and
//! the bundle assembled at the time the page passes in. The bytes are the
//! bundle directory's files (roots included), kept by the page in
//! IndexedDB as a name → text map and verified again on every load.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tongban_verifier::bundle::{BundleFiles, Held, MANIFEST_FILE};
use tongban_verifier::jws_json::MultiJws;
use tongban_verifier::root::MAX_ROOT_STEPS;
use tongban_verifier::trust::VerifiedTrustList;
use tongban_verifier::{ErrorCode, KeyWithId, Rejection, TrustAnchors, TrustBundle};

use crate::error::WebError;

/// A bundle directory's files: name → text.
pub type Files = BTreeMap<String, String>;

/// Reads what the counter pins: a signed root of trust (a JWS JSON
/// Serialization document, `root-<n>.json`), or bare anchor keys (a JWK, a
/// JWKS, or a list of either; any one key suffices).
pub fn pin(doc: &Value) -> Result<TrustAnchors, WebError> {
    if doc.get("signatures").is_some() {
        return Ok(TrustAnchors::pin_root(&doc.to_string())?);
    }
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
    Ok(TrustAnchors::from_keys(&keys))
}

/// Where root of trust `sequence` is published: `root-<n>.json` beside
/// the trust list (its URL with the last path segment, and any query or
/// fragment, replaced), as `tongban-trust-sync` fetches it.
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

/// Where a walk starts: the pin followed through the roots the counter
/// already holds (verified when stored). If they no longer follow from the
/// pin (a re-pinned counter), the walk starts from the pin alone.
fn start(pin: &TrustAnchors, held_roots: &[String]) -> (TrustAnchors, Vec<String>) {
    match pin.follow(held_roots, MAX_ROOT_STEPS) {
        Ok(a) => (a, held_roots.to_vec()),
        Err(_) => (pin.clone(), Vec::new()),
    }
}

/// The roots a freshly fetched trust list needs that this counter has not
/// followed: `(sequence, url)` from the one after the held root up to the
/// list's `root_sequence` (read unverified, only to know what to fetch).
/// More than [`MAX_ROOT_STEPS`] missing is `trust_root_chain_broken`: the
/// counter's pinned root must be renewed.
pub fn roots_needed(
    trust_list: &str,
    trust_list_url: &str,
    pin: &TrustAnchors,
    held_roots: &[String],
) -> Result<Vec<(u64, String)>, WebError> {
    let (start, _) = start(pin, held_roots);
    let needs = MultiJws::parse(trust_list, "the trust list", ErrorCode::TrustListMalformed)?
        .payload
        .get("root_sequence")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if needs <= start.sequence() {
        return Ok(Vec::new());
    }
    let missing = needs - start.sequence();
    if missing > MAX_ROOT_STEPS as u64 {
        return Err(Rejection::new(
            ErrorCode::TrustRootChainBroken,
            format!(
                "the trust list needs root {needs}, {missing} versions beyond this counter's root {}; at most {MAX_ROOT_STEPS} are followed per sync, so the pinned root must be renewed",
                start.sequence()
            ),
        )
        .into());
    }
    Ok((start.sequence() + 1..=needs)
        .map(|s| (s, root_url(trust_list_url, s)))
        .collect())
}

/// The held roots and the fetched ones, in the order a walk reads them.
fn all_roots(pin: &TrustAnchors, held_roots: &[String], fetched: &[String]) -> Vec<String> {
    let (_, mut roots) = start(pin, held_roots);
    roots.extend(fetched.iter().cloned());
    roots
}

/// The status list URLs a fetched trust list names, after verifying it:
/// the chain walked from the pin through the held and fetched roots, no
/// root or list older than `held`, the list's threshold of signatures by
/// the current root's keys. The page fetches these and nothing before this
/// check passed.
pub fn status_urls(
    trust_list: &str,
    fetched_roots: &[String],
    pin: &TrustAnchors,
    held_roots: &[String],
    held: Held,
) -> Result<Vec<String>, WebError> {
    let roots = all_roots(pin, held_roots, fetched_roots);
    let anchors = pin.follow(&roots, MAX_ROOT_STEPS)?;
    anchors.check_not_older(held.root_sequence)?;
    let verified = VerifiedTrustList::verify_under(trust_list, &anchors, held.sequence)?;
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

/// Assembles a bundle from a fetched trust list, the roots fetched for it
/// and its status lists, as `tongban-verify sync` does
/// (`TrustBundle::assemble_under`); returns it with the files to store.
pub fn assemble(
    trust_list: &str,
    fetched_roots: &[String],
    status_lists: &[String],
    pin: &TrustAnchors,
    held_roots: &[String],
    held: Held,
    now: i64,
) -> Result<(TrustBundle, Files), WebError> {
    let roots = all_roots(pin, held_roots, fetched_roots);
    let (bundle, files) =
        TrustBundle::assemble_under(trust_list, &roots, status_lists, pin, held, now)?;
    Ok((bundle, to_files(files)?))
}

/// Refuses a bundle older than what this counter held: its trust list
/// (`trust_list_rollback`) or its root of trust (`trust_root_rollback`).
fn check_floors(bundle: &TrustBundle, held: Held) -> Result<(), WebError> {
    bundle.anchors().check_not_older(held.root_sequence)?;
    let sequence = bundle.manifest().sequence;
    if let Some(floor) = held.sequence
        && sequence < floor
    {
        return Err(WebError::Refused(Rejection::new(
            ErrorCode::TrustListRollback,
            format!(
                "the bundle's trust list #{sequence} is older than the #{floor} this counter held"
            ),
        )));
    }
    Ok(())
}

/// Loads a stored bundle (the page's own copy, or a bundle directory
/// carried on a USB stick) under the pin, following the roots it keeps,
/// verifying every file again and refusing one older than `held`.
pub fn load(files: &Files, pin: &TrustAnchors, held: Held) -> Result<TrustBundle, WebError> {
    let manifest = files.get(MANIFEST_FILE).ok_or_else(|| {
        Rejection::new(
            ErrorCode::BundleFileMissing,
            format!("{MANIFEST_FILE} is missing from the bundle"),
        )
    })?;
    let bundle = TrustBundle::load_under(
        manifest.as_bytes(),
        &mut |name| files.get(name).map(|t| t.as_bytes().to_vec()),
        pin,
    )?;
    check_floors(&bundle, held)?;
    Ok(bundle)
}

/// Whether a text is a root of trust document (a JWS JSON Serialization
/// whose payload has a `threshold`), as opposed to a trust list.
fn is_root(text: &str) -> bool {
    MultiJws::parse(text, "a file", ErrorCode::TrustRootChainBroken)
        .is_ok_and(|d| d.payload.contains_key("threshold"))
}

/// Imports what an air-gapped counter was given: either a bundle
/// directory's files (with `manifest.json`, loaded as they are, keeping
/// the age of when they were synced), or a trust list with the roots a
/// rotation added and its status list tokens (assembled now, as
/// `tongban-verify bundle import` does).
pub fn import(
    files: &Files,
    pin: &TrustAnchors,
    held_roots: &[String],
    held: Held,
    now: i64,
) -> Result<(TrustBundle, Files), WebError> {
    if files.contains_key(MANIFEST_FILE) {
        let bundle = load(files, pin, held)?;
        // Keep only the files the manifest names.
        let m = bundle.manifest();
        let mut keep = Files::new();
        for name in std::iter::once(&m.trust_list.file)
            .chain(m.roots.iter().map(|r| &r.file))
            .chain(m.status_lists.iter().map(|s| &s.file))
            .chain(std::iter::once(&MANIFEST_FILE.to_owned()))
        {
            if let Some(text) = files.get(name) {
                keep.insert(name.clone(), text.clone());
            }
        }
        return Ok((bundle, keep));
    }
    let roots: Vec<String> = files.values().filter(|t| is_root(t)).cloned().collect();
    let anchors = pin.follow(&all_roots(pin, held_roots, &roots), MAX_ROOT_STEPS)?;
    // The trust list is the one text that verifies as one; a wrong anchor
    // or a rollback is reported as such rather than as "no trust list".
    let mut first_error = None;
    for (name, text) in files.iter().filter(|(_, t)| !is_root(t)) {
        match VerifiedTrustList::verify_under(text, &anchors, held.sequence) {
            Ok(_) => {
                let others: Vec<String> = files
                    .iter()
                    .filter(|(n, t)| *n != name && !is_root(t))
                    .map(|(_, t)| t.clone())
                    .collect();
                return assemble(text, &roots, &others, pin, held_roots, held, now);
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

/// Who signed the held trust list, under which root: the list's format
/// version and sequence, the root's sequence and expiry, the threshold
/// *k* of *n*, and the anchor keys counted (`kid` and RFC 7638
/// thumbprint), as `tongban-verify bundle show` names them.
pub fn trust_json(bundle: &TrustBundle) -> Value {
    let t = bundle.trust_list();
    let (k, n) = t.threshold();
    let signed_by: Vec<Value> = t
        .signed_by()
        .iter()
        .map(|s| json!({"kid": s.kid, "thumbprint": s.thumbprint}))
        .collect();
    json!({
        "version": t.list().version,
        "sequence": t.list().sequence,
        "root_sequence": t.root_sequence(),
        "root_expires": bundle.anchors().expires(),
        "roots_followed": bundle.anchors().chain().len(),
        "threshold": {"k": k, "n": n},
        "signed_by": signed_by,
    })
}

/// What the page shows about the held bundle: its list, who signed it,
/// its age and freshness under the counter's status age limit.
pub fn summary(bundle: &TrustBundle, now: i64, max_status_age_secs: u32) -> Value {
    let list = bundle.trust_list().list();
    let mut stale = Vec::new();
    if now >= list.next_update {
        stale.push(json!({"what": "trust_list", "since": list.next_update}));
    }
    let mut fresh_until = list.next_update;
    if let Some(expires) = bundle.anchors().expires() {
        fresh_until = fresh_until.min(expires);
        if now >= expires {
            stale.push(json!({"what": "root", "since": expires}));
        }
    }
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
        "trust_list": trust_json(bundle),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_fetched_beside_the_trust_list_as_the_cli_does() {
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
        assert_eq!(
            root_url("http://127.0.0.1:8080/trust-list.json#x", 1),
            "http://127.0.0.1:8080/root-1.json"
        );
    }
}
