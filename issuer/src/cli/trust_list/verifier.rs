//! `trust-list add-verifier|update-verifier|remove-verifier`: the receiving
//! agencies and their registered service items (the data-sharing
//! agreements) in the draft. Like every draft change, nothing is written
//! when the change is refused; the change reaches verifiers and wallets
//! through `propose`/`sign`/`publish`.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};
use tongban_cli_support::time::format_cst;
use tongban_issuer::files;
use tongban_issuer::trust_list::verifiers::{
    self as tv, NewVerifier, VerifierUpdate, dns_name_arg, x509_hash_arg,
};
use tongban_issuer::trust_list::{self as tl};
use tongban_verifier::relying_party::{ServiceItem, TrustedVerifier};

use super::{CliError, Common, DraftArg, load_draft, save_draft, time_arg};

#[derive(Debug, Args)]
pub(crate) struct AddVerifierArgs {
    #[command(flatten)]
    draft: DraftArg,
    /// The receiving agency's id (a URL; what its signed counter requests name).
    #[arg(long)]
    id: String,
    /// Name in Chinese.
    #[arg(long)]
    name_zh: String,
    /// Name in English.
    #[arg(long)]
    name_en: String,
    /// GB/T 2260 administrative division code (6 digits, e.g. 310118).
    #[arg(long)]
    region: String,
    /// Its counters' request-signing public key(s): a JWK or JWKS file;
    /// every key needs a kid.
    #[arg(long, value_name = "FILE")]
    jwk: Option<PathBuf>,
    /// The certificate its online service signs OpenID4VP requests with:
    /// the x509_hash (base64url SHA-256 of the DER), or its whole
    /// `x509_hash:…` client id. Repeat for several.
    #[arg(long = "x509-hash", value_name = "HASH")]
    x509_hashes: Vec<String>,
    /// A DNS name its online service signs OpenID4VP requests under
    /// (`x509_san_dns:` client ids; any certificate for it from a verifier
    /// CA the wallet trusts), or the whole `x509_san_dns:…` client id.
    /// Repeat for several.
    #[arg(long = "dns-name", value_name = "NAME")]
    dns_names: Vec<String>,
    /// The registered service items: a JSON file holding an array of
    /// {id, name_zh, name_en, purpose_zh, purpose_en, licences: [{vct,
    /// claims: [path…], holder_binding_required}]}.
    #[arg(long, value_name = "FILE")]
    service_items: PathBuf,
    /// When the registration starts (RFC 3339 or Unix seconds); default now.
    #[arg(long, value_name = "TIME")]
    not_before: Option<String>,
    /// When the registration ends, if it does.
    #[arg(long, value_name = "TIME")]
    not_after: Option<String>,
    #[command(flatten)]
    pub(super) common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateVerifierArgs {
    #[command(flatten)]
    draft: DraftArg,
    /// The receiving agency's id.
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
    /// Add request-signing keys (JWK/JWKS file; known kids are kept).
    #[arg(long, value_name = "FILE")]
    jwk: Option<PathBuf>,
    /// Add a certificate (x509_hash). Repeat for several.
    #[arg(long = "x509-hash", value_name = "HASH")]
    x509_hashes: Vec<String>,
    /// Add a DNS name (x509_san_dns). Repeat for several.
    #[arg(long = "dns-name", value_name = "NAME")]
    dns_names: Vec<String>,
    /// Withdraw a DNS name. Repeat for several.
    #[arg(long = "remove-dns-name", value_name = "NAME")]
    remove_dns_names: Vec<String>,
    /// When added keys and certificates start (default now).
    #[arg(long, value_name = "TIME")]
    not_before: Option<String>,
    /// Retire a key (kid) or certificate (x509_hash) from --at on (rotation).
    #[arg(long = "retire", value_name = "KID|HASH", allow_hyphen_values = true)]
    retire: Vec<String>,
    /// A key (kid) or certificate (x509_hash) was compromised: nothing it
    /// signs is accepted any more.
    #[arg(
        long = "compromised",
        visible_alias = "revoke",
        value_name = "KID|HASH",
        allow_hyphen_values = true
    )]
    compromised: Vec<String>,
    /// The time for --retire/--compromised (default now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Add or replace (by id) registered service items from a JSON file
    /// (an array, as for add-verifier).
    #[arg(long, value_name = "FILE")]
    service_items: Option<PathBuf>,
    /// Withdraw a registered service item. Repeat for several.
    #[arg(long = "remove-service-item", value_name = "ID")]
    remove_service_items: Vec<String>,
    /// End the registration at this time.
    #[arg(long, value_name = "TIME")]
    not_after: Option<String>,
    #[command(flatten)]
    pub(super) common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct RemoveVerifierArgs {
    #[command(flatten)]
    draft: DraftArg,
    /// The receiving agency's id.
    #[arg(long)]
    id: String,
    #[command(flatten)]
    pub(super) common: Common,
}

fn read_items(path: &std::path::Path) -> Result<Vec<ServiceItem>, CliError> {
    let v = files::read_json(path)?;
    serde_json::from_value(v).map_err(|e| {
        CliError::Usage(format!(
            "{}: not an array of service items: {e}",
            path.display()
        ))
    })
}

fn read_keys(path: Option<&PathBuf>) -> Result<Vec<Value>, CliError> {
    match path {
        None => Ok(Vec::new()),
        Some(p) => Ok(tl::keys_from_document(&files::read_json(p)?)?),
    }
}

fn opt_time(t: Option<&String>) -> Result<Option<i64>, CliError> {
    t.map(|t| time_arg(Some(t))).transpose()
}

