//! # tongban-counter-page
//!
//! The counter's browser page (`verifier/counter-page/www/` and the
//! verifier compiled to WebAssembly by `tongban-verifier-web`), as the
//! built files committed in `dist/` and embedded here, so that a service
//! serves it at `/counter/` on a machine without any WebAssembly tools:
//! `cargo run -p tongban-issuer -- serve` works on a fresh checkout.
//! `scripts/build-counter-page.sh` rebuilds `dist/`; CI checks the
//! committed files are what it builds.
//!
//! This crate has no HTTP in it: [`file`] answers a path's bytes and
//! content type, [`PageConfig`] the `config.json` a service writes for
//! its own deployment (trust list URL, anchor keys, counter identifier).

use serde::Serialize;
use serde_json::Value;

/// One file of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// Its name under `/counter/`.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

macro_rules! assets {
    ($( $name:literal => $ty:literal ),+ $(,)?) => {
        /// Every file of the built page.
        pub const FILES: &[Asset] = &[
            $( Asset { name: $name, bytes: include_bytes!(concat!("../dist/", $name)), content_type: $ty }, )+
        ];
    };
}

assets! {
    "index.html" => "text/html; charset=utf-8",
    "counter.css" => "text/css; charset=utf-8",
    "counter.js" => "text/javascript; charset=utf-8",
    "sw.js" => "text/javascript; charset=utf-8",
    "verifier.js" => "text/javascript; charset=utf-8",
    "verifier_bg.wasm" => "application/wasm",
}

/// The file at `path` below `/counter/` (`""` is the page itself).
pub fn file(path: &str) -> Option<&'static Asset> {
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        other => other,
    };
    FILES.iter().find(|a| a.name == name)
}

/// The page's `config.json`: what a deployment tells the page.
#[derive(Debug, Clone, Serialize)]
pub struct PageConfig {
    /// Where the signed trust list is fetched.
    pub trust_list_url: String,
    /// The pinned anchor keys (a JWK, a JWKS or a list of them).
    pub anchors: Value,
    /// The counter's identifier, the `aud` of its requests.
    pub audience: String,
    /// `reject` (the default) or `warn`: what a stale bundle means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<String>,
}

impl PageConfig {
    /// As served.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_file_is_embedded_and_nothing_else_is_served() {
        let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
        let mut built: Vec<String> = std::fs::read_dir(&dist)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        built.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|a| a.name.to_owned()).collect();
        embedded.sort();
        assert_eq!(built, embedded, "dist/ and FILES differ");
        assert_eq!(file("").unwrap().name, "index.html");
        assert_eq!(
            file("/verifier_bg.wasm").unwrap().content_type,
            "application/wasm"
        );
        assert!(file("../Cargo.toml").is_none() && file("config.json").is_none());
        let sw = std::str::from_utf8(file("sw.js").unwrap().bytes).unwrap();
        assert!(!sw.contains("__BUILD__"), "sw.js carries the build digest");
    }
}
