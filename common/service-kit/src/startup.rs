//! Starting a service the same way everywhere: the private data directory,
//! the master key (from the environment, a file, or generated on first
//! start), the log, and serving until Ctrl-C or SIGTERM.

use std::path::{Path, PathBuf};

use crate::config::LogFormat;
use crate::master_key::{KeyError, MasterKey};
use crate::{ServeReport, ServerLimits};

/// Environment variable holding the master key (base64url or hex).
pub const MASTER_KEY_ENV: &str = "TONGBAN_MASTER_KEY";

/// Why a service could not start (exhaustive: each service maps every
/// variant into its own start-up error).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The master key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Creating the data directory, or serving.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `TONGBAN_MASTER_KEY`.
    Environment,
    /// An existing file.
    File(PathBuf),
    /// A file generated now (first start).
    Generated(PathBuf),
}

/// Creates the data directory (mode 0700) if absent.
pub fn ensure_data_dir(dir: &Path) -> Result<(), StartupError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir).map_err(|source| StartupError::Io {
        what: format!("creating the data directory {}", dir.display()),
        source,
    })
}

/// Loads the master key: `from_env` (the value of [`MASTER_KEY_ENV`]), else
/// the configured `file`, else `<data_dir>/master.key` — generated there
/// (with the data directory) if `create` and absent.
pub fn load_master_key(
    from_env: Option<String>,
    file: Option<&Path>,
    data_dir: &Path,
    create: bool,
) -> Result<(MasterKey, KeySource), StartupError> {
    if let Some(text) = from_env {
        return Ok((MasterKey::parse(&text)?, KeySource::Environment));
    }
    let path = file.map_or_else(|| data_dir.join("master.key"), Path::to_path_buf);
    if path.exists() || !create || file.is_some() {
        return Ok((MasterKey::read(&path)?, KeySource::File(path)));
    }
    ensure_data_dir(data_dir)?;
    let key = MasterKey::generate();
    key.write_new(&path)?;
    Ok((key, KeySource::Generated(path)))
}

/// Logs to standard error in `format`, filtered by `TONGBAN_LOG` (default
/// `info,sqlx=warn,tower_http=info`). A second call does nothing.
pub fn init_tracing(format: LogFormat) {
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

/// Serves `app` through [`crate::serve`] until Ctrl-C or SIGTERM, then
/// finishes the requests in flight and logs what it accepted, refused and
/// dropped.
pub async fn serve_until_signal(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: ServerLimits,
) -> Result<ServeReport, StartupError> {
    let report = crate::serve(listener, app, limits, async {
        crate::shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
    .await
    .map_err(|source| StartupError::Io {
        what: "serving".into(),
        source,
    })?;
    tracing::info!(
        accepted = report.accepted,
        refused_at_limits = report.refused,
        dropped_at_shutdown = report.dropped_at_shutdown,
        "stopped"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_key_comes_from_the_environment_a_file_or_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert!(load_master_key(None, None, &data, false).is_err());
        let (_, made) = load_master_key(None, None, &data, true).unwrap();
        assert_eq!(made, KeySource::Generated(data.join("master.key")));
        let (_, again) = load_master_key(None, None, &data, true).unwrap();
        assert_eq!(again, KeySource::File(data.join("master.key")));
        let missing = dir.path().join("elsewhere.key");
        assert!(load_master_key(None, Some(&missing), &data, true).is_err());
        let (_, env) = load_master_key(Some("00".repeat(32)), None, &data, true).unwrap();
        assert_eq!(env, KeySource::Environment);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&data).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
