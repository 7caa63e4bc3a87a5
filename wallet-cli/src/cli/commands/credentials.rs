//! The credentials held: `list`, `show`, `delete`.

use std::path::Path;

use tongban_verifier::HeldCredential;
use tongban_wallet::store::Wallet;

use crate::cli::error::CliError;
use crate::cli::prompt::{ask, passphrase};
use crate::cli::render;

/// `list`: every credential, with its issuer, region, expiry and last status.
pub fn list(dir: &Path, json: bool) -> Result<(), CliError> {
    let w = Wallet::open(dir, passphrase(false)?)?;
    render::list(w.credentials(), json);
    Ok(())
}

/// `show`: every claim of credential `id`.
pub fn show(dir: &Path, id: &str, json: bool) -> Result<(), CliError> {
    let w = Wallet::open(dir, passphrase(false)?)?;
    let c = w.credential(id)?;
    let held = HeldCredential::parse(&c.sd_jwt).map_err(|e| CliError::Refused(e.to_string()))?;
    render::show(c, &held, json);
    Ok(())
}

/// `delete`: removes credential `id`, after asking unless `yes`.
pub fn delete(dir: &Path, id: &str, yes: bool) -> Result<(), CliError> {
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let c = w.credential(id)?.clone();
    if !yes
        && !ask(&format!(
            "Delete {id} ({})? 删除？",
            render::type_name(&c.vct)
        ))
    {
        return Err(CliError::Declined("not deleted".into()));
    }
    w.remove(id)?;
    w.save()?;
    println!("deleted {id}");
    Ok(())
}
