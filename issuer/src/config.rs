//! Service configuration: defaults, then a TOML file, then environment
//! variables, then command-line flags (each overrides the one before).
//!
//! Every key of the file has an environment variable `TONGBAN_ISSUER_<KEY>`
//! (upper case), e.g. `TONGBAN_ISSUER_PUBLIC_URL`. The master key itself can
//! also come from `TONGBAN_MASTER_KEY`. `specs/issuer-api.md` lists every
//! key with its default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tongban_service_kit::ServerLimits;
use tongban_service_kit::config::{self, ServerLimitKeys};

pub use tongban_service_kit::config::{ConfigError, LogFormat, Overrides};

/// The configuration file as written (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Data directory (SQLite file, generated master key).
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL instead of SQLite.
    pub database_url: Option<String>,
    /// Base URL clients reach the service at (issuer ids derive from it).
    pub public_url: Option<String>,
    /// File holding the master key.
    pub master_key_file: Option<PathBuf>,
    /// Largest admin request body, bytes.
    pub max_body_bytes: Option<usize>,
    /// Largest batch request body, bytes.
    pub max_batch_bytes: Option<usize>,
    /// Entries per status list.
    pub status_list_size: Option<i64>,
    /// `ttl` of status list tokens, seconds (also their Cache-Control max-age).
    pub status_list_ttl_secs: Option<u64>,
    /// Lifetime (`exp - iat`) of status list tokens, seconds.
    pub status_list_lifetime_secs: Option<u64>,
    /// Lifetime of a pre-authorized code, seconds.
    pub offer_ttl_secs: Option<i64>,
    /// Lifetime of an OpenID4VCI access token, seconds (≤ 300).
    pub access_token_ttl_secs: Option<i64>,
    /// Lifetime of a `c_nonce`, seconds.
    pub nonce_ttl_secs: Option<i64>,
    /// Wrong PINs before an offer locks.
    pub tx_code_max_attempts: Option<i64>,
    /// Digits of a generated PIN.
    pub tx_code_length: Option<usize>,
    /// How old a proof JWT's `iat` may be, seconds.
    pub proof_max_age_secs: Option<i64>,
    /// Most key proofs (so credentials) in one credential request: the
    /// `batch_size` of `batch_credential_issuance` (OpenID4VCI 1.0 §12.2.4);
    /// 1 turns batch issuance off.
    pub batch_size: Option<usize>,
    /// PostgreSQL pool size.
    pub db_max_connections: Option<u32>,
    /// Status indices reserved from the database at a time.
    pub index_block: Option<i64>,
    /// `text` or `json` logs.
    pub log_format: Option<String>,
    /// How often agency keys are re-read (rotation by another process), seconds.
    pub key_refresh_secs: Option<u64>,
    /// How long a live admin token is trusted without reading it again, seconds.
    pub admin_token_cache_secs: Option<u64>,
    /// Validity (`exp - iat`) of a credential issued without `expires_at`, days.
    pub credential_validity_days: Option<i64>,
    /// Digest algorithm of disclosures (`_sd_alg`): `sha-256` (default) or
    /// `sm3` (`specs/credential-format.md` §9.3).
    pub sd_alg: Option<String>,
    /// How long a client may take to send a request head (and how long an
    /// idle keep-alive connection is kept), seconds.
    pub header_read_timeout_secs: Option<u64>,
    /// How long a request body may send nothing, seconds.
    pub body_idle_timeout_secs: Option<u64>,
    /// How long a request may take from its head to its response, seconds.
    pub request_timeout_secs: Option<u64>,
    /// Connections open at once.
    pub max_connections: Option<usize>,
    /// Connections open at once from one IP address.
    pub max_connections_per_ip: Option<usize>,
    /// How long a stopping service waits for requests in flight, seconds.
    pub shutdown_grace_secs: Option<u64>,
    /// How long a pushed authorization request's `request_uri` lives, seconds.
    pub par_ttl_secs: Option<i64>,
    /// Largest pushed authorization request body, bytes.
    pub max_par_bytes: Option<usize>,
    /// Pushed authorization requests of one agency pending at once.
    pub max_pending_authorizations: Option<i64>,
    /// How long a citizen may take at the agency's login, seconds.
    pub login_ttl_secs: Option<i64>,
    /// How long an authorization code lives, seconds.
    pub authorization_code_ttl_secs: Option<i64>,
    /// How long a server-provided DPoP nonce is accepted, seconds.
    pub dpop_nonce_ttl_secs: Option<i64>,
    /// Whether token requests must carry a DPoP proof.
    pub dpop_required: Option<bool>,
    /// How long a record loaded by the admin API waits for its citizen, seconds.
    pub record_ttl_secs: Option<i64>,
    /// Each agency's citizen login (OpenID Connect), by agency id.
    #[serde(default)]
    pub login: std::collections::BTreeMap<String, LoginConfig>,
    /// Each agency's wallet and key attestation rules,
    /// `[attestation.<agency>]` ([`crate::attestation_policy`]).
    #[serde(default)]
    pub attestation: std::collections::BTreeMap<String, crate::attestation_policy::AttestationFile>,
    /// Where the zone's signed trust list is published (its roots beside
    /// it); advertised to wallets in the credential issuer metadata as
    /// `tongban_trust_list_uri`.
    pub trust_list_url: Option<String>,
}

