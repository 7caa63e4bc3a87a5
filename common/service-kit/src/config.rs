//! What loading a service's configuration shares: defaults, then a TOML
//! file, then environment variables (`<PREFIX><KEY>` in upper case, via
//! [`env_overrides!`](crate::env_overrides)), then command-line flags
//! ([`Overrides`]), each overriding the one before; and the checks of the
//! keys every service has (listen address, log format, database URL, the
//! server's limits). Each service keeps its own file struct and its own
//! keys; these helpers give every service the same errors for the same
//! mistakes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::ServerLimits;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An environment variable has a value of the wrong kind.
    #[error("environment variable {name}={value:?}: {expected}")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A value is out of range.
    #[error("{key}: {message}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The `log_format` key: `text` (the default) or `json`.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, ConfigError> {
        match value {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(ConfigError::Invalid {
                key: "log_format",
                message: format!("{other:?}: use text or json"),
            }),
        }
    }
}

/// Command-line overrides.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
}

impl Overrides {
    /// Sets each key given on the command line over what the file and the
    /// environment said.
    pub fn apply(
        &self,
        listen: &mut Option<String>,
        data_dir: &mut Option<PathBuf>,
        database_url: &mut Option<String>,
        public_url: &mut Option<String>,
    ) {
        if self.listen.is_some() {
            listen.clone_from(&self.listen);
        }
        if self.data_dir.is_some() {
            data_dir.clone_from(&self.data_dir);
        }
        if self.database_url.is_some() {
            database_url.clone_from(&self.database_url);
        }
        if self.public_url.is_some() {
            public_url.clone_from(&self.public_url);
        }
    }
}

/// Reads the TOML file `file`, or the defaults (`T::default()`) without one.
pub fn read_file<T: DeserializeOwned + Default>(file: Option<&Path>) -> Result<T, ConfigError> {
    let Some(path) = file else {
        return Ok(T::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str::<T>(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.message().to_owned(),
    })
}

/// Sets `file.key` from the environment variable `<prefix><KEY>` for each
/// key listed with its kind: `string`, `path`, `paths` (comma-separated),
/// `bool` (`true`/`1`, `false`/`0`) or `number`. A value of the wrong kind
/// returns [`ConfigError::Env`] from the calling function.
#[macro_export]
macro_rules! env_overrides {
    ($prefix:expr, $file:ident, $get:ident; $($key:ident : $kind:tt),+ $(,)?) => {
        $(
            let name = format!("{}{}", $prefix, stringify!($key).to_ascii_uppercase());
            if let Some(v) = $get(&name) {
                $file.$key = Some($crate::env_overrides!(@parse $kind, name, v));
            }
        )+
    };
    (@parse string, $name:ident, $v:ident) => { $v };
    (@parse path, $name:ident, $v:ident) => { ::std::path::PathBuf::from($v) };
    (@parse paths, $name:ident, $v:ident) => {
        $v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(::std::path::PathBuf::from).collect()
    };
    (@parse bool, $name:ident, $v:ident) => {
        match $v.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err($crate::config::ConfigError::Env { name: $name.clone(), value: $v.clone(), expected: "true or false" }),
        }
    };
    (@parse number, $name:ident, $v:ident) => {
        $v.parse().map_err(|_| $crate::config::ConfigError::Env { name: $name.clone(), value: $v.clone(), expected: "a whole number" })?
    };
}

/// `v`, or `default` when unset; zero (or less) is refused, since it would
/// turn a bound off.
pub fn positive<T: PartialOrd + Default + Copy>(
    key: &'static str,
    v: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    match v {
        None => Ok(default),
        Some(n) if n > T::default() => Ok(n),
        Some(_) => Err(ConfigError::Invalid {
            key,
            message: "must be at least 1".into(),
        }),
    }
}

/// A number of seconds, or `default` when unset; zero is refused.
pub fn positive_secs(
    key: &'static str,
    v: Option<u64>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match v {
        None => Ok(default),
        Some(0) => Err(ConfigError::Invalid {
            key,
            message: "must be at least 1 second".into(),
        }),
        Some(n) => Ok(Duration::from_secs(n)),
    }
}

/// The listen address: `text`, or `default` when unset.
pub fn listen_address(text: Option<String>, default: &str) -> Result<SocketAddr, ConfigError> {
    let text = text.unwrap_or_else(|| default.to_owned());
    text.parse().map_err(|_| ConfigError::Invalid {
        key: "listen",
        message: format!("{text:?} is not an address such as {default}"),
    })
}

