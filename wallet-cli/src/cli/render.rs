//! What the wallet prints: credentials listed and shown (names and labels
//! from the built-in catalogue), and a presentation in the form `--qr`
//! chose.

use std::path::Path;

use serde_json::{Value, json};
use tongban_cli_support::qr;
use tongban_cli_support::qr_arg::QrOutput;
use tongban_cli_support::time::{format_cst, now};
use tongban_verifier::HeldCredential;
use tongban_verifier::catalogue::Catalogue;
use tongban_verifier::catalogue::ids::Region;
use tongban_wallet::present::Presented;
use tongban_wallet::store::{self, StoredCredential};

use super::error::CliError;

/// The licence type's name (zh and en) from the catalogue, else its `vct`.
pub fn type_name(vct: &str) -> String {
    Catalogue::builtin()
        .ok()
        .and_then(|c| c.by_vct(vct))
        .map_or_else(
            || vct.to_owned(),
            |t| format!("{} {}", t.name_zh, t.name_en),
        )
}

/// A claim's label (zh and en) from the catalogue, else its name.
pub fn label(vct: &str, claim: &str) -> String {
    Catalogue::builtin()
        .ok()
        .and_then(|c| {
            c.by_vct(vct)?
                .claim(claim)
                .map(|c| format!("{} {}", c.label_zh, c.label_en))
        })
        .unwrap_or_else(|| claim.to_owned())
}

/// The region a credential belongs to: the GB/T 2260 code that every
/// Tongban e-licence id starts with (`320509-BL-2026-000001`), when known.
pub fn region_of(c: &StoredCredential) -> Option<&'static Region> {
    let held = HeldCredential::parse(&c.sd_jwt).ok()?;
    let lid = held.claims().get("licence_id")?.as_str()?;
    tongban_verifier::catalogue::ids::region(lid.split('-').next()?)
}

