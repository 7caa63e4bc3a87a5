//! The counter's state in the page, free of JavaScript types so that it
//! is tested natively: the pinned anchors, the verified bundle, the
//! rollback floor, and the scans being collected. Every method takes the
//! time from the page (the library reads no clock) and answers JSON.

use serde_json::{Value, json};
use tongban_verifier::policy::DEFAULT_STATUS_MAX_AGE_SECS;
use tongban_verifier::request::PresentationRequest;
use tongban_verifier::transport::from_texts;
use tongban_verifier::{
    HolderBinding, KeyWithId, Policy, Report, StalePolicy, TrustBundle, verify,
};

use crate::bundle::{self, Files};
use crate::error::WebError;
use crate::scan::{Collector, Progress};
use crate::view;

/// How the counter checks, as the page's settings say (the CLI's
/// `--stale` and `--status-max-age`).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Accept a stale status list or trust list with a warning (`warn`)
    /// instead of rejecting (`reject`, the default).
    #[serde(default)]
    pub stale_warn: bool,
    /// The oldest status list relied on, in seconds.
    #[serde(default = "default_max_age")]
    pub status_max_age_secs: u32,
}

fn default_max_age() -> u32 {
    DEFAULT_STATUS_MAX_AGE_SECS
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stale_warn: false,
            status_max_age_secs: DEFAULT_STATUS_MAX_AGE_SECS,
        }
    }
}

/// The counter.
#[derive(Debug)]
pub struct CounterState {
    anchors: Vec<KeyWithId>,
    bundle: Option<TrustBundle>,
    held: Option<u64>,
    scans: Collector,
}

fn arg<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, WebError> {
    serde_json::from_str(text).map_err(|e| WebError::Argument(format!("{what}: {e}")))
}

impl CounterState {
    /// A counter pinning the anchor keys in `anchors_json` (JWK, JWKS, or a
    /// list of either).
    pub fn new(anchors_json: &str) -> Result<CounterState, WebError> {
        let doc: Value = serde_json::from_str(anchors_json)
            .map_err(|e| WebError::AnchorsInvalid(format!("not JSON: {e}")))?;
        Ok(CounterState {
            anchors: bundle::anchors(&doc)?,
            bundle: None,
            held: None,
            scans: Collector::default(),
        })
    }

    /// Sets the rollback floor: the highest sequence this counter has held.
    pub fn set_held(&mut self, held: Option<u64>) {
        self.held = held;
    }

    /// The rollback floor.
    pub fn held(&self) -> Option<u64> {
        self.held
    }

    fn adopt(&mut self, bundle: TrustBundle) -> u64 {
        let seq = bundle.manifest().sequence;
        self.held = Some(self.held.map_or(seq, |h| h.max(seq)));
        self.bundle = Some(bundle);
        seq
    }

    fn stored(&self, files: Files, now: i64, settings: Settings) -> Value {
        json!({
            "files": files,
            "held": self.held,
            "summary": self.summary(now, settings),
        })
    }

    /// Loads the page's stored copy of the bundle (verified again).
    pub fn load_stored(
        &mut self,
        files_json: &str,
        now: i64,
        settings: Settings,
    ) -> Result<Value, WebError> {
        let files: Files = arg(files_json, "the stored bundle")?;
        let b = bundle::load(&files, &self.anchors, self.held)?;
        self.adopt(b);
        Ok(self.summary(now, settings))
    }

    /// The status list URLs of a freshly fetched trust list, once it has
    /// passed the signature and rollback checks.
    pub fn status_urls(&self, trust_list: &str) -> Result<Vec<String>, WebError> {
        bundle::status_urls(trust_list, &self.anchors, self.held)
    }

    /// Assembles a bundle from what the page fetched and adopts it; the
    /// answer holds the files to store.
    pub fn assemble(
        &mut self,
        trust_list: &str,
        status_json: &str,
        now: i64,
        settings: Settings,
    ) -> Result<Value, WebError> {
        let status: Vec<String> = arg(status_json, "the status lists")?;
        let (b, files) = bundle::assemble(trust_list, &status, &self.anchors, self.held, now)?;
        self.adopt(b);
        Ok(self.stored(files, now, settings))
    }

    /// Imports files an air-gapped counter was given (a bundle directory,
    /// or a trust list with its status lists) and adopts them.
    pub fn import(
        &mut self,
        files_json: &str,
        now: i64,
        settings: Settings,
    ) -> Result<Value, WebError> {
        let files: Files = arg(files_json, "the bundle files")?;
        let (b, files) = bundle::import(&files, &self.anchors, self.held, now)?;
        self.adopt(b);
        Ok(self.stored(files, now, settings))
    }

    /// The held bundle's summary (`null` without one).
    pub fn summary(&self, now: i64, settings: Settings) -> Value {
        self.bundle.as_ref().map_or(Value::Null, |b| {
            bundle::summary(b, now, settings.status_max_age_secs)
        })
    }

    /// Takes one scanned or typed text.
    pub fn scan(&mut self, text: &str) -> Result<Progress, WebError> {
        Ok(self.scans.push(text)?)
    }

    /// Forgets the parts scanned so far.
    pub fn reset_scan(&mut self) {
        self.scans.reset();
    }

    /// Verifies texts (a single `TB1:`, the `TB1M:` parts, or a raw SD-JWT)
    /// against the held bundle: with holder binding for the request's
    /// audience and nonce when the page made one, without (and the verdict
    /// says so) when it did not. Answers the full report (as `verify
    /// --json`) and the verdict's content.
    pub fn verify(
        &self,
        texts: &[String],
        request: Option<&str>,
        now: i64,
        settings: Settings,
    ) -> Result<Value, WebError> {
        let bundle = self.bundle.as_ref().ok_or(WebError::NoBundle)?;
        let holder_binding = match request.map(str::trim).filter(|r| !r.is_empty()) {
            Some(text) => {
                let req = PresentationRequest::parse(text)?;
                HolderBinding::Required {
                    audience: req.aud,
                    nonce: req.nonce,
                }
            }
            None => HolderBinding::NotRequired,
        };
        let policy = Policy {
            holder_binding,
            stale: if settings.stale_warn {
                StalePolicy::Warn
            } else {
                StalePolicy::Reject
            },
            max_status_age_secs: settings.status_max_age_secs,
            ..Policy::without_holder_binding(now)
        };
        let refs: Vec<&str> = texts
            .iter()
            .map(|t| t.trim_matches(['\r', '\n', '\t']))
            .collect();
        let report = match from_texts(&refs) {
            Ok(p) => verify(&p, &policy, bundle),
            Err(r) => Report::rejected_before_parsing(r),
        };
        let mut full = report.to_json();
        full["bundle"] = json!({
            "sequence": bundle.manifest().sequence,
            "created_at": bundle.manifest().created_at,
            "age_secs": bundle.age(now),
        });
        full["issuer_listing"] = view::listing(&report, Some(bundle)).map_or(
            Value::Null,
            |i| json!({"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "region": i.region}),
        );
        Ok(json!({"report": full, "view": view::verdict(&report, Some(bundle), now)}))
    }
}
