//! The issuing service's core, independent of HTTP: agencies and their
//! opened keys, claim validation, status-index allocation, signing, group
//! commit, status-list tokens and OpenID4VCI offers.
//!
//! Durability: a credential is returned to the caller only after the
//! transaction holding it and its audit entry committed. Concurrent
//! issuance requests are committed together (group commit): one
//! transaction, one fsync, many credentials — each caller still waits for
//! its own commit.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};
use tongban_verifier::catalogue::schema::Mode;
use tongban_verifier::catalogue::{Catalogue, LicenceType, ids};
use tongban_verifier::status::{Bits, StatusList, StatusListToken};
use tongban_verifier::{CredentialBuilder, PublicKey};

use crate::config::Config;
use crate::error::{ApiCode, ApiError};
use crate::keys::{KeyError, KeyRing, MasterKey, new_signing_key};
use crate::metrics::Metrics;
use crate::store::{
    Agency, CredentialRecord, CredentialStatus, NewCredential, OfferRecord, OfferState,
    StatusChange, Store, StoreError,
};
use crate::tokens::{hash_secret, random_b64};
use tongban_service_kit::SharedClock;

/// Most credentials committed in one transaction.
const MAX_GROUP: usize = 512;

/// An agency with its keys opened.
pub struct AgencyRuntime {
    /// The agency row.
    pub agency: Agency,
    /// Its signing keys.
    pub keys: KeyRing,
    /// Its credential-request decryption key (josekit JWK with `d`).
    pub enc_private: josekit::jwk::Jwk,
    /// The public part, as published.
    pub enc_public: Value,
}

impl std::fmt::Debug for AgencyRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgencyRuntime")
            .field("agency", &self.agency.id)
            .field("kid", &self.keys.kid)
            .finish_non_exhaustive()
    }
}

/// What an admin asks to issue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The licence type.
    pub vct: String,
    /// The claims, as the type's schema describes them.
    pub claims: Map<String, Value>,
    /// The citizen's public key (bind the credential to it now).
    #[serde(default)]
    pub holder_jwk: Option<Value>,
    /// Or: make an OpenID4VCI offer the citizen's wallet redeems.
    #[serde(default)]
    pub offer: Option<OfferOptions>,
    /// `exp`, Unix seconds.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// `nbf`, Unix seconds.
    #[serde(default)]
    pub not_before: Option<i64>,
}

/// Options of an OpenID4VCI offer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferOptions {
    /// Whether the wallet must enter a PIN sent separately (default true).
    #[serde(default = "yes")]
    pub tx_code: bool,
}

fn yes() -> bool {
    true
}

/// A credential issued straight to a holder key.
#[derive(Debug, Clone)]
pub struct IssuedCredential {
    /// The stored record.
    pub record: CredentialRecord,
    /// The SD-JWT VC (issuer JWT and every disclosure).
    pub credential: String,
    /// The status list URI in the credential.
    pub status_uri: String,
}

/// An offer made for a wallet.
#[derive(Debug, Clone)]
pub struct IssuedOffer {
    /// Offer id.
    pub offer_id: String,
    /// `openid-credential-offer://?credential_offer=…`
    pub uri: String,
    /// The credential offer object.
    pub offer: Value,
    /// The PIN to send to the citizen separately.
    pub tx_code: Option<String>,
    /// When the pre-authorized code expires.
    pub expires_at: i64,
    /// The offer URI as a QR code, PNG.
    pub qr_png: Vec<u8>,
}

/// What [`Service::issue`] produced.
#[derive(Debug, Clone)]
pub enum Issued {
    /// Signed and stored.
    Credential(IssuedCredential),
    /// An offer; the credential is signed when the wallet redeems it.
    Offer(IssuedOffer),
}

