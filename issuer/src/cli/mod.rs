//! The command-line front end of `tongban-issuer` (binary-only modules):
//! one module per command group, each parsing its arguments and calling the
//! service layer ([`tongban_issuer::app`]), which validates.

use std::process::ExitCode;

use serde_json::{Value, json};

pub(crate) mod agency;
pub(crate) mod audit;
pub(crate) mod backup;
pub(crate) mod jwks_fetch;
pub(crate) mod key;
pub(crate) mod serve;
pub(crate) mod target;
pub(crate) mod token;
pub(crate) mod trust_list;

/// A command that failed: a stable code, a sentence, the exit status.
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) exit: u8,
}

impl Failure {
    /// A refused command (exit 2).
    pub(crate) fn usage(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            exit: 2,
        }
    }
}

/// Prints a command's result — text for people, or `--json` — and turns
/// it into the exit status. Errors go to stderr as
/// `tongban-issuer: error[code]: …` (or a JSON `error` object on stdout).
pub(crate) fn finish(json: bool, r: Result<(String, Value), Failure>) -> ExitCode {
    match r {
        Ok((text, value)) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            } else {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(f) => {
            if json {
                println!(
                    "{}",
                    json!({"error": {"code": f.code, "message": f.message}})
                );
            } else {
                eprintln!("tongban-issuer: error[{}]: {}", f.code, f.message);
            }
            ExitCode::from(f.exit)
        }
    }
}
