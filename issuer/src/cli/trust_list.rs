//! `tongban-issuer trust-list …`: the trust-list operator's tooling.
//!
//! Exit status: 0 done, 2 usage error or refused change (nothing written).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tongban_cli_support::time::{format_cst, now, parse_time};
use tongban_issuer::files::{self, FileError};
use tongban_issuer::trust_list::{self as tl, DraftError, IssuerUpdate};

use super::jwks_fetch::{self, JwksFetchError};
use tongban_issuer::keys::KeyAlg;

mod ca;
mod proposal;
mod verifier;
use tongban_verifier::trust::{Anchor, TrustList, TrustedIssuer, VerifiedTrustList};
use tongban_verifier::{AnySigner, Ed25519Signer, KeyWithId, P256Signer, Signer as _, Sm2Signer};

/// `tongban-issuer trust-list …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TrustListCommand {
    /// Create a new anchor signing key (Ed25519). The private key file is
    /// created with mode 0600 and never overwritten.
    AnchorKey(AnchorKeyArgs),
    /// Start an empty draft list for an anchor.
    Init(InitArgs),
    /// Add an issuing agency with its keys (from a JWK/JWKS file or its
    /// published JWKS URL).
    AddIssuer(AddIssuerArgs),
    /// Change an agency: names, region, licence types, new keys (rotation
    /// keeps the old ones), retire a key (rotation) or mark one compromised,
    /// status lists.
    UpdateIssuer(UpdateIssuerArgs),
    /// Remove an agency from the list.
    RemoveIssuer(RemoveIssuerArgs),
    /// Register a receiving agency: its request-signing keys and/or
    /// certificate hashes, and the service items it may ask for (which
    /// claims of which licence types).
    AddVerifier(verifier::AddVerifierArgs),
    /// Change a receiving agency: names, region, keys and certificates
    /// (add, retire, mark compromised), service items, the registration's end.
    UpdateVerifier(verifier::UpdateVerifierArgs),
    /// Remove a receiving agency from the list.
    RemoveVerifier(verifier::RemoveVerifierArgs),
    /// Propose the next list (sequence + 1) from the draft, as a file the
    /// zone's operators sign in turn.
    Propose(proposal::ProposeArgs),
    /// Add your anchor signature to a proposal (--proposal), or, for a zone
    /// of one anchor, sign the next list from the draft in one step (--list).
    Sign(SignArgs),
    /// Write the list verifiers sync, once the proposal carries the root's
    /// threshold of signatures (refused, writing nothing, below it).
    Publish(proposal::PublishArgs),
    /// Show a draft, a proposal (with its signatures, and --diff against the
    /// current list), or verify and show a signed list.
    Show(ShowArgs),
    /// The root of trust: the anchor keys and how many must sign.
    #[command(subcommand)]
    Root(proposal::RootCommand),
    /// The zone's certificate authority: certifies the agencies' listed
    /// signing keys for the x5c header (HAIP 1.0).
    #[command(subcommand)]
    Ca(ca::CaCommand),
}