/// One agency's citizen login: the OpenID Connect provider the issuer is a
/// relying party of (`[login.<agency id>]` in the file).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginConfig {
    /// The provider's issuer URL (discovery at
    /// `<issuer>/.well-known/openid-configuration`); https, or http on
    /// the loopback interface.
    pub issuer: String,
    /// The client id the provider registered for this agency.
    pub client_id: String,
    /// The client secret, inline (prefer `client_secret_file`).
    pub client_secret: Option<String>,
    /// A file holding the client secret (trailing whitespace dropped).
    pub client_secret_file: Option<PathBuf>,
    /// Scopes asked for beside `openid`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for LoginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret_file", &self.client_secret_file)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// One agency's login, resolved: the secret read.
#[derive(Clone)]
pub struct AgencyLogin {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, if the provider gave one.
    pub client_secret: Option<String>,
    /// Scopes beside `openid`.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for AgencyLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgencyLogin")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The authorization code flow's settings.
#[derive(Debug, Clone)]
pub struct AuthorizationConfig {
    /// Default 60.
    pub par_ttl_secs: i64,
    /// Default 8 KiB.
    pub max_par_bytes: usize,
    /// Default 10000.
    pub max_pending_authorizations: i64,
    /// Default 600.
    pub login_ttl_secs: i64,
    /// Default 60.
    pub authorization_code_ttl_secs: i64,
    /// Default 300.
    pub dpop_nonce_ttl_secs: i64,
    /// Default false.
    pub dpop_required: bool,
    /// Default 2592000 (30 days).
    pub record_ttl_secs: i64,
    /// Each agency's login, by agency id.
    pub logins: std::collections::BTreeMap<String, AgencyLogin>,
}

/// Reads an agency's login section: a URL that is https (or http on
/// loopback), a client id, the secret from the file if one is named.
fn resolve_login(agency: &str, l: &LoginConfig) -> Result<AgencyLogin, ConfigError> {
    let bad = |message: String| ConfigError::Invalid {
        key: "login",
        message: format!("[login.{agency}]: {message}"),
    };
    let loopback_http = l.issuer.strip_prefix("http://").is_some_and(|r| {
        r.starts_with("127.0.0.1") || r.starts_with("[::1]") || r.starts_with("localhost")
    });
    if !(l.issuer.starts_with("https://") || loopback_http) {
        return Err(bad(format!(
            "issuer {:?} must be an https URL (http only on the loopback interface)",
            l.issuer
        )));
    }
    if l.client_id.is_empty() {
        return Err(bad("client_id is empty".into()));
    }
    let client_secret = match (&l.client_secret, &l.client_secret_file) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "give client_secret or client_secret_file, not both".into()
            ));
        }
        (Some(s), None) => Some(s.clone()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| {
                    bad(format!(
                        "cannot read client_secret_file {}: {e}",
                        path.display()
                    ))
                })?
                .trim_end()
                .to_owned(),
        ),
        (None, None) => None,
    };
    Ok(AgencyLogin {
        issuer: l.issuer.trim_end_matches('/').to_owned(),
        client_id: l.client_id.clone(),
        client_secret,
        scopes: l.scopes.clone(),
    })
}