/// A new agency.
#[derive(Debug, Clone)]
pub struct AgencySpec {
    /// Short id, `[a-z0-9-]{2,40}`.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// GB/T 2260 code.
    pub region: String,
    /// Types it may issue.
    pub vcts: Vec<String>,
    /// Whether wallets must encrypt.
    pub encryption_required: bool,
}

struct Commit {
    item: NewCredential,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

struct CachedStatus {
    token: String,
    /// Unix seconds, by the service's clock.
    fresh_until: i64,
}

/// The service.
pub struct Service {
    /// Configuration.
    pub config: Config,
    /// Storage.
    pub store: Arc<dyn Store>,
    master: MasterKey,
    /// The licence catalogue.
    pub catalogue: &'static Catalogue,
    /// Metrics.
    pub metrics: Metrics,
    agencies: RwLock<HashMap<String, (Instant, Arc<AgencyRuntime>)>>,
    allocators: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Range<i64>>>>>,
    committer: mpsc::Sender<Commit>,
    status_cache: Mutex<HashMap<(String, i64), CachedStatus>>,
    clock: SharedClock,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("public_url", &self.config.public_url)
            .finish_non_exhaustive()
    }
}

fn internal(what: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %what, "internal error");
    ApiError::new(ApiCode::Internal, "internal error (see the service log)")
}

