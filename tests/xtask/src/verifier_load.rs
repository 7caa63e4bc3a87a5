//! Verification load against a running `tongban-verifier-service serve`:
//! completed OpenID4VP verifications over HTTP per second, with latency
//! percentiles and the CPU split between the service and this client.
//! Used by the `verify-load` binary (`scripts/verify-load.sh`).
//!
//! What is prepared first, and not timed:
//!
//! - a trust bundle of the demonstration zone made at the current time
//!   ([`write_zone`]), which the service is started with;
//! - a tenant (receiving agency) and its back-office token, made through
//!   the admin API;
//! - N transactions (`POST /api/v1/transactions`, the catalogue shorthand
//!   for a business licence's `company_name` and `legal_representative`)
//!   and each one's signed request object (`POST` to its `request_uri`),
//!   which carries the nonce, `state` and the transaction's encryption key;
//! - each transaction's wallet answer: a presentation of one Wujiang
//!   business licence with a KB-JWT for the tenant's client identifier and
//!   the request's nonce (`tongban-test-support`), encrypted to the
//!   transaction's key with josekit (`ECDH-ES`, `A128GCM`) as a wallet does.
//!
//! What is timed ([`Phase`]):
//!
//! - **response**: the wallet's `POST` of the encrypted response to the
//!   transaction's `response_uri`, from the first byte sent to the last
//!   byte of the service's `200 {}`. In that time the service reads the
//!   transaction, opens its sealed key, decrypts the JWE, verifies the
//!   presentation against the trust bundle and the DCQL query, and commits
//!   the answer with its audit entry. One such 200 is one **completed
//!   verification**.
//! - **round trip**: on other transactions, the wallet's request-object
//!   fetch (signed by the service), the same response `POST`, and the back
//!   office's outcome read (`GET /api/v1/transactions/{id}`, which hands
//!   over the verified claims and erases them in one database
//!   transaction), one after the other on one connection; it completes when
//!   the outcome says `accepted` with the claims. The wallet's own work
//!   (signing the KB-JWT, encrypting) is outside the timed part: it happens
//!   on the citizen's phone, and the answer cannot depend on the second
//!   fetch (the nonce and key are the transaction's).
//!
//! After the response phase every one of its transactions is read back
//! through the back-office API: it must be `accepted` with its claims.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tongban_test_support::present::{Audience, present};
use tongban_test_support::sample::catalogue_claims;
use tongban_test_support::zone::{self, trusted_key};
use tongban_verifier::trust::Anchor;
use tongban_verifier::{
    CredentialBuilder, KeyWithId, Signer as _, StatusList, StatusListToken, TrustBundle, TrustList,
    TrustedIssuer, status,
};

use crate::issuer_load::percentile_sorted;

const DAY: i64 = 86_400;
/// The claims every transaction asks for.
pub const ASKED: [&str; 2] = ["company_name", "legal_representative"];
/// The `wallet_metadata` the load's wallet sends with a request-object fetch.
const WALLET_FETCH_FORM: &str =
    "wallet_nonce=load-wallet-nonce&wallet_metadata=%7B%22vp_formats_supported%22%3A%7B%7D%7D";

/// Where the zone's files were written.
#[derive(Debug, Clone)]
pub struct ZoneFiles {
    /// The trust bundle directory (`bundle_dir` of the service).
    pub bundle_dir: PathBuf,
    /// The anchor's public key, a JWK with `kid` (`anchor_key_files`).
    pub anchor_file: PathBuf,
}

