//! `receive`: from an offer (OpenID4VCI) or a file; verified either way,
//! and the wallet is written only when the credential passes. When the
//! issuer's metadata names the zone's trust list, the wallet also fetches
//! it and keeps it if it verifies under the pinned root and is newer than
//! the one held; a list that does not is not kept, and the credential is
//! received all the same (the output says which).

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tongban_cli_support::time::now;
use tongban_trust_sync::fetch::Fetcher;
use tongban_verifier::Signer as _;
use tongban_wallet::receive::printable;
use tongban_wallet::receive::{self as oid4vci, Expected};
use tongban_wallet::store::{StoredCredential, Wallet};
use tongban_wallet::trust::{self, Offered, TrustError};

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
    let (sd_jwt, info, via, issuer_name, copies, trust_list_uri) = match (offer, &a.file) {
        (Some(offer), _) => {
            let mut opts = oid4vci::Options::new(now());
            opts.tx_code = a.tx_code.clone();
            opts.encrypt = !a.no_encryption;
            opts.allow_http = a.allow_http;
            opts.login_timeout = std::time::Duration::from_secs(a.login_timeout.max(1));
            opts.batch = a.batch.map(usize::from);
            opts.attestation = w.attestation().cloned();
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
            let uri = got.trust_list_uri.filter(|_| !a.no_trust_list);
            (got.sd_jwt, got.info, via, got.issuer_name, got.copies, uri)
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
            (sd_jwt, info, "file", None, Vec::new(), None)
        }
        (None, None) => {
            return Err(CliError::Usage(
                "give an offer, or --file with --issuer-key".into(),
            ));
        }
    };
    let n = copies.len().max(1);
    let credential =
        StoredCredential::received(sd_jwt, &info, issuer_name, now()).with_copies(copies);
    let (iss, vct) = (credential.iss.clone(), credential.vct.clone());
    let id = w.add(credential);
    w.save()?;
    // The credential is kept whatever becomes of the trust list.
    let trust_list = trust_list_uri.map(|uri| {
        let fetcher = Fetcher::new(Duration::from_secs(30));
        let outcome = trust::offered(&fetcher, &uri, w.trust(), now());
        let report = match outcome {
            Ok(Offered::Newer(stored)) => {
                let sequence = stored.sequence;
                w.set_trust(*stored);
                match w.save() {
                    Ok(()) => json!({"status": "stored", "sequence": sequence}),
                    Err(e) => json!({"status": "not_stored", "code": e.code(), "message": e.to_string()}),
                }
            }
            Ok(Offered::Unchanged { sequence }) => {
                json!({"status": "unchanged", "sequence": sequence})
            }
            Err(TrustError::NoPin) => json!({"status": "not_fetched", "code": "anchor_key_missing",
                "message": "this wallet has pinned no root of trust; it never takes one from an issuer (tongban-wallet trust-list sync --url URL --anchor-key ROOT)"}),
            Err(e) => json!({"status": "refused", "code": e.code(), "message": e.to_string()}),
        };
        let mut report = report;
        report["uri"] = json!(uri);
        report
    });
    if json {
        let mut out = json!({"id": id, "iss": iss, "vct": vct, "type": type_name(&vct), "exp": info.exp, "via": via, "copies": n});
        if let Some(t) = trust_list {
            out["trust_list"] = t;
        }
        println!("{out}");
    } else {
        if n > 1 {
            println!(
                "stored as {id} 已存入钱包: {} from {iss} — {n} copies, each bound to its own key 共{n}份副本",
                type_name(&vct)
            );
        } else {
            println!("stored as {id} 已存入钱包: {} from {iss}", type_name(&vct));
        }
        if let Some(t) = trust_list {
            print_trust_list(&t);
        }
    }
    Ok(())
}

/// One line on the trust list the issuer named.
fn print_trust_list(t: &serde_json::Value) {
    let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
    let uri = printable(&s("uri"));
    match s("status").as_str() {
        "stored" => println!(
            "trust list 信任列表 #{} from {uri} verified and kept 已核验并保存",
            t["sequence"]
        ),
        "unchanged" => println!(
            "trust list 信任列表 from {uri}: already held 已是最新 (#{})",
            t["sequence"]
        ),
        "not_fetched" => println!(
            "trust list 信任列表 at {uri} not fetched 未获取: {} 本钱包尚未固定信任根，不会采用发证方提供的信任根",
            s("message")
        ),
        _ => println!(
            "trust list 信任列表 from {uri} NOT kept 未保存 [{}]: {} (the credential was received 证照已收到)",
            s("code"),
            printable(&s("message"))
        ),
    }
}
