//! `tongban-issuer serve`: the issuing service itself.

use std::process::ExitCode;

use clap::Args;

use super::target::{Target, runtime};
use super::{Failure, finish};
use tongban_issuer::app::Service;
use tongban_issuer::bootstrap::{self, KeySource};
use tongban_issuer::config::Config;
use tongban_service_kit::SystemClock;

/// `serve` arguments.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    target: Target,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

/// `tongban-issuer serve`.
pub(crate) fn serve(a: ServeArgs) -> ExitCode {
    let json = a.target.json;
    let r = (|| {
        let config = a.target.config(a.listen.clone(), None)?;
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