#[derive(Debug, Args)]
struct Common {
    /// Print the result as JSON.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AnchorKeyArgs {
    /// Where to create the private key (JWK with "d").
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the public key here (what verifiers pin).
    #[arg(long, value_name = "FILE")]
    public_out: Option<PathBuf>,
    /// The key's id (`kid`); default: its JWK thumbprint.
    #[arg(long, allow_hyphen_values = true)]
    kid: Option<String>,
    /// The key's algorithm: ed25519 (EdDSA), es256 (ES256) or sm2
    /// (SM2SM3).
    #[arg(long, value_enum, default_value_t = KeyAlg::Ed25519)]
    key_alg: KeyAlg,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct DraftArg {
    /// The draft list file (JSON).
    #[arg(long, value_name = "FILE", env = "TONGBAN_TRUST_LIST_DRAFT")]
    list: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    #[command(flatten)]
    draft: DraftArg,
    /// The anchor's identifier (a URL).
    #[arg(long)]
    anchor_id: String,
    /// The anchor's name in Chinese.
    #[arg(long)]
    name_zh: String,
    /// The anchor's name in English.
    #[arg(long)]
    name_en: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct KeySource {
    /// The issuer's public key(s): a JWK or JWKS file. Every key needs a kid.
    #[arg(long, value_name = "FILE", conflicts_with = "jwks_url")]
    jwk: Option<PathBuf>,
    /// The issuer's published JWKS URL, fetched now: https only (plain http
    /// only to this machine, for tests), no redirects. The keys' thumbprints
    /// are shown for you to compare with the agency's, out of band.
    #[arg(long, value_name = "URL")]
    jwks_url: Option<String>,
    /// Accept the keys fetched from --jwks-url without asking (compare the
    /// printed thumbprints with the agency's first). Without it, a terminal
    /// asks, and anything else is refused.
    #[arg(long)]
    yes: bool,
    /// When the new keys start being valid (RFC 3339 or Unix seconds); default now.
    #[arg(long, value_name = "TIME")]
    not_before: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AddIssuerArgs {
    #[command(flatten)]
    draft: DraftArg,
    /// The issuer id: exactly the `iss` of its credentials.
    #[arg(long)]
    id: String,
    /// Name in Chinese.
    #[arg(long)]
    name_zh: String,
    /// Name in English.
    #[arg(long)]
    name_en: String,
    /// GB/T 2260 administrative division code (6 digits, e.g. 320509).
    #[arg(long)]
    region: String,
    /// A licence type (`vct`) it may issue. Repeat for several.
    #[arg(long = "vct", required = true)]
    vcts: Vec<String>,
    /// A status list URI it publishes. Repeat for several.
    #[arg(long = "status-list")]
    status_lists: Vec<String>,
    #[command(flatten)]
    keys: KeySource,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateIssuerArgs {
    #[command(flatten)]
    draft: DraftArg,
    /// The issuer id.
    #[arg(long)]
    id: String,
    /// New name in Chinese.
    #[arg(long)]
    name_zh: Option<String>,
    /// New name in English.
    #[arg(long)]
    name_en: Option<String>,
    /// New region code.
    #[arg(long)]
    region: Option<String>,
    /// Authorise another licence type.
    #[arg(long = "add-vct")]
    add_vcts: Vec<String>,
    /// Withdraw a licence type.
    #[arg(long = "remove-vct")]
    remove_vcts: Vec<String>,
    /// Add a status list URI.
    #[arg(long = "status-list")]
    status_lists: Vec<String>,
    /// Add every status list URI the agency publishes at URL (its
    /// `<issuer>/status`): https only (plain http to this machine alone),
    /// no redirect, and only URIs under the issuer's own `<id>/status/`.
    #[arg(long, value_name = "URL")]
    status_lists_from: Option<String>,
    /// Retire KID (rotation): credentials it signed before --at still
    /// verify, none signed from --at on.
    #[arg(
        long = "retire-key",
        visible_alias = "retire",
        value_name = "KID",
        allow_hyphen_values = true
    )]
    retire: Vec<String>,
    /// KID was compromised (stolen, leaked): nothing it signed verifies any
    /// more, whatever date it carries; the agency reissues. --at records
    /// when it was reported.
    #[arg(
        long = "compromised-key",
        visible_aliases = ["compromised", "revoke-key"],
        value_name = "KID",
        allow_hyphen_values = true
    )]
    compromised: Vec<String>,
    /// The time for --retire-key/--compromised-key (RFC 3339 or Unix seconds); default now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    #[command(flatten)]
    keys: KeySource,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct RemoveIssuerArgs {
    #[command(flatten)]
    draft: DraftArg,
    /// The issuer id.
    #[arg(long)]
    id: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The draft list file, to sign the next list with one anchor key (a
    /// zone of one anchor).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "proposal",
        required_unless_present = "proposal",
        requires = "out"
    )]
    list: Option<PathBuf>,
    /// A proposal file (from `propose`) to add your signature to.
    #[arg(long, value_name = "FILE")]
    proposal: Option<PathBuf>,
    /// Your anchor private key file.
    #[arg(
        long,
        visible_alias = "key",
        value_name = "FILE",
        env = "TONGBAN_ANCHOR_PRIVATE_KEY"
    )]
    anchor_key: PathBuf,
    /// With --proposal: the zone's current root; a key that is not one of
    /// its anchors is refused.
    #[arg(long, value_name = "FILE", requires = "proposal")]
    root: Option<PathBuf>,
    /// With --list: where to write the signed list.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Days until verifiers should expect a newer list (next_update).
    #[arg(long, default_value_t = 7)]
    validity_days: u32,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// A draft list file.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["signed", "proposal"],
        required_unless_present_any = ["signed", "proposal"]
    )]
    list: Option<PathBuf>,
    /// A signed list to verify and show.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "proposal",
        requires = "anchor_public_key"
    )]
    signed: Option<PathBuf>,
    /// The anchor's public key or the zone's root of trust, to verify
    /// --signed.
    #[arg(long, visible_alias = "root-of-trust", value_name = "FILE")]
    anchor_public_key: Option<PathBuf>,
    /// A proposal to review: its content and signatures.
    #[arg(long, value_name = "FILE")]
    proposal: Option<PathBuf>,
    /// With --proposal: the zone's current root, to count the signatures.
    #[arg(long, value_name = "FILE", requires = "proposal")]
    root: Option<PathBuf>,
    /// With --proposal: the current list (signed, or a draft) to compare
    /// with: every issuer and key added, removed or changed, with key
    /// thumbprints.
    #[arg(long, value_name = "CURRENT", requires = "proposal")]
    diff: Option<PathBuf>,
    /// The language of --proposal's text.
    #[arg(long, value_enum, default_value = "both")]
    lang: proposal::Lang,
    #[command(flatten)]
    common: Common,
}

