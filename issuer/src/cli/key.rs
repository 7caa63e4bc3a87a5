//! `tongban-issuer key …`: signing keys.

use std::process::ExitCode;

use clap::Subcommand;

use super::agency::keys_json;
use super::finish;
use super::target::{Target, actor, open, runtime};
use serde_json::json;

use tongban_issuer::keys::{JwsAlgName, KeyAlg};

/// `key …`.
#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Make a new signing key; the current one retires but stays published,
    /// so credentials it signed still verify.
    Rotate {
        #[command(flatten)]
        target: Target,
        /// The agency.
        #[arg(long)]
        agency: String,
        /// The new key's algorithm: ed25519, es256 or sm2; by default the
        /// current key's.
        #[arg(long, value_enum)]
        key_alg: Option<KeyAlg>,
        /// The `alg` the new Ed25519 key's headers say: eddsa or ed25519
        /// (RFC 9864); by default the current key's when it is Ed25519.
        #[arg(long, value_enum)]
        jws_alg_name: Option<JwsAlgName>,
    },
    /// Install the certificate chain the zone's CA issued for a key
    /// (`tongban-issuer trust-list ca certify --out FILE`): what the key
    /// signs then carries it in x5c (HAIP 1.0).
    Certificate {
        #[command(flatten)]
        target: Target,
        /// The agency.
        #[arg(long)]
        agency: String,
        /// The key (default: the current one). A kid may start with `-`
        /// (a JWK thumbprint is base64url).
        #[arg(long, allow_hyphen_values = true)]
        kid: Option<String>,
        /// The chain, PEM: the key's certificate first, then any
        /// intermediates, never the zone's anchor.
        #[arg(long, value_name = "FILE")]
        chain: std::path::PathBuf,
    },
    /// List an agency's keys.
    List {
        #[command(flatten)]
        target: Target,
        /// The agency.
        #[arg(long)]
        agency: String,
    },
}

/// `tongban-issuer key …`.
pub(crate) fn key(c: KeyCommand) -> ExitCode {
    let json = match &c {
        KeyCommand::Rotate { target, .. }
        | KeyCommand::Certificate { target, .. }
        | KeyCommand::List { target, .. } => target.json,
    };
    let r = runtime().and_then(|rt| {
        rt.block_on(async {
            match c {
                KeyCommand::Rotate {
                    target,
                    agency,
                    key_alg,
                    jws_alg_name,
                } => {
                    let (_, s) = open(&target, false).await?;
                    let kid = s
                        .rotate_key_to(&agency, &actor(), key_alg, jws_alg_name)
                        .await?;
                    Ok((
                        format!("Agency {agency} now signs with key {kid}. The previous key stays published, so credentials it signed still verify.\nA running service picks the new key up within key_refresh_secs; update the trust list (tongban-issuer trust-list update-issuer … --add-key) so verifiers accept it."),
                        json!({"agency": agency, "kid": kid}),
                    ))
                }
                KeyCommand::Certificate {
                    target,
                    agency,
                    kid,
                    chain,
                } => {
                    let pem = std::fs::read(&chain).map_err(|e| {
                        super::Failure::usage("file_unreadable", format!("{}: {e}", chain.display()))
                    })?;
                    let ders = pem::parse_many(&pem)
                        .map_err(|e| super::Failure::usage("file_unreadable", format!("{}: {e}", chain.display())))?
                        .into_iter()
                        .filter(|p| p.tag() == "CERTIFICATE")
                        .map(|p| p.into_contents())
                        .collect::<Vec<_>>();
                    let (_, s) = open(&target, false).await?;
                    let kid = match kid {
                        Some(k) => k,
                        None => s
                            .signing_keys(&agency)
                            .await?
                            .into_iter()
                            .find(|k| k.retired_at.is_none())
                            .map(|k| k.kid)
                            .unwrap_or_default(),
                    };
                    let x5c = s.set_key_certificate(&agency, &kid, &ders, &actor()).await?;
                    Ok((
                        format!("Key {kid} of agency {agency} now carries its certificate chain ({} certificate(s)) in x5c. A running service picks it up within key_refresh_secs.", x5c.len()),
                        json!({"agency": agency, "kid": kid, "x5c": x5c}),
                    ))
                }
                KeyCommand::List { target, agency } => {
                    let (_, s) = open(&target, false).await?;
                    let keys = s.signing_keys(&agency).await?;
                    let text = keys
                        .iter()
                        .map(|k| format!("{}  created {}{}", k.kid, k.created_at, k.retired_at.map(|r| format!(", retired {r}")).unwrap_or_else(|| " (current)".into())))
                        .collect::<Vec<_>>()
                        .join("\n");
                    Ok((text, json!({"agency": agency, "keys": keys_json(&keys)})))
                }
            }
        })
    });
    finish(json, r)
}
