//! `status`: checks a credential against its issuer's status list.

use std::path::{Path, PathBuf};

use serde_json::json;
use tongban_cli_support::time::now;
use tongban_verifier::HeldCredential;
use tongban_wallet::status::StatusReference;
use tongban_wallet::store::{self, Wallet};

use crate::cli::error::CliError;
use crate::cli::input::read_key_list;
use crate::cli::prompt::passphrase;

/// Fetches the credential's status list token, verifies it with the issuer's
/// key, and records the status at the credential's index.
pub fn status(dir: &Path, id: &str, issuer_key: &[PathBuf], json: bool) -> Result<(), CliError> {
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let c = w.credential(id)?.clone();
    let held = HeldCredential::parse(&c.sd_jwt).map_err(|e| CliError::Refused(e.to_string()))?;
    let reference = StatusReference::of(&held, id)?;
    let jwt = reference.fetch(std::time::Duration::from_secs(20))?;
    let keys: Vec<_> = read_key_list(issuer_key)?
        .into_iter()
        .map(|k| k.key)
        .collect();
    let status = reference.check(&jwt, &keys, now())?;
    w.record_status(
        id,
        store::StatusCheck {
            status: status.as_str().into(),
            checked_at: now(),
        },
    )?;
    w.save()?;
    if json {
        println!("{}", json!({"id": id, "status": status.as_str()}));
    } else {
        println!("{id}: {} {}", status.as_str(), status.zh());
    }
    Ok(())
}