/// Writes the demonstration zone's trust bundle, assembled at `now`, and
/// its anchor key under `dir`.
pub fn write_zone(dir: &Path, now: i64) -> Result<ZoneFiles, String> {
    let agencies = zone::agencies();
    let status_uri = |a: &zone::Agency| format!("{}/status/1", a.id);
    let list = TrustList {
        version: 1,
        anchor: Anchor {
            id: zone::ANCHOR_ID.into(),
            name_zh: zone::ANCHOR_NAME_ZH.into(),
            name_en: zone::ANCHOR_NAME_EN.into(),
        },
        sequence: 1,
        root_sequence: None,
        verifiers: None,
        issued_at: now - 60,
        next_update: now + 7 * DAY,
        issuers: agencies
            .iter()
            .map(|a| TrustedIssuer {
                id: a.id.into(),
                name_zh: a.name_zh.into(),
                name_en: a.name_en.into(),
                region: a.region.into(),
                vcts: vec![a.vct.into()],
                keys: vec![
                    trusted_key(&a.signer, now - 365 * DAY, None, None),
                    trusted_key(&a.status_signer, now - 365 * DAY, None, None),
                ],
                status_lists: vec![status_uri(a)],
            })
            .collect(),
        x509_anchors: None,
    };
    let anchor = zone::anchor();
    let tl = list.sign(&anchor).map_err(|e| e.to_string())?;
    let jwts = agencies
        .iter()
        .map(|a| {
            let l = StatusList::new(status::Bits::new(2).ok_or("2-bit status lists")?, 1000);
            StatusListToken::sign(
                &a.status_signer,
                a.id,
                &status_uri(a),
                now - 60,
                Some(now + DAY),
                Some(43_200),
                &l,
            )
            .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<String>, String>>()?;
    let anchor_key = KeyWithId {
        key: anchor.public_key(),
        kid: Some(zone::ANCHOR_KID.into()),
    };
    let (_, files) =
        TrustBundle::assemble(&tl, &jwts, std::slice::from_ref(&anchor_key), None, now)
            .map_err(|e| format!("assembling the zone's bundle: {e}"))?;
    let bundle_dir = dir.join("trust-bundle");
    tongban_trust_sync::bundle_dir::write(&bundle_dir, &files).map_err(|e| e.to_string())?;
    let mut jwk = anchor.public_key().to_jwk();
    jwk["kid"] = zone::ANCHOR_KID.into();
    let anchor_file = dir.join("anchor.jwk");
    std::fs::write(&anchor_file, jwk.to_string())
        .map_err(|e| format!("{}: {e}", anchor_file.display()))?;
    Ok(ZoneFiles {
        bundle_dir,
        anchor_file,
    })
}

/// A Wujiang business licence of the zone, bound to the zone's holder,
/// valid around `now`.
pub fn business_licence(now: i64) -> Result<String, String> {
    let a = zone::agencies()
        .into_iter()
        .nth(1)
        .ok_or("the zone has no Wujiang agency")?;
    CredentialBuilder::new(a.id, zone::BUSINESS_LICENCE, now - 10 * DAY)
        .expires_at(now + 365 * DAY)
        .holder_key(zone::holder().public_key())
        .status(json!({"status_list": {"idx": 5, "uri": format!("{}/status/1", a.id)}}))
        .claims(catalogue_claims("business-licence", 1))
        .issue(&a.signer, &mut rand_core::OsRng)
        .map(|c| c.sd_jwt)
        .map_err(|e| e.to_string())
}

/// The service and the admin token printed at its first start.
#[derive(Debug, Clone)]
pub struct Service {
    /// `http://127.0.0.1:PORT`, no trailing slash (also its public URL).
    pub base: String,
    /// `tbvs_…` (admin).
    pub admin_token: String,
    /// Its process id, to read its CPU time from `/proc` (if known).
    pub pid: Option<u32>,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .max_idle_connections_per_host(1)
        .build()
}

fn json_body(resp: ureq::Response) -> Result<Value, String> {
    let text = resp.into_string().map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn call_json(r: Result<ureq::Response, ureq::Error>) -> Result<Value, String> {
    match r {
        Ok(resp) => json_body(resp).map_err(|e| format!("reading JSON: {e}")),
        Err(ureq::Error::Status(s, resp)) => Err(format!(
            "http {s}: {}",
            resp.into_string().unwrap_or_default()
        )),
        Err(e) => Err(format!("transport: {e}")),
    }
}

/// A tenant made for the load, with its back-office token.
#[derive(Debug, Clone)]
pub struct LoadTenant {
    /// Its id.
    pub id: String,
    /// Its client identifier (`x509_hash:…`).
    pub client_id: String,
    /// Its back-office token (`tbvs_…`).
    pub token: String,
}

/// Makes the tenant `id` (x509_hash) and a token for it.
pub fn make_tenant(svc: &Service, id: &str) -> Result<LoadTenant, String> {
    let a = agent();
    let auth = format!("Bearer {}", svc.admin_token);
    let t = call_json(
        a.post(&format!("{}/api/v1/tenants", svc.base))
            .set("Authorization", &auth)
            .set("Content-Type", "application/json")
            .send_string(&json!({
                "id": id, "name_zh": "青浦区行政服务中心（压测）", "name_en": "Qingpu service centre (load)",
                "region": "310118", "dns": format!("{id}.load.example"),
            }).to_string()),
    )
    .map_err(|e| format!("creating tenant {id}: {e}"))?;
    let k = call_json(
        a.post(&format!("{}/api/v1/tokens", svc.base))
            .set("Authorization", &auth)
            .set("Content-Type", "application/json")
            .send_string(&json!({"tenant": id, "label": "verify-load"}).to_string()),
    )
    .map_err(|e| format!("creating a token for {id}: {e}"))?;
    Ok(LoadTenant {
        id: id.to_owned(),
        client_id: t["client_id"].as_str().ok_or("no client_id")?.to_owned(),
        token: k["token"].as_str().ok_or("no token")?.to_owned(),
    })
}

/// One transaction, its request object read, ready for its answer.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Its id.
    pub id: String,
    /// Where the wallet fetches the request object.
    pub request_uri: String,
    /// Where the wallet posts its answer.
    pub response_uri: String,
    /// The request's nonce.
    pub nonce: String,
    /// The request's `state`.
    pub state: String,
    /// The DCQL credential query's id.
    pub query_id: String,
    /// The transaction's encryption key (public JWK with `kid`).
    pub jwk: Map<String, Value>,
    /// The client identifier the request object names.
    pub client_id: String,
}

/// A transaction with its wallet answer: the form body to post.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The transaction.
    pub pending: Pending,
    /// `response=<JWE>`.
    pub form: String,
}

/// Latencies and failures of one timed (or measured) phase.
#[derive(Debug, Clone, Default)]
pub struct PhaseResult {
    /// Its name.
    pub name: String,
    /// Items that completed.
    pub completed: usize,
    /// Per completed item, its steps' durations in microseconds (one step,
    /// or several for the round trip).
    pub steps_us: Vec<Vec<u64>>,
    /// Names of the steps.
    pub step_names: Vec<String>,
    /// Failures by kind.
    pub errors: BTreeMap<String, u64>,
    /// Wall time of the phase.
    pub elapsed: Duration,
    /// Workers.
    pub workers: usize,
    /// CPU seconds the service used in the phase (if its pid is known).
    pub service_cpu_s: Option<f64>,
    /// CPU seconds this process used in the phase.
    pub client_cpu_s: Option<f64>,
    /// Busy and total CPU seconds of the machine in the phase.
    pub machine_cpu_s: Option<(f64, f64)>,
}

impl PhaseResult {
    /// Completed items per second.
    pub fn throughput(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.completed as f64 / s
        } else {
            0.0
        }
    }

    fn sorted(&self, step: Option<usize>) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .steps_us
            .iter()
            .map(|s| match step {
                Some(i) => s.get(i).copied().unwrap_or(0),
                None => s.iter().sum(),
            })
            .collect();
        v.sort_unstable();
        v
    }

    fn latency_json(v: &[u64]) -> Value {
        let ms = |p: f64| percentile_sorted(v, p) as f64 / 1000.0;
        json!({"p50": ms(50.0), "p90": ms(90.0), "p99": ms(99.0), "p99_9": ms(99.9),
               "max": v.last().copied().unwrap_or(0) as f64 / 1000.0})
    }

    fn latency_text(v: &[u64]) -> String {
        let ms = |p: f64| percentile_sorted(v, p) as f64 / 1000.0;
        format!(
            "p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            ms(50.0),
            ms(90.0),
            ms(99.0),
            ms(99.9),
            v.last().copied().unwrap_or(0) as f64 / 1000.0
        )
    }

    fn cpu_text(&self) -> Option<String> {
        let w = self.elapsed.as_secs_f64().max(1e-9);
        let client = self.client_cpu_s?;
        let mut s = match self.service_cpu_s {
            Some(svc) => format!(
                "cpu: service {svc:.1} s ({:.0}% of one core; {:.0} µs per completed), load client {client:.1} s ({:.0}%)",
                100.0 * svc / w,
                1e6 * svc / self.completed.max(1) as f64,
                100.0 * client / w
            ),
            None => format!(
                "cpu: load client {client:.1} s ({:.0}%)",
                100.0 * client / w
            ),
        };
        if let Some((busy, total)) = self.machine_cpu_s {
            let other = busy - client - self.service_cpu_s.unwrap_or(0.0);
            s.push_str(&format!(
                "; whole machine {:.0}% busy, other processes {other:.1} s",
                100.0 * busy / total.max(1e-9)
            ));
        }
        Some(s)
    }

    /// A summary as JSON.
    pub fn to_json(&self) -> Value {
        let mut steps = Map::new();
        if self.step_names.len() > 1 {
            for (i, n) in self.step_names.iter().enumerate() {
                steps.insert(n.clone(), Self::latency_json(&self.sorted(Some(i))));
            }
        }
        json!({
            "phase": self.name,
            "workers": self.workers,
            "completed": self.completed,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "per_s": self.throughput(),
            "latency_ms": Self::latency_json(&self.sorted(None)),
            "steps_latency_ms": steps,
            "errors": self.errors,
            "cpu_s": {
                "service": self.service_cpu_s,
                "client": self.client_cpu_s,
                "machine_busy": self.machine_cpu_s.map(|m| m.0),
                "machine_total": self.machine_cpu_s.map(|m| m.1),
            },
        })
    }

    /// A summary for people.
    pub fn to_text(&self) -> String {
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            self.errors
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = format!(
            "{}: {} completed in {:.2} s with {} workers (keep-alive): {:.1}/s\n  latency ms: {}\n",
            self.name,
            self.completed,
            self.elapsed.as_secs_f64(),
            self.workers,
            self.throughput(),
            Self::latency_text(&self.sorted(None)),
        );
        if self.step_names.len() > 1 {
            for (i, n) in self.step_names.iter().enumerate() {
                s.push_str(&format!(
                    "    {n}: {}\n",
                    Self::latency_text(&self.sorted(Some(i)))
                ));
            }
        }
        s.push_str(&format!("  errors: {errors}"));
        if let Some(c) = self.cpu_text() {
            s.push_str(&format!("\n  {c}"));
        }
        s
    }
}

