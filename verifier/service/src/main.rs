//! `tongban-verifier-service`: the receiving agency's online service
//! (OpenID4VP 1.0) and its operator commands. Thin: parsing here, work in
//! the library.
//!
//! Exit status: 0 done, 1 a check failed (audit verify), 2 usage error or
//! refused change (nothing written).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

use cli::admin::{AuditCommand, CaCommand, TenantCommand, TokenCommand};
use cli::serve::ServeArgs;

/// Tongban (通办) receiving agency service: back offices ask citizens'
/// wallets for licences over OpenID4VP 1.0 and get verified claims back.
///
/// A first start (fresh data directory, SQLite) makes the operator CA and
/// prints an admin token once:
///
///   tongban-verifier-service serve
///
/// Then add a receiving agency (its signing certificate is issued by the
/// operator CA) and a token for its back office:
///
///   tongban-verifier-service tenant add --id qingpu-ywtb --name-zh 青浦区行政服务中心 \
///       --name-en "Qingpu service centre" --region 310118 --dns verifier.qingpu.example
///   tongban-verifier-service token create --tenant qingpu-ywtb --label "back office"
///
/// Wallets trust the agency's requests through the CA certificate:
///
///   tongban-verifier-service ca export > operator-ca.pem
///
/// The service verifies against a trust bundle: point --config at a file
/// with trust_list_url and anchor_key_files, or fill <data-dir>/trust-bundle
/// with `tongban-verify sync --bundle …`.
#[derive(Debug, Parser)]
#[command(name = "tongban-verifier-service", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (back-office API, OpenID4VP endpoints). SQLite in
    /// the data directory unless --database-url.
    Serve(ServeArgs),
    /// Receiving agencies hosted by this service: add, list.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Bearer tokens: create (shown once), list, revoke.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The operator CA that signs the agencies' request certificates:
    /// init, export.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// The hash-chained audit log: verify every chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(a) => cli::serve::serve(a),
        Command::Tenant { command } => cli::admin::tenant(command),
        Command::Token { command } => cli::admin::token(command),
        Command::Ca { command } => cli::admin::ca(command),
        Command::Audit { command } => cli::admin::audit(command),
    }
}
