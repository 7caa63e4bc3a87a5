//! `serve`, `agency`, `key`, `token` and `audit`: the service and its
//! operator commands. The operator commands work on the database directly
//! (the same configuration as `serve`), so they also work while the service
//! is down; a running service picks up their changes (keys within
//! `key_refresh_secs`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::{Failure, finish};
use serde_json::{Value, json};
use tongban_issuer::api::ApiError;
use tongban_issuer::app::{Agency, AgencySpec, AgencyUpdate, Service, ServiceError, StoredKey};
use tongban_issuer::bootstrap::{self, KeySource, StartError};
use tongban_issuer::config::{Config, LogFormat, Overrides};
use tongban_issuer::tokens::Scopes;
use tongban_service_kit::SystemClock;

/// Where the configuration and database are.
#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    /// TOML configuration file (keys in specs/issuer-api.md; environment
    /// variables TONGBAN_ISSUER_<KEY> override it).
    #[arg(long, value_name = "FILE", env = "TONGBAN_ISSUER_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory: the SQLite database and, unless TONGBAN_MASTER_KEY
    /// is set, master.key [default: tongban-issuer-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Use PostgreSQL (postgres://user:pass@host/db) instead of SQLite.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// The URL this service is reached at; a new agency's issuer id is
    /// <public-url>/agencies/<id> [default: http://<listen>].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Print results as JSON.
    #[arg(long)]
    json: bool,
}

impl Target {
    fn config(
        &self,
        listen: Option<String>,
        public_url: Option<String>,
    ) -> Result<Config, Failure> {
        Config::load(
            self.config.as_deref(),
            &Overrides {
                listen,
                data_dir: self.data_dir.clone(),
                database_url: self.database_url.clone(),
                public_url: public_url.or_else(|| self.public_url.clone()),
            },
        )
        .map_err(|e| Failure::usage("config", e.to_string()))
    }
}

/// `serve` arguments.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    target: Target,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

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

/// `audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check every agency's chain (or one): each entry's hash, the links,
    /// no gaps, and the end against the head recorded on the agency.
    /// Exit 1 if a chain is broken.
    Verify {
        #[command(flatten)]
        target: Target,
        /// Only this agency.
        #[arg(long)]
        agency: Option<String>,
    },
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Self {
        let code = match &e {
            StartError::Key(_) => "master_key",
            StartError::Store(_) => "database",
            StartError::Io { .. } => "io",
            StartError::Service(e) => return Failure::from(e.clone()),
            _ => "start",
        };
        Failure::usage(code, e.to_string())
    }
}

impl From<ServiceError> for Failure {
    /// The same stable code the API answers with.
    fn from(e: ServiceError) -> Self {
        let e = ApiError::from(e);
        Failure::usage(e.code.code(), e.detail)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage("runtime", e.to_string()))
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    )
}

async fn open(target: &Target, create_key: bool) -> Result<(Config, Arc<Service>), Failure> {
    let config = target.config(None, None)?;
    if config.database_url.is_none() && !config.sqlite_file().exists() && !create_key {
        return Err(Failure::usage(
            "no_database",
            format!(
                "no database at {}; start the service once (tongban-issuer serve) or pass --data-dir/--database-url",
                config.sqlite_file().display()
            ),
        ));
    }
    let (master, _) = bootstrap::load_master_key(&config, create_key)?;
    let database = bootstrap::open_database(&config).await?;
    let service = Service::new(config.clone(), database, master, SystemClock::shared())?;
    service
        .check_master_key()
        .await
        .map_err(|e| Failure::usage("master_key", e.to_string()))?;
    Ok((config, service))
}

fn expand_vcts(service: &Service, vcts: &[String]) -> Vec<String> {
    if vcts.iter().any(|v| v == "all") {
        service
            .catalogue
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

/// `tongban-issuer serve`.
pub(crate) fn serve(a: ServeArgs) -> ExitCode {
    let json = a.target.json;
    let r = (|| {
        let config = a.target.config(a.listen.clone(), None)?;
        init_tracing(config.log_format);
        runtime()?.block_on(serve_async(config))
    })();
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => finish(json, Err(f)),
    }
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TONGBAN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => b.json().try_init(),
        LogFormat::Text => b.try_init(),
    };
}

