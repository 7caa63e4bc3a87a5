//! Issuing load against a running `tongban-issuer serve`, and the check
//! that every acknowledged credential is in the database and the audit log.
//! Used by the `issue-load` binary (`scripts/load.sh`) and by the crash test
//! (`tests/tests/issuer_crash.rs`).
//!
//! Each worker is a task with its own keep-alive connection, all on one
//! client thread ([`crate::http1`]), issuing one credential after another;
//! every request's latency is recorded. A credential counts as acknowledged only when the service
//! answered 201 with its id and status index.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};
use tongban_verifier::{Ed25519Signer, Signer as _};

use crate::http1::Connection;

/// The licence type the load issues.
pub const LOAD_VCT: &str = "urn:tongban:business-licence:1";

/// Where the service is and the admin token to use.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    /// `tbat_…`.
    pub token: String,
}

/// How much load.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Concurrent workers (connections).
    pub workers: usize,
    /// Stop after this long (if set).
    pub duration: Option<Duration>,
    /// Stop after this many requests in all (if set).
    pub count: Option<u64>,
    /// First digit (1–9) of every licence serial, so runs on the same
    /// database do not collide: serials are `P` followed by a 9-digit counter.
    pub serial_prefix: u8,
    /// Pause after a transport error (the service is down), so a dead
    /// service does not turn the workers into a busy loop.
    pub error_pause: Duration,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            workers: 32,
            duration: Some(Duration::from_secs(20)),
            count: None,
            serial_prefix: 1,
            error_pause: Duration::from_millis(20),
        }
    }
}

/// One credential the service acknowledged (201).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// `cred_…`.
    pub id: String,
    /// Status list number.
    pub list: i64,
    /// Index in that list.
    pub idx: i64,
}

/// What a load run did.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    /// Acknowledged credentials, in no particular order.
    pub acks: Vec<Ack>,
    /// Latency of every request that got an HTTP response, microseconds.
    pub latencies_us: Vec<u64>,
    /// When each acknowledgement arrived, milliseconds from the start.
    pub acked_at_ms: Vec<u64>,
    /// Failures by kind (`http 409`, `transport`, `bad 201 body`).
    pub errors: BTreeMap<String, u64>,
    /// From the start to the last worker's end.
    pub elapsed: Duration,
    /// Workers.
    pub workers: usize,
}

