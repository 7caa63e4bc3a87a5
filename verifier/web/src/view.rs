//! The verdict as the page shows it: the same content as the CLI's boxed
//! verdict (`tongban-verify verify`), in Chinese and English side by side,
//! as data the page lays out large. Times are China Standard Time.

use serde_json::{Map, Value, json};
use tongban_verifier::catalogue::Catalogue;
use tongban_verifier::trust::TrustedIssuer;
use tongban_verifier::{Outcome, Report, TrustBundle};

/// Registered claims that are facts of the credential, not disclosed fields.
const REGISTERED: [&str; 7] = ["iss", "vct", "iat", "nbf", "exp", "cnf", "status"];

/// `2025-03-01 09:30:00 (UTC+8)`, as the CLI prints times.
pub fn cst(secs: i64) -> String {
    let t = secs.saturating_add(8 * 3600);
    let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} (UTC+8)",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn fact(zh: &str, en: &str, value: Option<String>) -> Option<Value> {
    value.map(|v| json!({"label_zh": zh, "label_en": en, "value_zh": v, "value_en": v}))
}

fn fact2(zh: &str, en: &str, value_zh: String, value_en: String) -> Value {
    json!({"label_zh": zh, "label_en": en, "value_zh": value_zh, "value_en": value_en})
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The issuer's listing in the bundle, when the credential names a listed issuer.
pub fn listing<'a>(report: &Report, bundle: Option<&'a TrustBundle>) -> Option<&'a TrustedIssuer> {
    let iss = report.credential.iss.as_deref()?;
    bundle?.trust_list().list().issuer(iss)
}

/// The verdict's content.
pub fn verdict(report: &Report, bundle: Option<&TrustBundle>, now: i64) -> Value {
    let c = &report.credential;
    let issuer = listing(report, bundle);
    let kind = c
        .vct
        .as_deref()
        .and_then(|v| Catalogue::builtin().ok()?.by_vct(v));
    let rejection = report.rejection.as_ref().map(|r| {
        json!({
            "code": r.code.code(),
            "message_zh": r.code.message_zh(),
            "message_en": r.code.message_en(),
            "detail": r.detail,
            "violations": report.schema_violations.iter().map(|v| v.message.clone()).collect::<Vec<_>>(),
        })
    });
    let mut facts = Vec::new();
    let mut fields = Vec::new();
    if report.rejection.is_none() {
        if let Some(i) = issuer {
            facts.push(fact2(
                "签发机构",
                "Issuer",
                format!("{} ({})", i.name_zh, i.region),
                format!("{} ({})", i.name_en, i.region),
            ));
        }
        facts.extend(fact("机构标识", "Issuer id", c.iss.clone()));
        if let Some(vct) = c.vct.as_deref() {
            facts.push(match kind {
                Some(t) => fact2(
                    "证照类型",
                    "Type",
                    format!("{} ({vct})", t.name_zh),
                    format!("{} ({vct})", t.name_en),
                ),
                None => fact2("证照类型", "Type", vct.into(), vct.into()),
            });
        }
        facts.extend(fact(
            "签名密钥",
            "Key",
            Some(format!(
                "{} {}",
                c.alg.clone().unwrap_or_default(),
                c.kid.clone().unwrap_or_default()
            )),
        ));
        facts.extend(fact("签发时间", "Issued", c.iat.map(cst)));
        facts.extend(fact("生效时间", "Valid from", c.nbf.map(cst)));
        facts.extend(fact("有效期至", "Valid until", c.exp.map(cst)));
        facts.push(if c.key_binding {
            fact2(
                "持有人",
                "Holder",
                "已验证持有人签名".into(),
                "holder's signature verified".into(),
            )
        } else {
            fact2(
                "持有人",
                "Holder",
                "未要求持有人签名".into(),
                "holder's signature not required".into(),
            )
        });
        let empty = Map::new();
        let mut rows: Vec<(usize, Value)> = report
            .claims
            .as_ref()
            .unwrap_or(&empty)
            .iter()
            .filter(|(k, _)| !REGISTERED.contains(&k.as_str()))
            .map(|(k, v)| {
                let info = kind.and_then(|t| {
                    t.claims
                        .iter()
                        .position(|c| c.name == *k)
                        .map(|i| (i, &t.claims[i]))
                });
                let (order, zh, en) = match info {
                    Some((i, ci)) => (i, ci.label_zh.clone(), ci.label_en.clone()),
                    None => (usize::MAX, k.clone(), k.clone()),
                };
                (
                    order,
                    json!({"name": k, "label_zh": zh, "label_en": en, "value": value_text(v)}),
                )
            })
            .collect();
        rows.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1["name"].as_str().cmp(&b.1["name"].as_str()))
        });
        fields = rows.into_iter().map(|(_, v)| v).collect();
    }
    let warnings: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| json!({"code": w.code.code(), "message_zh": w.code.message_zh(), "message_en": w.code.message_en(), "detail": w.detail}))
        .collect();
    let checks: Vec<Value> = report
        .checks
        .iter()
        .map(|r| {
            let (mark, note) = match &r.outcome {
                Outcome::Passed => ("passed", String::new()),
                Outcome::Skipped { reason } => ("skipped", reason.clone()),
                Outcome::Failed { code } => ("failed", code.code().to_owned()),
                Outcome::NotRun => ("not_run", String::new()),
            };
            json!({"label_zh": r.check.label_zh(), "label_en": r.check.label_en(), "outcome": mark, "note": note})
        })
        .collect();
    let bundle_json = bundle.map(|b| {
        json!({
            "sequence": b.manifest().sequence,
            "created_at": b.manifest().created_at,
            "created_at_text": cst(b.manifest().created_at),
            "age_secs": b.age(now),
            "trust_list": crate::bundle::trust_json(b),
        })
    });
    json!({
        "accepted": report.is_accepted(),
        "checked_at": now,
        "checked_at_text": cst(now),
        "rejection": rejection,
        "facts": facts,
        "fields": fields,
        "warnings": warnings,
        "bundle": bundle_json,
        "checks": checks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_standard_time_as_the_cli_prints_it() {
        assert_eq!(cst(0), "1970-01-01 08:00:00 (UTC+8)");
        assert_eq!(cst(1_700_000_000), "2023-11-15 06:13:20 (UTC+8)");
        assert_eq!(cst(951_782_400), "2000-02-29 08:00:00 (UTC+8)");
        assert_eq!(cst(-86_400), "1969-12-31 08:00:00 (UTC+8)");
    }
}
