//! The clerk's verdict: a framed block in Chinese and/or English.
//!
//! Times are shown in China Standard Time (UTC+8), the time of every
//! counter in the country; the JSON report keeps Unix seconds.

use serde_json::Value;
use tongban_verifier::{Outcome, Report};

use crate::args::Lang;

const RULE_HEAVY: &str = "════════════════════════════════════════════════════════════";
const RULE_LIGHT: &str = "────────────────────────────────────────────────────────────";

/// Picks the label(s) for the chosen language.
fn label(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Both => format!("{zh} {en}"),
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// `2026-11-25 18:00:00 (UTC+8)`.
fn cst(secs: i64) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} (UTC+8)",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => format!("{secs} (out of range)"),
    }
}

/// Display width in a terminal: CJK and full-width characters take two cells.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c >= '\u{2E80}' { 2 } else { 1 }).sum()
}

/// Pads `s` with spaces to `width` terminal cells.
fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_owned();
    out.push_str(&" ".repeat(width.saturating_sub(display_width(s))));
    out
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders the verdict block.
pub fn verdict(report: &Report, lang: Lang) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(RULE_HEAVY.into());
    if report.is_accepted() {
        line(format!("  ✔ {}", label(lang, "核验通过", "ACCEPTED")));
    } else {
        line(format!("  ✘ {}", label(lang, "核验未通过", "REJECTED")));
    }
    line(RULE_HEAVY.into());

    if let Some(r) = &report.rejection {
        let reason = label(lang, "原因", "Reason");
        match lang {
            Lang::Both => {
                line(format!("  {reason}: {}", r.code.message_zh()));
                line(format!(
                    "  {}  {}",
                    " ".repeat(display_width(&reason)),
                    r.code.message_en()
                ));
            }
            Lang::Zh => line(format!("  {reason}: {}", r.code.message_zh())),
            Lang::En => line(format!("  {reason}: {}", r.code.message_en())),
        }
        line(format!(
            "  {}: {}",
            label(lang, "代码", "Code"),
            r.code.code()
        ));
        line(format!("  {}: {}", label(lang, "详情", "Detail"), r.detail));
    } else {
        let c = &report.credential;
        let field = |zh: &str, en: &str, v: Option<String>| {
            v.map(|v| format!("  {} {v}", pad(&label(lang, zh, en), 26)))
        };
        let rows = [
            field("签发机构", "Issuer", c.iss.clone()),
            field("证照类型", "Type", c.vct.clone()),
            field(
                "签名密钥",
                "Key",
                Some(format!(
                    "{} {}",
                    c.alg.clone().unwrap_or_default(),
                    c.kid.clone().unwrap_or_default()
                )),
            ),
            field("签发时间", "Issued", c.iat.map(cst)),
            field("生效时间", "Valid from", c.nbf.map(cst)),
            field("有效期至", "Valid until", c.exp.map(cst)),
            field(
                "持有人",
                "Holder",
                Some(if c.key_binding {
                    label(lang, "已验证持有人签名", "holder's signature verified")
                } else {
                    label(lang, "未要求持有人签名", "holder's signature not required")
                }),
            ),
        ];
        for row in rows.into_iter().flatten() {
            line(row);
        }
        line(RULE_LIGHT.into());
        let claims = report.claims.as_ref();
        let personal: Vec<(&String, &Value)> = claims
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "iss" | "vct" | "iat" | "nbf" | "exp" | "cnf" | "status"
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        line(format!(
            "  {} ({})",
            label(lang, "披露字段", "Disclosed fields"),
            personal.len()
        ));
        for (k, v) in personal {
            line(format!("    {} {}", pad(k, 28), value_text(v)));
        }
    }
    line(RULE_LIGHT.into());
    line(format!("  {}", label(lang, "检查项", "Checks")));
    for c in &report.checks {
        let (mark, note) = match &c.outcome {
            Outcome::Passed => ("✔", String::new()),
            Outcome::Skipped { reason } => ("–", format!(" ({reason})")),
            Outcome::Failed { code } => ("✘", format!(" [{code}]")),
            Outcome::NotRun => ("·", label(lang, " (未执行)", " (not run)")),
        };
        line(format!(
            "    {mark} {}{note}",
            label(lang, c.check.label_zh(), c.check.label_en())
        ));
    }
    line(RULE_HEAVY.into());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_padding_counts_two_cells() {
        assert_eq!(display_width("持有人 Holder"), 13);
        assert_eq!(pad("签发", 6), "签发  ");
        assert_eq!(cst(1_795_572_000), "2026-11-25 10:00:00 (UTC+8)");
    }
}
