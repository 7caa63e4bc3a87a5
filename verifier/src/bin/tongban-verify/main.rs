//! `tongban-verify`: check a Tongban presentation offline, as a counter clerk
//! would, and print a verdict (or the full JSON report).
//!
//! Exit status: 0 accepted, 1 rejected, 2 usage error or unreadable input.

mod args;
mod bundle_dir;
mod cli_error;
mod fetch;
mod input;
mod render;
mod sync;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use args::{BundleCommand, Cli, Command, VerifyArgs};
use cli_error::CliError;
use render::Context;
use tongban_verifier::{ErrorCode, KeyResolver, verify_bytes};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json_requested();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            e.print(json);
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Verify(args) => verify_command(args),
        Command::Sync(args) => sync::sync(args),
        Command::Bundle {
            command: BundleCommand::Import(args),
        } => sync::import(args),
        Command::Bundle {
            command: BundleCommand::Show(args),
        } => sync::show(args),
        Command::Codes { json } => {
            print_codes(json);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify_command(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let policy = args.policy()?;
    let (keys, bundle) = match &args.bundle {
        Some(dir) => {
            let anchors = input::read_key_files(&args.anchor_key)?;
            (None, Some(bundle_dir::load(dir, &anchors)?))
        }
        None => (Some(input::load_keys(&args.issuer_key)?), None),
    };
    let resolver: &dyn KeyResolver = match (&keys, &bundle) {
        (_, Some(b)) => b,
        (Some(k), None) => k,
        (None, None) => {
            return Err(CliError::Usage(
                "pass --bundle DIR or --issuer-key FILE".into(),
            ));
        }
    };
    let presentation =
        input::read_presentation(args.input.as_deref(), policy.limits.max_input_bytes)?;
    let report = verify_bytes(&presentation, &policy, resolver);
    let context = Context::new(&report, bundle.as_ref(), policy.now);
    let text = if args.json {
        let mut json = report.to_json();
        json["bundle"] = context.bundle_json();
        json["issuer_listing"] = context.issuer_json();
        let mut s = serde_json::to_string_pretty(&json).unwrap_or_default();
        s.push('\n');
        s
    } else {
        render::verdict(&report, &context, args.lang)
    };
    // A closed stdout (e.g. piped into `head`) is not worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if report.is_accepted() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_codes(json: bool) {
    if json {
        let list: Vec<_> = ErrorCode::ALL
            .iter()
            .map(|c| serde_json::json!({"code": c.code(), "message_en": c.message_en(), "message_zh": c.message_zh()}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else {
        for c in ErrorCode::ALL {
            println!(
                "{}\n    {}\n    {}",
                c.code(),
                c.message_zh(),
                c.message_en()
            );
        }
    }
}