/// CPU seconds (user + system) of a process, from `/proc/PID/stat`.
fn process_cpu_s(pid: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count from its end.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the line are the 12th and 13th after the name.
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

fn clock_ticks() -> f64 {
    // Linux reports USER_HZ = 100 on every architecture this runs on.
    100.0
}

/// Busy and total CPU seconds of the machine, from `/proc/stat`.
fn machine_cpu_s() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 8 {
        return None;
    }
    let total: f64 = v.iter().sum();
    let idle = v[3] + v[4];
    Some(((total - idle) / clock_ticks(), total / clock_ticks()))
}

struct CpuMark {
    service: Option<f64>,
    client: Option<f64>,
    machine: Option<(f64, f64)>,
}

impl CpuMark {
    fn now(pid: Option<u32>) -> CpuMark {
        CpuMark {
            service: pid.and_then(|p| process_cpu_s(&p.to_string())),
            client: process_cpu_s("self"),
            machine: machine_cpu_s(),
        }
    }

    fn since(&self, r: &mut PhaseResult, pid: Option<u32>) {
        let now = CpuMark::now(pid);
        r.service_cpu_s = now.service.zip(self.service).map(|(b, a)| b - a);
        r.client_cpu_s = now.client.zip(self.client).map(|(b, a)| b - a);
        r.machine_cpu_s = now
            .machine
            .zip(self.machine)
            .map(|(b, a)| (b.0 - a.0, b.1 - a.1));
    }
}