/// `list`: the credentials as a JSON array, or one entry each for a reader.
pub fn list(credentials: &[StoredCredential], json: bool) {
    if json {
        let list: Vec<Value> = credentials
            .iter()
            .map(|c| {
                let region = region_of(c).map(|r| json!({"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en}));
                let mut v = json!({"id": c.id, "iss": c.iss, "issuer_name": c.issuer_name, "region": region, "vct": c.vct, "type": type_name(&c.vct), "exp": c.exp, "received_at": c.received_at, "last_status": c.last_status});
                if let Some((unused, total)) = c.unused_copies() {
                    v["copies"] = json!({"total": total, "unused": unused});
                }
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else if credentials.is_empty() {
        println!("the wallet holds no credential yet 钱包中尚无证照");
    } else {
        for c in credentials {
            let exp = c.exp.map_or_else(|| "no expiry".into(), format_cst);
            let expired = c.exp.is_some_and(|e| e <= now());
            let status = c.last_status.as_ref().map_or_else(
                || "status not checked 未查询状态".to_owned(),
                |s| format!("status {} (checked {})", s.status, format_cst(s.checked_at)),
            );
            let region = region_of(c).map_or_else(
                || "region unknown 地区未知".to_owned(),
                |r| format!("{} {} ({})", r.name_zh, r.name_en, r.code),
            );
            let copies = c
                .unused_copies()
                .map_or_else(String::new, |(unused, total)| {
                    format!("\n     copies 副本: {unused} of {total} never presented 未出示")
                });
            println!(
                "{:<4} {}\n     issued by 发证机构: {}\n     region 地区: {region}\n     valid until 有效期至: {}{}\n     {status}{copies}",
                c.id,
                type_name(&c.vct),
                c.issuer_name.as_deref().unwrap_or(&c.iss),
                exp,
                if expired { "  (expired 已过期)" } else { "" }
            );
        }
    }
}

/// `show`: every claim of `c` (`held` parsed from it), labelled.
pub fn show(c: &StoredCredential, held: &HeldCredential, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"id": c.id, "claims": held.claims()}))
                .unwrap_or_default()
        );
    } else {
        println!("{} — {}", type_name(&c.vct), c.iss);
        for (k, v) in held.claims() {
            if !matches!(k.as_str(), "cnf" | "_sd_alg") {
                println!(
                    "  {:<40} {}",
                    label(&c.vct, k),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                );
            }
        }
    }
}

/// `present`, before consent: to whom, what, and a nonce the wallet chose.
pub fn presentation_preview(
    c: &StoredCredential,
    aud: &str,
    disclose: &[String],
    nonce: Option<&str>,
) {
    eprintln!("To 出示给: {aud}");
    eprintln!("{} — {}", type_name(&c.vct), c.iss);
    for p in disclose {
        eprintln!("  will disclose 将披露: {}", label(&c.vct, p));
    }
    if let Some(nonce) = nonce {
        eprintln!(
            "  nonce chosen by this wallet (no request was given) 本钱包生成的随机数: {nonce}"
        );
    }
}

/// Who asks (standard error): the registered agency, region, service item
/// and purpose from the trust list, or a warning that the requester is
/// unverified.
pub fn requester(r: &tongban_wallet::requester::Requester) {
    use tongban_wallet::receive::printable;
    use tongban_wallet::requester::Requester;
    match r {
        Requester::Registered(r) => {
            eprintln!(
                "Registered requester 已登记的请求方: {} / {} (region 行政区划 {})",
                printable(&r.name_zh),
                printable(&r.name_en),
                printable(&r.region)
            );
            let i = &r.service_item;
            eprintln!(
                "  service item 事项: {} {} / {}",
                printable(&i.id),
                printable(&i.name_zh),
                printable(&i.name_en)
            );
            eprintln!(
                "  purpose 用途: {} / {}",
                printable(&i.purpose_zh),
                printable(&i.purpose_en)
            );
        }
        Requester::Unverified(why) => {
            eprintln!("UNVERIFIED REQUESTER 未核实的请求方 ({why})");
        }
    }
}

/// Who asks, as JSON: `{"registered": true, "verifier", "name_zh",
/// "name_en", "region", "service_item": {id, names, purposes}}` from the
/// trust list, or `{"registered": false, "why"}`.
pub fn requester_json(r: &tongban_wallet::requester::Requester) -> Value {
    use tongban_wallet::requester::Requester;
    match r {
        Requester::Registered(r) => {
            let i = &r.service_item;
            json!({
                "registered": true,
                "verifier": r.verifier,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "region": r.region,
                "service_item": {
                    "id": i.id, "name_zh": i.name_zh, "name_en": i.name_en,
                    "purpose_zh": i.purpose_zh, "purpose_en": i.purpose_en,
                },
            })
        }
        Requester::Unverified(why) => json!({"registered": false, "why": why}),
    }
}

/// Writes the presentation's QR image when `--qr` names a file (whatever
/// else is printed), and returns that file.
pub fn write_qr_file<'a>(
    form: &'a QrOutput,
    parts: &[String],
) -> Result<Option<&'a Path>, CliError> {
    match form {
        QrOutput::Svg(file) => {
            let svg = qr::svg(parts).map_err(CliError::Usage)?;
            store::write_atomic(file, svg.as_bytes())?;
            Ok(Some(file))
        }
        QrOutput::Png(file) => {
            qr::write_png(file, parts).map_err(CliError::Usage)?;
            Ok(Some(file))
        }
        QrOutput::Text | QrOutput::Plain | QrOutput::Terminal => Ok(None),
    }
}

/// The presentation as one JSON document: the nonce, the transport text,
/// the SD-JWT and the QR file written, if any.
pub fn presentation_json(p: &Presented, nonce: &str, generated: bool, qr_file: Option<&Path>) {
    let mut out = json!({"nonce": nonce, "nonce_generated_by_wallet": generated, "transport": p.text, "presentation": p.presentation});
    if let Some(file) = qr_file {
        out["qr_file"] = json!(file);
        out["qr_codes"] = json!(p.parts.len());
    }
    println!("{out}");
}

/// The presentation in the form `--qr` chose.
pub fn presentation(form: &QrOutput, p: &Presented) -> Result<(), CliError> {
    let parts = &p.parts;
    match form {
        QrOutput::Text => println!("{}", p.text),
        QrOutput::Plain => println!("{}", p.presentation),
        QrOutput::Terminal => {
            for (i, part) in parts.iter().enumerate() {
                if parts.len() > 1 {
                    println!(
                        "code {} of {} / 第{}个码（共{}个）:",
                        i + 1,
                        parts.len(),
                        i + 1,
                        parts.len()
                    );
                }
                println!("{}", qr::terminal(part).map_err(CliError::Usage)?);
            }
        }
        QrOutput::Svg(file) | QrOutput::Png(file) => println!(
            "QR code written to {} ({} code(s)); show it to the counter",
            file.display(),
            parts.len()
        ),
    }
    Ok(())
}
