//! The counter's browser page at `/counter/`, for the demonstration: the
//! built static files embedded by `tongban-counter-page` (no WebAssembly
//! tools needed at run time). They are files, not API: not in
//! [`super::ROUTES`] nor the OpenAPI document. The page's `config.json`
//! (trust list URL, anchor keys, counter identifier) is the operator's
//! file `<data dir>/counter-config.json`; without it the page asks the
//! clerk to set itself up.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// The page's routes.
pub fn routes() -> Router<AppState> {
    tongban_service_kit::static_page::routes(
        "counter",
        |name| tongban_counter_page::file(name).map(|a| (a.content_type, a.bytes)),
        get(config),
    )
}

async fn config(State(s): State<AppState>) -> Response {
    let path = s.config().data_dir.join("counter-config.json");
    let read = tokio::task::spawn_blocking(move || std::fs::read(path)).await;
    match read {
        Ok(Ok(bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            bytes,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
