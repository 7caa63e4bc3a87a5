//! Test harness: the service's router over SQLite (a temporary file) or
//! PostgreSQL (a fresh database per test on `TONGBAN_TEST_DATABASE_URL`),
//! driven with `tower::ServiceExt::oneshot` — no port, no sleep — with a
//! trust bundle of the demonstration zone, a wallet that presents a
//! Wujiang business licence, and a clock that moves only when told.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::BodyExt as _;
use rand_core::OsRng;
use serde_json::{Map, Value, json};
use tongban_service_kit::ManualClock;
use tongban_test_support::clock::{DAY, NOW};
use tongban_test_support::postgres::FreshDatabase;
use tongban_test_support::present::{Audience, present};
use tongban_test_support::sample::catalogue_claims;
use tongban_test_support::zone::{self, trusted_key};
use tongban_verifier::trust::Anchor;
use tongban_verifier::{
    CredentialBuilder, KeyWithId, Signer as _, StatusList, StatusListToken, TrustBundle, TrustList,
    TrustedIssuer, status,
};
use tongban_verifier_service::app::{ClientIdPrefix, Database, Service, TenantSpec};
use tongban_verifier_service::bootstrap;
use tongban_verifier_service::config::{Config, Overrides};
use tongban_verifier_service::keys::MasterKey;
use tongban_verifier_service::tokens::TokenScope;
use tower::ServiceExt as _;

pub const PUBLIC_URL: &str = "https://verifier.test";
pub const BL: &str = zone::BUSINESS_LICENCE;
pub const WUJIANG: usize = 1;

pub struct Harness {
    pub app: Router,
    pub svc: Arc<Service>,
    pub clock: Arc<ManualClock>,
    pub admin: String,
    /// Token of tenant `qingpu` (x509_hash).
    pub qingpu: String,
    /// Token of tenant `jiashan` (x509_san_dns).
    pub jiashan: String,
    _dir: tempfile::TempDir,
    pg: Option<FreshDatabase>,
}

pub enum Backend {
    Sqlite,
    Postgres,
}

fn config(dir: &std::path::Path, database_url: Option<String>, extra: &[(&str, &str)]) -> Config {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    Config::load_with(
        None,
        &Overrides {
            data_dir: Some(dir.to_owned()),
            database_url,
            public_url: Some(PUBLIC_URL.into()),
            ..Default::default()
        },
        move |k| {
            extra
                .iter()
                .find(|(n, _)| format!("TONGBAN_VERIFIER_SERVICE_{}", n.to_ascii_uppercase()) == k)
                .map(|(_, v)| v.clone())
        },
    )
    .unwrap()
}

/// The demonstration zone's trust bundle at `NOW - 3600`.
pub fn zone_bundle() -> TrustBundle {
    zone_bundle_with(|_| {})
}

/// [`zone_bundle`] with its list changed by `edit` before it is signed.
pub fn zone_bundle_with(edit: impl FnOnce(&mut TrustList)) -> TrustBundle {
    let agencies = zone::agencies();
    let status_uri = |a: &zone::Agency| format!("{}/status/1", a.id);
    let list = TrustList {
        version: 1,
        anchor: Anchor {
            id: zone::ANCHOR_ID.into(),
            name_zh: zone::ANCHOR_NAME_ZH.into(),
            name_en: zone::ANCHOR_NAME_EN.into(),
        },
        sequence: 7,
        root_sequence: None,
        verifiers: None,
        issued_at: NOW - DAY,
        next_update: NOW + 7 * DAY,
        issuers: agencies
            .iter()
            .map(|a| TrustedIssuer {
                id: a.id.into(),
                name_zh: a.name_zh.into(),
                name_en: a.name_en.into(),
                region: a.region.into(),
                vcts: vec![a.vct.into()],
                keys: vec![
                    trusted_key(&a.signer, NOW - 365 * DAY, None, None),
                    trusted_key(&a.status_signer, NOW - 365 * DAY, None, None),
                ],
                status_lists: vec![status_uri(a)],
            })
            .collect(),
        x509_anchors: None,
    };
    let mut list = list;
    edit(&mut list);
    let anchor = zone::anchor();
    let tl = list.sign(&anchor).unwrap();
    let jwts: Vec<String> = agencies
        .iter()
        .map(|a| {
            let l = StatusList::new(status::Bits::new(2).unwrap(), 1000);
            StatusListToken::sign(
                &a.status_signer,
                a.id,
                &status_uri(a),
                NOW - 3600,
                Some(NOW + DAY),
                Some(43_200),
                &l,
            )
            .unwrap()
        })
        .collect();
    let anchors = vec![KeyWithId {
        key: anchor.public_key(),
        kid: Some(zone::ANCHOR_KID.into()),
    }];
    TrustBundle::assemble(&tl, &jwts, &anchors, None, NOW - 3600)
        .unwrap()
        .0
}

