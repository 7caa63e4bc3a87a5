//! `sync`, `bundle import` and `bundle show`: building the trust bundle a
//! counter verifies against, and looking inside it.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use tongban_verifier::TrustBundle;
use tongban_verifier::policy::DEFAULT_STATUS_MAX_AGE_SECS;

use crate::args::{ImportArgs, ShowArgs, SyncArgs};
use crate::cli_error::CliError;
use crate::input;
use tongban_trust_sync::fetch::Fetcher;
use tongban_trust_sync::{Progress, bundle_dir};

use tongban_cli_support::time::now;

/// `tongban-verify sync`.
pub fn sync(args: SyncArgs) -> Result<ExitCode, CliError> {
    let anchors = input::read_anchors(&args.anchors.anchor_key)?;
    let fetcher = Fetcher::new(Duration::from_secs(args.timeout));
    let mut progress = |p: Progress| {
        if !args.json {
            eprintln!("{p}");
        }
    };
    let bundle = tongban_trust_sync::sync_into_under(
        &fetcher,
        &args.trust_list,
        &anchors,
        &args.bundle,
        now(),
        &mut progress,
    )
    .map_err(|e| CliError::from_sync(&args.bundle, e))?;
    report(
        &bundle,
        args.json,
        &format!("synced into {}", args.bundle.display()),
    );
    Ok(ExitCode::SUCCESS)
}

/// `tongban-verify bundle import`.
pub fn import(args: ImportArgs) -> Result<ExitCode, CliError> {
    let anchors = input::read_anchors(&args.anchors.anchor_key)?;
    let held = bundle_dir::held(&args.bundle);
    let mut roots = bundle_dir::held_roots(&args.bundle);
    // Roots the bundle holds that no longer follow from the pin are dropped.
    if anchors
        .follow(&roots, tongban_verifier::root::MAX_ROOT_STEPS)
        .is_err()
    {
        roots.clear();
    }
    for p in &args.roots {
        roots.push(input::read_text(p)?);
    }
    let tl = input::read_text(&args.trust_list)?;
    let jwts = args
        .status_list
        .iter()
        .map(|p| input::read_text(p))
        .collect::<Result<Vec<_>, _>>()?;
    let (bundle, files) = TrustBundle::assemble_under(&tl, &roots, &jwts, &anchors, held, now())
        .map_err(|r| CliError::BundleRefused {
            dir: args.bundle.clone(),
            rejection: r,
        })?;
    bundle_dir::write(&args.bundle, &files).map_err(|e| CliError::from_sync(&args.bundle, e))?;
    report(
        &bundle,
        args.json,
        &format!("imported into {}", args.bundle.display()),
    );
    Ok(ExitCode::SUCCESS)
}

/// `tongban-verify bundle show`.
pub fn show(args: ShowArgs) -> Result<ExitCode, CliError> {
    let anchors = input::read_anchors(&args.anchors.anchor_key)?;
    let bundle = bundle_dir::load_under(&args.bundle, &anchors)
        .map_err(|e| CliError::from_sync(&args.bundle, e))?;
    report(
        &bundle,
        args.json,
        &format!("{} verified", args.bundle.display()),
    );
    Ok(ExitCode::SUCCESS)
}

fn summary_json(bundle: &TrustBundle, now: i64) -> Value {
    let list = bundle.trust_list().list();
    let issuers: Vec<Value> = list
        .issuers
        .iter()
        .map(|i| {
            json!({"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "region": i.region,
                   "vcts": i.vcts, "keys": i.keys.len(), "status_lists": i.status_lists})
        })
        .collect();
    let mut status: Vec<Value> = bundle
        .status_lists()
        .values()
        .map(|s| {
            // Fresh until exp or the default maximum age (`verify
            // --status-max-age` may set another); ttl is only when to refetch.
            let refetch_at = s.token.refetch_at();
            json!({"uri": s.token.uri, "issuer": s.issuer, "bits": s.token.list.bits().get(),
                   "entries": s.token.list.len(), "iat": s.token.iat, "exp": s.token.exp,
                   "fresh_until": s.token.fresh_until(DEFAULT_STATUS_MAX_AGE_SECS),
                   "refetch_at": refetch_at,
                   "refetch_due": refetch_at.is_some_and(|t| now >= t)})
        })
        .collect();
    status.sort_by(|a, b| a["uri"].as_str().cmp(&b["uri"].as_str()));
    json!({
        "anchor": list.anchor,
        "version": list.version,
        "sequence": list.sequence,
        "signed_by": signed_by_json(bundle),
        "threshold": {"k": bundle.trust_list().threshold().0, "n": bundle.trust_list().threshold().1},
        "root": root_json(bundle),
        "issued_at": list.issued_at,
        "next_update": list.next_update,
        "created_at": bundle.manifest().created_at,
        "age_secs": bundle.age(now),
        "issuers": issuers,
        "status_lists": status,
    })
}

/// The anchor keys that signed the trust list: `kid` and thumbprint.
pub fn signed_by_json(bundle: &TrustBundle) -> Value {
    Value::Array(
        bundle
            .trust_list()
            .signed_by()
            .iter()
            .map(|s| json!({"kid": s.kid, "thumbprint": s.thumbprint}))
            .collect(),
    )
}

/// The root of trust the list was verified under: its sequence, expiry,
/// and how many roots were followed beyond the pinned one.
fn root_json(bundle: &TrustBundle) -> Value {
    let a = bundle.anchors();
    json!({"sequence": a.sequence(), "expires": a.expires(), "followed": a.chain().len(),
           "keys": a.keys().iter().map(|k| json!({"kid": k.kid, "thumbprint": k.thumbprint})).collect::<Vec<_>>()})
}

fn report(bundle: &TrustBundle, json: bool, headline: &str) {
    let s = summary_json(bundle, now());
    if json {
        println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
        return;
    }
    let list = bundle.trust_list().list();
    println!("trust bundle {headline}");
    println!(
        "  trust list #{} from {} {} / {}",
        list.sequence, list.anchor.id, list.anchor.name_zh, list.anchor.name_en
    );
    let signers: Vec<String> = bundle
        .trust_list()
        .signed_by()
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s.kid.as_deref().unwrap_or("?"),
                s.thumbprint.get(..12).unwrap_or(&s.thumbprint)
            )
        })
        .collect();
    let (k, n) = bundle.trust_list().threshold();
    println!(
        "  format version {}, root of trust {}; signed by {} of {} anchor keys ({k} needed): {}",
        list.version,
        bundle.anchors().sequence(),
        signers.len(),
        n,
        signers.join(", ")
    );
    println!(
        "  signed at {}, next update due {}, bundle assembled {} ({}s ago)",
        s["issued_at"], s["next_update"], s["created_at"], s["age_secs"]
    );
    println!("  {} issuers:", list.issuers.len());
    for i in &list.issuers {
        println!(
            "    {:<40} {} {} ({}) — {}",
            i.id,
            i.name_zh,
            i.name_en,
            i.region,
            i.vcts.join(", ")
        );
    }
    println!("  {} status lists:", bundle.status_lists().len());
    if let Some(lists) = s["status_lists"].as_array() {
        for l in lists {
            println!(
                "    {} ({} entries, {} bits, fresh until {}{})",
                l["uri"].as_str().unwrap_or_default(),
                l["entries"],
                l["bits"],
                l["fresh_until"],
                if l["refetch_due"] == true {
                    "; refetch due, sync again when online"
                } else {
                    ""
                }
            );
        }
    }
}
