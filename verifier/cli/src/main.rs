//! `tongban-verify`: check a Tongban presentation offline, as a counter clerk
//! would, and print a verdict (or the full JSON report).
//!
//! Exit status: 0 accepted, 1 rejected, 2 usage error or unreadable input.

mod args;
mod cli_error;
mod input;
mod qr;
mod render;
mod scan;
mod sync;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use args::{BundleCommand, Cli, Command, VerifyArgs};
use cli_error::CliError;
use render::Context;
use tongban_cli_support::qr_arg::QrOutput;
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
        Command::Scan(args) => scan::scan(args),
        Command::Bundle {
            command: BundleCommand::Import(args),
        } => sync::import(args),
        Command::Bundle {
            command: BundleCommand::Show(args),
        } => sync::show(args),
        Command::Request(args) => request_command(args),
        Command::Codes { json } => {
            print_codes(json);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify_command(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let policy = args.policy.policy()?;
    let trust = Trust::load(&args.trust)?;
    let raw = input::read_presentation(args.input.as_deref(), policy.limits.max_input_bytes)?;
    let name = args
        .input
        .as_ref()
        .map_or("standard input".into(), |p| p.display().to_string());
    let report = match input::scanned(raw, &name, trust.certificates())? {
        input::Scanned::Presentation(p) => verify_bytes(&p, &policy, trust.resolver()),
        input::Scanned::Refused(r) => tongban_verifier::Report::rejected_before_parsing(r),
    };
    let context = Context::new(&report, trust.bundle(), policy.now);
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&context.report_json(&report)).unwrap_or_default();
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

/// The trust source of a verification.
pub enum Trust {
    /// Pinned issuer keys.
    Keys(tongban_verifier::InMemoryKeys),
    /// A verified trust bundle.
    Bundle(Box<tongban_verifier::TrustBundle>),
}

impl Trust {
    /// Loads what the arguments name.
    pub fn load(args: &args::TrustArgs) -> Result<Trust, CliError> {
        match &args.bundle {
            Some(dir) => {
                let anchors = input::read_anchors(&args.anchor_key)?;
                let bundle = tongban_trust_sync::bundle_dir::load_under(dir, &anchors)
                    .map_err(|e| CliError::from_sync(dir, e))?;
                Ok(Trust::Bundle(Box::new(bundle)))
            }
            None => Ok(Trust::Keys(input::load_keys(&args.issuer_key)?)),
        }
    }

    /// The key resolver.
    pub fn resolver(&self) -> &dyn KeyResolver {
        match self {
            Trust::Keys(k) => k,
            Trust::Bundle(b) => b.as_ref(),
        }
    }

    /// The certificates a QR code may name by reference: the bundle's
    /// (pinned keys hold none).
    pub fn certificates(&self) -> &dyn tongban_verifier::transport::CertificateStore {
        match self {
            Trust::Keys(_) => &tongban_verifier::transport::NoCertificates,
            Trust::Bundle(b) => b.as_ref(),
        }
    }

    /// The bundle, if any.
    pub fn bundle(&self) -> Option<&tongban_verifier::TrustBundle> {
        match self {
            Trust::Keys(_) => None,
            Trust::Bundle(b) => Some(b),
        }
    }
}

fn request_command(args: args::RequestArgs) -> Result<ExitCode, CliError> {
    if let Some(vct) = &args.vct {
        let known = tongban_verifier::catalogue::Catalogue::builtin()
            .ok()
            .and_then(|c| c.by_vct(vct).map(|t| t.claims.clone()));
        if let Some(claims) = known {
            for c in &args.claims {
                let top = c.split('.').next().unwrap_or_default();
                if !claims.iter().any(|k| k.name == top) {
                    return Err(CliError::Usage(format!("{vct} has no claim {c:?}")));
                }
            }
        }
    }
    if args.ttl <= 0 {
        return Err(CliError::Usage("--ttl must be positive".into()));
    }
    let req = tongban_verifier::request::PresentationRequest::new(
        args.aud.clone(),
        args.vct.clone(),
        args.claims.clone(),
        tongban_cli_support::time::now(),
        args.ttl,
        &mut rand::rngs::OsRng,
    );
    let (req, text) = match (&args.sign_key, &args.verifier, &args.service_item) {
        (Some(key), Some(verifier), Some(item)) => {
            let jwk: serde_json::Value = std::fs::read_to_string(key)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| CliError::Input {
                    path: key.display().to_string(),
                    reason: "not a JSON private key".into(),
                })?;
            let signer = tongban_verifier::AnySigner::from_private_jwk(&jwk).map_err(|e| {
                CliError::Input {
                    path: key.display().to_string(),
                    reason: e.to_string(),
                }
            })?;
            let req = req.registered_as(verifier, item);
            let text = req
                .to_signed_text(&signer)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            (req, text)
        }
        _ => {
            let text = req.to_text();
            (req, text)
        }
    };
    if let Some(out) = &args.out {
        std::fs::write(out, format!("{text}\n")).map_err(|e| CliError::Input {
            path: out.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"request": req, "text": text, "signed": args.sign_key.is_some(), "text_chars": text.len()})
        );
        return Ok(ExitCode::SUCCESS);
    }
    match &args.qr {
        QrOutput::Terminal => println!(
            "{}",
            tongban_cli_support::qr::terminal(&text).map_err(CliError::Usage)?
        ),
        QrOutput::Png(file) => {
            tongban_cli_support::qr::write_png(file, std::slice::from_ref(&text))
                .map_err(CliError::Usage)?;
            println!("request QR written to {}", file.display());
        }
        // The parser admits text, terminal and png only.
        QrOutput::Text | QrOutput::Plain | QrOutput::Svg(_) => println!("{text}"),
    }
    eprintln!(
        "nonce {} · valid until {}",
        req.nonce,
        tongban_cli_support::time::format_cst(req.exp)
    );
    Ok(ExitCode::SUCCESS)
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
