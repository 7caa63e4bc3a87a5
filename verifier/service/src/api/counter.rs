//! The counter's browser page at `/counter/`: the built static files
//! embedded by `tongban-counter-page`, so a receiving agency's counters
//! load it from the agency's own service and keep working offline. They are
//! files, not API: not in [`super::ROUTES`] nor the OpenAPI document.
//!
//! `config.json` is written from this service's own trust configuration:
//! the trust list URL and anchor keys it syncs with, and
//! `<public_url>/counter` as the counter's identifier. Without a trust list
//! URL it is 404 and the page asks the clerk to set itself up.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use tongban_counter_page::PageConfig;

use super::AppState;

/// The page's routes.
pub fn routes() -> Router<AppState> {
    tongban_service_kit::static_page::routes(
        "counter",
        |name| tongban_counter_page::file(name).map(|a| (a.content_type, a.bytes)),
        get(config),
    )
}

/// The anchor key files as one list of key documents.
fn anchors(files: &[std::path::PathBuf]) -> Option<Value> {
    let docs: Option<Vec<Value>> = files
        .iter()
        .map(|f| {
            std::fs::read(f)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
        })
        .collect();
    docs.filter(|d| !d.is_empty()).map(Value::Array)
}

async fn config(State(s): State<AppState>) -> Response {
    let c = s.config();
    let Some(url) = c.trust_list_url.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let files = c.anchor_key_files.clone();
    let audience = format!("{}/counter", c.public_url.trim_end_matches('/'));
    let keys = tokio::task::spawn_blocking(move || anchors(&files)).await;
    let Ok(Some(anchors)) = keys else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let page = PageConfig {
        trust_list_url: url,
        anchors,
        audience,
        stale: None,
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        page.to_json(),
    )
        .into_response()
}
