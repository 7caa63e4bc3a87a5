//! Service configuration: defaults, then a TOML file, then environment
//! variables, then command-line flags (each overrides the one before).
//!
//! Every key of the file has an environment variable
//! `TONGBAN_VERIFIER_SERVICE_<KEY>` (upper case), e.g.
//! `TONGBAN_VERIFIER_SERVICE_PUBLIC_URL`; a list (`anchor_key_files`) is
//! written comma-separated there. The master key itself can also come from
//! `TONGBAN_MASTER_KEY`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tongban_service_kit::ServerLimits;
use tongban_service_kit::config::{self, ServerLimitKeys, positive};

pub use tongban_service_kit::config::{ConfigError, LogFormat, Overrides};

/// The prefix of every environment variable of the configuration.
pub const ENV_PREFIX: &str = "TONGBAN_VERIFIER_SERVICE_";

/// The configuration file as written (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Data directory (SQLite file, generated master key, trust bundle).
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL instead of SQLite.
    pub database_url: Option<String>,
    /// Base URL wallets and back offices reach the service at.
    pub public_url: Option<String>,
    /// File holding the master key.
    pub master_key_file: Option<PathBuf>,
    /// Largest back-office request body, bytes.
    pub max_body_bytes: Option<usize>,
    /// Largest wallet response body (the encrypted `vp_token`), bytes.
    pub max_response_bytes: Option<usize>,
    /// How long a wallet has to answer a transaction, seconds.
    pub transaction_ttl_secs: Option<i64>,
    /// Pending transactions one tenant may hold at once.
    pub max_pending_per_tenant: Option<i64>,
    /// How long disclosed claims are kept when the back office never reads
    /// them, seconds.
    pub claims_retention_secs: Option<i64>,
    /// The longest `?wait=` of a long-poll, and the longest event stream, seconds.
    pub max_wait_secs: Option<u64>,
    /// Whether tenants may be set to accept plain `direct_post` responses.
    pub allow_plain_direct_post: Option<bool>,
    /// Calls of each wallet endpoint one transaction takes.
    pub max_wallet_calls_per_transaction: Option<u32>,
    /// URL of the signed trust list to sync from.
    pub trust_list_url: Option<String>,
    /// The trust anchor's public key files (JWK with kid).
    pub anchor_key_files: Option<Vec<PathBuf>>,
    /// Where the trust bundle is kept.
    pub bundle_dir: Option<PathBuf>,
    /// How often the trust bundle is synced, seconds.
    pub sync_interval_secs: Option<u64>,
    /// The oldest trust bundle the service verifies with, seconds.
    pub max_bundle_age_secs: Option<i64>,
    /// How often maintenance (expiry, erasure) runs, seconds.
    pub maintenance_interval_secs: Option<u64>,
    /// PostgreSQL pool size.
    pub db_max_connections: Option<u32>,
    /// `text` or `json` logs.
    pub log_format: Option<String>,
    /// How long a client may take to send a request head, seconds.
    pub header_read_timeout_secs: Option<u64>,
    /// How long a request body may send nothing, seconds.
    pub body_idle_timeout_secs: Option<u64>,
    /// How long a request may take from its head to its response, seconds
    /// (long-polls and event streams are bounded by `max_wait_secs`, which
    /// must be shorter).
    pub request_timeout_secs: Option<u64>,
    /// Connections open at once.
    pub max_connections: Option<usize>,
    /// Connections open at once from one IP address.
    pub max_connections_per_ip: Option<usize>,
    /// How long a stopping service waits for requests in flight, seconds.
    pub shutdown_grace_secs: Option<u64>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8090`).
    pub listen: SocketAddr,
    /// Data directory (default `tongban-verifier-service-data`).
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
    /// Default 512 KiB.
    pub max_response_bytes: usize,
    /// Default 300.
    pub transaction_ttl_secs: i64,
    /// Default 10,000.
    pub max_pending_per_tenant: i64,
    /// Default 600 (ten minutes).
    pub claims_retention_secs: i64,
    /// Default 60.
    pub max_wait_secs: u64,
    /// Default false.
    pub allow_plain_direct_post: bool,
    /// Default 20.
    pub max_wallet_calls_per_transaction: u32,
    /// The trust list to sync; `None` means the bundle directory is filled
    /// by someone else (`tongban-verify sync --bundle DIR`) and only re-read.
    pub trust_list_url: Option<String>,
    /// The anchor key files (needed to load or sync a bundle).
    pub anchor_key_files: Vec<PathBuf>,
    /// Default `<data_dir>/trust-bundle`.
    pub bundle_dir: PathBuf,
    /// Default 3600.
    pub sync_interval_secs: u64,
    /// Default 86,400.
    pub max_bundle_age_secs: i64,
    /// Default 30.
    pub maintenance_interval_secs: u64,
    /// Default 16.
    pub db_max_connections: u32,
    /// Default text.
    pub log_format: LogFormat,
    /// Timeouts, connection limits and the shutdown deadline of the HTTP
    /// server.
    pub server: ServerLimits,
}

/// The server's limits from the file's keys, each defaulting to
/// [`ServerLimits::default`] (the request timeout at least 90 seconds, above the longest long-poll); a zero is refused (it would turn a bound off).
fn server_limits(f: &FileConfig) -> Result<ServerLimits, ConfigError> {
    let d = ServerLimits::default();
    ServerLimitKeys {
        header_read_timeout_secs: f.header_read_timeout_secs,
        body_idle_timeout_secs: f.body_idle_timeout_secs,
        request_timeout_secs: f.request_timeout_secs,
        max_connections: f.max_connections,
        max_connections_per_ip: f.max_connections_per_ip,
        shutdown_grace_secs: f.shutdown_grace_secs,
    }
    .resolve(ServerLimits {
        request_timeout: Duration::from_secs(d.request_timeout.as_secs().max(90)),
        ..d
    })
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
        tongban_service_kit::env_overrides!(ENV_PREFIX, f, get;
            listen: string, data_dir: path, database_url: string, public_url: string,
            master_key_file: path, max_body_bytes: number, max_response_bytes: number,
            transaction_ttl_secs: number, max_pending_per_tenant: number,
            claims_retention_secs: number, max_wait_secs: number,
            allow_plain_direct_post: bool, max_wallet_calls_per_transaction: number,
            trust_list_url: string, anchor_key_files: paths,
            bundle_dir: path, sync_interval_secs: number, max_bundle_age_secs: number,
            maintenance_interval_secs: number, db_max_connections: number, log_format: string,
            header_read_timeout_secs: number, body_idle_timeout_secs: number,
            request_timeout_secs: number, max_connections: number,
            max_connections_per_ip: number, shutdown_grace_secs: number,
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
        let listen = config::listen_address(f.listen, "127.0.0.1:8090")?;
        let public_url = f
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let rest = public_url
            .strip_prefix("https://")
            .or_else(|| public_url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(['/', '?', '#'])) {
            return Err(ConfigError::Invalid {
                key: "public_url",
                message: format!(
                    "{public_url:?} must be an http(s) URL of a host, without path, query or fragment"
                ),
            });
        }
        let log_format = LogFormat::parse(f.log_format.as_deref())?;
        let database_url = config::database_url(f.database_url)?;
        if let Some(u) = &f.trust_list_url
            && !(u.starts_with("https://")
                || ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                    .iter()
                    .any(|l| u.starts_with(l)))
        {
            return Err(ConfigError::Invalid {
                key: "trust_list_url",
                message: "the trust list is fetched over https:// only (plain http only from this machine)".into(),
            });
        }
        let max_wait_secs = positive("max_wait_secs", f.max_wait_secs, 60)?;
        if Duration::from_secs(max_wait_secs) >= server.request_timeout {
            return Err(ConfigError::Invalid {
                key: "max_wait_secs",
                message: format!(
                    "must be shorter than request_timeout_secs ({}), or long-polls are cut off",
                    server.request_timeout.as_secs()
                ),
            });
        }
        let data_dir = f
            .data_dir
            .unwrap_or_else(|| PathBuf::from("tongban-verifier-service-data"));
        Ok(Config {
            listen,
            bundle_dir: f
                .bundle_dir
                .unwrap_or_else(|| data_dir.join("trust-bundle")),
            data_dir,
            database_url,
            public_url,
            master_key_file: f.master_key_file,
            max_body_bytes: positive("max_body_bytes", f.max_body_bytes, 64 * 1024)?,
            max_response_bytes: positive("max_response_bytes", f.max_response_bytes, 512 * 1024)?,
            transaction_ttl_secs: positive("transaction_ttl_secs", f.transaction_ttl_secs, 300)?,
            max_pending_per_tenant: positive(
                "max_pending_per_tenant",
                f.max_pending_per_tenant,
                10_000,
            )?,
            claims_retention_secs: positive("claims_retention_secs", f.claims_retention_secs, 600)?,
            max_wait_secs,
            allow_plain_direct_post: f.allow_plain_direct_post.unwrap_or(false),
            max_wallet_calls_per_transaction: positive(
                "max_wallet_calls_per_transaction",
                f.max_wallet_calls_per_transaction,
                20,
            )?,
            trust_list_url: f.trust_list_url,
            anchor_key_files: f.anchor_key_files.unwrap_or_default(),
            sync_interval_secs: positive("sync_interval_secs", f.sync_interval_secs, 3600)?,
            max_bundle_age_secs: positive("max_bundle_age_secs", f.max_bundle_age_secs, 86_400)?,
            maintenance_interval_secs: positive(
                "maintenance_interval_secs",
                f.maintenance_interval_secs,
                30,
            )?,
            db_max_connections: positive("db_max_connections", f.db_max_connections, 16)?,
            log_format,
            server,
        })
    }

    /// The SQLite file in the data directory.
    pub fn sqlite_file(&self) -> PathBuf {
        self.data_dir.join("verifier-service.sqlite3")
    }

    /// The host of `public_url` (for `x509_san_dns` checks and the
    /// operator's hints).
    pub fn public_host(&self) -> &str {
        let rest = self.public_url.split_once("://").map_or("", |(_, r)| r);
        rest.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(rest, |(host, _)| host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_give_a_local_sqlite_service() {
        let c = Config::load_with(None, &Overrides::default(), env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8090");
        assert_eq!(c.public_url, "http://127.0.0.1:8090");
        assert_eq!(c.public_host(), "127.0.0.1");
        assert!(c.database_url.is_none());
        assert_eq!(c.claims_retention_secs, 600);
        assert!(!c.allow_plain_direct_post);
        assert!(c.bundle_dir.ends_with("trust-bundle"));
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "listen = \"127.0.0.1:9000\"\nclaims_retention_secs = 60\nanchor_key_files = [\"a.json\"]\n",
        )
        .unwrap();
        let c = Config::load_with(
            Some(&p),
            &Overrides {
                listen: Some("127.0.0.1:9100".into()),
                ..Default::default()
            },
            env(&[
                ("TONGBAN_VERIFIER_SERVICE_CLAIMS_RETENTION_SECS", "120"),
                ("TONGBAN_VERIFIER_SERVICE_ALLOW_PLAIN_DIRECT_POST", "true"),
                ("TONGBAN_VERIFIER_SERVICE_LISTEN", "127.0.0.1:9050"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.claims_retention_secs, 120);
        assert!(c.allow_plain_direct_post);
        assert_eq!(c.anchor_key_files, vec![PathBuf::from("a.json")]);
    }

    #[test]
    fn bad_values_are_named() {
        let bad = |pairs: &[(&str, &str)]| {
            Config::load_with(None, &Overrides::default(), env(pairs))
                .unwrap_err()
                .to_string()
        };
        assert!(
            bad(&[("TONGBAN_VERIFIER_SERVICE_TRANSACTION_TTL_SECS", "soon")])
                .contains("TRANSACTION_TTL")
        );
        assert!(
            bad(&[("TONGBAN_VERIFIER_SERVICE_CLAIMS_RETENTION_SECS", "0")])
                .contains("claims_retention_secs")
        );
        assert!(
            bad(&[("TONGBAN_VERIFIER_SERVICE_PUBLIC_URL", "https://h/x")]).contains("public_url")
        );
        assert!(
            bad(&[("TONGBAN_VERIFIER_SERVICE_TRUST_LIST_URL", "http://h/tl")]).contains("https")
        );
        assert!(
            bad(&[("TONGBAN_VERIFIER_SERVICE_MAX_WAIT_SECS", "600")]).contains("request_timeout")
        );
    }
}