/// A Wujiang business licence (sample claims) bound to the zone's holder.
pub fn business_licence() -> String {
    let a = &zone::agencies()[WUJIANG];
    CredentialBuilder::new(a.id, BL, NOW - 10 * DAY)
        .expires_at(NOW + 365 * DAY)
        .holder_key(zone::holder().public_key())
        .status(json!({"status_list": {"idx": 5, "uri": format!("{}/status/1", a.id)}}))
        .claims(catalogue_claims("business-licence", 1))
        .issue(&a.signer, &mut OsRng)
        .unwrap()
        .sd_jwt
}

/// A Jiashan driving licence (a type the business-licence query does not ask).
pub fn driving_licence() -> String {
    let a = &zone::agencies()[2];
    CredentialBuilder::new(a.id, zone::DRIVING_LICENCE, NOW - 10 * DAY)
        .expires_at(NOW + 365 * DAY)
        .holder_key(zone::holder().public_key())
        .status(json!({"status_list": {"idx": 6, "uri": format!("{}/status/1", a.id)}}))
        .claims(catalogue_claims("driving-licence", 1))
        .issue(&a.signer, &mut OsRng)
        .unwrap()
        .sd_jwt
}

/// The holder's presentation of `sd_jwt` disclosing `claims`, for `aud` and `nonce`.
pub fn presentation(sd_jwt: &str, claims: &[&str], aud: &str, nonce: &str) -> String {
    present(
        sd_jwt,
        claims,
        &zone::holder(),
        Audience {
            aud,
            nonce,
            iat: NOW,
        },
    )
    .unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// A request object as the wallet sees it: header, claims.
pub struct RequestObject {
    pub jws: String,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

impl RequestObject {
    pub fn nonce(&self) -> &str {
        self.claims["nonce"].as_str().unwrap()
    }
    pub fn state(&self) -> &str {
        self.claims["state"].as_str().unwrap()
    }
    pub fn client_id(&self) -> &str {
        self.claims["client_id"].as_str().unwrap()
    }
    pub fn jwk(&self) -> Map<String, Value> {
        self.claims["client_metadata"]["jwks"]["keys"][0]
            .as_object()
            .unwrap()
            .clone()
    }
    pub fn leaf_der(&self) -> Vec<u8> {
        STANDARD
            .decode(self.header["x5c"][0].as_str().unwrap())
            .unwrap()
    }
}

fn decode_part(p: &str) -> Map<String, Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// Encrypts `payload` to the request's key as a wallet does.
pub fn encrypt_to(
    jwk: &Map<String, Value>,
    enc: &str,
    kid: Option<&str>,
    payload: &Value,
) -> String {
    let key = josekit::jwk::Jwk::from_map(jwk.clone()).unwrap();
    let e = josekit::jwe::ECDH_ES.encrypter_from_jwk(&key).unwrap();
    let mut h = josekit::jwe::JweHeader::new();
    h.set_content_encryption(enc);
    if let Some(k) = kid {
        h.set_key_id(k);
    }
    josekit::jwe::serialize_compact(payload.to_string().as_bytes(), &h, &e).unwrap()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", tongban_test_support::percent::encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Harness {
    pub async fn sqlite() -> Harness {
        Self::sqlite_with(&[]).await
    }

    pub async fn sqlite_with(extra: &[(&str, &str)]) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), None, extra);
        bootstrap::ensure_data_dir(&c).unwrap();
        let db = Database::open(&c).await.unwrap();
        Self::with(db, c, dir, None).await
    }

    /// `None` (and a loud message) when no PostgreSQL is configured.
    pub async fn postgres() -> Option<Harness> {
        let pg = FreshDatabase::create("tongban_vs", "backend").await?;
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path(), Some(pg.url().to_owned()), &[]);
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
        let clock = ManualClock::new(NOW);
        let svc = Service::new(c, db, MasterKey::generate(), clock.clone()).unwrap();
        let admin = bootstrap::bootstrap_admin(&svc)
            .await
            .unwrap()
            .unwrap()
            .secret;
        for (id, prefix, name_zh, name_en, region) in [
            (
                "qingpu",
                ClientIdPrefix::X509Hash,
                "青浦区行政服务中心",
                "Qingpu service centre",
                "310118",
            ),
            (
                "jiashan",
                ClientIdPrefix::X509SanDns,
                "嘉善县行政服务中心",
                "Jiashan service centre",
                "330421",
            ),
        ] {
            svc.create_tenant(
                &TenantSpec {
                    id: id.into(),
                    name_zh: name_zh.into(),
                    name_en: name_en.into(),
                    region: region.into(),
                    // x509_san_dns names the service's own host.
                    dns: if prefix == ClientIdPrefix::X509SanDns {
                        "verifier.test".into()
                    } else {
                        format!("{id}.verifier.test")
                    },
                    client_id_prefix: prefix,
                    allow_plain_direct_post: false,
                },
                "test",
            )
            .await
            .unwrap();
        }
        let qingpu = svc
            .create_token(TokenScope::Tenant("qingpu".into()), "test", "test")
            .await
            .unwrap()
            .secret;
        let jiashan = svc
            .create_token(TokenScope::Tenant("jiashan".into()), "test", "test")
            .await
            .unwrap()
            .secret;
        svc.trust().set(zone_bundle());
        Harness {
            app: tongban_verifier_service::api::router(svc.clone()),
            svc,
            clock,
            admin,
            qingpu,
            jiashan,
            _dir: dir,
            pg,
        }
    }

    pub async fn finish(self) {
        let Harness { svc, app, pg, .. } = self;
        drop(app);
        drop(svc);
        if let Some(pg) = pg {
            pg.drop_now().await;
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        let resp = self
            .app
            .clone()
            .oneshot(b.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None, Vec::new())
            .await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(
            Method::POST,
            path,
            Some(token),
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, body: &str) -> Reply {
        self.call(
            Method::POST,
            path,
            None,
            Some("application/x-www-form-urlencoded"),
            body.as_bytes().to_vec(),
        )
        .await
    }

    /// Creates a transaction asking for a business licence's company name
    /// and legal representative; returns the answer.
    pub async fn create(&self, token: &str, extra: Value) -> Value {
        let mut body = json!({
            "licence": {"type": "business-licence", "claims": ["company_name", "legal_representative"]},
            "purpose": {"zh": "办理企业迁移登记", "en": "Company relocation registration"},
            "service_item": "310000-ZZ-001",
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let r = self.post_json("/api/v1/transactions", token, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// The wallet's fetch of the request object (POST with a wallet nonce).
    pub async fn fetch_request(&self, created: &Value, wallet_nonce: &str) -> RequestObject {
        let uri = created["request_uri"].as_str().unwrap();
        let path = uri.strip_prefix(PUBLIC_URL).unwrap();
        let r = self
            .post_form(
                path,
                &form(&[
                    ("wallet_nonce", wallet_nonce),
                    ("wallet_metadata", "{\"vp_formats_supported\":{}}"),
                ]),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let jws = r.text();
        let parts: Vec<&str> = jws.split('.').collect();
        RequestObject {
            header: decode_part(parts[0]),
            claims: decode_part(parts[1]),
            jws: jws.clone(),
        }
    }

    /// Posts `payload` encrypted to the request's key.
    pub async fn answer(&self, req: &RequestObject, enc: &str, payload: &Value) -> Reply {
        let jwe = encrypt_to(&req.jwk(), enc, req.jwk()["kid"].as_str(), payload);
        let path = req.claims["response_uri"]
            .as_str()
            .unwrap()
            .strip_prefix(PUBLIC_URL)
            .unwrap()
            .to_owned();
        self.post_form(&path, &form(&[("response", &jwe)])).await
    }

    /// The wallet's good answer: the business licence, both claims, for this request.
    pub fn good_payload(req: &RequestObject) -> Value {
        let p = presentation(
            &business_licence(),
            &["company_name", "legal_representative"],
            req.client_id(),
            req.nonce(),
        );
        json!({"vp_token": {"licence": [p]}, "state": req.state()})
    }
}

/// Runs `async fn $name(h: Harness)` on SQLite and, when configured, on
/// PostgreSQL, as `$name::sqlite` and `$name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use super::support::Harness;

                #[tokio::test]
                async fn sqlite() {
                    super::$name(Harness::sqlite().await).await;
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(h) = Harness::postgres().await {
                        super::$name(h).await;
                    }
                }
            }
        )+
    };
}