/// A receiving agency in a few lines, for the operator.
pub(super) fn summary(v: &TrustedVerifier) -> String {
    let keys: Vec<String> = v
        .keys
        .iter()
        .map(|k| {
            let kid = k.jwk["kid"].as_str().unwrap_or("?");
            match (k.compromised_since(), k.not_after) {
                (Some(at), _) => format!("{kid} (COMPROMISED {})", format_cst(at)),
                (None, Some(at)) => format!("{kid} (retired {})", format_cst(at)),
                _ => kid.to_owned(),
            }
        })
        .collect();
    let certs: Vec<String> = v
        .certificates
        .iter()
        .map(|c| match (c.compromised_at, c.not_after) {
            (Some(at), _) => format!("{} (COMPROMISED {})", c.x509_hash, format_cst(at)),
            (None, Some(at)) => format!("{} (retired {})", c.x509_hash, format_cst(at)),
            _ => c.x509_hash.clone(),
        })
        .collect();
    let mut out = format!(
        "  {} — {} / {} ({})\n    registered from {}{}\n    request keys: {}\n    certificates: {}\n    DNS names: {}",
        v.id,
        v.name_zh,
        v.name_en,
        v.region,
        format_cst(v.not_before),
        v.not_after
            .map(|t| format!(" until {}", format_cst(t)))
            .unwrap_or_default(),
        if keys.is_empty() {
            "none".into()
        } else {
            keys.join(", ")
        },
        if certs.is_empty() {
            "none".into()
        } else {
            certs.join(", ")
        },
        if v.dns_names.is_empty() {
            "none".into()
        } else {
            v.dns_names.join(", ")
        },
    );
    for i in &v.service_items {
        out.push_str(&format!(
            "\n    service item {} — {} / {}: {} / {}",
            i.id, i.name_zh, i.name_en, i.purpose_zh, i.purpose_en
        ));
        for g in &i.licences {
            out.push_str(&format!(
                "\n      {}: {}{}",
                g.vct,
                g.claims.join(", "),
                if g.holder_binding_required {
                    " (holder binding required)"
                } else {
                    ""
                }
            ));
        }
    }
    out
}

pub(super) fn add(a: AddVerifierArgs) -> Result<(String, Value), CliError> {
    let mut d = load_draft(&a.draft.list)?;
    let v = NewVerifier {
        id: a.id.clone(),
        name_zh: a.name_zh,
        name_en: a.name_en,
        region: a.region,
        keys: read_keys(a.jwk.as_ref())?,
        x509_hashes: a.x509_hashes.iter().map(|h| x509_hash_arg(h)).collect(),
        dns_names: a.dns_names.iter().map(|n| dns_name_arg(n)).collect(),
        service_items: read_items(&a.service_items)?,
        not_before: time_arg(a.not_before.as_ref())?,
        not_after: opt_time(a.not_after.as_ref())?,
    };
    if v.keys.is_empty() && v.x509_hashes.is_empty() && v.dns_names.is_empty() {
        return Err(CliError::Usage(
            "give the agency's request-signing key (--jwk FILE), certificate (--x509-hash HASH) or DNS name (--dns-name NAME)"
                .into(),
        ));
    }
    tv::add_verifier(&mut d, v)?;
    save_draft(&a.draft.list, &d)?;
    let v = d.verifier(&a.id).cloned();
    Ok((
        format!(
            "receiving agency added to the draft (propose and sign it to publish):\n{}",
            v.as_ref().map(summary).unwrap_or_default()
        ),
        json!({"verifier": v}),
    ))
}

pub(super) fn update(a: UpdateVerifierArgs) -> Result<(String, Value), CliError> {
    let mut d = load_draft(&a.draft.list)?;
    let at = time_arg(a.at.as_ref())?;
    let u = VerifierUpdate {
        name_zh: a.name_zh,
        name_en: a.name_en,
        region: a.region,
        add_keys: read_keys(a.jwk.as_ref())?,
        add_x509_hashes: a.x509_hashes.iter().map(|h| x509_hash_arg(h)).collect(),
        add_dns_names: a.dns_names.iter().map(|n| dns_name_arg(n)).collect(),
        remove_dns_names: a.remove_dns_names.iter().map(|n| dns_name_arg(n)).collect(),
        not_before: time_arg(a.not_before.as_ref())?,
        retire: a.retire.into_iter().map(|k| (k, at)).collect(),
        compromised: a.compromised.into_iter().map(|k| (k, at)).collect(),
        service_items: match &a.service_items {
            Some(p) => read_items(p)?,
            None => Vec::new(),
        },
        remove_service_items: a.remove_service_items,
        not_after: opt_time(a.not_after.as_ref())?,
    };
    let added = tv::update_verifier(&mut d, &a.id, u)?;
    save_draft(&a.draft.list, &d)?;
    let v = d.verifier(&a.id).cloned();
    Ok((
        format!(
            "receiving agency updated in the draft (propose and sign it to publish); added: {}\n{}",
            if added.is_empty() {
                "nothing".into()
            } else {
                added.join(", ")
            },
            v.as_ref().map(summary).unwrap_or_default()
        ),
        json!({"verifier": v, "added": added}),
    ))
}

pub(super) fn remove(a: RemoveVerifierArgs) -> Result<(String, Value), CliError> {
    let mut d = load_draft(&a.draft.list)?;
    tv::remove_verifier(&mut d, &a.id)?;
    save_draft(&a.draft.list, &d)?;
    Ok((
        format!(
            "removed receiving agency {} from the draft (propose and sign it to publish; wallets holding the new list refuse its requests)",
            a.id
        ),
        json!({"removed": a.id}),
    ))
}