fn authorization_config(f: &FileConfig) -> Result<AuthorizationConfig, ConfigError> {
    let logins = f
        .login
        .iter()
        .map(|(agency, l)| Ok((agency.clone(), resolve_login(agency, l)?)))
        .collect::<Result<_, ConfigError>>()?;
    Ok(AuthorizationConfig {
        par_ttl_secs: f.par_ttl_secs.unwrap_or(60).clamp(5, 600),
        max_par_bytes: f.max_par_bytes.unwrap_or(8 * 1024).clamp(1024, 64 * 1024),
        max_pending_authorizations: f.max_pending_authorizations.unwrap_or(10_000).max(1),
        login_ttl_secs: f.login_ttl_secs.unwrap_or(600).clamp(30, 3600),
        authorization_code_ttl_secs: f.authorization_code_ttl_secs.unwrap_or(60).clamp(5, 600),
        dpop_nonce_ttl_secs: f.dpop_nonce_ttl_secs.unwrap_or(300).clamp(10, 3600),
        dpop_required: f.dpop_required.unwrap_or(false),
        record_ttl_secs: f.record_ttl_secs.unwrap_or(30 * 86_400).max(60),
        logins,
    })
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Data directory (default `tongban-issuer-data`).
    pub data_dir: PathBuf,
    /// PostgreSQL URL; `None` means the embedded SQLite file.
    pub database_url: Option<String>,
    /// Base URL (default `http://<listen>`), without a trailing slash.
    pub public_url: String,
    /// Master key file (default `<data_dir>/master.key` unless
    /// `TONGBAN_MASTER_KEY` is set).
    pub master_key_file: Option<PathBuf>,
    /// Default 64 KiB.
    pub max_body_bytes: usize,
    /// Default 256 MiB.
    pub max_batch_bytes: usize,
    /// Default 131072; applies to agencies created afterwards (each agency
    /// keeps the size it was created with).
    pub status_list_size: i64,
    /// Default 300.
    pub status_list_ttl_secs: u64,
    /// Default 86400.
    pub status_list_lifetime_secs: u64,
    /// Default 600.
    pub offer_ttl_secs: i64,
    /// Default 300.
    pub access_token_ttl_secs: i64,
    /// Default 300.
    pub nonce_ttl_secs: i64,
    /// Default 5.
    pub tx_code_max_attempts: i64,
    /// Default 6.
    pub tx_code_length: usize,
    /// Default 300.
    pub proof_max_age_secs: i64,
    /// Default 5; 1..=[`MAX_BATCH_SIZE`], 1 meaning no batch issuance.
    pub batch_size: usize,
    /// Default 16.
    pub db_max_connections: u32,
    /// Default 256.
    pub index_block: i64,
    /// Default text.
    pub log_format: LogFormat,
    /// Default 30.
    pub key_refresh_secs: u64,
    /// Default 5; 0 reads the token from the database on every request.
    /// A token revoked by another process (the CLI, another replica) stops
    /// working here within this many seconds; one revoked through this
    /// process, at once.
    pub admin_token_cache_secs: u64,
    /// Default 1826 (five years): every Tongban credential carries `exp`.
    pub credential_validity_days: i64,
    /// `_sd_alg` of the credentials this service issues.
    pub sd_alg: tongban_verifier::SdAlg,
    /// Timeouts, connection limits and the shutdown deadline of the HTTP
    /// server (defaults: [`ServerLimits::default`]).
    pub server: ServerLimits,
    /// The authorization code flow: PAR, the citizen login per agency,
    /// DPoP, records.
    pub authorization: AuthorizationConfig,
    /// Each agency's wallet and key attestation rules (default: off).
    pub attestation: crate::attestation_policy::AttestationRules,
    /// The zone's trust list URL the metadata advertises (default none).
    pub trust_list_url: Option<String>,
}

