//! Prometheus metrics, kept in the service state (no global registry, so
//! several services can run in one test process) and rendered in the text
//! exposition format at `/metrics`; [`track`] is the HTTP layer that counts
//! and times every request by its route pattern.
//!
//! Every label comes from a bounded set, so a stranger cannot grow the
//! metrics (and the memory behind them) by sending odd requests: the HTTP
//! method is one of the standard ones or `other`, the route is the matched
//! route pattern or `unmatched`, the status is a three-digit code, and the
//! labels a service adds itself must be bounded too (the issuer records
//! agency and type labels only for existing agencies, the receiving
//! agency's service tenant labels only for existing tenants and verdicts as
//! stable codes). As a last line, no more than [`MAX_SERIES`] series are
//! kept; a new one past that is counted in
//! `tongban_metrics_series_dropped_total` instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The most series (counter label sets plus histograms) kept.
pub const MAX_SERIES: usize = 10_000;

/// The HTTP methods that get their own label; any other is `other`.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
];

/// The label for an HTTP method: itself if standard, else `other`.
pub fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// The label for a response status: its three digits (every `u16` a
/// response can carry is 100–999).
fn status_label(status: u16) -> String {
    if (100..=999).contains(&status) {
        status.to_string()
    } else {
        "other".to_owned()
    }
}

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    dropped: std::sync::atomic::AtomicU64,
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let v = v
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = write!(s, "{k}=\"{v}\"");
    }
    s
}

impl Metrics {
    /// Adds `n` to counter `name` with labels.
    pub fn add(&self, name: &'static str, label_pairs: &[(&str, &str)], n: u64) {
        let Ok(mut c) = self.counters.lock() else {
            return;
        };
        let key = (name, labels(label_pairs));
        if let Some(v) = c.get_mut(&key) {
            *v += n;
        } else if c.len() + self.histograms() < MAX_SERIES {
            c.insert(key, n);
        } else {
            self.drop_series();
        }
    }

    fn histograms(&self) -> usize {
        self.latency.lock().map_or(0, |h| h.len())
    }

    fn counters(&self) -> usize {
        self.counters.lock().map_or(0, |c| c.len())
    }

    fn drop_series(&self) {
        self.dropped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Records one HTTP request: `route` is the matched route pattern (or
    /// `unmatched`), `method` any method (it is labelled through
    /// [`method_label`]).
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let status = status_label(status);
        self.add(
            "tongban_http_requests_total",
            &[
                ("route", route),
                ("method", method_label(method)),
                ("status", &status),
            ],
            1,
        );
        let counters = self.counters();
        if let Ok(mut h) = self.latency.lock() {
            let key = labels(&[("route", route)]);
            if !h.contains_key(&key) && h.len() + counters >= MAX_SERIES {
                drop(h);
                self.drop_series();
                return;
            }
            let h = h.entry(key).or_default();
            let secs = took.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(c) = self.counters.lock() {
            let mut last = "";
            for ((name, l), v) in c.iter() {
                if *name != last {
                    let _ = writeln!(out, "# TYPE {name} counter");
                    last = name;
                }
                let _ = writeln!(out, "{name}{{{l}}} {v}");
            }
        }
        if let Ok(h) = self.latency.lock() {
            let name = "tongban_http_request_duration_seconds";
            let _ = writeln!(out, "# TYPE {name} histogram");
            for (l, h) in h.iter() {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(out, "{name}_bucket{{{l},le=\"{b}\"}} {}", h.counts[i]);
                }
                let _ = writeln!(out, "{name}_bucket{{{l},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "{name}_sum{{{l}}} {}", h.sum);
                let _ = writeln!(out, "{name}_count{{{l}}} {}", h.count);
            }
        }
        let dropped = self.dropped.load(std::sync::atomic::Ordering::Relaxed);
        let _ = writeln!(out, "# TYPE tongban_metrics_series_dropped_total counter");
        let _ = writeln!(out, "tongban_metrics_series_dropped_total {dropped}");
        out
    }
}

/// Counts and times one request by its route pattern (`unmatched` when no
/// route matched): the body of each service's tracking middleware, which
/// hands it the service's [`Metrics`].
pub async fn track(metrics: &Metrics, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method().as_str());
    let start = Instant::now();
    let resp = next.run(req).await;
    metrics.request(&route, method, resp.status().as_u16(), start.elapsed());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_methods_share_one_label_and_series_are_capped() {
        let m = Metrics::default();
        for i in 0..50 {
            m.request(
                "unmatched",
                &format!("X{i}{}", "Y".repeat(1000)),
                404,
                Duration::ZERO,
            );
        }
        let t = m.render();
        assert!(t.contains("method=\"other\""), "{t}");
        assert!(!t.contains("YYYY"), "a method name never becomes a label");
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("get"), "other");
        for i in 0..(MAX_SERIES + 10) {
            m.add("tongban_test_total", &[("n", &i.to_string())], 1);
        }
        assert_eq!(m.counters() + m.histograms(), MAX_SERIES);
        // Two series existed (the request counter and its histogram), so
        // 10,010 new ones leave 12 out.
        assert!(
            m.render()
                .contains("tongban_metrics_series_dropped_total 12\n")
        );
    }

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.add("tongban_credentials_issued_total", &[("agency", "a\"b")], 3);
        m.request("/x", "GET", 200, Duration::from_millis(3));
        let t = m.render();
        assert!(
            t.contains("tongban_credentials_issued_total{agency=\"a\\\"b\"} 3"),
            "{t}"
        );
        m.add("tongban_vp_transactions_total", &[("tenant", "a\"b")], 3);
        let t = m.render();
        assert!(
            t.contains("tongban_vp_transactions_total{tenant=\"a\\\"b\"} 3"),
            "{t}"
        );
        assert!(
            t.contains("tongban_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 1"),
            "{t}"
        );
        assert!(
            t.contains(
                "tongban_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0"
            ),
            "{t}"
        );
        assert!(
            t.contains("tongban_http_request_duration_seconds_count{route=\"/x\"} 1"),
            "{t}"
        );
    }
}
