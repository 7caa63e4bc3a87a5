//! Command-line arguments, each defined once with its help text.

use std::path::PathBuf;
use tongban_cli_support::qr_arg::{QrForm, QrOutput, QrOutputParser};

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use tongban_verifier::{HolderBinding, Policy, StalePolicy, policy};

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
            Command::Sync(a) => a.json,
            Command::Scan(a) => a.json,
            Command::Bundle {
                command: BundleCommand::Import(a),
            } => a.json,
            Command::Bundle {
                command: BundleCommand::Show(a),
            } => a.json,
            Command::Codes { json } => *json,
            Command::Request(a) => a.json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify one presentation and print the verdict.
    ///
    /// Exit status: 0 accepted, 1 rejected, 2 usage error or unreadable input.
    ///
    /// Trust comes from a synced bundle (the usual case: the issuer must be
    /// listed and the credential not revoked) or from pinned issuer keys.
    ///
    /// Example, at a counter that synced its bundle and asked the citizen's
    /// wallet for nonce n-8f3a:
    ///
    ///   tongban-verify verify --bundle /var/lib/tongban/bundle \
    ///       --anchor-key yrd-anchor.jwk.json \
    ///       --aud https://counter.qingpu.example --nonce n-8f3a presentation.txt
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// Verify a batch of scans (a day's images or texts) with batch
    /// signature verification, a progress bar and a summary table.
    ///
    /// Exit status: 0 all accepted, 1 any rejected or unreadable, 2 usage.
    ///
    ///   tongban-verify scan --bundle /var/lib/tongban/bundle --anchor-key yrd-anchor.jwk.json \
    ///       --no-holder-binding scans/2026-11-25/
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),
    /// Fetch the trust list and every listed issuer's status list over
    /// HTTP(S), verify them, and replace the trust bundle atomically.
    ///
    /// The only command that uses the network. A bundle that fails to verify
    /// is refused whole and the previous bundle stays in place; a trust list
    /// older than the one held is refused (rollback).
    ///
    ///   tongban-verify sync --trust-list https://trust.yrd.example/trust-list.jwt \
    ///       --anchor-key yrd-anchor.jwk.json --bundle /var/lib/tongban/bundle
    #[command(verbatim_doc_comment)]
    Sync(SyncArgs),
    /// Build or inspect a trust bundle without a network (air-gapped counters).
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// Make a presentation request for the citizen's wallet to scan: the
    /// licence type and claims asked for, this counter's audience, a fresh
    /// nonce and an expiry. Keep the file: `verify --request FILE` checks
    /// the answer against it.
    ///
    ///   tongban-verify request --aud https://counter.qingpu.example \
    ///       --vct urn:tongban:business-licence:1 --claims company_name,legal_representative \
    ///       --out request.txt --qr terminal
    #[command(verbatim_doc_comment)]
    Request(RequestArgs),
    /// List every rejection code with its sentence in Chinese and English.
    Codes {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// This counter's identifier (the audience the wallet signs for).
    #[arg(long)]
    pub aud: String,
    /// The licence type asked for (a vct of the catalogue).
    #[arg(long)]
    pub vct: Option<String>,
    /// The claims asked for, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub claims: Vec<String>,
    /// How long the request stays valid, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub ttl: i64,
    /// Write the request (TBR1: text) to this file, for `verify --request`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Show it as a QR code: `terminal`, `png:FILE`, or `text` (just the text).
    #[arg(long, value_name = "FORM", default_value = "text",
          value_parser = QrOutputParser::new(&[QrForm::Text, QrForm::Terminal, QrForm::Png]))]
    pub qr: QrOutput,
    /// Sign the request with this counter's registered request-signing key
    /// (a private JWK with its kid; Ed25519, P-256 or SM2): wallets holding
    /// the trust list then show the agency's registered name and service
    /// item. Without it the request is unsigned ("unverified requester").
    #[arg(long, value_name = "FILE", env = "TONGBAN_REQUEST_KEY", requires_all = ["verifier", "service_item"])]
    pub sign_key: Option<PathBuf>,
    /// With --sign-key: the receiving agency's id in the trust list.
    #[arg(long, value_name = "ID", requires = "sign_key")]
    pub verifier: Option<String>,
    /// With --sign-key: the registered service item the request serves.
    #[arg(long, value_name = "ID", requires = "sign_key")]
    pub service_item: Option<String>,
    /// Print the request as JSON.
    #[arg(long)]
    pub json: bool,
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

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Build a bundle from local files: a signed trust list and the status
    /// list tokens of every listed issuer.
    ///
    ///   tongban-verify bundle import --trust-list trust-list.jwt \
    ///       --status-list wujiang-1.jwt --status-list jiashan-1.jwt \
    ///       --anchor-key yrd-anchor.jwk.json --bundle ./bundle
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Verify a bundle and show what it holds and how old it is.
    Show(ShowArgs),
}

