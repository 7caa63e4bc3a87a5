//! What an unauthenticated stranger can make the issuer spend through its
//! router (`docs/security.md`, "Denial of service").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use support::Harness;

/// *Outside review:* 1,000 requests with random 200 KB method names grew
/// the issuer from 15 MB to 217 MB and `/metrics` to 200 MB, one series
/// per method name. Labels now come from a fixed set.
#[tokio::test]
async fn odd_method_names_and_paths_do_not_grow_the_metrics() {
    let h = Harness::sqlite().await;
    let (_, _, before) = h.raw(Method::GET, "/metrics", &[], Vec::new()).await;
    for i in 0..300 {
        let name = format!("M{i}{}", "X".repeat(4096));
        let method = Method::from_bytes(name.as_bytes()).unwrap();
        let (status, _, _) = h
            .raw(
                method,
                &format!("/nowhere/{i}/{}", "p".repeat(512)),
                &[],
                Vec::new(),
            )
            .await;
        assert!(status.is_client_error(), "{status}");
    }
    let (status, _, after) = h.raw(Method::GET, "/metrics", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(after.to_vec()).unwrap();
    assert!(!text.contains("XXXX"), "a method name became a label");
    assert!(!text.contains("pppp"), "a path became a label");
    assert!(
        text.contains(r#"route="unmatched",method="other""#),
        "odd requests are counted under fixed labels"
    );
    assert!(
        after.len() < before.len() + 4096,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    h.finish().await;
}
