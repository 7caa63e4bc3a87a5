//! # tongban-verifier-web
//!
//! The receiving counter's browser page runs the verifier library compiled
//! to WebAssembly: every check happens in the browser, offline. This crate
//! is the page's only way in: [`Counter`] holds the pinned root of trust
//! (or bare anchor keys), the trust bundle with the roots it followed
//! (kept by the page in IndexedDB, verified again at every load), the
//! rollback floors and the scans being collected; the free
//! functions make a counter request and its QR code, decode a camera frame
//! where the browser has no `BarcodeDetector`, and list the catalogue and
//! the rejection codes.
//!
//! Everything crosses as JSON text; errors are thrown as a JavaScript
//! `Error` whose message is `{"code", "message_en", "message_zh", "detail"}`.
//! Times are Unix seconds the page passes in. The logic lives in plain
//! modules ([`counter`], [`bundle`], [`scan`], [`view`], [`request`],
//! [`decode`]) tested natively; this file only converts.
//!
//! Built into the page by `scripts/build-counter-page.sh`.

pub mod bundle;
pub mod counter;
pub mod decode;
pub mod error;
pub mod request;
pub mod scan;
pub mod view;

use serde_json::Value;
use tongban_verifier::ErrorCode;
use wasm_bindgen::prelude::*;

use crate::counter::{CounterState, Floors, Settings};
use crate::error::WebError;

fn js(e: WebError) -> JsError {
    JsError::new(&e.to_json().to_string())
}

fn out(v: &Value) -> String {
    v.to_string()
}

fn secs(now: f64) -> i64 {
    // The page passes Date.now() / 1000; whole seconds, saturating.
    now.floor() as i64
}

fn settings(json: &str) -> Result<Settings, JsError> {
    if json.trim().is_empty() {
        return Ok(Settings::default());
    }
    serde_json::from_str(json).map_err(|e| js(WebError::Argument(format!("the settings: {e}"))))
}

/// The counter: anchors, bundle, rollback floor, scans.
#[wasm_bindgen]
pub struct Counter {
    state: CounterState,
}

#[wasm_bindgen]
impl Counter {
    /// A counter pinning a signed root of trust (`root-<n>.json`) or bare
    /// anchor keys (a JWK, a JWKS or a list of them).
    #[wasm_bindgen(constructor)]
    pub fn new(anchors_json: &str) -> Result<Counter, JsError> {
        Ok(Counter {
            state: CounterState::new(anchors_json).map_err(js)?,
        })
    }

    /// Sets the rollback floors (`{"sequence", "root_sequence"}`, the
    /// highest this browser has held; an older page stored a bare number,
    /// the list's sequence, which is read as such).
    pub fn set_held(&mut self, held_json: &str) -> Result<(), JsError> {
        let v: Value = serde_json::from_str(held_json).unwrap_or(Value::Null);
        let floors = match v {
            Value::Null => Floors::default(),
            Value::Number(n) => Floors {
                sequence: n.as_u64(),
                root_sequence: None,
            },
            other => serde_json::from_value(other)
                .map_err(|e| js(WebError::Argument(format!("the rollback floors: {e}"))))?,
        };
        self.state.set_held(floors);
        Ok(())
    }

    /// The rollback floors, `{"sequence", "root_sequence"}`.
    pub fn held(&self) -> String {
        serde_json::to_string(&self.state.held()).unwrap_or_default()
    }

    /// Loads the stored bundle files (`{"name": "text"}`); answers its summary.
    pub fn load_stored(
        &mut self,
        files_json: &str,
        now: f64,
        settings_json: &str,
    ) -> Result<String, JsError> {
        let s = settings(settings_json)?;
        self.state
            .load_stored(files_json, secs(now), s)
            .map(|v| out(&v))
            .map_err(js)
    }

    /// The roots of trust a fetched trust list (from `trust_list_url`)
    /// needs beyond those this counter followed: `[{"sequence", "url"}]`.
    pub fn roots_needed(&self, trust_list: &str, trust_list_url: &str) -> Result<String, JsError> {
        self.state
            .roots_needed(trust_list, trust_list_url)
            .map(|v| out(&v))
            .map_err(js)
    }