/// The database URL: unset or empty means the embedded SQLite file; else
/// it must be a PostgreSQL URL.
pub fn database_url(url: Option<String>) -> Result<Option<String>, ConfigError> {
    let url = url.filter(|u| !u.is_empty());
    if let Some(u) = &url
        && !(u.starts_with("postgres://") || u.starts_with("postgresql://"))
    {
        return Err(ConfigError::Invalid {
            key: "database_url",
            message: "only postgres:// URLs; leave it unset for the embedded SQLite file".into(),
        });
    }
    Ok(url)
}

/// The server-limit keys of a configuration file, as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerLimitKeys {
    /// `header_read_timeout_secs`.
    pub header_read_timeout_secs: Option<u64>,
    /// `body_idle_timeout_secs`.
    pub body_idle_timeout_secs: Option<u64>,
    /// `request_timeout_secs`.
    pub request_timeout_secs: Option<u64>,
    /// `max_connections`.
    pub max_connections: Option<usize>,
    /// `max_connections_per_ip`.
    pub max_connections_per_ip: Option<usize>,
    /// `shutdown_grace_secs`.
    pub shutdown_grace_secs: Option<u64>,
}

impl ServerLimitKeys {
    /// The server's limits from these keys, each defaulting to `defaults`;
    /// a zero is refused (it would turn a bound off).
    pub fn resolve(&self, defaults: ServerLimits) -> Result<ServerLimits, ConfigError> {
        let d = defaults;
        Ok(ServerLimits {
            header_read_timeout: positive_secs(
                "header_read_timeout_secs",
                self.header_read_timeout_secs,
                d.header_read_timeout,
            )?,
            body_idle_timeout: positive_secs(
                "body_idle_timeout_secs",
                self.body_idle_timeout_secs,
                d.body_idle_timeout,
            )?,
            request_timeout: positive_secs(
                "request_timeout_secs",
                self.request_timeout_secs,
                d.request_timeout,
            )?,
            max_connections: positive("max_connections", self.max_connections, d.max_connections)?,
            max_connections_per_ip: positive(
                "max_connections_per_ip",
                self.max_connections_per_ip,
                d.max_connections_per_ip,
            )?,
            shutdown_grace: positive_secs(
                "shutdown_grace_secs",
                self.shutdown_grace_secs,
                d.shutdown_grace,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        listen: Option<String>,
        n: Option<u32>,
        on: Option<bool>,
        dirs: Option<Vec<PathBuf>>,
    }

    fn load(text: &str, env: &[(&str, &str)]) -> Result<File, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).unwrap();
        let mut f: File = read_file(Some(&p))?;
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        env_overrides!("TEST_", f, get; listen: string, n: number, on: bool, dirs: paths);
        Ok(f)
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let f = load(
            "listen = \"a\"\nn = 1\n",
            &[("TEST_N", "2"), ("TEST_ON", "1"), ("TEST_DIRS", "a, b,")],
        )
        .unwrap();
        assert_eq!(f.listen.as_deref(), Some("a"));
        assert_eq!(f.n, Some(2));
        assert_eq!(f.on, Some(true));
        assert_eq!(
            f.dirs.unwrap(),
            vec![PathBuf::from("a"), PathBuf::from("b")]
        );
        let e = load("", &[("TEST_N", "many")]).unwrap_err().to_string();
        assert_eq!(e, "environment variable TEST_N=\"many\": a whole number");
        assert!(load("", &[("TEST_ON", "yes")]).is_err());
        assert!(
            load("other = 1\n", &[])
                .unwrap_err()
                .to_string()
                .contains("c.toml")
        );
        assert!(read_file::<File>(None).unwrap().listen.is_none());
    }

    #[test]
    fn zero_limits_are_refused_and_flags_win() {
        let keys = ServerLimitKeys {
            request_timeout_secs: Some(0),
            ..Default::default()
        };
        let e = keys
            .resolve(ServerLimits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("request_timeout_secs"), "{e}");
        assert!(positive("n", Some(0u32), 1).is_err());
        assert_eq!(positive("n", None, 7u32).unwrap(), 7);
        let over = Overrides {
            listen: Some("x".into()),
            ..Default::default()
        };
        let (mut l, mut d, mut u, mut p) = (Some("y".into()), None, None, Some("z".into()));
        over.apply(&mut l, &mut d, &mut u, &mut p);
        assert_eq!((l.as_deref(), p.as_deref()), (Some("x"), Some("z")));
        assert!(LogFormat::parse(Some("xml")).is_err());
        assert!(database_url(Some("mysql://h".into())).is_err());
        assert_eq!(database_url(Some(String::new())).unwrap(), None);
        assert!(listen_address(None, "127.0.0.1:1").is_ok());
    }
}
