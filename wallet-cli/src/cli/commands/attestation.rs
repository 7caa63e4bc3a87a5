//! `attestation import|show|remove`: the wallet attestation (and key
//! attester) shown to issuers that require them, kept inside the encrypted
//! wallet file.

use std::path::Path;

use serde_json::{Value, json};
use tongban_cli_support::time::format_cst;
use tongban_wallet::attestation::{KeyAttester, StoredAttestation};
use tongban_wallet::oid4vp::x509::Cert;
use tongban_wallet::store::Wallet;

use crate::cli::args::AttestationCommand;
use crate::cli::error::CliError;
use crate::cli::prompt::passphrase;

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

fn read_jwk(path: &Path) -> Result<Value, CliError> {
    serde_json::from_str(&read(path)?)
        .map_err(|e| CliError::Usage(format!("{}: not JSON ({e})", path.display())))
}

/// Runs one `attestation` subcommand.
pub fn run(dir: &Path, command: AttestationCommand, json: bool) -> Result<(), CliError> {
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    match command {
        AttestationCommand::Import {
            wallet_attestation,
            instance_key,
            key_attester_key,
            key_attester_chain,
            key_storage,
            user_authentication,
        } => {
            let key_attester = match (key_attester_key, key_attester_chain) {
                (Some(key), Some(chain)) => {
                    let certs = Cert::from_pem_chain(read(&chain)?.as_bytes())
                        .map_err(|e| CliError::Usage(format!("{}: {e}", chain.display())))?;
                    use base64::Engine as _;
                    Some(KeyAttester {
                        key: read_jwk(&key)?,
                        x5c: certs
                            .iter()
                            .map(|c| base64::engine::general_purpose::STANDARD.encode(c.der()))
                            .collect(),
                        key_storage,
                        user_authentication,
                    })
                }
                _ => None,
            };
            let stored = StoredAttestation::new(
                &read(&wallet_attestation)?,
                read_jwk(&instance_key)?,
                key_attester,
            )
            .map_err(|e| CliError::Usage(format!("{} ({}) {}", e, e.code(), e.message_zh())))?;
            let summary = summary(&stored);
            w.set_attestation(Some(stored));
            w.save()?;
            if json {
                println!("{summary}");
            } else {
                println!(
                    "wallet attestation kept 已保存钱包证明: {} from {}, valid until {}",
                    summary["client_id"].as_str().unwrap_or_default(),
                    summary["provider"].as_str().unwrap_or_default(),
                    format_cst(summary["expires_at"].as_i64().unwrap_or_default())
                );
            }
        }
        AttestationCommand::Show => match w.attestation() {
            None if json => println!("null"),
            None => println!("no wallet attestation is kept 尚未保存钱包证明"),
            Some(a) if json => println!("{}", summary(a)),
            Some(a) => println!(
                "client_id {}\nprovider  {}\nvalid until {}\nkey attester {}",
                a.client_id,
                a.provider,
                format_cst(a.expires_at),
                if a.key_attester.is_some() {
                    "yes 有"
                } else {
                    "no 无"
                }
            ),
        },
        AttestationCommand::Remove => {
            w.set_attestation(None);
            w.save()?;
            if json {
                println!("{}", json!({"removed": true}));
            } else {
                println!("wallet attestation removed 已删除钱包证明");
            }
        }
    }
    Ok(())
}

fn summary(a: &StoredAttestation) -> Value {
    json!({
        "client_id": a.client_id,
        "provider": a.provider,
        "expires_at": a.expires_at,
        "key_attester": a.key_attester.as_ref().map(|k| json!({
            "key_storage": k.key_storage, "user_authentication": k.user_authentication,
        })),
    })
}