/// Runs `work` over `items` from `workers` threads, each with its own
/// keep-alive connection, taking items in order from a shared counter.
/// `work` returns the durations of its steps, or the kind of failure.
fn drive<T, R, F>(
    name: &str,
    step_names: &[&str],
    items: &[T],
    workers: usize,
    pid: Option<u32>,
    work: F,
) -> (PhaseResult, Vec<Option<R>>)
where
    T: Sync,
    R: Send,
    F: Fn(&ureq::Agent, &T) -> Result<(Vec<u64>, R), String> + Sync,
{
    let next = AtomicUsize::new(0);
    let workers = workers.max(1);
    let cpu = CpuMark::now(pid);
    let start = Instant::now();
    let per_worker: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let agent = agent();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, work(&agent, item)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut r = PhaseResult {
        name: name.to_owned(),
        step_names: step_names.iter().map(|s| (*s).to_owned()).collect(),
        elapsed: start.elapsed(),
        workers,
        ..PhaseResult::default()
    };
    cpu.since(&mut r, pid);
    let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for (i, outcome) in per_worker.into_iter().flatten() {
        match outcome {
            Ok((steps, v)) => {
                r.completed += 1;
                r.steps_us.push(steps);
                results[i] = Some(v);
            }
            Err(kind) => *r.errors.entry(kind).or_default() += 1,
        }
    }
    (r, results)
}