impl Service {
    /// A service over `store` that reads the time from `clock`; starts the
    /// commit task (needs a tokio runtime).
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        master: MasterKey,
        clock: SharedClock,
    ) -> Result<Arc<Self>, ApiError> {
        let catalogue = Catalogue::builtin().map_err(internal)?;
        let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run_committer(store.clone(), clock.clone(), rx));
        Ok(Arc::new(Service {
            config,
            store,
            master,
            catalogue,
            metrics: Metrics::default(),
            agencies: RwLock::new(HashMap::new()),
            allocators: Mutex::new(HashMap::new()),
            committer: tx,
            status_cache: Mutex::new(HashMap::new()),
            clock,
        }))
    }

    /// Now, Unix seconds, by the clock the service was built with.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The master key (for the CLI's key operations).
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    // ---- agencies ----------------------------------------------------------

    /// Creates an agency with a fresh signing key and encryption key.
    pub async fn create_agency(&self, spec: &AgencySpec, actor: &str) -> Result<Agency, ApiError> {
        check_agency_id(&spec.id)?;
        ids::check_region(&spec.region).map_err(|e| {
            ApiError::new(
                ApiCode::InvalidRequest,
                format!("region {:?}: {e}", spec.region),
            )
        })?;
        for v in &spec.vcts {
            if self.catalogue.by_vct(v).is_none() {
                return Err(ApiError::new(
                    ApiCode::UnknownVct,
                    format!("vct {v:?} is not in the catalogue"),
                ));
            }
        }
        let at = self.now();
        let (enc_kid, enc_public_jwk, enc_sealed) =
            new_encryption_key(&self.master, &spec.id).map_err(internal)?;
        let agency = Agency {
            id: spec.id.clone(),
            iss: self.config.issuer_id(&spec.id),
            name_zh: spec.name_zh.clone(),
            name_en: spec.name_en.clone(),
            region: spec.region.clone(),
            vcts: spec.vcts.clone(),
            encryption_required: spec.encryption_required,
            status_list_size: self.config.status_list_size,
            index_key: hex::encode({
                let mut k = [0u8; 32];
                OsRng.fill_bytes(&mut k);
                k
            }),
            created_at: at,
            enc_kid,
            enc_public_jwk,
            enc_sealed,
        };
        let key = new_signing_key(&self.master, &spec.id, at).map_err(internal)?;
        self.store.create_agency(&agency, &key, actor).await?;
        Ok(agency)
    }

    /// Checks that the master key opens the keys already stored, so a
    /// wrong master key is refused before anything is sealed under it.
    pub async fn check_master_key(&self) -> Result<(), ApiError> {
        for a in self.store.list_agencies().await? {
            let keys = self.store.keys(&a.id).await?;
            KeyRing::open(&self.master, &a.id, &keys).map_err(|e| {
                ApiError::new(ApiCode::Internal, format!("{e}. Supply the master key this database was created with (TONGBAN_MASTER_KEY or master_key_file)."))
            })?;
        }
        Ok(())
    }

    /// Rotates an agency's signing key; the old one stays published.
    pub async fn rotate_key(&self, agency_id: &str, actor: &str) -> Result<String, ApiError> {
        self.store.agency(agency_id).await?;
        let keys = self.store.keys(agency_id).await?;
        KeyRing::open(&self.master, agency_id, &keys)
            .map_err(|e| ApiError::new(ApiCode::Internal, format!("{e}; nothing was changed")))?;
        let key = new_signing_key(&self.master, agency_id, self.now()).map_err(internal)?;
        self.store.rotate_key(&key, actor).await?;
        self.forget_agency(agency_id);
        Ok(key.kid)
    }

    fn forget_agency(&self, agency_id: &str) {
        if let Ok(mut m) = self.agencies.write() {
            m.remove(agency_id);
        }
    }

    /// The agency with its keys opened (cached; re-read every
    /// `key_refresh_secs` so a rotation by another process is picked up).
    pub async fn agency(&self, agency_id: &str) -> Result<Arc<AgencyRuntime>, ApiError> {
        let refresh = Duration::from_secs(self.config.key_refresh_secs);
        if let Ok(m) = self.agencies.read()
            && let Some((at, rt)) = m.get(agency_id)
            && at.elapsed() < refresh
        {
            return Ok(rt.clone());
        }
        let agency = match self.store.agency(agency_id).await {
            Ok(a) => a,
            Err(StoreError::NotFound(_)) => {
                return Err(ApiError::new(
                    ApiCode::UnknownAgency,
                    format!("agency {agency_id:?}"),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let keys = self.store.keys(agency_id).await?;
        let ring = KeyRing::open(&self.master, agency_id, &keys).map_err(internal)?;
        let (enc_private, enc_public) =
            open_encryption_key(&self.master, &agency).map_err(internal)?;
        let rt = Arc::new(AgencyRuntime {
            agency,
            keys: ring,
            enc_private,
            enc_public,
        });
        if let Ok(mut m) = self.agencies.write() {
            m.insert(agency_id.to_owned(), (Instant::now(), rt.clone()));
        }
        Ok(rt)
    }

    // ---- issuing -----------------------------------------------------------

    /// Validates the request against the catalogue and the agency's rights.
    pub fn check_request<'c>(
        &'c self,
        rt: &AgencyRuntime,
        req: &IssueRequest,
    ) -> Result<&'c LicenceType, ApiError> {
        let lt = self.catalogue.by_vct(&req.vct).ok_or_else(|| {
            ApiError::new(
                ApiCode::UnknownVct,
                format!("vct {:?} is not in the catalogue", req.vct),
            )
        })?;
        if !rt.agency.vcts.iter().any(|v| v == &req.vct) {
            return Err(ApiError::new(
                ApiCode::VctNotAuthorised,
                format!(
                    "agency {} may issue {}; not {}",
                    rt.agency.id,
                    rt.agency.vcts.join(", "),
                    req.vct
                ),
            ));
        }
        let violations = lt.validate(&req.claims, Mode::Complete);
        if !violations.is_empty() {
            let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
            return Err(ApiError {
                code: ApiCode::ClaimsInvalid,
                detail: format!("failing fields: {}", paths.join(", ")),
                violations,
            });
        }
        let t = self.now();
        if let Some(exp) = req.expires_at
            && exp <= t
        {
            return Err(ApiError::new(
                ApiCode::ValidityInvalid,
                format!("expires_at {exp} is not in the future"),
            ));
        }
        let exp = req
            .expires_at
            .unwrap_or(t + self.config.credential_validity_days * 86_400);
        if let Some(nbf) = req.not_before
            && nbf >= exp
        {
            return Err(ApiError::new(
                ApiCode::ValidityInvalid,
                format!("not_before {nbf} is not before the expiry {exp}"),
            ));
        }
        match (&req.holder_jwk, &req.offer) {
            (None, None) => Err(ApiError::new(
                ApiCode::HolderMissing,
                "neither holder_jwk nor offer was given",
            )),
            (Some(_), Some(_)) => Err(ApiError::new(
                ApiCode::HolderAmbiguous,
                "both holder_jwk and offer were given",
            )),
            _ => Ok(lt),
        }
    }

    /// Issues one credential (or makes an offer), durably.
    pub async fn issue(
        &self,
        rt: &AgencyRuntime,
        actor: &str,
        req: IssueRequest,
    ) -> Result<Issued, ApiError> {
        let lt = self.check_request(rt, &req)?;
        if let Some(l) = licence_id(&req.claims)
            && self.licence_id_taken(&rt.agency.id, &l).await?
        {
            return Err(ApiError::new(
                ApiCode::LicenceIdTaken,
                format!("licence_id {l:?} was already issued by {}", rt.agency.id),
            ));
        }
        if let Some(opts) = &req.offer {
            return self
                .create_offer(rt, lt, actor, &req, opts)
                .await
                .map(Issued::Offer);
        }
        let jwk = req
            .holder_jwk
            .as_ref()
            .ok_or_else(|| ApiError::new(ApiCode::HolderMissing, "no holder_jwk"))?;
        let holder = PublicKey::from_jwk(jwk)
            .map_err(|e| ApiError::new(ApiCode::HolderKeyInvalid, format!("holder_jwk: {e}")))?;
        let (record, credential, status_uri) = self
            .sign(
                rt,
                lt,
                &req.claims,
                &holder,
                req.expires_at,
                req.not_before,
                None,
            )
            .await?;
        let (reply, wait) = oneshot::channel();
        self.committer
            .send(Commit {
                item: NewCredential {
                    record: record.clone(),
                    actor: actor.to_owned(),
                },
                reply,
            })
            .await
            .map_err(|_| {
                ApiError::new(ApiCode::StorageUnavailable, "the service is shutting down")
            })?;
        wait.await
            .map_err(|_| ApiError::new(ApiCode::StorageUnavailable, "the commit task stopped"))??;
        self.metrics.add(
            "tongban_credentials_issued_total",
            &[("agency", &rt.agency.id), ("vct", lt.slug)],
            1,
        );
        Ok(Issued::Credential(IssuedCredential {
            record,
            credential,
            status_uri,
        }))
    }

    async fn licence_id_taken(&self, agency: &str, licence_id: &str) -> Result<bool, ApiError> {
        Ok(self.store.licence_id_exists(agency, licence_id).await?)
    }

    /// Allocates a status index and signs.
    #[allow(clippy::too_many_arguments)]
    async fn sign(
        &self,
        rt: &AgencyRuntime,
        lt: &LicenceType,
        claims: &Map<String, Value>,
        holder: &PublicKey,
        exp: Option<i64>,
        nbf: Option<i64>,
        offer_id: Option<&str>,
    ) -> Result<(CredentialRecord, String, String), ApiError> {
        let g = self.next_index(&rt.agency.id).await?;
        let (list, idx) = crate::status_index::position(
            rt.agency.index_key.as_bytes(),
            g,
            rt.agency.status_list_size,
        );
        let status_uri = format!("{}/status/{list}", rt.agency.iss);
        let iat = self.now();
        let exp = exp.unwrap_or(iat + self.config.credential_validity_days * 86_400);
        let mut b = CredentialBuilder::new(rt.agency.iss.clone(), lt.vct.clone(), iat)
            .claims(claims.clone())
            .holder_key(holder.clone())
            .status(json!({"status_list": {"idx": idx, "uri": status_uri}}))
            .expires_at(exp);
        if let Some(n) = nbf {
            b = b.not_before(n);
        }
        let issued = b.issue(&rt.keys.signer, &mut OsRng).map_err(internal)?;
        let record = CredentialRecord {
            id: format!("cred_{}", random_b64(16)),
            agency_id: rt.agency.id.clone(),
            vct: lt.vct.clone(),
            licence_id: licence_id(claims),
            status_list: list,
            status_idx: idx,
            status: CredentialStatus::Valid,
            holder_thumbprint: Some(holder.thumbprint()),
            kid: rt.keys.kid.clone(),
            issued_at: iat,
            expires_at: Some(exp),
            offer_id: offer_id.map(str::to_owned),
        };
        Ok((record, issued.sd_jwt, status_uri))
    }

    async fn next_index(&self, agency: &str) -> Result<i64, ApiError> {
        let slot = {
            let mut m = self
                .allocators
                .lock()
                .map_err(|_| internal("allocator lock poisoned"))?;
            m.entry(agency.to_owned())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(0..0)))
                .clone()
        };
        let mut range = slot.lock().await;
        if range.is_empty() {
            let n = self.config.index_block;
            let start = self.store.reserve_status_indices(agency, n).await?;
            *range = start..start + n;
        }
        let g = range.start;
        range.start += 1;
        Ok(g)
    }

    async fn create_offer(
        &self,
        rt: &AgencyRuntime,
        lt: &LicenceType,
        actor: &str,
        req: &IssueRequest,
        opts: &OfferOptions,
    ) -> Result<IssuedOffer, ApiError> {
        let code = random_b64(32);
        let tx_code = opts
            .tx_code
            .then(|| random_digits(self.config.tx_code_length));
        let at = self.now();
        let expires_at = at + self.config.offer_ttl_secs;
        let offer_id = format!("offer_{}", random_b64(12));
        let record = OfferRecord {
            id: offer_id.clone(),
            agency_id: rt.agency.id.clone(),
            vct: lt.vct.clone(),
            claims: Value::Object(req.claims.clone()).to_string(),
            expires_credential_at: req.expires_at,
            not_before_credential: req.not_before,
            code_hash: hash_secret(&code),
            tx_code_hash: tx_code.as_deref().map(hash_secret),
            tx_code_length: tx_code
                .as_ref()
                .map(|t| i64::try_from(t.len()).unwrap_or(0)),
            tx_attempts: 0,
            code_expires_at: expires_at,
            state: OfferState::Pending,
            access_token_hash: None,
            token_expires_at: None,
            credential_id: None,
            actor: actor.to_owned(),
            created_at: at,
        };
        self.store.create_offer(&record).await?;
        let mut grant = Map::new();
        grant.insert("pre-authorized_code".into(), Value::String(code));
        if let Some(t) = &tx_code {
            grant.insert(
                "tx_code".into(),
                json!({
                    "input_mode": "numeric",
                    "length": t.len(),
                    "description": "请输入发证机构另行发送给您的数字码 / Enter the PIN the issuing agency sent you separately",
                }),
            );
        }
        let offer = json!({
            "credential_issuer": rt.agency.iss,
            "credential_configuration_ids": [lt.slug],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": grant},
        });
        let uri = offer_uri(&offer);
        let qr_png = qr_png(&uri)?;
        self.metrics.add(
            "tongban_offers_created_total",
            &[("agency", &rt.agency.id)],
            1,
        );
        Ok(IssuedOffer {
            offer_id,
            uri,
            offer,
            tx_code,
            expires_at,
            qr_png,
        })
    }

    /// Signs and stores the credential of a redeemed offer, bound to `holder`.
    pub async fn redeem_offer(
        &self,
        rt: &AgencyRuntime,
        offer: &OfferRecord,
        holder: &PublicKey,
    ) -> Result<String, ApiError> {
        let lt = self
            .catalogue
            .by_vct(&offer.vct)
            .ok_or_else(|| ApiError::new(ApiCode::UnknownVct, offer.vct.clone()))?;
        if let Some(exp) = offer.expires_credential_at
            && exp <= self.now()
        {
            return Err(ApiError::new(
                ApiCode::ValidityInvalid,
                format!(
                    "the offered credential would have expired at {exp}; ask the agency for a new offer"
                ),
            ));
        }
        let claims: Map<String, Value> = serde_json::from_str(&offer.claims).map_err(internal)?;
        let (record, credential, _) = self
            .sign(
                rt,
                lt,
                &claims,
                holder,
                offer.expires_credential_at,
                offer.not_before_credential,
                Some(&offer.id),
            )
            .await?;
        let item = NewCredential {
            record,
            actor: format!("oid4vci:{}", offer.id),
        };
        self.store
            .redeem_offer(&offer.id, &item, self.now())
            .await?;
        self.metrics.add(
            "tongban_credentials_issued_total",
            &[("agency", &rt.agency.id), ("vct", lt.slug)],
            1,
        );
        Ok(credential)
    }

    /// Revokes, suspends or reinstates a credential of the agency.
    pub async fn change_status(
        &self,
        agency_id: &str,
        id: &str,
        change: StatusChange,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<CredentialRecord, ApiError> {
        let rec = self
            .store
            .change_status(agency_id, id, change, reason, actor, self.now())
            .await?;
        if let Ok(mut c) = self.status_cache.lock() {
            c.remove(&(agency_id.to_owned(), rec.status_list));
        }
        self.metrics.add(
            "tongban_status_changes_total",
            &[("agency", agency_id), ("action", change.action())],
            1,
        );
        Ok(rec)
    }

    // ---- status lists ------------------------------------------------------

    /// The signed status list token and how many seconds it may be cached.
    pub async fn status_list_token(
        &self,
        rt: &AgencyRuntime,
        list: i64,
    ) -> Result<(String, u64), ApiError> {
        let key = (rt.agency.id.clone(), list);
        if let Ok(c) = self.status_cache.lock()
            && let Some(hit) = c.get(&key)
        {
            let left = u64::try_from(hit.fresh_until - self.now()).unwrap_or(0);
            if left > 0 {
                return Ok((hit.token.clone(), left));
            }
        }
        let count = self.store.status_list_count(&rt.agency.id).await?;
        if list < 0 || list >= count {
            return Err(ApiError::new(
                ApiCode::StatusListNotFound,
                format!(
                    "{} has {count} status list(s); {list} is not one",
                    rt.agency.id
                ),
            ));
        }
        let size = usize::try_from(rt.agency.status_list_size).map_err(internal)?;
        let bits = Bits::new(2).ok_or_else(|| internal("bits"))?;
        let mut sl = StatusList::new(bits, size);
        for (idx, status) in self.store.list_statuses(&rt.agency.id, list).await? {
            let (Ok(i), Ok(s)) = (usize::try_from(idx), u8::try_from(status)) else {
                return Err(internal(format!(
                    "stored status ({idx}, {status}) out of range"
                )));
            };
            sl.set(i, s);
        }
        let iat = self.now();
        let ttl = self.config.status_list_ttl_secs;
        let lifetime = i64::try_from(self.config.status_list_lifetime_secs).unwrap_or(86_400);
        let uri = format!("{}/status/{list}", rt.agency.iss);
        let token = StatusListToken::sign(
            &rt.keys.signer,
            &rt.agency.iss,
            &uri,
            iat,
            Some(iat + lifetime),
            Some(ttl),
            &sl,
        )
        .map_err(internal)?;
        if let Ok(mut c) = self.status_cache.lock() {
            c.insert(
                key,
                CachedStatus {
                    token: token.clone(),
                    fresh_until: iat.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
                },
            );
        }
        Ok((token, ttl))
    }
}