/// Why a command did nothing.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Fetch(#[from] JwksFetchError),
    #[error(
        "the keys from {url} need your confirmation; compare these thumbprints (RFC 7638, SHA-256) with the agency's, then run again with --yes:\n{listing}"
    )]
    ConfirmationRequired { url: String, listing: String },
    #[error("the keys from {url} were not accepted")]
    ConfirmationDeclined { url: String },
    #[error("the signed list does not verify: {0}")]
    Verify(tongban_verifier::Rejection),
    #[error("the status lists published at {url} are not usable: {reason}")]
    StatusListsInvalid { url: String, reason: String },
}

impl CliError {
    fn code(&self) -> &'static str {
        match self {
            CliError::Draft(d) => d.code(),
            CliError::File(_) => "file_error",
            CliError::Usage(_) => "usage",
            CliError::Fetch(JwksFetchError::NotAllowed { .. }) => "url_not_allowed",
            CliError::Fetch(JwksFetchError::Failed { .. }) => "fetch_failed",
            CliError::ConfirmationRequired { .. } => "confirmation_required",
            CliError::ConfirmationDeclined { .. } => "confirmation_declined",
            CliError::Verify(r) => r.code.code(),
            CliError::StatusListsInvalid { .. } => "status_lists_invalid",
        }
    }
}

/// Runs a trust-list command; prints the result (text or `--json`).
pub(crate) fn main(command: TrustListCommand) -> ExitCode {
    let json = match &command {
        TrustListCommand::AnchorKey(a) => a.common.json,
        TrustListCommand::Init(a) => a.common.json,
        TrustListCommand::AddIssuer(a) => a.common.json,
        TrustListCommand::UpdateIssuer(a) => a.common.json,
        TrustListCommand::RemoveIssuer(a) => a.common.json,
        TrustListCommand::AddVerifier(a) => a.common.json,
        TrustListCommand::UpdateVerifier(a) => a.common.json,
        TrustListCommand::RemoveVerifier(a) => a.common.json,
        TrustListCommand::Sign(a) => a.common.json,
        TrustListCommand::Show(a) => a.common.json,
        TrustListCommand::Propose(a) => a.common.json,
        TrustListCommand::Publish(a) => a.common.json,
        TrustListCommand::Root(r) => r.json(),
        TrustListCommand::Ca(c) => c.json(),
    };
    super::finish(
        json,
        run(command).map_err(|e| super::Failure {
            code: e.code(),
            message: format!("{e}\n  nothing was written."),
            exit: 2,
        }),
    )
}