/// Where the trust anchor's public key comes from (pinned, never synced).
#[derive(Debug, Args)]
pub struct AnchorArgs {
    /// The trust anchor this counter pins: the zone's signed root of trust
    /// (its anchor keys and threshold; later roots are followed from it), or
    /// an anchor public key (JWK or JWKS file; repeat for several, any one
    /// of which suffices). Pinned here, never taken from the bundle.
    #[arg(
        long = "anchor-key",
        value_name = "FILE",
        env = "TONGBAN_ANCHOR_KEY",
        required = true
    )]
    pub anchor_key: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The URL of the signed trust list (https://; plain http:// only to this
    /// machine). Redirects are followed only within the same origin.
    #[arg(long = "trust-list", value_name = "URL")]
    pub trust_list: String,
    #[command(flatten)]
    pub anchors: AnchorArgs,
    /// The bundle directory (created if missing).
    #[arg(long, value_name = "DIR", env = "TONGBAN_BUNDLE")]
    pub bundle: PathBuf,
    /// Seconds to wait for each HTTP request.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The signed trust list file.
    #[arg(long = "trust-list", value_name = "FILE")]
    pub trust_list: PathBuf,
    /// A status list token file. Repeat for each listed status list.
    #[arg(long = "status-list", value_name = "FILE")]
    pub status_list: Vec<PathBuf>,
    /// A signed root of trust newer than the pinned one (`root-<n>.json`),
    /// to follow an anchor rotation offline. Repeat for each.
    #[arg(long = "root", value_name = "FILE")]
    pub roots: Vec<PathBuf>,
    #[command(flatten)]
    pub anchors: AnchorArgs,
    /// The bundle directory (created if missing).
    #[arg(long, value_name = "DIR", env = "TONGBAN_BUNDLE")]
    pub bundle: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub anchors: AnchorArgs,
    /// The bundle directory.
    #[arg(long, value_name = "DIR", env = "TONGBAN_BUNDLE")]
    pub bundle: PathBuf,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a stale status list means at this counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Stale {
    /// Reject (the default: fail closed).
    Reject,
    /// Accept with a warning.
    Warn,
}

/// Where trust comes from: a bundle (with its pinned anchor) or pinned issuer keys.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("trust").required(true).args(["issuer_key", "bundle"])))]
pub struct TrustArgs {
    /// The trust bundle directory (see `sync` and `bundle import`): the
    /// trust list and status lists. Needs --anchor-key.
    #[arg(
        long,
        value_name = "DIR",
        env = "TONGBAN_BUNDLE",
        requires = "anchor_key"
    )]
    pub bundle: Option<PathBuf>,

    /// The pinned root of trust (or anchor key(s)) the bundle's trust list
    /// must be signed under.
    #[arg(long = "anchor-key", value_name = "FILE", env = "TONGBAN_ANCHOR_KEY")]
    pub anchor_key: Vec<PathBuf>,

    /// An issuer public key to trust instead of a bundle, as a JWK or JWKS
    /// file (no status check). Repeat for several keys. A key with a `kid`
    /// only matches credentials naming that `kid`; a key without one
    /// matches any.
    #[arg(long = "issuer-key", value_name = "FILE", conflicts_with = "bundle")]
    pub issuer_key: Vec<PathBuf>,
}

