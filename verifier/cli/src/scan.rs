//! `tongban-verify scan`: a day's scans verified at once, with batch
//! signature verification, a progress bar and a summary table.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tongban_verifier::{Report, verify_batch};

use crate::args::ScanArgs;
use crate::cli_error::CliError;
use crate::render::Context;
use crate::{Trust, input};

/// Expands directories into the files directly inside them (name order,
/// hidden files skipped).
fn files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| CliError::Input {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|f| {
                    f.is_file()
                        && !f
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(CliError::Usage("no files to scan".into()));
    }
    Ok(out)
}

/// One scanned file: its verification report, or why it could not be read.
enum Outcome {
    Verified(Box<Report>),
    Unreadable(CliError),
}

/// How many files are read before their signatures are verified in one
/// batch: large enough for batch verification to pay, small enough that a
/// chunk of presentations (each at most the input bound) stays small.
const CHUNK: usize = 32;

/// Reads and decodes one file; the image or text bytes are dropped as soon
/// as the presentation is out of them.
fn read_one(f: &std::path::Path, limit: usize, trust: &Trust) -> Result<Vec<u8>, Outcome> {
    let item = input::read_presentation(Some(f), limit)
        .and_then(|raw| input::scanned(raw, &f.display().to_string(), trust.certificates()));
    match item {
        Ok(input::Scanned::Presentation(p)) => Ok(p),
        Ok(input::Scanned::Refused(r)) => Err(Outcome::Verified(Box::new(
            Report::rejected_before_parsing(r),
        ))),
        Err(e) => Err(Outcome::Unreadable(e)),
    }
}

/// Verifies one chunk's presentations in a batch, keeping the order.
fn verify_chunk(
    decoded: Vec<Result<Vec<u8>, Outcome>>,
    policy: &tongban_verifier::Policy,
    trust: &Trust,
) -> Vec<Outcome> {
    let batch: Vec<&[u8]> = decoded
        .iter()
        .filter_map(|d| d.as_ref().ok().map(Vec::as_slice))
        .collect();
    let mut reports = verify_batch(&batch, policy, trust.resolver()).into_iter();
    decoded
        .into_iter()
        .map(|d| match d {
            Ok(_) => reports.next().map_or_else(
                || Outcome::Unreadable(CliError::Usage("internal: missing report".into())),
                |r| Outcome::Verified(Box::new(r)),
            ),
            Err(o) => o,
        })
        .collect()
}

/// `tongban-verify scan`.
pub fn scan(args: ScanArgs) -> Result<ExitCode, CliError> {
    let policy = args.policy.policy()?;
    let trust = Trust::load(&args.trust)?;
    let files = files(&args.inputs)?;

    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(files.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:32}] {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // Files are read, decoded and verified a few at a time, so memory holds
    // one chunk of presentations (each at most the input bound) and the
    // reports, never the whole day's files.
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(files.len());
    for chunk in files.chunks(CHUNK) {
        bar.set_prefix("reading");
        let decoded: Vec<Result<Vec<u8>, Outcome>> = chunk
            .iter()
            .map(|f| {
                bar.set_message(f.display().to_string());
                let item = read_one(f, policy.limits.max_input_bytes, &trust);
                bar.inc(1);
                item
            })
            .collect();
        bar.set_prefix("verifying");
        bar.set_message("batch signature verification");
        outcomes.extend(verify_chunk(decoded, &policy, &trust));
    }
    bar.finish_and_clear();

    let accepted = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Verified(r) if r.is_accepted()))
        .count();
    let all_ok = accepted == outcomes.len();
    if args.json {
        let items: Vec<Value> = files
            .iter()
            .zip(&outcomes)
            .map(|(f, o)| match o {
                Outcome::Verified(r) => {
                    let mut v = Context::new(r, trust.bundle(), policy.now).report_json(r);
                    v["file"] = json!(f.display().to_string());
                    v
                }
                Outcome::Unreadable(e) => json!({"file": f.display().to_string(), "verdict": "unreadable",
                                                  "error": {"code": e.code(), "message": e.to_string()}}),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"accepted": accepted, "total": outcomes.len(), "results": items})
            )
            .unwrap_or_default()
        );
    } else {
        println!(
            "{:<36} {:<10} {:<28} issuer / type",
            "file", "verdict", "code"
        );
        for (f, o) in files.iter().zip(&outcomes) {
            let name = f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            match o {
                Outcome::Verified(r) => {
                    let ctx = Context::new(r, trust.bundle(), policy.now);
                    println!(
                        "{name:<36} {:<10} {:<28} {}",
                        if r.is_accepted() {
                            "accepted"
                        } else {
                            "REJECTED"
                        },
                        r.code().map_or("", |c| c.code()),
                        ctx.issuer_and_type(r)
                    );
                }
                Outcome::Unreadable(e) => {
                    println!("{name:<36} {:<10} {:<28} {e}", "UNREADABLE", e.code())
                }
            }
        }
        println!("{accepted} of {} accepted", outcomes.len());
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