fn time_arg(t: Option<&String>) -> Result<i64, CliError> {
    t.map_or_else(|| Ok(now()), |t| parse_time(t).map_err(CliError::Usage))
}

fn load_draft(path: &Path) -> Result<TrustList, CliError> {
    let v = files::read_json(path)?;
    serde_json::from_value(v).map_err(|e| {
        CliError::File(FileError {
            path: path.to_path_buf(),
            reason: format!("not a trust list draft: {e}"),
        })
    })
}

fn save_draft(path: &Path, list: &TrustList) -> Result<(), CliError> {
    let mut bytes = serde_json::to_vec_pretty(list).map_err(|e| CliError::Usage(e.to_string()))?;
    bytes.push(b'\n');
    Ok(files::write_atomic(path, &bytes)?)
}

/// Keys read from `--jwk` or fetched from `--jwks-url`, with what the
/// operator is shown of them.
struct SourcedKeys {
    /// Public JWKs, each with its `kid`.
    jwks: Vec<Value>,
    /// The file or URL they came from.
    source: Option<String>,
    /// `(kid, RFC 7638 thumbprint)` of each.
    thumbprints: Vec<(String, String)>,
}

impl SourcedKeys {
    fn listing(&self) -> String {
        self.thumbprints
            .iter()
            .map(|(kid, tp)| format!("  kid {kid}  thumbprint {tp}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn json(&self) -> Value {
        Value::Array(
            self.thumbprints
                .iter()
                .map(|(kid, tp)| json!({"kid": kid, "thumbprint": tp}))
                .collect(),
        )
    }

    /// Text for the operator: where the keys came from and their thumbprints.
    fn text(&self) -> String {
        match &self.source {
            Some(source) if !self.thumbprints.is_empty() => {
                format!("keys from {source}:\n{}\n", self.listing())
            }
            _ => String::new(),
        }
    }
}

/// The status list URIs an agency publishes at `url` (`<issuer>/status`,
/// `specs/issuer-api.md` §2), fetched as strictly as its keys: the document
/// must name `issuer` and every URI must be one of its `<issuer>/status/<n>`,
/// so the document cannot slip another host's URI into the entry.
fn status_lists_from(url: &str, issuer: &str) -> Result<Vec<String>, CliError> {
    let doc = jwks_fetch::fetch(url)?;
    let bad = |reason: String| CliError::StatusListsInvalid {
        url: url.to_owned(),
        reason,
    };
    if doc.get("issuer").and_then(serde_json::Value::as_str) != Some(issuer) {
        return Err(bad(format!(
            "its issuer is {}, not {issuer}",
            doc.get("issuer").unwrap_or(&serde_json::Value::Null)
        )));
    }
    let uris = doc
        .get("status_lists")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad("status_lists is missing or not an array".into()))?;
    let prefix = format!("{issuer}/status/");
    uris.iter()
        .map(|u| {
            let u = u
                .as_str()
                .ok_or_else(|| bad(format!("{u} is not a string")))?;
            let n = u.strip_prefix(&prefix).unwrap_or("");
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!("{u:?} is not one of {prefix}<n>")));
            }
            Ok(u.to_owned())
        })
        .collect()
}