async fn serve_async(config: Config) -> Result<(), Failure> {
    let (master, source) = bootstrap::load_master_key(&config, true)?;
    if let KeySource::Generated(p) = &source {
        eprintln!(
            "Generated a new master key at {} (mode 0600). Every signing key is sealed with it: back it up, keep it apart from the database, and in production supply it with TONGBAN_MASTER_KEY or master_key_file.",
            p.display()
        );
    }
    let database = bootstrap::open_database(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            Failure::usage("listen", format!("cannot listen on {}: {e}", config.listen))
        })?;
    let service = Service::new(config.clone(), database, master, SystemClock::shared())?;
    service
        .check_master_key()
        .await
        .map_err(|e| Failure::usage("master_key", e.to_string()))?;
    if let Some((agency, token)) = bootstrap::bootstrap_demo(&service).await? {
        eprintln!(
            "\nFirst start: created the demonstration agency `{}` ({}), issuer {}\n\
             Its admin token (all scopes) is shown ONCE — keep it:\n\n    {}\n\n\
             Try:  curl -H 'Authorization: Bearer {}' {}/admin/v1/agency\n",
            agency.id, agency.name_zh, agency.iss, token.secret, token.secret, config.public_url
        );
    }
    for a in service.list_agencies().await? {
        if a.iss != config.issuer_id(&a.id) {
            tracing::warn!(agency = %a.id, issuer = %a.iss, public_url = %config.public_url, "the agency's issuer id does not match this service's public URL; wallets and verifiers will not find its metadata. Start with --public-url matching the issuer id");
        }
    }
    let backend = if config.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    tracing::info!(listen = %config.listen, public_url = %config.public_url, database = backend, "tongban-issuer serving");
    eprintln!(
        "tongban-issuer listening on http://{} (public URL {}, database {backend}); Ctrl-C stops it.",
        config.listen, config.public_url
    );
    bootstrap::serve(service, listener).await?;
    Ok(())
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
        } => {
            let (_, s) = open(&target, true).await?;
            let spec = AgencySpec {
                id,
                name_zh,
                name_en,
                region,
                vcts: expand_vcts(&s, &vcts),
                encryption_required,
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

fn keys_json(keys: &[StoredKey]) -> Value {
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

/// `tongban-issuer key …`.
pub(crate) fn key(c: KeyCommand) -> ExitCode {
    let json = match &c {
        KeyCommand::Rotate { target, .. } | KeyCommand::List { target, .. } => target.json,
    };
    let r = runtime().and_then(|rt| {
        rt.block_on(async {
            match c {
                KeyCommand::Rotate { target, agency } => {
                    let (_, s) = open(&target, false).await?;
                    let kid = s.rotate_key(&agency, &actor()).await?;
                    Ok((
                        format!("Agency {agency} now signs with key {kid}. The previous key stays published, so credentials it signed still verify.\nA running service picks the new key up within key_refresh_secs; update the trust list (tongban-issuer trust-list update-issuer … --add-key) so verifiers accept it."),
                        json!({"agency": agency, "kid": kid}),
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

/// `tongban-issuer audit …`.
pub(crate) fn audit(c: AuditCommand) -> ExitCode {
    let AuditCommand::Verify { target, agency } = c;
    let json = target.json;
    let r = runtime().and_then(|rt| rt.block_on(audit_verify(&target, agency)));
    finish(json, r)
}

async fn audit_verify(target: &Target, only: Option<String>) -> Result<(String, Value), Failure> {
    let config = target.config(None, None)?;
    if config.database_url.is_none() && !config.sqlite_file().exists() {
        return Err(Failure::usage(
            "no_database",
            format!("no database at {}", config.sqlite_file().display()),
        ));
    }
    let database = bootstrap::open_database(&config).await?;
    let mut lines = Vec::new();
    let mut results = Vec::new();
    let mut broken = false;
    for check in database.verify_audit(only.as_deref()).await? {
        let id = check.agency;
        match check.result {
            Ok(n) => {
                lines.push(format!("ok      {id}: {n} entries, chain intact"));
                results.push(json!({"agency": id, "ok": true, "entries": n}));
            }
            Err(e) => {
                broken = true;
                lines.push(format!("BROKEN  {id}: {e}"));
                results.push(json!({"agency": id, "ok": false, "error": e.to_string()}));
            }
        }
    }
    if broken {
        return Err(Failure {
            code: "audit_chain_broken",
            message: lines.join("\n"),
            exit: 1,
        });
    }
    Ok((lines.join("\n"), json!({"ok": true, "agencies": results})))
}
