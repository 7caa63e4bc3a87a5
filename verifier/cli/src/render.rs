//! The clerk's verdict: a framed block in Chinese and/or English.
//!
//! Times are shown in China Standard Time (UTC+8), the time of every
//! counter in the country; the JSON report keeps Unix seconds.

use serde_json::{Value, json};
use tongban_verifier::catalogue::Catalogue;
use tongban_verifier::trust::TrustedIssuer;
use tongban_verifier::{Outcome, Report, TrustBundle};

use crate::args::Lang;

/// The trust list's format version, its root of trust, the `kid`s (or
/// thumbprints) of the anchor keys that signed it, and `(k, n)`.
type Signers = (u32, u64, Vec<String>, (usize, usize));

/// What the verdict shows beyond the report: the bundle and the issuer's
/// entry in the trust list.
pub struct Context {
    /// `(sequence, created_at, age in seconds)` of the bundle used.
    bundle: Option<(u64, i64, i64)>,
    /// The trust list's format version, root, the `kid`s that signed it,
    /// and `(k, n)`.
    signers: Option<Signers>,
    /// The issuer's trust-list entry.
    issuer: Option<TrustedIssuer>,
}

impl Context {
    /// The context of a verification.
    pub fn new(report: &Report, bundle: Option<&TrustBundle>, now: i64) -> Context {
        let issuer = bundle.and_then(|b| {
            let iss = report.credential.iss.as_deref()?;
            b.trust_list().list().issuer(iss).cloned()
        });
        Context {
            bundle: bundle.map(|b| (b.manifest().sequence, b.manifest().created_at, b.age(now))),
            signers: bundle.map(|b| {
                let t = b.trust_list();
                (
                    t.list().version,
                    t.root_sequence(),
                    t.signed_by()
                        .iter()
                        .map(|s| s.kid.clone().unwrap_or_else(|| s.thumbprint.clone()))
                        .collect(),
                    t.threshold(),
                )
            }),
            issuer,
        }
    }

    /// The full JSON report: the library's, plus the bundle and the issuer's
    /// listing.
    pub fn report_json(&self, report: &Report) -> Value {
        let mut json = report.to_json();
        json["bundle"] = self.bundle_json();
        json["issuer_listing"] = self.issuer_json();
        json
    }

    /// `苏州市吴江区市场监督管理局 · 营业执照`: who issued what, for the
    /// summary table of `scan`.
    pub fn issuer_and_type(&self, report: &Report) -> String {
        let issuer = self
            .issuer
            .as_ref()
            .map(|i| i.name_zh.clone())
            .or_else(|| report.credential.iss.clone())
            .unwrap_or_default();
        let kind = report
            .credential
            .vct
            .as_deref()
            .map(|v| {
                Catalogue::builtin()
                    .ok()
                    .and_then(|c| c.by_vct(v))
                    .map_or(v.to_owned(), |t| t.name_zh.clone())
            })
            .unwrap_or_default();
        format!("{issuer} · {kind}")
    }

    /// The bundle facts as JSON (`null` without a bundle).
    pub fn bundle_json(&self) -> Value {
        match self.bundle {
            Some((sequence, created_at, age)) => {
                let mut v =
                    json!({"sequence": sequence, "created_at": created_at, "age_secs": age});
                if let Some((version, root, kids, (k, n))) = &self.signers {
                    v["trust_list"] = json!({"version": version, "sequence": sequence,
                        "root_sequence": root, "signed_by": kids, "threshold": {"k": k, "n": n}});
                }
                v
            }
            None => Value::Null,
        }
    }

