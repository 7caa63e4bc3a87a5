//! Test harness: the service's router over SQLite (a temporary file) or
//! PostgreSQL (a fresh database per test on `TONGBAN_TEST_DATABASE_URL`),
//! driven with `tower::ServiceExt::oneshot` — no port, no sleep.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};
use tongban_issuer::app::login::{CitizenLogin, LoginError, LoginStart, PendingLogin};
use tongban_issuer::app::{AgencySpec, Database, Plugins, Service};
use tongban_issuer::bootstrap;
use tongban_issuer::config::{Config, Overrides};
use tongban_issuer::keys::MasterKey;
use tongban_issuer::tokens::Scopes;
use tongban_service_kit::{Clock as _, ManualClock, SystemClock};
use tongban_test_support::postgres::FreshDatabase;
use tongban_test_support::sample::catalogue_claims;
use tower::ServiceExt as _;

pub const PUBLIC_URL: &str = "https://issuer.test";
/// The fake login of agency `demo` (see [`FakeLogin`]).
pub const LOGIN_URL: &str = "https://login.test/authorize";

/// A citizen login for agency `demo` only, without a provider: `begin`
/// sends the browser to [`LOGIN_URL`]`?state=…`, and `finish` takes the
/// code `sub:<subject>` as that subject's successful login (anything else
/// is refused). The OpenID Connect relying party itself is tested against
/// a real provider in `tests/tests/haip_auth.rs`.
pub struct FakeLogin;

#[async_trait::async_trait]
impl CitizenLogin for FakeLogin {
    fn serves(&self, agency_id: &str) -> bool {
        agency_id == "demo"
    }

    async fn begin(&self, agency_id: &str, _redirect_uri: &str) -> Result<LoginStart, LoginError> {
        if agency_id != "demo" {
            return Err(LoginError::NotConfigured(agency_id.into()));
        }
        let mut r = [0u8; 16];
        OsRng.fill_bytes(&mut r);
        let state = hex::encode(r);
        Ok(LoginStart {
            url: format!("{LOGIN_URL}?state={state}"),
            pending: PendingLogin {
                state,
                nonce: "n".into(),
                verifier: "v".into(),
            },
        })
    }

    async fn finish(
        &self,
        _agency_id: &str,
        _redirect_uri: &str,
        code: &str,
        pending: &PendingLogin,
        _now: i64,
    ) -> Result<String, LoginError> {
        assert_eq!(
            (pending.nonce.as_str(), pending.verifier.as_str()),
            ("n", "v")
        );
        code.strip_prefix("sub:")
            .map(str::to_owned)
            .ok_or_else(|| LoginError::Refused("the fake login refuses this code".into()))
    }
}

fn fake_login() -> Plugins {
    Plugins {
        login: Some(Arc::new(FakeLogin)),
        claims: None,
    }
}
pub const DEMO_ISS: &str = "https://issuer.test/agencies/demo";

pub struct Harness {
    pub app: Router,
    pub svc: Arc<Service>,
    /// The clock every service of the harness reads; it starts at the
    /// wall-clock time and moves only when a test moves it.
    pub clock: Arc<ManualClock>,
    /// All-scopes token of agency `demo` (all types).
    pub demo: String,
    /// All-scopes token of agency `other` (driving licences only).
    pub other: String,
    /// The master key, hex (to open a second replica).
    pub master_hex: String,
    _dir: tempfile::TempDir,
    pg: Option<FreshDatabase>,
}

pub enum Backend {
    Sqlite,
    Postgres,
}

