//! Prometheus metrics, kept in the service state (no global registry, so
//! several services can run in one test process) and rendered in the text
//! exposition format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

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

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
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
        if let Ok(mut c) = self.counters.lock() {
            *c.entry((name, labels(label_pairs))).or_default() += n;
        }
    }

    /// Records one HTTP request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let status = status.to_string();
        self.add(
            "tongban_http_requests_total",
            &[("route", route), ("method", method), ("status", &status)],
            1,
        );
        if let Ok(mut h) = self.latency.lock() {
            let h = h.entry(labels(&[("route", route)])).or_default();
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
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
