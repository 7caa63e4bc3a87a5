//! The counter's state in the page, free of JavaScript types so that it
//! is tested natively: the pinned root of trust (or bare anchor keys), the
//! verified bundle with the roots it followed, the rollback floors (trust
//! list and root sequences), and the scans being collected. Every method takes the
//! time from the page (the library reads no clock) and answers JSON.

use serde_json::{Value, json};
use tongban_verifier::bundle::Held;
use tongban_verifier::policy::DEFAULT_STATUS_MAX_AGE_SECS;
use tongban_verifier::request::PresentationRequest;
use tongban_verifier::transport::from_texts_with;
use tongban_verifier::{
    HolderBinding, Policy, Report, StalePolicy, TrustAnchors, TrustBundle, verify,
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

/// The rollback floors the page keeps in IndexedDB: the highest trust
/// list and root of trust sequences this browser has held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floors {
    /// The highest trust list sequence held.
    #[serde(default)]
    pub sequence: Option<u64>,
    /// The highest root of trust sequence held (0: pinned bare keys).
    #[serde(default)]
    pub root_sequence: Option<u64>,
}

impl From<Floors> for Held {
    fn from(f: Floors) -> Held {
        Held {
            sequence: f.sequence,
            root_sequence: f.root_sequence,
        }
    }
}

/// The counter.
#[derive(Debug)]
pub struct CounterState {
    pin: TrustAnchors,
    bundle: Option<TrustBundle>,
    held: Floors,
    scans: Collector,
}

fn arg<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, WebError> {
    serde_json::from_str(text).map_err(|e| WebError::Argument(format!("{what}: {e}")))
}

impl CounterState {
    /// A counter pinning what `anchors_json` holds: a signed root of trust
    /// (`root-<n>.json`), or bare anchor keys (JWK, JWKS, or a list of
    /// either; *k* = 1).
    pub fn new(anchors_json: &str) -> Result<CounterState, WebError> {
        let doc: Value = serde_json::from_str(anchors_json)
            .map_err(|e| WebError::AnchorsInvalid(format!("not JSON: {e}")))?;
        Ok(CounterState {
            pin: bundle::pin(&doc)?,
            bundle: None,
            held: Floors::default(),
            scans: Collector::default(),
        })
    }

    /// Sets the rollback floors: the highest trust list and root sequences
    /// this browser has held.
    pub fn set_held(&mut self, held: Floors) {
        self.held = held;
    }

    /// The rollback floors.
    pub fn held(&self) -> Floors {
        self.held
    }

    /// The roots of trust the held bundle followed beyond the pin: where
    /// the next sync's walk starts.
    fn held_roots(&self) -> Vec<String> {
        self.bundle
            .as_ref()
            .map(|b| b.anchors().chain().to_vec())
            .unwrap_or_default()
    }

    fn adopt(&mut self, bundle: TrustBundle) -> u64 {
        let seq = bundle.manifest().sequence;
        let root = bundle.anchors().sequence();
        self.held = Floors {
            sequence: Some(self.held.sequence.map_or(seq, |h| h.max(seq))),
            root_sequence: Some(self.held.root_sequence.map_or(root, |h| h.max(root))),
        };
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
        let b = bundle::load(&files, &self.pin, self.held.into())?;
        self.adopt(b);
        Ok(self.summary(now, settings))
    }

    /// The roots of trust a freshly fetched trust list needs that this
    /// counter has not followed yet: `[{"sequence", "url"}]`, to fetch
    /// before [`CounterState::status_urls`].
    pub fn roots_needed(&self, trust_list: &str, trust_list_url: &str) -> Result<Value, WebError> {
        let needed =
            bundle::roots_needed(trust_list, trust_list_url, &self.pin, &self.held_roots())?;
        Ok(Value::from(
            needed
                .into_iter()
                .map(|(sequence, url)| json!({"sequence": sequence, "url": url}))
                .collect::<Vec<_>>(),
        ))
    }

    /// The status list URLs of a freshly fetched trust list (with the roots
    /// fetched for it, a JSON array of texts), once the chain walk, the
    /// rollback floors and the list's threshold of signatures passed.
    pub fn status_urls(&self, trust_list: &str, roots_json: &str) -> Result<Vec<String>, WebError> {
        let roots: Vec<String> = arg(roots_json, "the roots of trust")?;
        bundle::status_urls(
            trust_list,
            &roots,
            &self.pin,
            &self.held_roots(),
            self.held.into(),
        )
    }

    /// Assembles a bundle from what the page fetched (the trust list, the
    /// roots fetched for it and the status lists, JSON arrays of texts) and
    /// adopts it; the answer holds the files to store.
    pub fn assemble(
        &mut self,
        trust_list: &str,
        roots_json: &str,
        status_json: &str,
        now: i64,
        settings: Settings,
    ) -> Result<Value, WebError> {
        let roots: Vec<String> = arg(roots_json, "the roots of trust")?;
        let status: Vec<String> = arg(status_json, "the status lists")?;
        let (b, files) = bundle::assemble(
            trust_list,
            &roots,
            &status,
            &self.pin,
            &self.held_roots(),
            self.held.into(),
            now,
        )?;
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
        let (b, files) =
            bundle::import(&files, &self.pin, &self.held_roots(), self.held.into(), now)?;
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
        let report = match from_texts_with(&refs, bundle) {
            Ok(p) => verify(&p, &policy, bundle),
            Err(r) => Report::rejected_before_parsing(r),
        };
        let mut full = report.to_json();
        full["bundle"] = json!({
            "sequence": bundle.manifest().sequence,
            "created_at": bundle.manifest().created_at,
            "age_secs": bundle.age(now),
            "trust_list": bundle::trust_json(bundle),
        });
        full["issuer_listing"] = view::listing(&report, Some(bundle)).map_or(
            Value::Null,
            |i| json!({"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "region": i.region}),
        );
        Ok(json!({"report": full, "view": view::verdict(&report, Some(bundle), now)}))
    }
}