fn config(dir: &std::path::Path, database_url: Option<String>) -> Config {
    Config::load_with(
        None,
        &Overrides {
            data_dir: Some(dir.to_owned()),
            database_url,
            public_url: Some(PUBLIC_URL.into()),
            ..Default::default()
        },
        |k| match k {
            // Small lists keep status-list tests quick.
            "TONGBAN_ISSUER_STATUS_LIST_SIZE" => Some("1024".into()),
            "TONGBAN_ISSUER_INDEX_BLOCK" => Some("8".into()),
            "TONGBAN_ISSUER_MAX_BODY_BYTES" => Some("65536".into()),
            "TONGBAN_ISSUER_MAX_BATCH_BYTES" => Some("4194304".into()),
            "TONGBAN_ISSUER_DB_MAX_CONNECTIONS" => Some("8".into()),
            "TONGBAN_ISSUER_MAX_PENDING_AUTHORIZATIONS" => Some("20".into()),
            _ => None,
        },
    )
    .unwrap()
}

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), None);
        let db = Database::open(&c).await.unwrap();
        Self::with(db, c, dir, None).await
    }

    /// `None` (and a loud message) when no PostgreSQL is configured; a panic
    /// when one is configured but unreachable.
    pub async fn postgres() -> Option<Harness> {
        Self::postgres_with(|_| {}).await
    }

    /// As [`Harness::postgres`], with the configuration `edit` adjusts.
    pub async fn postgres_with(edit: impl FnOnce(&mut Config)) -> Option<Harness> {
        let pg = FreshDatabase::create("tongban_t", "backend").await?;
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path(), Some(pg.url().to_owned()));
        edit(&mut c);
        let db = Database::open(&c).await.unwrap();
        Some(Self::with(db, c, dir, Some(pg)).await)
    }

    pub async fn open(b: Backend) -> Option<Harness> {
        match b {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    async fn with(
        db: Database,
        c: Config,
        dir: tempfile::TempDir,
        pg: Option<FreshDatabase>,
    ) -> Harness {
        let mut raw = [0u8; 32];
        OsRng.fill_bytes(&mut raw);
        let master_hex = hex::encode(raw);
        let clock = ManualClock::new(SystemClock.now());
        let svc = Service::with_plugins(
            c,
            db,
            MasterKey::parse(&master_hex).unwrap(),
            clock.clone(),
            fake_login(),
        )
        .unwrap();
        let (_, demo) = bootstrap::bootstrap_demo(&svc).await.unwrap().unwrap();
        let other = svc
            .create_agency(
                &AgencySpec {
                    id: "other".into(),
                    name_zh: "嘉善县公安局交通警察大队".into(),
                    name_en: "Jiashan traffic police".into(),
                    region: "330421".into(),
                    vcts: vec!["urn:tongban:driving-licence:1".into()],
                    encryption_required: false,
                    key_alg: Default::default(),
                    jws_alg_name: None,
                },
                "test",
            )
            .await
            .unwrap();
        let other_token = svc
            .create_token(&other.id, Scopes::all(), "test", "test")
            .await
            .unwrap();
        Harness {
            app: tongban_issuer::api::router(svc.clone()),
            svc,
            clock,
            demo: demo.secret,
            other: other_token.secret,
            master_hex,
            _dir: dir,
            pg,
        }
    }

    /// A second service ("replica") on the same database and master key.
    pub async fn replica(&self) -> Router {
        let c = self.svc.config().clone();
        let db = Database::open(&c).await.unwrap();
        let svc = Service::with_plugins(
            c,
            db,
            MasterKey::parse(&self.master_hex).unwrap(),
            self.clock.clone(),
            fake_login(),
        )
        .unwrap();
        tongban_issuer::api::router(svc)
    }

    /// Drops the PostgreSQL test database.
    pub async fn finish(self) {
        let Harness { svc, app, pg, .. } = self;
        drop(app);
        drop(svc);
        if let Some(pg) = pg {
            pg.drop_now().await;
        }
    }

    /// Now, by the harness clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub async fn token(&self, agency: &str, scopes: &str) -> String {
        self.svc
            .create_token(agency, Scopes::parse(scopes).unwrap(), "test", "test")
            .await
            .unwrap()
            .secret
    }

    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = self
            .app
            .clone()
            .oneshot(b.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, bytes)
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (s, _, out) = self.raw(method, uri, &headers, bytes).await;
        let v = if out.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out)
                .unwrap_or(Value::String(String::from_utf8_lossy(&out).into()))
        };
        (s, v)
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(Method::GET, uri, token, None).await
    }

    pub async fn post(&self, uri: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        self.send(Method::POST, uri, token, Some(body)).await
    }

    /// Issues a business licence to `holder` as `demo`; returns the response.
    pub async fn issue(&self, slug: &str, serial: u32, holder: &Value) -> Value {
        let vct = format!("urn:tongban:{slug}:1");
        let (s, v) = self
            .post(
                "/admin/v1/credentials",
                Some(&self.demo.clone()),
                &json!({"vct": vct, "claims": catalogue_claims(slug, serial), "holder_jwk": holder}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    }

    pub async fn form(&self, uri: &str, pairs: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let (s, h, out) = self
            .raw(
                Method::POST,
                uri,
                &[("content-type", "application/x-www-form-urlencoded")],
                body.into_bytes(),
            )
            .await;
        (s, h, serde_json::from_slice(&out).unwrap_or(Value::Null))
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn header_str(h: &HeaderMap, name: header::HeaderName) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Runs each named test against both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = $crate::support::Harness::sqlite().await;
                    super::$name(&h).await;
                    h.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(h) = $crate::support::Harness::postgres().await else { return };
                    super::$name(&h).await;
                    h.finish().await;
                }
            )+
        }
    };
}