impl LoadResult {
    /// Acknowledged credentials per second.
    pub fn throughput(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.acks.len() as f64 / s
        } else {
            0.0
        }
    }

    /// Failed requests in all.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The `p`-th percentile (nearest rank) of the latencies, milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        percentile_sorted(&v, p) as f64 / 1000.0
    }

    /// Acknowledgements per second in consecutive windows of `window`
    /// (the last one may be shorter and is left out when under half).
    pub fn timeline(&self, window: Duration) -> Vec<f64> {
        let w = window.as_millis().max(1) as u64;
        let total = self.elapsed.as_millis() as u64;
        let n = (total + w / 2) / w;
        let mut counts = vec![0u64; n.max(1) as usize];
        for &t in &self.acked_at_ms {
            let i = ((t / w) as usize).min(counts.len() - 1);
            counts[i] += 1;
        }
        let len = counts.len();
        counts
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let span = if i + 1 == len {
                    total.saturating_sub(i as u64 * w).max(1)
                } else {
                    w
                };
                c as f64 * 1000.0 / span as f64
            })
            .collect()
    }

    fn timeline_window(&self) -> Duration {
        if self.elapsed >= Duration::from_secs(20) {
            Duration::from_secs(5)
        } else {
            Duration::from_secs(1)
        }
    }

    /// A summary as JSON.
    pub fn to_json(&self) -> Value {
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let ms = |p: f64| percentile_sorted(&v, p) as f64 / 1000.0;
        json!({
            "workers": self.workers,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "acknowledged": self.acks.len(),
            "responses": v.len(),
            "throughput_per_s": self.throughput(),
            "latency_ms": {
                "p50": ms(50.0), "p90": ms(90.0), "p99": ms(99.0), "p99_9": ms(99.9),
                "max": v.last().copied().unwrap_or(0) as f64 / 1000.0,
            },
            "errors": self.errors,
            "timeline": {
                "window_s": self.timeline_window().as_secs(),
                "per_s": self.timeline(self.timeline_window()),
            },
        })
    }

    /// A summary for people.
    pub fn to_text(&self) -> String {
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let ms = |p: f64| percentile_sorted(&v, p) as f64 / 1000.0;
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            self.errors
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "issued {} credentials in {:.2} s with {} workers (keep-alive): {:.1}/s\n\
             latency over {} responses, ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}\n\
             errors: {errors}\n\
             per {} s window, credentials/s: {}",
            self.acks.len(),
            self.elapsed.as_secs_f64(),
            self.workers,
            self.throughput(),
            v.len(),
            ms(50.0),
            ms(90.0),
            ms(99.0),
            ms(99.9),
            v.last().copied().unwrap_or(0) as f64 / 1000.0,
            self.timeline_window().as_secs(),
            self.timeline(self.timeline_window())
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

/// The `p`-th percentile (nearest rank) of sorted values.
pub(crate) fn percentile_sorted(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The holder key every loaded credential is bound to (a fixed Ed25519 key).
pub fn load_holder_jwk() -> Value {
    Ed25519Signer::from_seed(&[0x33; 32], None)
        .public_key()
        .to_jwk()
}

/// The request body with the licence serial left out: `(before, after)`;
/// a request is `before + serial + after`.
fn body_template() -> Result<(String, String), String> {
    const MARK: &str = "@@SERIAL@@";
    let mut claims = tongban_test_support::sample::catalogue_samples()
        .get("business-licence")
        .cloned()
        .ok_or("samples.json has no business-licence")?;
    let lid = claims["licence_id"]
        .as_str()
        .ok_or("the sample has no licence_id")?
        .to_owned();
    let (head, _) = lid.rsplit_once('-').ok_or("licence_id without a serial")?;
    claims["licence_id"] = Value::String(format!("{head}-{MARK}"));
    let body = json!({"vct": LOAD_VCT, "claims": claims, "holder_jwk": load_holder_jwk()});
    let text = serde_json::to_string(&body).map_err(|e| e.to_string())?;
    let (a, b) = text.split_once(MARK).ok_or("no serial mark")?;
    Ok((a.to_owned(), b.to_owned()))
}

/// What every worker shares.
struct Work {
    /// The request body before and after the licence serial.
    before: String,
    after: String,
    /// Requests started so far, in all (the next serial).
    counter: AtomicU64,
    /// `serial_prefix` × 10⁹.
    prefix: u64,
    base: String,
    token: String,
    start: Instant,
    deadline: Option<Instant>,
    count: Option<u64>,
    pause: Duration,
    stop: Arc<AtomicBool>,
}

/// One worker's results.
#[derive(Default)]
struct WorkerOut {
    acks: Vec<Ack>,
    acked_at: Vec<u64>,
    lat: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

/// Runs the load until the duration or count is reached, or `stop` is set
/// (the crash test sets it after killing the service). Every worker is a
/// task with its own keep-alive connection, all on one client thread
/// ([`crate::http1`]), so the client costs the machine as little as it can.
pub fn run_load(target: &Target, cfg: &LoadConfig, stop: &Arc<AtomicBool>) -> LoadResult {
    let workers = cfg.workers.max(1);
    let mut result = LoadResult {
        workers,
        ..Default::default()
    };
    let (before, after) = match body_template() {
        Ok(t) => t,
        Err(e) => {
            result.errors.insert(format!("setup: {e}"), 1);
            return result;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            result.errors.insert(format!("setup: {e}"), 1);
            return result;
        }
    };
    let start = Instant::now();
    let work = Arc::new(Work {
        before,
        after,
        counter: AtomicU64::new(0),
        prefix: u64::from(cfg.serial_prefix.clamp(1, 9)) * 1_000_000_000,
        base: target.base.clone(),
        token: target.token.clone(),
        start,
        deadline: cfg.duration.map(|d| start + d),
        count: cfg.count,
        pause: cfg.error_pause,
        stop: stop.clone(),
    });
    let outs = rt.block_on(async {
        let tasks: Vec<_> = (0..workers)
            .map(|_| tokio::spawn(worker(work.clone())))
            .collect();
        let mut outs = Vec::with_capacity(tasks.len());
        for t in tasks {
            outs.push(t.await);
        }
        outs
    });
    for out in outs {
        match out {
            Ok(w) => {
                result.acks.extend(w.acks);
                result.acked_at_ms.extend(w.acked_at);
                result.latencies_us.extend(w.lat);
                for (k, n) in w.errors {
                    *result.errors.entry(k).or_default() += n;
                }
            }
            Err(_) => {
                *result.errors.entry("worker panicked".into()).or_default() += 1;
            }
        }
    }
    result.elapsed = start.elapsed();
    result
}

/// One connection issuing one credential after another.
async fn worker(w: Arc<Work>) -> WorkerOut {
    let mut out = WorkerOut::default();
    let mut conn = match Connection::new(&w.base, Some(&w.token), Duration::from_secs(30)) {
        Ok(c) => c,
        Err(e) => {
            out.errors.insert(format!("setup: {e}"), 1);
            return out;
        }
    };
    loop {
        if w.stop.load(Ordering::Relaxed) || w.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let n = w.counter.fetch_add(1, Ordering::Relaxed);
        if w.count.is_some_and(|c| n >= c) {
            break;
        }
        let body = Bytes::from(format!("{}{}{}", w.before, w.prefix + n, w.after));
        let t0 = Instant::now();
        let failure = match conn.post_json("/admin/v1/credentials", body).await {
            Ok((status, text)) => {
                out.lat.push(t0.elapsed().as_micros() as u64);
                match (status, parse_ack(&text)) {
                    (201, Some(a)) => {
                        out.acks.push(a);
                        out.acked_at.push(w.start.elapsed().as_millis() as u64);
                        None
                    }
                    (201, None) => Some("bad 201 body".to_owned()),
                    (s, _) => Some(format!("http {s}")),
                }
            }
            Err(e) => Some(format!("transport ({})", e.kind())),
        };
        if let Some(kind) = failure {
            let transport = kind.starts_with("transport");
            *out.errors.entry(kind).or_default() += 1;
            if transport {
                // The service is down: do not turn into a busy loop.
                tokio::time::sleep(w.pause).await;
            }
        }
    }
    out
}

/// The fields of a 201 the load keeps; the rest (the credential itself)
/// is skipped without being copied.
#[derive(serde::Deserialize)]
struct AckBody<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    status_list: AckPosition,
}

#[derive(serde::Deserialize)]
struct AckPosition {
    list: i64,
    idx: i64,
}

fn parse_ack(text: &[u8]) -> Option<Ack> {
    let b: AckBody<'_> = serde_json::from_slice(text).ok()?;
    Some(Ack {
        id: b.id.into_owned(),
        list: b.status_list.list,
        idx: b.status_list.idx,
    })
}

/// Writes acknowledgements, one `id list idx` a line.
pub fn write_acks(path: &Path, acks: &[Ack]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for a in acks {
        writeln!(f, "{} {} {}", a.id, a.list, a.idx)?;
    }
    f.flush()
}

/// Reads what [`write_acks`] wrote.
pub fn read_acks(path: &Path) -> std::io::Result<Vec<Ack>> {
    let f = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut out = Vec::new();
    for line in f.lines() {
        let line = line?;
        let mut it = line.split_whitespace();
        let (Some(id), Some(list), Some(idx)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let bad = |_| std::io::Error::new(std::io::ErrorKind::InvalidData, line.clone());
        out.push(Ack {
            id: id.to_owned(),
            list: list.parse().map_err(bad)?,
            idx: idx.parse().map_err(bad)?,
        });
    }
    Ok(out)
}

/// What the check found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Acknowledged credentials checked.
    pub acknowledged: usize,
    /// Credentials the admin API lists.
    pub listed: usize,
    /// `credential.issue` entries in the audit log.
    pub audit_issue_entries: usize,
    /// Audit entries in all.
    pub audit_entries: usize,
    /// Acknowledged but not listed.
    pub missing_in_list: Vec<String>,
    /// Acknowledged with one (list, idx), listed with another.
    pub index_mismatch: Vec<String>,
    /// Acknowledged but without a `credential.issue` audit entry.
    pub missing_in_audit: Vec<String>,
    /// (list, idx) held by more than one listed credential, or acknowledged
    /// for more than one id.
    pub duplicate_indices: Vec<(i64, i64)>,
    /// Ids listed twice, or with two `credential.issue` entries.
    pub duplicate_ids: Vec<String>,
    /// Paging or protocol failures.
    pub failures: Vec<String>,
}

impl CheckReport {
    /// Everything held.
    pub fn passed(&self) -> bool {
        self.missing_in_list.is_empty()
            && self.index_mismatch.is_empty()
            && self.missing_in_audit.is_empty()
            && self.duplicate_indices.is_empty()
            && self.duplicate_ids.is_empty()
            && self.failures.is_empty()
    }

    /// A summary as JSON (at most 20 examples of each problem).
    pub fn to_json(&self) -> Value {
        let first = |v: &[String]| v.iter().take(20).cloned().collect::<Vec<_>>();
        json!({
            "passed": self.passed(),
            "acknowledged": self.acknowledged,
            "listed": self.listed,
            "audit_entries": self.audit_entries,
            "audit_issue_entries": self.audit_issue_entries,
            "missing_in_list": self.missing_in_list.len(),
            "index_mismatch": self.index_mismatch.len(),
            "missing_in_audit": self.missing_in_audit.len(),
            "duplicate_indices": self.duplicate_indices.len(),
            "duplicate_ids": self.duplicate_ids.len(),
            "examples": {
                "missing_in_list": first(&self.missing_in_list),
                "index_mismatch": first(&self.index_mismatch),
                "missing_in_audit": first(&self.missing_in_audit),
                "duplicate_indices": self.duplicate_indices.iter().take(20).collect::<Vec<_>>(),
                "duplicate_ids": first(&self.duplicate_ids),
            },
            "failures": self.failures,
        })
    }

    /// A summary for people.
    pub fn to_text(&self) -> String {
        format!(
            "check: {} acknowledged; {} listed ({} acknowledged missing, {} with another index); \
             {} duplicate (list, idx), {} duplicate ids; audit: {} entries, {} credential.issue \
             ({} acknowledged missing){}\ncheck: {}",
            self.acknowledged,
            self.listed,
            self.missing_in_list.len(),
            self.index_mismatch.len(),
            self.duplicate_indices.len(),
            self.duplicate_ids.len(),
            self.audit_entries,
            self.audit_issue_entries,
            self.missing_in_audit.len(),
            if self.failures.is_empty() {
                String::new()
            } else {
                format!("; failures: {}", self.failures.join("; "))
            },
            if self.passed() { "PASS" } else { "FAIL" },
        )
    }
}

fn get_json(agent: &ureq::Agent, target: &Target, path: &str) -> Result<Value, String> {
    let r = agent
        .get(&format!("{}{path}", target.base))
        .set("Authorization", &format!("Bearer {}", target.token))
        .call()
        .map_err(|e| format!("GET {path}: {e}"))?;
    let text = r
        .into_string()
        .map_err(|e| format!("GET {path}: reading: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("GET {path}: {e}"))
}

/// Listed credentials: id → (status list, index).
pub type Listed = HashMap<String, (i64, i64)>;

/// Every credential the admin API lists, and ids listed more than once.
pub fn list_all(target: &Target) -> Result<(Listed, Vec<String>), String> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let mut out = HashMap::new();
    let mut dups = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/admin/v1/credentials?limit=1000&after={a}"),
            None => "/admin/v1/credentials?limit=1000".to_owned(),
        };
        let page = get_json(&agent, target, &path)?;
        let items = page["credentials"]
            .as_array()
            .ok_or_else(|| format!("GET {path}: no credentials array"))?;
        for c in items {
            let id = c["id"]
                .as_str()
                .ok_or("a credential without id")?
                .to_owned();
            let list = c["status_list"]["list"].as_i64().ok_or("no list")?;
            let idx = c["status_list"]["idx"].as_i64().ok_or("no idx")?;
            if out.insert(id.clone(), (list, idx)).is_some() {
                dups.push(id);
            }
        }
        match page["next"].as_i64() {
            Some(n) if after.is_none_or(|a| n > a) => after = Some(n),
            Some(n) => return Err(format!("the list's cursor did not advance ({n})")),
            None => return Ok((out, dups)),
        }
    }
}

/// Every audit entry of the token's agency: `(action, subject)` in order.
pub fn audit_all(target: &Target) -> Result<Vec<(String, String)>, String> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let path = format!("/admin/v1/audit?limit=1000&after={after}");
        let page = get_json(&agent, target, &path)?;
        let items = page["entries"]
            .as_array()
            .ok_or_else(|| format!("GET {path}: no entries array"))?;
        let mut last = after;
        for e in items {
            let seq = e["seq"].as_i64().ok_or("an audit entry without seq")?;
            if seq <= last {
                return Err(format!("audit seq {seq} after {last}"));
            }
            last = seq;
            out.push((
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["subject"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        match page["next"].as_i64() {
            Some(n) if n > after => after = n,
            Some(n) => return Err(format!("the audit cursor did not advance ({n})")),
            None => return Ok(out),
        }
    }
}

/// Checks that every acknowledged credential is listed with the index it
/// was acknowledged with and has a `credential.issue` audit entry, and that
/// no status index was given twice.
pub fn check(target: &Target, acks: &[Ack]) -> CheckReport {
    let mut r = CheckReport {
        acknowledged: acks.len(),
        ..Default::default()
    };
    // Acknowledgements among themselves.
    let mut by_index: HashMap<(i64, i64), &str> = HashMap::new();
    for a in acks {
        if let Some(other) = by_index.insert((a.list, a.idx), &a.id)
            && other != a.id
        {
            r.duplicate_indices.push((a.list, a.idx));
        }
    }
    match list_all(target) {
        Ok((listed, dups)) => {
            r.listed = listed.len();
            r.duplicate_ids.extend(dups);
            let mut seen: HashSet<(i64, i64)> = HashSet::new();
            for &ix in listed.values() {
                if !seen.insert(ix) {
                    r.duplicate_indices.push(ix);
                }
            }
            for a in acks {
                match listed.get(&a.id) {
                    None => r.missing_in_list.push(a.id.clone()),
                    Some(&(l, i)) if (l, i) != (a.list, a.idx) => r.index_mismatch.push(format!(
                        "{}: acknowledged ({}, {}), listed ({l}, {i})",
                        a.id, a.list, a.idx
                    )),
                    Some(_) => {}
                }
            }
        }
        Err(e) => r.failures.push(format!("listing: {e}")),
    }
    match audit_all(target) {
        Ok(entries) => {
            r.audit_entries = entries.len();
            let mut issued: HashSet<&str> = HashSet::new();
            for (action, subject) in &entries {
                if action == "credential.issue" {
                    r.audit_issue_entries += 1;
                    if !issued.insert(subject) {
                        r.duplicate_ids.push(format!("audit: {subject}"));
                    }
                }
            }
            for a in acks {
                if !issued.contains(a.id.as_str()) {
                    r.missing_in_audit.push(a.id.clone());
                }
            }
        }
        Err(e) => r.failures.push(format!("audit log: {e}")),
    }
    r.duplicate_indices.sort_unstable();
    r.duplicate_indices.dedup();
    r
}

/// A `tongban-issuer serve` child process on a data directory the caller
/// owns (so it can be killed and started again on the same data), with its
/// stderr appended to a file. Dropping it kills the process (SIGKILL, by
/// its child handle) if it still runs. (`tongban_e2e::issuer::IssuerProcess`
/// is the one-shot kind with a fresh directory of its own.)
#[derive(Debug)]
pub struct ServeProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The file holding its stderr.
    pub log: PathBuf,
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl ServeProcess {
    /// Starts `bin serve` on `data_dir` (and `database_url`), listening on
    /// `port` with `public_url` (`http://127.0.0.1:PORT` if `None`), with
    /// stderr appended to `log` and `env` added to its environment (the
    /// caller's `TONGBAN_MASTER_KEY` and `TONGBAN_ISSUER_CONFIG` removed), and
    /// waits until `/readyz` answers 200 (or `timeout` passes, an error).
    pub fn start(
        bin: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        (port, public_url): (u16, Option<&str>),
        log: &Path,
        timeout: Duration,
        env: &[(&str, &str)],
    ) -> Result<ServeProcess, String> {
        let base = format!("http://127.0.0.1:{port}");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--public-url")
            .arg(public_url.unwrap_or(&base))
            .env_remove("TONGBAN_MASTER_KEY")
            .env_remove("TONGBAN_ISSUER_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        let child = cmd.spawn().map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut p = ServeProcess {
            child,
            base,
            log: log.to_owned(),
        };
        p.wait_ready(timeout)?;
        Ok(p)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(2))
            .build();
        let until = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the service exited ({status}) before it was ready; its log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ));
            }
            if agent
                .get(&format!("{}/readyz", self.base))
                .call()
                .is_ok_and(|r| r.status() == 200)
            {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(format!("/readyz not 200 within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The admin token the first start printed (the last one in the log).
    pub fn token(&self) -> Option<String> {
        admin_token_in(&std::fs::read_to_string(&self.log).ok()?)
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(|_| ())
    }

    /// SIGTERM (by pid), then wait up to `timeout` for the exit; returns
    /// its status, or kills it and fails.
    pub fn terminate(&mut self, timeout: Duration) -> Result<std::process::ExitStatus, String> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("kill -TERM {pid}: {e}"))?;
        let until = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => return Ok(s),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.kill();
                    return Err(format!("no exit within {timeout:?} of SIGTERM"));
                }
            }
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `tbat_…` token in a log text.
pub fn admin_token_in(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .rfind(|w| w.starts_with("tbat_") && w.len() > 10)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile_sorted(&v, 50.0), 50);
        assert_eq!(percentile_sorted(&v, 99.0), 99);
        assert_eq!(percentile_sorted(&v, 100.0), 100);
        assert_eq!(percentile_sorted(&[], 99.0), 0);
    }

    #[test]
    fn token_is_found_in_the_banner() {
        let log = "First start…\n\n    tbat_AbC-d_9xyzxyzxyz\n\nTry:  curl -H 'Authorization: Bearer tbat_AbC-d_9xyzxyzxyz' http://x\n";
        assert_eq!(
            admin_token_in(log).as_deref(),
            Some("tbat_AbC-d_9xyzxyzxyz")
        );
    }

    #[test]
    fn body_template_fills_a_licence_id() {
        let (a, b) = body_template().unwrap_or_default();
        let v: Value = serde_json::from_str(&format!("{a}1000000007{b}")).unwrap_or_default();
        assert_eq!(v["claims"]["licence_id"], "320509-BL-2026-1000000007");
        assert_eq!(v["holder_jwk"]["kty"], "OKP");
    }
}