fn error_kind(e: ureq::Error) -> String {
    match e {
        ureq::Error::Status(s, resp) => {
            let body: Value = json_body(resp).unwrap_or_default();
            format!("http {s} {}", body["code"].as_str().unwrap_or(""))
        }
        ureq::Error::Transport(_) => "transport".into(),
    }
}

fn micros(t: Instant) -> u64 {
    t.elapsed().as_micros() as u64
}

/// Creates `n` transactions for `tenant` (measured, reported apart).
pub fn create_transactions(
    svc: &Service,
    tenant: &LoadTenant,
    n: usize,
    workers: usize,
) -> (PhaseResult, Vec<(String, String)>) {
    let url = format!("{}/api/v1/transactions", svc.base);
    let auth = format!("Bearer {}", tenant.token);
    let body = json!({
        "licence": {"type": "business-licence", "claims": ASKED},
        "purpose": {"zh": "办理企业迁移登记", "en": "Company relocation registration"},
        "service_item": "310000-ZZ-001",
    })
    .to_string();
    let items = vec![(); n];
    let (r, created) = drive(
        "create (back office POST /api/v1/transactions)",
        &["create"],
        &items,
        workers,
        svc.pid,
        |a, _| {
            let t0 = Instant::now();
            let v: Value = a
                .post(&url)
                .set("Authorization", &auth)
                .set("Content-Type", "application/json")
                .send_string(&body)
                .map_err(error_kind)
                .and_then(|r| json_body(r).map_err(|_| "bad 201 body".to_owned()))?;
            let us = micros(t0);
            let id = v["id"].as_str().ok_or("no id")?.to_owned();
            let uri = v["request_uri"]
                .as_str()
                .ok_or("no request_uri")?
                .to_owned();
            Ok((vec![us], (id, uri)))
        },
    );
    (r, created.into_iter().flatten().collect())
}

fn fetch_request(a: &ureq::Agent, request_uri: &str) -> Result<String, String> {
    a.post(request_uri)
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(WALLET_FETCH_FORM)
        .map_err(error_kind)?
        .into_string()
        .map_err(|_| "transport (reading the request object)".to_owned())
}

