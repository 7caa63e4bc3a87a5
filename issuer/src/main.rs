//! `tongban-issuer`: the issuing service and its operator commands, and the
//! trust-list operator's tooling. Thin: parsing here, work in the library.
//!
//! Exit status: 0 done, 1 a check failed (audit verify), 2 usage error or
//! refused change (nothing written).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// mimalloc instead of the C library's allocator: issuing spends about a
/// tenth of the service's CPU allocating and freeing small blocks
/// (JSON values, strings, the answer), many of them freed on another
/// thread than the one that allocated them (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cli::agency::AgencyCommand;
use cli::audit::AuditCommand;
use cli::backup::{BackupArgs, RestoreArgs};
use cli::key::KeyCommand;
use cli::serve::ServeArgs;
use cli::token::TokenCommand;
use cli::trust_list::TrustListCommand;

/// Tongban (通办) issuer: the service issuing agencies run, and the
/// trust-list operator's tools.
///
/// Start here (a fresh data directory gets a demonstration agency and an
/// admin token, printed once):
///
///   tongban-issuer serve
///
/// Then, with the token it printed:
///
///   curl -H "Authorization: Bearer tbat_…" http://127.0.0.1:8080/admin/v1/agency
#[derive(Debug, Parser)]
#[command(name = "tongban-issuer", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the issuing service (admin API, public metadata and status lists,
    /// OpenID4VCI). SQLite in the data directory unless --database-url.
    Serve(ServeArgs),
    /// Agencies hosted by this service: create, list, show, update.
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// Signing keys: rotate (old keys stay published), list.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Admin tokens: create (shown once), list, revoke.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a consistent backup of the SQLite database while the service
    /// runs (signing keys stay sealed; back the master key up apart).
    ///
    ///   tongban-issuer backup --data-dir /var/lib/tongban-issuer --out /backup/issuer-2026-11-30.sqlite3
    #[command(verbatim_doc_comment)]
    Backup(BackupArgs),
    /// Put a backup in place of a lost database (never over an existing
    /// one), verify every audit chain, and move every agency to a fresh
    /// status list so no status index is ever given twice.
    ///
    ///   tongban-issuer restore --data-dir /var/lib/tongban-issuer --from /backup/issuer-2026-11-30.sqlite3
    #[command(verbatim_doc_comment)]
    Restore(RestoreArgs),
    /// The hash-chained audit log: verify every chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The trust-list operator's tools: the anchor key, the list of issuing
    /// agencies (draft), and the signed list verifiers sync.
    ///
    /// A typical session of the demonstration zone's operator:
    ///
    ///   tongban-issuer trust-list anchor-key --out anchor.key.json --public-out anchor.jwk.json
    ///   tongban-issuer trust-list init --list zone.json --anchor-id https://trust.yrd.example \
    ///       --name-zh 长三角示范区 --name-en "YRD demonstration zone"
    ///   tongban-issuer trust-list add-issuer --list zone.json --id https://amr.wujiang.example \
    ///       --name-zh 苏州市吴江区市场监督管理局 --name-en "Wujiang AMR" --region 320509 \
    ///       --vct urn:tongban:business-licence:1 --jwks-url https://amr.wujiang.example/.well-known/jwks.json \
    ///       --status-list https://amr.wujiang.example/status/1
    ///   tongban-issuer trust-list sign --list zone.json --anchor-key anchor.key.json --out trust-list.jwt
    #[command(verbatim_doc_comment)]
    TrustList {
        #[command(subcommand)]
        command: TrustListCommand,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(a) => cli::serve::serve(a),
        Command::Agency { command } => cli::agency::agency(command),
        Command::Key { command } => cli::key::key(command),
        Command::Token { command } => cli::token::token(command),
        Command::Audit { command } => cli::audit::audit(command),
        Command::Backup(a) => cli::backup::backup(a),
        Command::Restore(a) => cli::backup::restore(a),
        Command::TrustList { command } => cli::trust_list::main(command),
    }
}
