//! A page of embedded static files under one path (`/counter/` in both
//! services): the routes, and each file answered with its type, `no-cache`
//! and `nosniff`. What the files are, and the page's `config.json`, are
//! the caller's.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};

/// Looks a file up by its name under the page (`""` is the index):
/// its `Content-Type` and bytes.
pub type Lookup = fn(&str) -> Option<(&'static str, &'static [u8])>;

/// The routes of a page at `/{base}/`: `/{base}` redirects there, the
/// index, `config.json` answered by `config`, and every other file by
/// `lookup` (404 when it has none).
pub fn routes<S: Clone + Send + Sync + 'static>(
    base: &'static str,
    lookup: Lookup,
    config: MethodRouter<S>,
) -> Router<S> {
    let slash = format!("{base}/");
    Router::new()
        .route(
            &format!("/{base}"),
            get(move || async move { Redirect::permanent(&slash) }),
        )
        .route(
            &format!("/{base}/"),
            get(move || async move { file(lookup, "") }),
        )
        .route(&format!("/{base}/config.json"), config)
        .route(
            &format!("/{base}/{{file}}"),
            get(move |Path(name): Path<String>| async move { file(lookup, &name) }),
        )
}

fn file(lookup: Lookup, name: &str) -> Response {
    match lookup(name) {
        Some((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