/// The `licence_id` claim, if the claims carry one.
fn licence_id(claims: &Map<String, Value>) -> Option<String> {
    claims
        .get("licence_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn check_agency_id(id: &str) -> Result<(), ApiError> {
    let ok = (2..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ApiCode::InvalidRequest,
            format!(
                "agency id {id:?}: use 2–40 lowercase letters, digits and '-', e.g. wujiang-amr"
            ),
        ))
    }
}

/// `n` random decimal digits.
pub fn random_digits(n: usize) -> String {
    (0..n)
        .map(|_| {
            // Rejection sampling keeps the digits uniform.
            loop {
                let mut b = [0u8; 1];
                OsRng.fill_bytes(&mut b);
                if b[0] < 250 {
                    return char::from(b'0' + b[0] % 10);
                }
            }
        })
        .collect()
}

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const OFFER_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `openid-credential-offer://?credential_offer=<percent-encoded JSON>`.
pub fn offer_uri(offer: &Value) -> String {
    format!(
        "openid-credential-offer://?credential_offer={}",
        percent_encoding::utf8_percent_encode(&offer.to_string(), OFFER_ENCODE)
    )
}

fn qr_png(text: &str) -> Result<Vec<u8>, ApiError> {
    tongban_cli_support::qr::png(&[text.to_owned()]).map_err(internal)
}