fn source_keys(src: &KeySource) -> Result<SourcedKeys, CliError> {
    let (doc, source) = match (&src.jwk, &src.jwks_url) {
        (Some(path), _) => (files::read_json(path)?, path.display().to_string()),
        (None, Some(url)) => (jwks_fetch::fetch(url)?, url.clone()),
        (None, None) => {
            return Ok(SourcedKeys {
                jwks: Vec::new(),
                source: None,
                thumbprints: Vec::new(),
            });
        }
    };
    let jwks = tl::keys_from_document(&doc)?;
    let thumbprints = jwks
        .iter()
        .map(|j| {
            let k = KeyWithId::from_jwk(j).map_err(|e| DraftError::BadKey(e.to_string()))?;
            Ok((k.kid.unwrap_or_default(), k.key.thumbprint()))
        })
        .collect::<Result<Vec<_>, DraftError>>()?;
    let keys = SourcedKeys {
        jwks,
        source: Some(source),
        thumbprints,
    };
    if let Some(url) = &src.jwks_url {
        confirm(url, &keys, src.yes)?;
    }
    Ok(keys)
}

/// Keys fetched over the network are signed into the list only once the
/// operator has seen their thumbprints and said yes: `--yes`, or an answer
/// on a terminal; without a terminal and without `--yes`, refused.
fn confirm(url: &str, keys: &SourcedKeys, yes: bool) -> Result<(), CliError> {
    if yes || keys.thumbprints.is_empty() {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::ConfirmationRequired {
            url: url.into(),
            listing: keys.listing(),
        });
    }
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "keys fetched from {url}:\n{}\ncompare these thumbprints (RFC 7638, SHA-256) with the agency's, out of band.\nsign them into the draft? [y/N] ",
        keys.listing()
    );
    let _ = err.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Usage(format!("cannot read the answer: {e}")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(CliError::ConfirmationDeclined { url: url.into() })
    }
}

fn issuer_summary(i: &TrustedIssuer) -> String {
    let keys: Vec<String> = i
        .keys
        .iter()
        .map(|k| {
            let mut s = k.jwk["kid"].as_str().unwrap_or("?").to_owned();
            if let Some(at) = k.compromised_since() {
                s.push_str(&format!(
                    " (COMPROMISED, reported {}: nothing it signed verifies)",
                    format_cst(at)
                ));
            } else if let Some(at) = k.not_after {
                s.push_str(&format!(" (retired {})", format_cst(at)));
            }
            s
        })
        .collect();
    format!(
        "  {} — {} / {} ({})\n    types: {}\n    keys: {}\n    status lists: {}",
        i.id,
        i.name_zh,
        i.name_en,
        i.region,
        i.vcts.join(", "),
        keys.join(", "),
        if i.status_lists.is_empty() {
            "none".into()
        } else {
            i.status_lists.join(", ")
        }
    )
}

fn list_summary(l: &TrustList, signed: bool) -> String {
    let mut out = format!(
        "{} list of {} {} / {}: sequence {}, {} issuer(s)",
        if signed { "signed" } else { "draft" },
        l.anchor.id,
        l.anchor.name_zh,
        l.anchor.name_en,
        l.sequence,
        l.issuers.len()
    );
    if signed {
        out.push_str(&format!(
            "\n  signed {}, next update due {}",
            format_cst(l.issued_at),
            format_cst(l.next_update)
        ));
    }
    for i in &l.issuers {
        out.push('\n');
        out.push_str(&issuer_summary(i));
    }
    if let Some(verifiers) = &l.verifiers {
        out.push_str(&format!("\n{} receiving agenc(ies):", verifiers.len()));
        for v in verifiers {
            out.push('\n');
            out.push_str(&verifier::summary(v));
        }
    }
    out
}