/// What the counter requires of a presentation.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The request this counter showed (the file `tongban-verify request`
    /// wrote, or its TBR1: text): its audience and nonce are expected.
    #[arg(long, value_name = "FILE|TEXT", conflicts_with_all = ["aud", "nonce", "no_holder_binding"])]
    pub request: Option<String>,

    /// The audience this counter expects in the holder's signature (the
    /// `aud` of the request it showed). Required unless --request or
    /// --no-holder-binding.
    #[arg(long, value_name = "AUD", required_unless_present_any = ["no_holder_binding", "request"])]
    pub aud: Option<String>,

    /// The nonce this counter issued with its request. Required unless
    /// --request or --no-holder-binding. A nonce may start with `-`.
    #[arg(long, value_name = "NONCE", allow_hyphen_values = true,
          required_unless_present_any = ["no_holder_binding", "request"])]
    pub nonce: Option<String>,

    /// Accept presentations without the holder's signature (KB-JWT). Only for
    /// checking a credential file or an archive, never at a counter: without
    /// it a copied credential cannot be told from its holder.
    #[arg(long, conflicts_with_all = ["aud", "nonce"])]
    pub no_holder_binding: bool,

    /// What a status list past its exp (or older than --status-max-age), or
    /// a trust list past its next_update, means.
    #[arg(long, value_enum, default_value_t = Stale::Reject)]
    pub stale: Stale,

    /// The oldest status list this counter relies on, from when the issuer
    /// signed it (its iat): seconds, or a number with s, m, h or d (e.g.
    /// 12h). A list is also stale past its own exp; its ttl only says when
    /// sync should fetch a new one.
    #[arg(long, visible_alias = "max-status-age", value_name = "DURATION",
          default_value = "24h", value_parser = parse_duration)]
    pub status_max_age: u32,

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
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The presentation: a PNG or JPEG with its QR code(s), a file with the
    /// QR transport text (TB1:…, or TB1M: parts one per line) or the plain
    /// SD-JWT, or `-` (or nothing) for standard input.
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Print the full report as JSON instead of the clerk's verdict.
    #[arg(long)]
    pub json: bool,

    /// Language of the verdict.
    #[arg(long, value_enum, default_value_t = Lang::Both)]
    pub lang: Lang,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files (images or texts) and directories of them (every file directly
    /// inside, in name order).
    #[arg(required = true, value_name = "DIR|FILE")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Print every report as JSON (an array) instead of the summary table.
    #[arg(long)]
    pub json: bool,
}

impl PolicyArgs {
    /// The verification policy these arguments describe.
    pub fn policy(&self) -> Result<Policy, CliError> {
        let now = match &self.at {
            Some(at) => parse_time(at)?,
            None => tongban_cli_support::time::now(),
        };
        let holder_binding = match (&self.request, &self.aud, &self.nonce) {
            (Some(r), _, _) => {
                let text = std::fs::read_to_string(r).unwrap_or_else(|_| r.clone());
                let req =
                    tongban_verifier::request::PresentationRequest::parse(&text).map_err(|e| {
                        CliError::Usage(format!(
                            "--request: {} ({})",
                            e.code.message_en(),
                            e.detail
                        ))
                    })?;
                HolderBinding::Required {
                    audience: req.aud,
                    nonce: req.nonce,
                }
            }
            (None, Some(audience), Some(nonce)) => HolderBinding::Required {
                audience: audience.clone(),
                nonce: nonce.clone(),
            },
            _ => HolderBinding::NotRequired,
        };
        Ok(Policy {
            clock_skew_secs: self.skew,
            kb_max_age_secs: self.kb_max_age,
            holder_binding,
            stale: match self.stale {
                Stale::Reject => StalePolicy::Reject,
                Stale::Warn => StalePolicy::Warn,
            },
            max_status_age_secs: self.status_max_age,
            ..Policy::without_holder_binding(now)
        })
    }
}

/// Parses a duration: seconds, or a number followed by s, m, h or d.
fn parse_duration(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, 's'),
    };
    let scale: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        other => return Err(format!("unknown unit {other:?} (use s, m, h or d)")),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 3600, 90m, 24h, 7d)"))?;
    n.checked_mul(scale)
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("{text:?} is zero or too long"))
}

/// Parses RFC 3339 or Unix seconds.
fn parse_time(text: &str) -> Result<i64, CliError> {
    tongban_cli_support::time::parse_time(text).map_err(|e| CliError::Usage(format!("--at {e}")))
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
    fn durations() {
        assert_eq!(parse_duration("600"), Ok(600));
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        for bad in ["0", "h", "1w", "-5", "99999999d", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