/// The server's limits from the file's keys, each defaulting to
/// [`ServerLimits::default`]; a zero is refused (it would turn a bound off).
fn server_limits(f: &FileConfig) -> Result<ServerLimits, ConfigError> {
    ServerLimitKeys {
        header_read_timeout_secs: f.header_read_timeout_secs,
        body_idle_timeout_secs: f.body_idle_timeout_secs,
        request_timeout_secs: f.request_timeout_secs,
        max_connections: f.max_connections,
        max_connections_per_ip: f.max_connections_per_ip,
        shutdown_grace_secs: f.shutdown_grace_secs,
    }
    .resolve(ServerLimits::default())
}

impl Config {
    /// Loads the configuration: defaults, `file` if given, the process
    /// environment, then `over`.
    pub fn load(file: Option<&Path>, over: &Overrides) -> Result<Config, ConfigError> {
        Self::load_with(file, over, |k| std::env::var(k).ok())
    }

    /// As [`Config::load`], with the environment given by `env` (for tests).
    pub fn load_with(
        file: Option<&Path>,
        over: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut f: FileConfig = config::read_file(file)?;
        let get = &env;
        tongban_service_kit::env_overrides!("TONGBAN_ISSUER_", f, get;
            listen: string, data_dir: path, database_url: string, public_url: string,
            master_key_file: path, max_body_bytes: number, max_batch_bytes: number,
            status_list_size: number, status_list_ttl_secs: number, status_list_lifetime_secs: number,
            offer_ttl_secs: number, access_token_ttl_secs: number, nonce_ttl_secs: number,
            tx_code_max_attempts: number, tx_code_length: number, proof_max_age_secs: number,
            batch_size: number, db_max_connections: number, index_block: number, log_format: string, key_refresh_secs: number,
            admin_token_cache_secs: number,
            credential_validity_days: number, sd_alg: string, header_read_timeout_secs: number,
            body_idle_timeout_secs: number, request_timeout_secs: number, max_connections: number,
            max_connections_per_ip: number, shutdown_grace_secs: number, par_ttl_secs: number,
            max_par_bytes: number, max_pending_authorizations: number, login_ttl_secs: number,
            authorization_code_ttl_secs: number, dpop_nonce_ttl_secs: number,
            dpop_required: bool, record_ttl_secs: number, trust_list_url: string,
        );
        over.apply(
            &mut f.listen,
            &mut f.data_dir,
            &mut f.database_url,
            &mut f.public_url,
        );
        Self::resolve(f)
    }