fn run(command: TrustListCommand) -> Result<(String, Value), CliError> {
    match command {
        TrustListCommand::AnchorKey(a) => {
            let mut rng = rand::rngs::OsRng;
            let (private_jwk, public_key) = match a.key_alg {
                KeyAlg::Ed25519 => {
                    let tmp = Ed25519Signer::generate(&mut rng, None);
                    (tmp.to_private_jwk(), tmp.public_key())
                }
                KeyAlg::Es256 => {
                    let tmp = P256Signer::generate(&mut rng, None);
                    (tmp.to_private_jwk(), tmp.public_key())
                }
                KeyAlg::Sm2 => {
                    let tmp = Sm2Signer::generate(&mut rng, None);
                    (tmp.to_private_jwk(), tmp.public_key())
                }
            };
            let kid = a.kid.unwrap_or_else(|| public_key.thumbprint());
            let mut private_jwk = private_jwk;
            private_jwk["kid"] = Value::String(kid.clone());
            let signer = AnySigner::from_private_jwk(&private_jwk)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let mut private = serde_json::to_vec_pretty(&private_jwk)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            private.push(b'\n');
            files::create_secret(&a.out, &private)?;
            let mut public = signer.public_key().to_jwk();
            public["kid"] = Value::String(kid.clone());
            if let Some(p) = &a.public_out {
                files::write_atomic(
                    p,
                    format!(
                        "{}\n",
                        serde_json::to_string_pretty(&public).unwrap_or_default()
                    )
                    .as_bytes(),
                )?;
            }
            Ok((
                format!(
                    "anchor key {kid} created in {} (keep it offline; mode 0600)\npublic key for verifiers to pin:\n{}",
                    a.out.display(),
                    serde_json::to_string_pretty(&public).unwrap_or_default()
                ),
                json!({"kid": kid, "private_key_file": a.out, "public_jwk": public}),
            ))
        }
        TrustListCommand::Init(a) => {
            if a.draft.list.exists() {
                return Err(CliError::Usage(format!(
                    "{} already exists",
                    a.draft.list.display()
                )));
            }
            let d = tl::new_draft(Anchor {
                id: a.anchor_id,
                name_zh: a.name_zh,
                name_en: a.name_en,
            });
            save_draft(&a.draft.list, &d)?;
            Ok((
                format!("draft created in {}", a.draft.list.display()),
                json!({"draft": d}),
            ))
        }
        TrustListCommand::AddIssuer(a) => {
            let mut d = load_draft(&a.draft.list)?;
            let keys = source_keys(&a.keys)?;
            if keys.jwks.is_empty() {
                return Err(CliError::Usage(
                    "give the issuer's keys with --jwk FILE or --jwks-url URL".into(),
                ));
            }
            let issuer = TrustedIssuer {
                id: a.id.clone(),
                name_zh: a.name_zh,
                name_en: a.name_en,
                region: a.region,
                vcts: a.vcts,
                keys: Vec::new(),
                status_lists: a.status_lists,
            };
            let not_before = time_arg(a.keys.not_before.as_ref())?;
            tl::add_issuer(&mut d, issuer, keys.jwks.clone(), not_before)?;
            save_draft(&a.draft.list, &d)?;
            let i = d.issuer(&a.id).cloned();
            Ok((
                format!(
                    "{}added to the draft (sign it to publish):\n{}",
                    keys.text(),
                    i.as_ref().map(issuer_summary).unwrap_or_default()
                ),
                json!({"issuer": i, "source": keys.source, "key_thumbprints": keys.json()}),
            ))
        }
        TrustListCommand::UpdateIssuer(a) => {
            let mut d = load_draft(&a.draft.list)?;
            let at = time_arg(a.at.as_ref())?;
            let mut status_lists = a.status_lists;
            if let Some(url) = &a.status_lists_from {
                status_lists.extend(status_lists_from(url, &a.id)?);
            }
            let keys = source_keys(&a.keys)?;
            let update = IssuerUpdate {
                name_zh: a.name_zh,
                name_en: a.name_en,
                region: a.region,
                add_vcts: a.add_vcts,
                remove_vcts: a.remove_vcts,
                add_keys: keys.jwks.clone(),
                not_before: time_arg(a.keys.not_before.as_ref())?,
                retire: a.retire.into_iter().map(|k| (k, at)).collect(),
                compromised: a.compromised.into_iter().map(|k| (k, at)).collect(),
                add_status_lists: status_lists,
            };
            let added = tl::update_issuer(&mut d, &a.id, update)?;
            save_draft(&a.draft.list, &d)?;
            let i = d.issuer(&a.id).cloned();
            Ok((
                format!(
                    "{}updated in the draft (sign it to publish); new keys: {}\n{}",
                    keys.text(),
                    if added.is_empty() {
                        "none".into()
                    } else {
                        added.join(", ")
                    },
                    i.as_ref().map(issuer_summary).unwrap_or_default()
                ),
                json!({"issuer": i, "added_keys": added, "source": keys.source, "key_thumbprints": keys.json()}),
            ))
        }
        TrustListCommand::RemoveIssuer(a) => {
            let mut d = load_draft(&a.draft.list)?;
            tl::remove_issuer(&mut d, &a.id)?;
            save_draft(&a.draft.list, &d)?;
            Ok((
                format!("removed {} from the draft (sign it to publish)", a.id),
                json!({"removed": a.id}),
            ))
        }
        TrustListCommand::AddVerifier(a) => verifier::add(a),
        TrustListCommand::UpdateVerifier(a) => verifier::update(a),
        TrustListCommand::RemoveVerifier(a) => verifier::remove(a),
        TrustListCommand::Propose(a) => proposal::propose(a),
        TrustListCommand::Publish(a) => proposal::publish(a),
        TrustListCommand::Root(r) => proposal::root(r),
        TrustListCommand::Ca(c) => ca::run(c),
        TrustListCommand::Sign(SignArgs {
            proposal: Some(p),
            anchor_key,
            root,
            ..
        }) => proposal::sign(&p, &anchor_key, root.as_deref()),
        TrustListCommand::Sign(a) => {
            let (Some(list), Some(out)) = (a.list, a.out) else {
                return Err(CliError::Usage(
                    "give --proposal FILE, or --list DRAFT with --out FILE".into(),
                ));
            };
            let mut d = load_draft(&list)?;
            let key = files::read_json(&a.anchor_key)?;
            let signer = AnySigner::from_private_jwk(&key)
                .map_err(|e| CliError::Usage(format!("{}: {e}", a.anchor_key.display())))?;
            let jws = tl::sign(&mut d, &signer, now(), i64::from(a.validity_days) * 86_400)?;
            files::write_atomic(&out, format!("{jws}\n").as_bytes())?;
            save_draft(&list, &d)?;
            Ok((
                format!(
                    "signed trust list #{} written to {}\n{}",
                    d.sequence,
                    out.display(),
                    list_summary(&d, true)
                ),
                json!({"sequence": d.sequence, "out": out, "issued_at": d.issued_at, "next_update": d.next_update}),
            ))
        }
        TrustListCommand::Show(ShowArgs {
            proposal: Some(p),
            root,
            diff,
            lang,
            ..
        }) => proposal::show(&p, root.as_deref(), diff.as_deref(), lang),
        TrustListCommand::Show(a) => match (a.list, a.signed, a.anchor_public_key) {
            (Some(list), _, _) => {
                let d = load_draft(&list)?;
                Ok((list_summary(&d, false), json!({"draft": d})))
            }
            (None, Some(signed), Some(anchor)) => {
                let jws = files::read_text(&signed)?;
                let anchors = proposal::read_root(&anchor)?;
                let v = VerifiedTrustList::verify_under(&jws, &anchors, None)
                    .map_err(CliError::Verify)?;
                let (k, n) = v.threshold();
                Ok((
                    format!(
                        "{}\n  signed by {} of {n} anchor keys ({k} needed): {}",
                        list_summary(v.list(), true),
                        v.signed_by().len(),
                        v.signed_by()
                            .iter()
                            .map(|s| s.kid.clone().unwrap_or_else(|| s.thumbprint.clone()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    json!({"verified": true, "list": v.list(), "signed_by": v.signed_by(),
                           "threshold": {"k": k, "n": n}, "root_sequence": v.root_sequence()}),
                ))
            }
            _ => Err(CliError::Usage(
                "give --list FILE, or --signed FILE with --anchor-public-key FILE".into(),
            )),
        },
    }
}
