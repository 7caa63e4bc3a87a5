//! `verifier-ca add|list|remove`: the CAs trusted to identify receiving
//! agencies online, kept inside the encrypted wallet file.

use std::path::Path;

use serde_json::json;
use tongban_cli_support::time::{format_cst, now};
use tongban_wallet::store::Wallet;

use super::online::read_ca_file;
use crate::cli::args::VerifierCaCommand;
use crate::cli::error::CliError;
use crate::cli::prompt::passphrase;

/// Runs one `verifier-ca` subcommand.
pub fn run(dir: &Path, command: VerifierCaCommand, json: bool) -> Result<(), CliError> {
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    match command {
        VerifierCaCommand::Add { file } => {
            let certs = read_ca_file(&file)?;
            if let Some(leaf) = certs.iter().find(|c| !c.is_ca()) {
                return Err(CliError::Usage(format!(
                    "{}: {} is not a CA certificate (basic constraints cA)",
                    file.display(),
                    leaf.subject()
                )));
            }
            let t = now();
            let added: Vec<_> = certs
                .iter()
                .map(|c| {
                    let id = w.add_verifier_ca(c.der(), c.subject(), c.sha256_b64(), t);
                    json!({"id": id, "subject": c.subject(), "sha256": c.sha256_b64(), "valid_until": c.validity().1})
                })
                .collect();
            w.save()?;
            if json {
                println!("{}", json!({"added": added}));
            } else {
                for a in &added {
                    println!(
                        "trusted 已信任 {} {}",
                        a["id"].as_str().unwrap_or_default(),
                        a["subject"].as_str().unwrap_or_default()
                    );
                }
            }
        }
        VerifierCaCommand::List => {
            if json {
                println!("{}", json!(w.verifier_cas()));
            } else if w.verifier_cas().is_empty() {
                println!("no verifier CA is trusted yet 尚未信任任何核验方证书机构");
            } else {
                for c in w.verifier_cas() {
                    println!(
                        "{:<4} {}\n     sha256 {}  added {}",
                        c.id,
                        c.subject,
                        c.sha256,
                        format_cst(c.added_at)
                    );
                }
            }
        }
        VerifierCaCommand::Remove { id } => {
            let removed = w.remove_verifier_ca(&id)?;
            w.save()?;
            if json {
                println!(
                    "{}",
                    json!({"removed": removed.id, "subject": removed.subject})
                );
            } else {
                println!(
                    "no longer trusted 已移除 {} {}",
                    removed.id, removed.subject
                );
            }
        }
    }
    Ok(())
}