    fn resolve(f: FileConfig) -> Result<Config, ConfigError> {
        let server = server_limits(&f)?;
        let authorization = authorization_config(&f)?;
        let listen = config::listen_address(f.listen, "127.0.0.1:8080")?;
        let public_url = f
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("https://") || public_url.starts_with("http://"))
            || public_url.contains(['?', '#'])
        {
            return Err(ConfigError::Invalid {
                key: "public_url",
                message: format!("{public_url:?} must be an http(s) URL without query or fragment"),
            });
        }
        check_path_prefix(&public_url)?;
        let log_format = LogFormat::parse(f.log_format.as_deref())?;
        let access_token_ttl_secs = f.access_token_ttl_secs.unwrap_or(300);
        if !(1..=300).contains(&access_token_ttl_secs) {
            return Err(ConfigError::Invalid {
                key: "access_token_ttl_secs",
                message: "must be 1..=300: OpenID4VCI 1.0 §13 forbids longer-lived bearer tokens"
                    .into(),
            });
        }
        let tx_code_length = f.tx_code_length.unwrap_or(6);
        if !(4..=12).contains(&tx_code_length) {
            return Err(ConfigError::Invalid {
                key: "tx_code_length",
                message: "must be 4..=12 digits".into(),
            });
        }
        let status_list_size = f.status_list_size.unwrap_or(131_072);
        if !(16..=(1 << 24)).contains(&status_list_size) || status_list_size % 4 != 0 {
            return Err(ConfigError::Invalid {
                key: "status_list_size",
                message: "must be a multiple of 4 between 16 and 16777216".into(),
            });
        }
        let batch_size = f.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
        if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
            return Err(ConfigError::Invalid {
                key: "batch_size",
                message: format!(
                    "must be 1..={MAX_BATCH_SIZE} (1: no batch issuance; 2 or more: that many credentials per request at most)"
                ),
            });
        }
        let sd_alg = match f.sd_alg.as_deref() {
            None => tongban_verifier::SdAlg::Sha256,
            Some(name) => {
                tongban_verifier::SdAlg::from_name(name).ok_or_else(|| ConfigError::Invalid {
                    key: "sd_alg",
                    message: format!("{name:?} is not \"sha-256\" or \"sm3\""),
                })?
            }
        };
        let admin_token_cache_secs = f.admin_token_cache_secs.unwrap_or(5);
        if admin_token_cache_secs > 60 {
            return Err(ConfigError::Invalid {
                key: "admin_token_cache_secs",
                message: "must be 0..=60: a token revoked elsewhere keeps working here this long"
                    .into(),
            });
        }
        let database_url = config::database_url(f.database_url)?;
        let attestation = crate::attestation_policy::AttestationRules::resolve(f.attestation)?;
        let trust_list_url = f.trust_list_url.map(trust_list_url).transpose()?;
        Ok(Config {
            listen,
            data_dir: f
                .data_dir
                .unwrap_or_else(|| PathBuf::from("tongban-issuer-data")),
            database_url,
            public_url,
            master_key_file: f.master_key_file,
            max_body_bytes: f.max_body_bytes.unwrap_or(64 * 1024),
            max_batch_bytes: f.max_batch_bytes.unwrap_or(256 * 1024 * 1024),
            status_list_size,
            status_list_ttl_secs: f.status_list_ttl_secs.unwrap_or(300),
            status_list_lifetime_secs: f.status_list_lifetime_secs.unwrap_or(86_400),
            offer_ttl_secs: f.offer_ttl_secs.unwrap_or(600).max(1),
            access_token_ttl_secs,
            nonce_ttl_secs: f.nonce_ttl_secs.unwrap_or(300).max(1),
            tx_code_max_attempts: f.tx_code_max_attempts.unwrap_or(5).max(1),
            tx_code_length,
            proof_max_age_secs: f.proof_max_age_secs.unwrap_or(300).max(1),
            batch_size,
            db_max_connections: f.db_max_connections.unwrap_or(16).max(1),
            index_block: f.index_block.unwrap_or(256).clamp(1, 65_536),
            log_format,
            key_refresh_secs: f.key_refresh_secs.unwrap_or(30).max(1),
            admin_token_cache_secs,
            credential_validity_days: f.credential_validity_days.unwrap_or(1826).clamp(1, 36_500),
            sd_alg,
            server,
            authorization,
            attestation,
            trust_list_url,
        })
    }

    /// The path of `public_url` (`""`, or `"/licences"` for
    /// `https://gov.example/licences`): the router serves every route under
    /// it too, and inserts it into the well-known URIs.
    pub fn path_prefix(&self) -> &str {
        url_path(&self.public_url)
    }

    /// The issuer identifier of an agency: `<public_url>/agencies/<id>`.
    pub fn issuer_id(&self, agency: &str) -> String {
        format!("{}/agencies/{agency}", self.public_url)
    }

    /// The SQLite file in the data directory.
    pub fn sqlite_file(&self) -> PathBuf {
        self.data_dir.join("issuer.sqlite3")
    }
}