    /// The issuer's listing as JSON (`null` when not listed or no bundle).
    pub fn issuer_json(&self) -> Value {
        match &self.issuer {
            Some(i) => {
                json!({"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "region": i.region})
            }
            None => Value::Null,
        }
    }
}

/// The licence type as a clerk knows it: `营业执照 Business licence`, or
/// the bare `vct` when it is not in the catalogue.
fn type_name(vct: &str, lang: Lang) -> String {
    match Catalogue::builtin().ok().and_then(|c| c.by_vct(vct)) {
        Some(t) => format!("{} ({vct})", label(lang, &t.name_zh, &t.name_en)),
        None => vct.to_owned(),
    }
}

/// `3 h 20 min`, `2 d 4 h`: an age a clerk reads at a glance.
fn age_text(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

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

use tongban_cli_support::time::format_cst as cst;

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
/// Renders the verdict inside a box drawn to the terminal width of its
/// longest line (CJK characters count two cells).
pub fn verdict(report: &Report, ctx: &Context, lang: Lang) -> String {
    frame(&verdict_body(report, ctx, lang))
}

/// Draws a box around lines; `RULE_HEAVY` and `RULE_LIGHT` lines become its
/// top, bottom and separators.
fn frame(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let width = lines
        .iter()
        .filter(|l| **l != RULE_HEAVY && **l != RULE_LIGHT)
        .map(|l| display_width(l))
        .max()
        .unwrap_or(0)
        + 2;
    let last = lines.len().saturating_sub(1);
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let row = match *l {
            RULE_HEAVY if i == 0 => format!("╔{}╗", "═".repeat(width)),
            RULE_HEAVY if i == last => format!("╚{}╝", "═".repeat(width)),
            RULE_HEAVY => format!("╠{}╣", "═".repeat(width)),
            RULE_LIGHT => format!("╟{}╢", "─".repeat(width)),
            text => format!("║{}║", pad(text, width)),
        };
        out.push_str(&row);
        out.push('\n');
    }
    out
}

fn verdict_body(report: &Report, ctx: &Context, lang: Lang) -> String {
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
        if report.schema_violations.is_empty() {
            line(format!("  {}: {}", label(lang, "详情", "Detail"), r.detail));
        } else {
            line(format!(
                "  {}:",
                label(lang, "不符合的字段", "Fields in breach")
            ));
            for v in &report.schema_violations {
                line(format!("    - {}", v.message));
            }
        }
    } else {
        let c = &report.credential;
        let field = |zh: &str, en: &str, v: Option<String>| {
            v.map(|v| format!("  {} {v}", pad(&label(lang, zh, en), 26)))
        };
        let issuer_name = ctx.issuer.as_ref().map(|i| match lang {
            Lang::Both => format!("{} {} ({})", i.name_zh, i.name_en, i.region),
            Lang::Zh => format!("{} ({})", i.name_zh, i.region),
            Lang::En => format!("{} ({})", i.name_en, i.region),
        });
        let rows = [
            field("签发机构", "Issuer", issuer_name),
            field("机构标识", "Issuer id", c.iss.clone()),
            field(
                "证照类型",
                "Type",
                c.vct.as_deref().map(|v| type_name(v, lang)),
            ),
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
        let kind = c
            .vct
            .as_deref()
            .and_then(|v| Catalogue::builtin().ok()?.by_vct(v));
        let mut rows: Vec<(usize, String, String)> = personal
            .into_iter()
            .map(|(k, v)| {
                let info = kind.and_then(|t| {
                    t.claims
                        .iter()
                        .position(|c| c.name == *k)
                        .map(|i| (i, &t.claims[i]))
                });
                let (order, name) = match info {
                    Some((i, ci)) => (i, label(lang, &ci.label_zh, &ci.label_en)),
                    None => (usize::MAX, k.clone()),
                };
                (order, name, value_text(v))
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let width = rows
            .iter()
            .map(|r| display_width(&r.1))
            .max()
            .unwrap_or(0)
            .min(44)
            + 2;
        for (_, name, value) in rows {
            line(format!("    {} {value}", pad(&name, width)));
        }
    }
    for w in &report.warnings {
        line(format!(
            "  ⚠ {}: {} [{}]",
            label(lang, "警告", "Warning"),
            match lang {
                Lang::En => w.code.message_en(),
                _ => w.code.message_zh(),
            },
            w.code
        ));
    }
    line(RULE_LIGHT.into());
    match ctx.bundle {
        Some((seq, created, age)) => line(format!(
            "  {}: #{seq}, {} {} ({})",
            label(lang, "信任包", "Trust bundle"),
            label(lang, "同步于", "synced"),
            cst(created),
            label(
                lang,
                &format!("{}前", age_text(age)),
                &format!("{} ago", age_text(age))
            ),
        )),
        None => line(format!(
            "  {}",
            label(
                lang,
                "信任来源：固定的签发机构公钥（未核验证照状态）",
                "Trust: pinned issuer keys (status not checked)"
            )
        )),
    }
    // Which anchors signed the list the bundle holds, under which root.
    if let Some((version, root, kids, (k, n))) = &ctx.signers {
        line(format!(
            "  {}: v{version}, {} {root}; {} {}/{n} ({} {k}): {}",
            label(lang, "信任列表", "Trust list"),
            label(lang, "信任根", "root"),
            label(lang, "签署", "signed by"),
            kids.len(),
            label(lang, "至少需", "needs"),
            kids.join(", ")
        ));
    }
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
    }
}
