//! Collecting scans: a camera sees the same code many times a second and a
//! multi-part presentation (`TB1M:i/n:ID:…`) arrives one part at a time,
//! in any order. The collector keeps the parts of one presentation, ignores
//! repeats, starts over when a part of another presentation arrives, and
//! says when the set is complete. The parts are checked for real (order,
//! id, digest) by `transport::from_texts` when verified.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tongban_verifier::transport::{MAX_PARTS, PART_PREFIX, PREFIX};
use tongban_verifier::{ErrorCode, Rejection};

/// One scanned text's effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Everything needed is here: verify these texts.
    Complete(Vec<String>),
    /// A part of a multi-part presentation: `have` of `of` parts.
    Partial {
        /// The part numbers held (1-based, ascending).
        have: Vec<usize>,
        /// How many parts there are.
        of: usize,
        /// Whether parts of another presentation were dropped for it.
        restarted: bool,
    },
    /// The same part again (a camera sees a code many times).
    Repeat,
}

impl Progress {
    /// As the page receives it.
    pub fn to_json(&self) -> Value {
        match self {
            Progress::Complete(texts) => json!({"state": "complete", "texts": texts}),
            Progress::Partial {
                have,
                of,
                restarted,
            } => {
                json!({"state": "partial", "have": have, "of": of, "restarted": restarted})
            }
            Progress::Repeat => json!({"state": "repeat"}),
        }
    }
}

/// The parts of the presentation being scanned.
#[derive(Debug, Default)]
pub struct Collector {
    id: Option<String>,
    of: usize,
    parts: BTreeMap<usize, String>,
    last_single: Option<String>,
}

/// `(i, n, id)` of a part's header.
fn header(text: &str) -> Option<(usize, usize, &str)> {
    let rest = text.strip_prefix(PART_PREFIX)?;
    let mut f = rest.splitn(3, ':');
    let (pos, id, _) = (f.next()?, f.next()?, f.next()?);
    let (i, n) = pos.split_once('/')?;
    let (i, n) = (i.parse().ok()?, n.parse().ok()?);
    ((1..=n).contains(&i) && (2..=MAX_PARTS).contains(&n) && !id.is_empty()).then_some((i, n, id))
}

impl Collector {
    /// Forgets everything scanned.
    pub fn reset(&mut self) {
        *self = Collector::default();
    }

    /// Takes one scanned or typed text.
    pub fn push(&mut self, text: &str) -> Result<Progress, Rejection> {
        let text = text.trim_matches(|c| c == '\r' || c == '\n' || c == '\t');
        if text.starts_with(PART_PREFIX) {
            let (i, n, id) = header(text).ok_or_else(|| {
                Rejection::new(ErrorCode::TransportMalformed, "a part header is malformed")
            })?;
            let restarted = self.id.as_deref().is_some_and(|held| held != id)
                || (self.id.is_some() && self.of != n);
            if restarted || self.id.is_none() {
                self.parts.clear();
                self.id = Some(id.to_owned());
                self.of = n;
            }
            if self.parts.contains_key(&i) {
                return Ok(Progress::Repeat);
            }
            self.parts.insert(i, text.to_owned());
            self.last_single = None;
            if self.parts.len() == n {
                let texts = self.parts.values().cloned().collect();
                self.reset();
                return Ok(Progress::Complete(texts));
            }
            return Ok(Progress::Partial {
                have: self.parts.keys().copied().collect(),
                of: n,
                restarted,
            });
        }
        if text.starts_with(PREFIX) || text.starts_with("eyJ") || text.starts_with('{') {
            // The same single code seen again right after its verdict.
            if self.last_single.as_deref() == Some(text) {
                return Ok(Progress::Repeat);
            }
            self.reset();
            self.last_single = Some(text.to_owned());
            return Ok(Progress::Complete(vec![text.to_owned()]));
        }
        Err(Rejection::new(
            ErrorCode::TransportPrefixUnknown,
            "the code is neither a Tongban transport text (TB1:, TB1M:) nor an SD-JWT",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_in_any_order_with_repeats_complete_once() {
        let mut c = Collector::default();
        let p = |i: usize| format!("TB1M:{i}/3:ABCD:chunk{i}");
        assert_eq!(
            c.push(&p(2)).unwrap(),
            Progress::Partial {
                have: vec![2],
                of: 3,
                restarted: false
            }
        );
        assert_eq!(c.push(&p(2)).unwrap(), Progress::Repeat);
        assert!(matches!(c.push(&p(3)).unwrap(), Progress::Partial { .. }));
        assert_eq!(
            c.push(&p(1)).unwrap(),
            Progress::Complete(vec![p(1), p(2), p(3)])
        );
    }

    #[test]
    fn another_presentation_starts_over_and_junk_is_refused() {
        let mut c = Collector::default();
        c.push("TB1M:1/2:AAAA:x").unwrap();
        assert_eq!(
            c.push("TB1M:1/2:BBBB:y").unwrap(),
            Progress::Partial {
                have: vec![1],
                of: 2,
                restarted: true
            }
        );
        assert_eq!(
            c.push("https://example.com").unwrap_err().code,
            ErrorCode::TransportPrefixUnknown
        );
        assert_eq!(
            c.push("TB1M:3/2:AAAA:x").unwrap_err().code,
            ErrorCode::TransportMalformed
        );
        assert_eq!(
            c.push("TB1:ABC").unwrap(),
            Progress::Complete(vec!["TB1:ABC".into()])
        );
        assert_eq!(c.push("TB1:ABC").unwrap(), Progress::Repeat);
    }
}
