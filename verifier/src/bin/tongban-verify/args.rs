//! Command-line arguments, each defined once with its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tongban_verifier::{HolderBinding, Policy, policy};

use crate::cli_error::CliError;

/// Check Tongban (通办) credentials offline at a receiving counter.
///
/// A citizen presents a licence from their wallet; this tool checks, with no
/// network, that it was signed by a trusted issuing agency, that only genuine
/// fields were disclosed, that it is within its validity period, and that the
/// holder signed this very request (audience and nonce).
#[derive(Debug, Parser)]
#[command(name = "tongban-verify", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Whether the user asked for JSON (so errors are printed as JSON too).
    pub fn json_requested(&self) -> bool {
        match &self.command {
            Command::Verify(a) => a.json,
            Command::Codes { json } => *json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify one presentation and print the verdict.
    ///
    /// Exit status: 0 accepted, 1 rejected, 2 usage error or unreadable input.
    ///
    /// Example, for a counter that pins one issuer's key and asked the
    /// citizen's wallet for nonce n-8f3a:
    ///
    ///   tongban-verify verify --issuer-key wujiang-amr.jwk.json \
    ///       --aud https://counter.qingpu.example --nonce n-8f3a presentation.txt
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// List every rejection code with its sentence in Chinese and English.
    Codes {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The language of the human-readable verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Chinese and English side by side.
    Both,
    /// 中文.
    Zh,
    /// English.
    En,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The presentation: a file holding the SD-JWT text, or `-` (or nothing)
    /// for standard input. Surrounding whitespace is ignored.
    pub input: Option<PathBuf>,

    /// An issuer public key to trust, as a JWK or JWKS JSON file. Repeat for
    /// several keys. A key with a `kid` only matches credentials naming that
    /// `kid`; a key without one matches any.
    #[arg(long = "issuer-key", value_name = "FILE", required = true)]
    pub issuer_key: Vec<PathBuf>,

    /// The audience this counter expects in the holder's signature (the
    /// `aud` of the request it showed). Required unless --no-holder-binding.
    #[arg(
        long,
        value_name = "AUD",
        required_unless_present = "no_holder_binding"
    )]
    pub aud: Option<String>,

    /// The nonce this counter issued with its request. Required unless
    /// --no-holder-binding.
    #[arg(
        long,
        value_name = "NONCE",
        required_unless_present = "no_holder_binding"
    )]
    pub nonce: Option<String>,

    /// Accept presentations without the holder's signature (KB-JWT). Only for
    /// checking a credential file, never at a counter: without it a copied
    /// credential cannot be told from its holder.
    #[arg(long, conflicts_with_all = ["aud", "nonce"])]
    pub no_holder_binding: bool,

    /// The time of checking: RFC 3339 (2026-11-25T10:00:00+08:00) or Unix
    /// seconds. Default: this terminal's clock.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Accepted clock difference between issuer, wallet and this terminal.
    #[arg(long, value_name = "SECS", default_value_t = policy::DEFAULT_CLOCK_SKEW_SECS)]
    pub skew: u32,

    /// How old the holder's signature may be before it is refused as stale.
    #[arg(long, value_name = "SECS", default_value_t = policy::DEFAULT_KB_MAX_AGE_SECS)]
    pub kb_max_age: u32,

    /// Print the full report as JSON instead of the clerk's verdict.
    #[arg(long)]
    pub json: bool,

    /// Language of the verdict.
    #[arg(long, value_enum, default_value_t = Lang::Both)]
    pub lang: Lang,
}

impl VerifyArgs {
    /// The verification policy these arguments describe.
    pub fn policy(&self) -> Result<Policy, CliError> {
        let now = match &self.at {
            Some(at) => parse_time(at)?,
            None => time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let holder_binding = match (&self.aud, &self.nonce) {
            (Some(audience), Some(nonce)) => HolderBinding::Required {
                audience: audience.clone(),
                nonce: nonce.clone(),
            },
            _ => HolderBinding::NotRequired,
        };
        Ok(Policy {
            clock_skew_secs: self.skew,
            kb_max_age_secs: self.kb_max_age,
            holder_binding,
            ..Policy::without_holder_binding(now)
        })
    }
}

/// Parses RFC 3339 or Unix seconds.
fn parse_time(text: &str) -> Result<i64, CliError> {
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| {
            CliError::Usage(format!(
                "--at {text:?} is neither RFC 3339 (e.g. 2026-11-25T10:00:00+08:00) nor Unix seconds: {e}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000").ok(), Some(1_700_000_000));
        assert_eq!(
            parse_time("2026-11-25T08:00:00+08:00").ok(),
            Some(1_795_564_800)
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