impl Harness {
    /// A SQLite harness whose configuration `edit` adjusts first (e.g. the
    /// status list `ttl` and lifetime).
    pub async fn sqlite_with(edit: impl FnOnce(&mut Config)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path(), None);
        edit(&mut c);
        let db = Database::open(&c).await.unwrap();
        Self::with(db, c, dir, None).await
    }
}

// ---- OpenID4VCI through the router ----------------------------------------

/// Issues a credential of `slug` as an OpenID4VCI offer (with a PIN if
/// `tx_code`); the admin answer.
pub async fn offer(h: &Harness, token: &str, slug: &str, serial: u32, tx_code: bool) -> Value {
    let (s, v) = h
        .post("/admin/v1/credentials", Some(token), &json!({"vct": format!("urn:tongban:{slug}:1"), "claims": catalogue_claims(slug, serial), "offer": {"tx_code": tx_code}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// The pre-authorized code of an offer answer, and its offer object (which
/// must equal the one in the percent-encoded `offer_link`).
pub fn offer_parts(v: &Value) -> (String, Value) {
    let uri = v["offer_link"].as_str().unwrap();
    let enc = uri
        .strip_prefix("openid-credential-offer://?credential_offer=")
        .unwrap();
    let json_text = percent_encoding::percent_decode_str(enc)
        .decode_utf8()
        .unwrap();
    let o: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(o, v["credential_offer"]);
    let code =
        o["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned();
    (code, o)
}

/// Exchanges a pre-authorized code (and PIN) at the agency's token
/// endpoint; every answer is `no-store`.
pub async fn token(
    h: &Harness,
    agency: &str,
    code: &str,
    pin: Option<&str>,
) -> (StatusCode, Value) {
    let mut pairs = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        ),
        ("pre-authorized_code", code),
    ];
    if let Some(p) = pin {
        pairs.push(("tx_code", p));
    }
    let (s, headers, v) = h.form(&format!("/agencies/{agency}/token"), &pairs).await;
    assert_eq!(header_str(&headers, header::CACHE_CONTROL), "no-store");
    (s, v)
}

/// A fresh `c_nonce` of the agency (`no-store`).
pub async fn c_nonce(h: &Harness, agency: &str) -> String {
    let (s, headers, body) = h
        .raw(
            Method::POST,
            &format!("/agencies/{agency}/nonce"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(header_str(&headers, header::CACHE_CONTROL).contains("no-store"));
    serde_json::from_slice::<Value>(&body).unwrap()["c_nonce"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The access token for a pre-authorized code of agency `demo`.
pub async fn access_token(h: &Harness, code: &str) -> String {
    let (s, t) = token(h, "demo", code, None).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t["access_token"].as_str().unwrap().to_owned()
}

/// The agency's credential-request encryption key, from its metadata.
pub async fn request_encryption_key(h: &Harness, agency: &str) -> josekit::jwk::Jwk {
    let (_, meta) = h
        .get(
            &format!("/.well-known/openid-credential-issuer/agencies/{agency}"),
            None,
        )
        .await;
    josekit::jwk::Jwk::from_map(
        meta["credential_request_encryption"]["jwks"]["keys"][0]
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap()
}

/// POSTs an encrypted credential request (`application/jwt`) with the
/// access token to agency `demo`'s credential endpoint.
pub async fn post_credential_jwt(
    h: &Harness,
    access: &str,
    jwe: String,
) -> (StatusCode, HeaderMap, Bytes) {
    let auth = format!("Bearer {access}");
    h.raw(
        Method::POST,
        "/agencies/demo/credential",
        &[
            ("authorization", &auth),
            ("content-type", "application/jwt"),
        ],
        jwe.into_bytes(),
    )
    .await
}