    /// The status list URLs (a JSON array) of a fetched trust list, with
    /// the roots fetched for it (a JSON array of texts), once the chain,
    /// the rollback floors and the threshold of signatures passed.
    pub fn status_urls(&self, trust_list: &str, roots_json: &str) -> Result<String, JsError> {
        self.state
            .status_urls(trust_list, roots_json)
            .map(|urls| out(&Value::from(urls)))
            .map_err(js)
    }

    /// Assembles and adopts a bundle from a fetched trust list, its roots
    /// and status lists (JSON arrays of texts); answers `{files, held,
    /// summary}`.
    pub fn assemble(
        &mut self,
        trust_list: &str,
        roots_json: &str,
        status_json: &str,
        now: f64,
        settings_json: &str,
    ) -> Result<String, JsError> {
        let s = settings(settings_json)?;
        self.state
            .assemble(trust_list, roots_json, status_json, secs(now), s)
            .map(|v| out(&v))
            .map_err(js)
    }

    /// Imports bundle files given by hand (`{"name": "text"}`); answers
    /// `{files, held, summary}`.
    pub fn import_files(
        &mut self,
        files_json: &str,
        now: f64,
        settings_json: &str,
    ) -> Result<String, JsError> {
        let s = settings(settings_json)?;
        self.state
            .import(files_json, secs(now), s)
            .map(|v| out(&v))
            .map_err(js)
    }

    /// The held bundle's summary, or `null`.
    pub fn summary(&self, now: f64, settings_json: &str) -> Result<String, JsError> {
        Ok(out(&self
            .state
            .summary(secs(now), settings(settings_json)?)))
    }

    /// Takes one scanned or typed text; answers the progress
    /// (`complete` with the texts to verify, `partial`, or `repeat`).
    pub fn scan(&mut self, text: &str) -> Result<String, JsError> {
        self.state.scan(text).map(|p| out(&p.to_json())).map_err(js)
    }

    /// Forgets the parts scanned so far.
    pub fn reset_scan(&mut self) {
        self.state.reset_scan();
    }

    /// Verifies the texts (a JSON array) against the held bundle and the
    /// request text (empty: no request); answers `{report, view}`.
    pub fn verify(
        &self,
        texts_json: &str,
        request: &str,
        now: f64,
        settings_json: &str,
    ) -> Result<String, JsError> {
        let s = settings(settings_json)?;
        let texts: Vec<String> = serde_json::from_str(texts_json)
            .map_err(|e| js(WebError::Argument(format!("the texts: {e}"))))?;
        let request = (!request.trim().is_empty()).then_some(request);
        self.state
            .verify(&texts, request, secs(now), s)
            .map(|v| out(&v))
            .map_err(js)
    }
}

/// Makes a counter request (`{"aud", "vct", "claims", "ttl_secs"}`);
/// answers `{request, text, svg, expires_at_text}`.
#[wasm_bindgen]
pub fn make_request(options_json: &str, now: f64) -> Result<String, JsError> {
    let opts: request::RequestOptions = serde_json::from_str(options_json)
        .map_err(|e| js(WebError::Argument(format!("the request options: {e}"))))?;
    let req = request::make(&opts, secs(now), &mut rand_core::OsRng).map_err(js)?;
    request::to_json(&req).map(|v| out(&v)).map_err(js)
}

/// An SVG QR code of a text.
#[wasm_bindgen]
pub fn qr_svg(text: &str) -> Result<String, JsError> {
    request::qr_svg(text).map_err(js)
}

/// The texts of the QR codes in a grayscale frame (a JSON array).
#[wasm_bindgen]
pub fn decode_frame(pixels: &[u8], width: u32, height: u32) -> Result<String, JsError> {
    decode::grayscale(pixels, width as usize, height as usize)
        .map(|t| out(&Value::from(t)))
        .map_err(js)
}

/// The catalogue's licence types with their claims' names (zh/en).
#[wasm_bindgen]
pub fn catalogue() -> String {
    out(&request::catalogue())
}

/// Every rejection code with its sentences (as `tongban-verify codes --json`).
#[wasm_bindgen]
pub fn codes() -> String {
    let list: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| serde_json::json!({"code": c.code(), "message_en": c.message_en(), "message_zh": c.message_zh()}))
        .collect();
    out(&Value::from(list))
}

/// `YYYY-MM-DD hh:mm:ss (UTC+8)` of Unix seconds.
#[wasm_bindgen]
pub fn cst(now: f64) -> String {
    view::cst(secs(now))
}
