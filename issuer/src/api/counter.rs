//! The counter's browser page at `/counter/`, for the demonstration: the
//! built static files embedded by `tongban-counter-page` (no WebAssembly
//! tools needed at run time). They are files, not API: not in
//! [`super::ROUTES`] nor the OpenAPI document. The page's `config.json`
//! (trust list URL, anchor keys, counter identifier) is the operator's
//! file `<data dir>/counter-config.json`; without it the page asks the
//! clerk to set itself up.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/counter",
            get(|| async { Redirect::permanent("counter/") }),
        )
        .route("/counter/", get(|| async { asset("") }))
        .route("/counter/config.json", get(config))
        .route(
            "/counter/{file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
}

fn asset(name: &str) -> Response {
    match tongban_counter_page::file(name) {
        Some(a) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(a.content_type),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            a.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
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