/// Base64 (standard) of PNG bytes, for JSON.
pub fn png_base64(png: &[u8]) -> String {
    STANDARD.encode(png)
}

fn new_encryption_key(
    master: &MasterKey,
    agency: &str,
) -> Result<(String, String, Vec<u8>), KeyError> {
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    let secret = p256::SecretKey::random(&mut OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(KeyError::Seal);
    };
    let mut jwk = json!({
        "kty": "EC", "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
    });
    let pk = PublicKey::from_jwk(&jwk).map_err(|_| KeyError::Seal)?;
    let kid = format!("enc-{}", pk.thumbprint());
    if let Some(o) = jwk.as_object_mut() {
        o.insert("kid".into(), kid.clone().into());
        o.insert("use".into(), "enc".into());
        o.insert("alg".into(), "ECDH-ES".into());
    }
    let scalar: [u8; 32] = secret.to_bytes().into();
    let sealed = master.seal(agency, &kid, &scalar)?;
    Ok((kid, jwk.to_string(), sealed))
}

fn open_encryption_key(
    master: &MasterKey,
    a: &Agency,
) -> Result<(josekit::jwk::Jwk, Value), KeyError> {
    let fail = || KeyError::Unseal {
        agency: a.id.clone(),
        kid: a.enc_kid.clone(),
    };
    let public: Value = serde_json::from_str(&a.enc_public_jwk).map_err(|_| fail())?;
    let d = master.open(&a.id, &a.enc_kid, &a.enc_sealed)?;
    let mut private = public.as_object().cloned().ok_or_else(fail)?;
    private.insert("d".into(), URL_SAFE_NO_PAD.encode(d.as_ref()).into());
    let jwk = josekit::jwk::Jwk::from_map(private).map_err(|_| fail())?;
    Ok((jwk, public))
}

async fn run_committer(store: Arc<dyn Store>, clock: SharedClock, mut rx: mpsc::Receiver<Commit>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<NewCredential>, Vec<_>) =
            batch.into_iter().map(|c| (c.item, c.reply)).unzip();
        match store.insert_credentials(&items, clock.now()).await {
            Ok(()) => {
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) if items.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
            Err(_) => {
                // One item spoiled the group (a duplicate licence id, say):
                // commit each alone so only that one fails.
                for (item, reply) in items.iter().zip(replies) {
                    let r = store
                        .insert_credentials(std::slice::from_ref(item), clock.now())
                        .await;
                    let _ = reply.send(r);
                }
            }
        }
    }
}
