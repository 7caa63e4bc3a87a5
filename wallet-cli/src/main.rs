//! `tongban-wallet`: the citizen's wallet. Keeps licences encrypted and
//! presents only the fields a counter asks for, as a QR code.
//!
//! Exit status: 0 done, 1 refused (a credential that does not verify, an
//! offer the issuer refuses — wrong PIN, locked, expired —, a presentation
//! not consented to), 2 usage, wallet, network or protocol error.
//!
//! This file parses, dispatches and prints the error; the commands are in
//! [`cli`], the logic in the `tongban_wallet` library.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser as _;
use tongban_cli_support::exit::{Exit, print_error};

use cli::args::{Cli, Command};
use cli::commands::{
    attestation, credentials, history, present, receive, status, trust_list, verifier_ca, wallet,
};
use cli::error::CliError;

/// The name errors are printed under.
const PROGRAM: &str = "tongban-wallet";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => Exit::Ok.into(),
        Err(e) => {
            print_error(PROGRAM, json, e.code(), &e.to_string(), e.extra());
            e.exit().into()
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let dir = cli.wallet_dir();
    let json = cli.json;
    match cli.command {
        Command::Init {
            key_alg,
            jws_alg_name,
        } => wallet::init(&dir, key_alg, jws_alg_name, json),
        Command::HolderKey => wallet::holder_key(&dir),
        Command::Receive(a) => receive::receive(&dir, a, json),
        Command::List => credentials::list(&dir, json),
        Command::Show { id } => credentials::show(&dir, &id, json),
        Command::Present(a) => present::present(&dir, a, json),
        Command::VerifierCa { command } => verifier_ca::run(&dir, command, json),
        Command::Status { id, issuer_key } => status::status(&dir, &id, &issuer_key, json),
        Command::TrustList { command } => trust_list::run(&dir, command, json),
        Command::Attestation { command } => attestation::run(&dir, command, json),
        Command::History => history::show(&dir, json),
        Command::Delete { id, yes } => credentials::delete(&dir, &id, yes),
        Command::Export { file } => wallet::export(&dir, &file),
        Command::Import { file } => wallet::import(&dir, &file),
    }
}
