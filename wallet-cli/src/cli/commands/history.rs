//! `history`: what was disclosed (or refused) to whom and when.

use std::path::Path;

use serde_json::json;
use tongban_cli_support::time::format_cst;
use tongban_wallet::receive::printable;
use tongban_wallet::store::Wallet;

use crate::cli::error::CliError;
use crate::cli::prompt::passphrase;

/// Prints the history, oldest first.
pub fn show(dir: &Path, json: bool) -> Result<(), CliError> {
    let w = Wallet::open(dir, passphrase(false)?)?;
    if json {
        println!("{}", json!({"history": w.history()}));
        return Ok(());
    }
    if w.history().is_empty() {
        println!("nothing disclosed yet 尚无出示记录");
    }
    for h in w.history() {
        let who = match (&h.verifier_name, h.requester_verified) {
            (Some(n), true) => n.clone(),
            _ => format!("{} (unverified requester 未核实的请求方)", h.audience),
        };
        println!(
            "{} {} {} → {}{}",
            format_cst(h.at),
            h.channel,
            h.outcome,
            printable(&who),
            h.service_item
                .as_ref()
                .map(|s| format!(" [{}]", printable(s)))
                .unwrap_or_default()
        );
        if !h.claims.is_empty() {
            println!("    {}", printable(&h.claims.join(", ")));
        }
        if let Some(code) = &h.code {
            println!("    refused 拒绝: {code}");
        }
        if !h.excess.is_empty() {
            println!(
                "    beyond the registration 超出登记范围: {}{}",
                printable(&h.excess.join(", ")),
                if h.allow_unregistered {
                    " (allowed by the citizen 持证人坚持出示)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}
