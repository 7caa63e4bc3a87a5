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

/// Where the credential comes from over OpenID4VCI.
enum OfferInput {
    /// An offer, as text.
    Text(String),
    /// No offer: the wallet asks the issuer (authorization code flow).
    WalletInitiated(oid4vci::Offer),
}

/// Receives (or imports) a credential, checks it and stores it.
pub fn receive(dir: &Path, a: ReceiveArgs, json: bool) -> Result<(), CliError> {
    let offer = match (&a.offer, &a.issuer, &a.configuration) {
        (Some(o), _, _) => Some(OfferInput::Text(read_offer(o)?)),
        (None, Some(iss), Some(config)) => Some(OfferInput::WalletInitiated(
            oid4vci::Offer::wallet_initiated(iss, config),
        )),
        _ => None,
    };
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let holder = w.holder()?;
    let (sd_jwt, info, via, issuer_name) = match (offer, &a.file) {
        (Some(offer), _) => {
            let mut opts = oid4vci::Options::new(now());
            opts.tx_code = a.tx_code.clone();
            opts.encrypt = !a.no_encryption;
            opts.allow_http = a.allow_http;
            opts.login_timeout = std::time::Duration::from_secs(a.login_timeout.max(1));
            let mut ui = Terminal::with_browser(a.browser.clone());
            let got = match offer {
                OfferInput::Text(text) => oid4vci::receive_offer(&text, &holder, &mut ui, &opts)?,
                OfferInput::WalletInitiated(o) => oid4vci::receive(o, &holder, &mut ui, &opts)?,
            };
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
