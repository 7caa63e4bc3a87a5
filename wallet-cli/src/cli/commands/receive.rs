//! `receive`: from an offer (OpenID4VCI) or a file; verified either way,
//! and the wallet is written only when the credential passes.

use std::path::Path;

use serde_json::json;
use tongban_cli_support::time::now;
use tongban_verifier::Signer as _;
use tongban_wallet::receive::{self as oid4vci, Expected};
use tongban_wallet::store::{StoredCredential, Wallet};

use crate::cli::args::ReceiveArgs;
use crate::cli::error::CliError;
use crate::cli::input::{read_keys, read_offer};
use crate::cli::prompt::{Terminal, passphrase};
use crate::cli::render::type_name;

/// Receives (or imports) a credential, checks it and stores it.
pub fn receive(dir: &Path, a: ReceiveArgs, json: bool) -> Result<(), CliError> {
    let offer = a.offer.as_deref().map(read_offer).transpose()?;
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let holder = w.holder()?;
    let (sd_jwt, info, via, issuer_name) = match (offer, &a.file) {
        (Some(offer), _) => {
            let mut opts = oid4vci::Options::new(now());
            opts.tx_code = a.tx_code.clone();
            opts.encrypt = !a.no_encryption;
            opts.allow_http = a.allow_http;
            opts.attestation = w.attestation().cloned();
            let got = oid4vci::receive_offer(&offer, &holder, &mut Terminal::default(), &opts)?;
            let via = if got.encrypted {
                "openid4vci (encrypted response)"
            } else {
                "openid4vci"
            };
            (got.sd_jwt, got.info, via, got.issuer_name)
        }
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let sd_jwt = text.trim().to_owned();
            let keys = read_keys(&a.issuer_key)?;
            let info = oid4vci::check_credential(
                &sd_jwt,
                &keys,
                &Expected {
                    iss: None,
                    vct: None,
                    holder: &holder.public_key(),
                },
                now(),
            )?;
            (sd_jwt, info, "file", None)
        }
        (None, None) => {
            return Err(CliError::Usage(
                "give an offer, or --file with --issuer-key".into(),
            ));
        }
    };
    let credential = StoredCredential::received(sd_jwt, &info, issuer_name, now());
    let (iss, vct) = (credential.iss.clone(), credential.vct.clone());
    let id = w.add(credential);
    w.save()?;
    if json {
        println!(
            "{}",
            json!({"id": id, "iss": iss, "vct": vct, "type": type_name(&vct), "exp": info.exp, "via": via})
        );
    } else {
        println!("stored as {id} 已存入钱包: {} from {iss}", type_name(&vct));
    }
    Ok(())
}
