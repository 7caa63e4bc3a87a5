//! `trust-list sync|import|show`: the zone's trust list, kept (with its
//! pinned root and the sequences held) inside the encrypted wallet file.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tongban_cli_support::time::{format_cst, now};
use tongban_trust_sync::fetch::Fetcher;
use tongban_verifier::trust::VerifiedTrustList;
use tongban_wallet::store::Wallet;
use tongban_wallet::trust;

use crate::cli::args::TrustListCommand;
use crate::cli::error::CliError;
use crate::cli::prompt::passphrase;

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// Runs one `trust-list` subcommand. A refused list leaves the wallet
/// unchanged.
pub fn run(dir: &Path, command: TrustListCommand, json: bool) -> Result<(), CliError> {
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let (stored, verified) = match command {
        TrustListCommand::Show => {
            let held = w.trust().ok_or_else(|| {
                CliError::Usage(
                    "this wallet holds no trust list (tongban-wallet trust-list sync|import)"
                        .into(),
                )
            })?;
            let v = trust::verify_held(held)?;
            describe(&v, held.stored_at, json);
            return Ok(());
        }
        TrustListCommand::Sync {
            url,
            anchor_key,
            timeout,
        } => {
            let url = url
                .or_else(|| w.trust().and_then(|h| h.url.clone()))
                .ok_or_else(|| CliError::Usage("give --url (the trust list's URL)".into()))?;
            let pin = anchor_key.as_deref().map(read).transpose()?;
            let fetcher = Fetcher::new(Duration::from_secs(timeout));
            trust::sync(&fetcher, &url, pin, w.trust(), now())?
        }
        TrustListCommand::Import {
            file,
            roots,
            anchor_key,
        } => {
            let pin = anchor_key.as_deref().map(read).transpose()?;
            let roots = roots
                .iter()
                .map(|r| read(r))
                .collect::<Result<Vec<_>, _>>()?;
            trust::import(pin, roots, read(&file)?, w.trust(), now())?
        }
    };
    let at = stored.stored_at;
    w.set_trust(stored);
    w.save()?;
    describe(&verified, at, json);
    Ok(())
}

fn describe(v: &VerifiedTrustList, stored_at: i64, json: bool) {
    let l = v.list();
    if json {
        println!(
            "{}",
            json!({
                "anchor": l.anchor.id,
                "version": l.version,
                "sequence": l.sequence,
                "root_sequence": v.root_sequence(),
                "issued_at": l.issued_at,
                "next_update": l.next_update,
                "stored_at": stored_at,
                "issuers": l.issuers.len(),
                "registers_verifiers": l.registers_verifiers(),
                "verifiers": l.verifiers,
            })
        );
        return;
    }
    println!(
        "trust list 信任列表 {} #{} (version {}), signed 签发于 {}",
        l.anchor.id,
        l.sequence,
        l.version,
        format_cst(l.issued_at)
    );
    println!("  {} issuing agencies 签发机构", l.issuers.len());
    match &l.verifiers {
        None => println!(
            "  registers no receiving agencies 未登记接收机构: requesters are unverified 请求方身份无法核实"
        ),
        Some(vs) => {
            for v in vs {
                println!("  {} {} / {} ({})", v.id, v.name_zh, v.name_en, v.region);
                for i in &v.service_items {
                    println!("    事项 {} {} / {}", i.id, i.name_zh, i.name_en);
                    for g in &i.licences {
                        println!("      {}: {}", g.vct, g.claims.join(", "));
                    }
                }
            }
        }
    }
}