fn decode_payload(jws: &str) -> Result<Map<String, Value>, String> {
    let part = jws.split('.').nth(1).ok_or("not a JWS")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| "payload not base64url")?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err("payload not a JSON object".into()),
    }
}

fn pending_from(id: &str, request_uri: &str, jws: &str) -> Result<Pending, String> {
    let c = decode_payload(jws)?;
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("request object without {k}"))
    };
    Ok(Pending {
        id: id.to_owned(),
        request_uri: request_uri.to_owned(),
        response_uri: s("response_uri")?,
        nonce: s("nonce")?,
        state: s("state")?,
        client_id: s("client_id")?,
        query_id: c["dcql_query"]["credentials"][0]["id"]
            .as_str()
            .ok_or("no DCQL credential query id")?
            .to_owned(),
        jwk: c["client_metadata"]["jwks"]["keys"][0]
            .as_object()
            .ok_or("no encryption key in client_metadata")?
            .clone(),
    })
}

/// Fetches each transaction's request object (measured, reported apart).
pub fn fetch_requests(
    svc: &Service,
    created: &[(String, String)],
    workers: usize,
) -> (PhaseResult, Vec<Pending>) {
    let (r, pending) = drive(
        "request object (wallet POST request_uri)",
        &["fetch"],
        created,
        workers,
        svc.pid,
        |a, (id, uri)| {
            let t0 = Instant::now();
            let jws = fetch_request(a, uri)?;
            let us = micros(t0);
            Ok((vec![us], pending_from(id, uri, &jws)?))
        },
    );
    (r, pending.into_iter().flatten().collect())
}