/// Credentials per credential request when `batch_size` is not set.
pub const DEFAULT_BATCH_SIZE: usize = 5;

/// The largest `batch_size` the service accepts: each credential of a
/// batch is signed and stored in the request's one transaction.
pub const MAX_BATCH_SIZE: usize = 32;

/// The trust list's URL: what a wallet will fetch (`https://`, or
/// `http://` to a loopback host, `specs/trust-list.md` §5.1), naming the
/// list's file, without a query or fragment (the roots are published beside
/// it).
fn trust_list_url(url: String) -> Result<String, ConfigError> {
    let bad = |why: String| ConfigError::Invalid {
        key: "trust_list_url",
        message: format!("{url:?}: {why}"),
    };
    let parsed = tongban_cli_support::net::check_url(&url).map_err(|e| bad(e.to_string()))?;
    if parsed.query().is_some() || parsed.fragment().is_some() || parsed.path().ends_with('/') {
        return Err(bad(
            "must name the list's file, without a query or fragment".into(),
        ));
    }
    Ok(url)
}

/// The path of an `http(s)://authority[/path]` URL, without a trailing `/`.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("", |i| &rest[i..])
}

/// First path segments the service routes at the root itself: a prefix
/// starting with one would be served by the root routes too.
const ROOT_SEGMENTS: &[&str] = &[
    ".well-known",
    "agencies",
    "types",
    "admin",
    "healthz",
    "readyz",
    "metrics",
    "openapi.json",
];

