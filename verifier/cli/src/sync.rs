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
    let anchors = input::read_key_files(&args.anchors.anchor_key)?;
    let fetcher = Fetcher::new(Duration::from_secs(args.timeout));
    let mut progress = |p: Progress| {
        if !args.json {
            eprintln!("{p}");
        }
    };
    let bundle = tongban_trust_sync::sync_into(
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
    let anchors = input::read_key_files(&args.anchors.anchor_key)?;
    let held = bundle_dir::held_sequence(&args.bundle);
    let tl = input::read_text(&args.trust_list)?;
    let jwts = args
        .status_list
        .iter()
        .map(|p| input::read_text(p))
        .collect::<Result<Vec<_>, _>>()?;
    let (bundle, files) =
        TrustBundle::assemble(&tl, &jwts, &anchors, held, now()).map_err(|r| {
            CliError::BundleRefused {
                dir: args.bundle.clone(),
                rejection: r,
            }
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
    let anchors = input::read_key_files(&args.anchors.anchor_key)?;
    let bundle = bundle_dir::load(&args.bundle, &anchors)
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
        "sequence": list.sequence,
        "issued_at": list.issued_at,
        "next_update": list.next_update,
        "created_at": bundle.manifest().created_at,
        "age_secs": bundle.age(now),
        "issuers": issuers,
        "status_lists": status,
    })
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