/// Makes every transaction's wallet answer (presentation and JWE) at
/// `now`, on `threads` threads.
pub fn make_answers(
    sd_jwt: &str,
    pending: Vec<Pending>,
    now: i64,
    threads: usize,
) -> Result<Vec<Answer>, String> {
    let holder = zone::holder();
    let chunk = pending.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<Answer>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = pending
            .chunks(chunk)
            .map(|part| {
                let holder = &holder;
                scope.spawn(move || {
                    part.iter()
                        .map(|p| {
                            let vp = present(
                                sd_jwt,
                                &ASKED,
                                holder,
                                Audience {
                                    aud: &p.client_id,
                                    nonce: &p.nonce,
                                    iat: now,
                                },
                            )
                            .map_err(|e| format!("presenting: {e}"))?;
                            let payload =
                                json!({"vp_token": {&p.query_id: [vp]}, "state": p.state});
                            let jwe = encrypt(&p.jwk, &payload)?;
                            Ok(Answer {
                                pending: p.clone(),
                                form: format!("response={jwe}"),
                            })
                        })
                        .collect::<Result<Vec<_>, String>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("an answer thread panicked".into()))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(pending.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Encrypts `payload` to a transaction's key as a wallet does:
/// `ECDH-ES`, `A128GCM`, the key's `kid`. (A JWE is base64url and dots:
/// nothing in it needs form encoding.)
fn encrypt(jwk: &Map<String, Value>, payload: &Value) -> Result<String, String> {
    let key = josekit::jwk::Jwk::from_map(jwk.clone()).map_err(|e| e.to_string())?;
    let e = josekit::jwe::ECDH_ES
        .encrypter_from_jwk(&key)
        .map_err(|e| e.to_string())?;
    let mut h = josekit::jwe::JweHeader::new();
    h.set_content_encryption("A128GCM");
    if let Some(kid) = jwk.get("kid").and_then(Value::as_str) {
        h.set_key_id(kid);
    }
    josekit::jwe::serialize_compact(payload.to_string().as_bytes(), &h, &e)
        .map_err(|e| e.to_string())
}

fn post_answer(a: &ureq::Agent, ans: &Answer) -> Result<(), String> {
    let resp = a
        .post(&ans.pending.response_uri)
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&ans.form)
        .map_err(error_kind)?;
    let v: Value =
        json_body(resp).map_err(|_| "transport (reading the response's answer)".to_owned())?;
    // Cross-device, accepted: 200 `{}` (a rejection is a 400).
    if v.as_object().is_some_and(Map::is_empty) {
        Ok(())
    } else {
        Err("unexpected 200 body".into())
    }
}

fn read_outcome(a: &ureq::Agent, svc: &Service, auth: &str, id: &str) -> Result<(), String> {
    let v: Value = a
        .get(&format!("{}/api/v1/transactions/{id}", svc.base))
        .set("Authorization", auth)
        .call()
        .map_err(error_kind)
        .and_then(|r| json_body(r).map_err(|_| "transport (reading the outcome)".to_owned()))?;
    if v["state"] != "accepted" {
        return Err(format!("outcome {}", v["state"]));
    }
    if !v["claims"].is_object() {
        return Err("accepted without claims (read before?)".into());
    }
    Ok(())
}

/// The timed response phase: each answer posted once.
pub fn run_responses(svc: &Service, answers: &[Answer], workers: usize) -> PhaseResult {
    drive(
        "response (wallet POST response_uri: decrypt, verify, store)",
        &["response"],
        answers,
        workers,
        svc.pid,
        |a, ans| {
            let t0 = Instant::now();
            post_answer(a, ans)?;
            Ok((vec![micros(t0)], ()))
        },
    )
    .0
}

/// The timed round trip: request-object fetch, response, outcome read.
pub fn run_round_trips(
    svc: &Service,
    tenant: &LoadTenant,
    answers: &[Answer],
    workers: usize,
) -> PhaseResult {
    let auth = format!("Bearer {}", tenant.token);
    drive(
        "round trip (request object + response + outcome read)",
        &["request object", "response", "outcome read"],
        answers,
        workers,
        svc.pid,
        |a, ans| {
            let t0 = Instant::now();
            let jws = fetch_request(a, &ans.pending.request_uri)?;
            // The request the wallet reads must be the one it answers.
            let again = pending_from(&ans.pending.id, &ans.pending.request_uri, &jws)?;
            if again.nonce != ans.pending.nonce || again.jwk != ans.pending.jwk {
                return Err("the request object changed between fetches".into());
            }
            let t1 = Instant::now();
            post_answer(a, ans)?;
            let t2 = Instant::now();
            read_outcome(a, svc, &auth, &ans.pending.id)?;
            let t3 = Instant::now();
            let us = |a: Instant, b: Instant| b.duration_since(a).as_micros() as u64;
            Ok((vec![us(t0, t1), us(t1, t2), us(t2, t3)], ()))
        },
    )
    .0
}

/// Reads back every transaction of the response phase: each must be
/// `accepted` with its claims (measured, reported apart; it is the
/// back office's read).
pub fn check_outcomes(
    svc: &Service,
    tenant: &LoadTenant,
    answers: &[Answer],
    workers: usize,
) -> PhaseResult {
    let auth = format!("Bearer {}", tenant.token);
    drive(
        "check (back office GET outcome: accepted, claims handed over once)",
        &["outcome read"],
        answers,
        workers,
        svc.pid,
        |a, ans| {
            let t0 = Instant::now();
            read_outcome(a, svc, &auth, &ans.pending.id)?;
            Ok((vec![micros(t0)], ()))
        },
    )
    .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_bundle_loads_with_its_anchor_file() {
        let dir = std::env::temp_dir().join(format!("verify-load-zone-{}", std::process::id()));
        let now = 1_800_000_000;
        let files = write_zone(&dir, now).unwrap();
        let text = std::fs::read_to_string(&files.anchor_file).unwrap();
        let anchors = KeyWithId::from_key_document(&serde_json::from_str(&text).unwrap()).unwrap();
        let b = tongban_trust_sync::bundle_dir::load(&files.bundle_dir, &anchors).unwrap();
        assert_eq!(b.trust_list().list().sequence, 1);
        assert!(business_licence(now).unwrap().contains('~'));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn proc_stat_is_read() {
        assert!(process_cpu_s("self").is_some());
        let (busy, total) = machine_cpu_s().unwrap();
        assert!(busy <= total);
    }
}
