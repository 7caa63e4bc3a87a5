//! `tongban-verifier-service serve`.

use std::process::ExitCode;

use clap::Args;
use tongban_service_kit::SystemClock;
use tongban_verifier_service::app::Service;
use tongban_verifier_service::bootstrap::{self, KeySource};
use tongban_verifier_service::config::Config;
use tongban_verifier_service::trust;

use super::{Failure, Target, finish, runtime};

/// `serve` arguments.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    target: Target,
    /// Address to listen on [default: 127.0.0.1:8090].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

/// `tongban-verifier-service serve`.
pub(crate) fn serve(a: ServeArgs) -> ExitCode {
    let json = a.target.json;
    let r = (|| {
        let config = a.target.config(a.listen.clone())?;
        tongban_service_kit::startup::init_tracing(config.log_format);
        runtime()?.block_on(serve_async(config))
    })();
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => finish(json, Err(f)),
    }
}

async fn serve_async(config: Config) -> Result<(), Failure> {
    let (master, source) = bootstrap::load_master_key(&config, true)?;
    if let KeySource::Generated(p) = &source {
        eprintln!(
            "Generated a new master key at {} (mode 0600). Every private key is sealed with it: back it up apart from the database; in production supply it with TONGBAN_MASTER_KEY or master_key_file.",
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
    if let Some(token) = bootstrap::bootstrap_admin(&service).await? {
        eprintln!(
            "\nFirst start: made the operator CA and an admin token. The token is shown ONCE — keep it:\n\n    {}\n\n\
             Next: tongban-verifier-service tenant add … (see --help), then\n\
             curl -H 'Authorization: Bearer {}' {}/api/v1/tenants\n",
            token.secret, token.secret, config.public_url
        );
    }
    let source = bootstrap::bundle_source(&config)?;
    let held = trust::held_sequence(&config.bundle_dir);
    if let Err(why) =
        trust::refresh_once(service.trust(), source.clone(), held, service.now()).await
    {
        eprintln!(
            "tongban-verifier-service: warning: no trust bundle yet ({why}); /readyz fails and responses are refused until one is synced"
        );
    }
    let backend = if config.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    tracing::info!(listen = %config.listen, public_url = %config.public_url, database = backend, "tongban-verifier-service serving");
    eprintln!(
        "tongban-verifier-service listening on http://{} (public URL {}, database {backend}); Ctrl-C stops it.",
        config.listen, config.public_url
    );
    bootstrap::serve(service, source, listener).await?;
    Ok(())
}