/// A `public_url` path the router can serve: segments of unreserved
/// characters (RFC 3986 §2.3, so nothing the router would read as a
/// parameter), no `.` or `..`, and not starting with a root route's segment.
fn check_path_prefix(public_url: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| ConfigError::Invalid {
        key: "public_url",
        message: format!("{public_url:?}: {why}"),
    };
    let rest = public_url.split_once("://").map_or("", |(_, r)| r);
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("the URL has no host"));
    }
    let path = url_path(public_url);
    if path.is_empty() {
        return Ok(());
    }
    for (i, seg) in path[1..].split('/').enumerate() {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(bad("its path has an empty, `.` or `..` segment"));
        }
        if !seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(bad(
                "its path may use only letters, digits and - . _ ~ (no percent-encoding)",
            ));
        }
        if i == 0 && ROOT_SEGMENTS.contains(&seg) {
            return Err(bad(&format!(
                "its path may not start with /{seg}, which the service routes itself"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_public_url_path_is_a_prefix_the_router_can_serve() {
        let load = |u: &str| {
            Config::load_with(
                None,
                &Overrides {
                    public_url: Some(u.into()),
                    ..Default::default()
                },
                env(&[]),
            )
        };
        let c = load("https://gov.example/licences/v1/").unwrap();
        assert_eq!(c.path_prefix(), "/licences/v1");
        assert_eq!(
            c.issuer_id("a"),
            "https://gov.example/licences/v1/agencies/a"
        );
        assert_eq!(load("https://gov.example").unwrap().path_prefix(), "");
        for bad in [
            "https://gov.example/{agency}",
            "https://gov.example/a//b",
            "https://gov.example/a/../b",
            "https://gov.example/agencies",
            "https://gov.example/.well-known/x",
            "https://gov.example/l%20x",
            "https:///licences",
        ] {
            assert!(
                matches!(
                    load(bad),
                    Err(ConfigError::Invalid {
                        key: "public_url",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_trust_list_url_is_one_a_wallet_will_fetch() {
        let load = |u: &str| {
            Config::load_with(
                None,
                &Overrides::default(),
                env(&[("TONGBAN_ISSUER_TRUST_LIST_URL", u)]),
            )
        };
        let c = load("https://trust.yrd.example/trust-list.json").unwrap();
        assert_eq!(
            c.trust_list_url.as_deref(),
            Some("https://trust.yrd.example/trust-list.json")
        );
        assert!(load("http://127.0.0.1:9/trust-list.jwt").is_ok());
        for bad in [
            "http://trust.yrd.example/trust-list.json",
            "ftp://trust.yrd.example/trust-list.json",
            "https://trust.yrd.example/",
            "https://trust.yrd.example/list.json#x",
            "https://trust.yrd.example/list.json?v=1",
            "trust-list.json",
        ] {
            assert!(
                matches!(
                    load(bad),
                    Err(ConfigError::Invalid {
                        key: "trust_list_url",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let none = Config::load_with(None, &Overrides::default(), env(&[])).unwrap();
        assert!(none.trust_list_url.is_none());
    }

    #[test]
    fn defaults_give_a_local_sqlite_service() {
        let c = Config::load_with(None, &Overrides::default(), env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(c.database_url.is_none());
        assert_eq!(c.issuer_id("a"), "http://127.0.0.1:8080/agencies/a");
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "listen = \"127.0.0.1:9000\"\nstatus_list_ttl_secs = 60\nnonce_ttl_secs = 30\n",
        )
        .unwrap();
        let c = Config::load_with(
            Some(&p),
            &Overrides {
                listen: Some("127.0.0.1:9100".into()),
                ..Default::default()
            },
            env(&[
                ("TONGBAN_ISSUER_STATUS_LIST_TTL_SECS", "120"),
                ("TONGBAN_ISSUER_LISTEN", "127.0.0.1:9050"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.status_list_ttl_secs, 120);
        assert_eq!(c.nonce_ttl_secs, 30);
    }

    #[test]
    fn server_limits_default_and_are_set_from_env_but_never_zero() {
        let c = Config::load_with(None, &Overrides::default(), env(&[])).unwrap();
        assert_eq!(c.server, ServerLimits::default());
        let c = Config::load_with(
            None,
            &Overrides::default(),
            env(&[
                ("TONGBAN_ISSUER_HEADER_READ_TIMEOUT_SECS", "3"),
                ("TONGBAN_ISSUER_MAX_CONNECTIONS_PER_IP", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.header_read_timeout, Duration::from_secs(3));
        assert_eq!(c.server.max_connections_per_ip, 7);
        for key in [
            "TONGBAN_ISSUER_HEADER_READ_TIMEOUT_SECS",
            "TONGBAN_ISSUER_MAX_CONNECTIONS",
            "TONGBAN_ISSUER_SHUTDOWN_GRACE_SECS",
        ] {
            let e = Config::load_with(None, &Overrides::default(), env(&[(key, "0")])).unwrap_err();
            assert!(matches!(e, ConfigError::Invalid { .. }), "{key}: {e}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "lisen = \"x\"\n").unwrap();
        let e = Config::load_with(Some(&p), &Overrides::default(), env(&[])).unwrap_err();
        assert!(e.to_string().contains("lisen"), "{e}");
        let e = Config::load_with(
            None,
            &Overrides::default(),
            env(&[("TONGBAN_ISSUER_NONCE_TTL_SECS", "soon")]),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("TONGBAN_ISSUER_NONCE_TTL_SECS"),
            "{e}"
        );
        let e = Config::load_with(
            None,
            &Overrides::default(),
            env(&[("TONGBAN_ISSUER_ACCESS_TOKEN_TTL_SECS", "3600")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("300"), "{e}");
        let e = Config::load_with(
            None,
            &Overrides {
                database_url: Some("mysql://x".into()),
                ..Default::default()
            },
            env(&[]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("database_url"), "{e}");
    }
}
