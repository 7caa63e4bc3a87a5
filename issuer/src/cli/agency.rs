//! `tongban-issuer agency …`: agencies hosted by this service. The
//! operator commands work on the database directly (the same configuration
//! as `serve`), so they also work while the service is down; a running
//! service picks up their changes (keys within `key_refresh_secs`).

use std::process::ExitCode;
use tongban_issuer::keys::{JwsAlgName, KeyAlg};

use clap::Subcommand;

use super::target::{Target, actor, open, runtime};
use super::{Failure, finish};
use serde_json::{Value, json};
use tongban_issuer::app::{Agency, AgencySpec, AgencyUpdate, Service, StoredKey};

/// `agency …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AgencyCommand {
    /// Create an agency with a new signing key and encryption key.
    ///
    ///   tongban-issuer agency create --id wujiang-amr --name-zh 苏州市吴江区市场监督管理局 \
    ///       --name-en "Wujiang AMR" --region 320509 --vct urn:tongban:business-licence:1
    #[command(verbatim_doc_comment)]
    Create {
        #[command(flatten)]
        target: Target,
        /// Short id used in URLs: 2–40 of a-z, 0-9, '-'.
        #[arg(long)]
        id: String,
        /// Name in Chinese.
        #[arg(long)]
        name_zh: String,
        /// Name in English.
        #[arg(long)]
        name_en: String,
        /// GB/T 2260 region code (6 digits).
        #[arg(long)]
        region: String,
        /// A licence type it may issue (repeat, or comma-separated); `all`
        /// for the whole catalogue.
        #[arg(long = "vct", value_delimiter = ',', required = true)]
        vcts: Vec<String>,
        /// Wallets must ask for an encrypted credential response.
        #[arg(long)]
        encryption_required: bool,
        /// The signing key's algorithm: ed25519 (EdDSA), es256 (ECDSA
        /// P-256, `alg` ES256) or sm2 (SM2 with SM3, `alg` SM2SM3).
        #[arg(long, value_enum, default_value_t = KeyAlg::Ed25519)]
        key_alg: KeyAlg,
        /// The `alg` an Ed25519 key's headers say: eddsa (`EdDSA`, the
        /// default; every peer reads it) or ed25519 (the fully specified
        /// `Ed25519` of RFC 9864). Ed25519 keys only.
        #[arg(long, value_enum)]
        jws_alg_name: Option<JwsAlgName>,
    },
    /// List agencies.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Show one agency with its keys.
    Show {
        #[command(flatten)]
        target: Target,
        /// The agency id.
        id: String,
    },
    /// Change an agency's names, region, licence types or encryption rule.
    Update {
        #[command(flatten)]
        target: Target,
        /// The agency id.
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
        /// Replace the licence types (comma-separated, or `all`).
        #[arg(long = "vct", value_delimiter = ',')]
        vcts: Option<Vec<String>>,
        /// Require (true) or allow unencrypted (false) credential responses.
        #[arg(long)]
        encryption_required: Option<bool>,
    },
}

fn expand_vcts(service: &Service, vcts: &[String]) -> Vec<String> {
    if vcts.iter().any(|v| v == "all") {
        service
            .catalogue()
            .types()
            .iter()
            .map(|t| t.vct.clone())
            .collect()
    } else {
        vcts.iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

fn agency_json(a: &Agency) -> Value {
    serde_json::to_value(a).unwrap_or_default()
}

fn agency_text(a: &Agency) -> String {
    format!(
        "{}  {} / {}\n  issuer: {}\n  region: {}\n  types:  {}\n  encryption required: {}",
        a.id,
        a.name_zh,
        a.name_en,
        a.iss,
        a.region,
        a.vcts.join(", "),
        if a.encryption_required { "yes" } else { "no" }
    )
}

/// `tongban-issuer agency …`.
pub(crate) fn agency(c: AgencyCommand) -> ExitCode {
    let json = match &c {
        AgencyCommand::Create { target, .. }
        | AgencyCommand::List { target }
        | AgencyCommand::Show { target, .. }
        | AgencyCommand::Update { target, .. } => target.json,
    };
    let r = runtime().and_then(|rt| rt.block_on(agency_async(c)));
    finish(json, r)
}

async fn agency_async(c: AgencyCommand) -> Result<(String, Value), Failure> {
    match c {
        AgencyCommand::Create {
            target,
            id,
            name_zh,
            name_en,
            region,
            vcts,
            encryption_required,
            key_alg,
            jws_alg_name,
        } => {
            let (_, s) = open(&target, true).await?;
            let spec = AgencySpec {
                id,
                name_zh,
                name_en,
                region,
                vcts: expand_vcts(&s, &vcts),
                encryption_required,
                key_alg,
                jws_alg_name,
            };
            let a = s.create_agency(&spec, &actor()).await?;
            let text = format!(
                "Created agency {}\n\nNext: tongban-issuer token create --agency {} --scope issue,read,revoke,suspend,audit",
                agency_text(&a),
                a.id
            );
            Ok((text, agency_json(&a)))
        }
        AgencyCommand::List { target } => {
            let (_, s) = open(&target, false).await?;
            let list = s.list_agencies().await?;
            let text = if list.is_empty() {
                "No agencies yet (tongban-issuer agency create …).".into()
            } else {
                list.iter()
                    .map(agency_text)
                    .collect::<Vec<_>>()
                    .join("\n\n")
            };
            Ok((
                text,
                json!({"agencies": list.iter().map(agency_json).collect::<Vec<_>>()}),
            ))
        }
        AgencyCommand::Show { target, id } => {
            let (_, s) = open(&target, false).await?;
            let overview = s.agency_overview(&id).await?;
            let (a, keys, seq) = (overview.agency, overview.keys, overview.audit_entries);
            let mut text = agency_text(&a);
            text.push_str(&format!("\n  audit entries: {seq}\n  signing keys:"));
            for k in &keys {
                text.push_str(&format!(
                    "\n    {}  created {}{}",
                    k.kid,
                    k.created_at,
                    k.retired_at
                        .map(|r| format!(", retired {r}"))
                        .unwrap_or_else(|| " (current)".into())
                ));
            }
            let mut v = agency_json(&a);
            v["keys"] = keys_json(&keys);
            v["audit_entries"] = json!(seq);
            Ok((text, v))
        }
        AgencyCommand::Update {
            target,
            id,
            name_zh,
            name_en,
            region,
            vcts,
            encryption_required,
        } => {
            let (_, s) = open(&target, false).await?;
            let update = AgencyUpdate {
                name_zh,
                name_en,
                region,
                vcts: vcts.map(|v| expand_vcts(&s, &v)),
                encryption_required,
            };
            let a = s.update_agency(&id, update, &actor()).await?;
            Ok((
                format!("Updated agency {}", agency_text(&a)),
                agency_json(&a),
            ))
        }
    }
}

pub(crate) fn keys_json(keys: &[StoredKey]) -> Value {
    Value::Array(
        keys.iter()
            .map(|k| {
                json!({
                    "kid": k.kid,
                    "public_jwk": serde_json::from_str::<Value>(&k.public_jwk).unwrap_or_default(),
                    "created_at": k.created_at,
                    "retired_at": k.retired_at,
                })
            })
            .collect(),
    )
}
