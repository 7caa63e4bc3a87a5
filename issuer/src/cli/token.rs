//! `tongban-issuer token …`: admin tokens.

use std::process::ExitCode;

use clap::Subcommand;

use super::target::{Target, actor, open, runtime};
use super::{Failure, finish};
use serde_json::json;
use tongban_issuer::tokens::Scopes;

/// `token …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an admin token; the secret is printed once and stored only as
    /// a hash.
    ///
    ///   tongban-issuer token create --agency wujiang-amr --scope issue,read --label "counter 3"
    #[command(verbatim_doc_comment)]
    Create {
        #[command(flatten)]
        target: Target,
        /// The agency it acts for.
        #[arg(long)]
        agency: String,
        /// Scopes: issue, read, revoke, suspend, audit, or all.
        #[arg(long, value_name = "LIST")]
        scope: String,
        /// A label for people (who holds it).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List an agency's tokens (never the secrets).
    List {
        #[command(flatten)]
        target: Target,
        /// The agency.
        #[arg(long)]
        agency: String,
    },
    /// Revoke a token by its id (tok_…).
    Revoke {
        #[command(flatten)]
        target: Target,
        /// The agency.
        #[arg(long)]
        agency: String,
        /// The token id.
        id: String,
    },
}

/// `tongban-issuer token …`.
pub(crate) fn token(c: TokenCommand) -> ExitCode {
    let json = match &c {
        TokenCommand::Create { target, .. }
        | TokenCommand::List { target, .. }
        | TokenCommand::Revoke { target, .. } => target.json,
    };
    let r = runtime().and_then(|rt| {
        rt.block_on(async {
            match c {
                TokenCommand::Create { target, agency, scope, label } => {
                    let scopes = Scopes::parse(&scope).map_err(|e| Failure::usage("usage", e.to_string()))?;
                    if scopes.is_empty() {
                        return Err(Failure::usage("usage", "give at least one scope (issue, read, revoke, suspend, audit, or all)"));
                    }
                    let (_, s) = open(&target, false).await?;
                    let t = s.create_token(&agency, scopes, &label, &actor()).await?;
                    Ok((
                        format!("Token {} for agency {agency}, scopes {scopes}. The secret is shown ONCE:\n\n    {}\n", t.id, t.secret),
                        json!({"id": t.id, "agency": agency, "scopes": scopes, "label": label, "token": t.secret}),
                    ))
                }
                TokenCommand::List { target, agency } => {
                    let (_, s) = open(&target, false).await?;
                    let list = s.list_tokens(&agency).await?;
                    let text = list
                        .iter()
                        .map(|t| format!("{}  [{}]  {}{}", t.id, t.scopes, t.label, if t.revoked_at.is_some() { "  (revoked)" } else { "" }))
                        .collect::<Vec<_>>()
                        .join("\n");
                    Ok((if text.is_empty() { "No tokens.".into() } else { text }, json!({"tokens": list})))
                }
                TokenCommand::Revoke { target, agency, id } => {
                    let (_, s) = open(&target, false).await?;
                    s.revoke_token(&agency, &id, &actor()).await?;
                    Ok((format!("Revoked token {id} of {agency}."), json!({"revoked": id})))
                }
            }
        })
    });
    finish(json, r)
}
