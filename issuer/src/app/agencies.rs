//! Agencies: creating them, their keys (rotation, the master-key check),
//! and the agency with its keys opened that every request works with.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use serde_json::{Map, Value, json};
use tongban_verifier::PublicKey;
use tongban_verifier::catalogue::ids;

use super::ServiceError;
use crate::keys::{
    self, JwsAlgName, KeyAlg, KeyChoice, KeyError, KeyRing, MasterKey, new_signing_key,
};
use crate::store::{Agency, StoreError, StoredKey};

use super::{AgencyRuntime, Service, internal};

/// Changes to an agency; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgencyUpdate {
    /// New name in Chinese.
    pub name_zh: Option<String>,
    /// New name in English.
    pub name_en: Option<String>,
    /// New GB/T 2260 code.
    pub region: Option<String>,
    /// New list of types it may issue.
    pub vcts: Option<Vec<String>>,
    /// Whether wallets must encrypt.
    pub encryption_required: Option<bool>,
}

/// An agency with its signing keys and the length of its audit chain.
#[derive(Debug, Clone)]
pub struct AgencyOverview {
    /// The agency.
    pub agency: Agency,
    /// Its signing keys, current and retired.
    pub keys: Vec<StoredKey>,
    /// Entries in its audit chain.
    pub audit_entries: i64,
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
    /// The algorithm of its signing key (Ed25519 by default, ES256 or SM2).
    pub key_alg: KeyAlg,
    /// For an Ed25519 key, the `alg` name its headers use (`None`:
    /// `EdDSA`); refused with the other algorithms.
    pub jws_alg_name: Option<JwsAlgName>,
}

impl Service {
    /// Creates an agency with a fresh signing key and encryption key.
    pub async fn create_agency(
        &self,
        spec: &AgencySpec,
        actor: &str,
    ) -> Result<Agency, ServiceError> {
        check_agency_id(&spec.id)?;
        check_region(&spec.region)?;
        self.check_vcts(&spec.vcts)?;
        let choice = key_choice(spec.key_alg, spec.jws_alg_name)?;
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
        let key = new_signing_key(&self.master, &spec.id, at, choice).map_err(internal)?;
        self.store.create_agency(&agency, &key, actor).await?;
        Ok(agency)
    }

    /// Changes an agency's names, region, licence types or encryption rule,
    /// checking the region and types as [`Service::create_agency`] does.
    pub async fn update_agency(
        &self,
        agency_id: &str,
        update: AgencyUpdate,
        actor: &str,
    ) -> Result<Agency, ServiceError> {
        let mut a = self.store.agency(agency_id).await?;
        if let Some(v) = update.name_zh {
            a.name_zh = v;
        }
        if let Some(v) = update.name_en {
            a.name_en = v;
        }
        if let Some(v) = update.region {
            check_region(&v)?;
            a.region = v;
        }
        if let Some(v) = update.vcts {
            self.check_vcts(&v)?;
            a.vcts = v;
        }
        if let Some(v) = update.encryption_required {
            a.encryption_required = v;
        }
        self.store.update_agency(&a, actor, self.now()).await?;
        self.forget_agency(agency_id);
        Ok(a)
    }

    fn check_vcts(&self, vcts: &[String]) -> Result<(), ServiceError> {
        match vcts.iter().find(|v| self.catalogue.by_vct(v).is_none()) {
            Some(v) => Err(ServiceError::UnknownVct(format!(
                "vct {v:?} is not in the catalogue"
            ))),
            None => Ok(()),
        }
    }

    /// Every agency this service hosts.
    pub async fn list_agencies(&self) -> Result<Vec<Agency>, ServiceError> {
        Ok(self.store.list_agencies().await?)
    }

    /// One agency with its keys and the length of its audit chain.
    pub async fn agency_overview(&self, agency_id: &str) -> Result<AgencyOverview, ServiceError> {
        let agency = self.store.agency(agency_id).await?;
        let keys = self.store.keys(agency_id).await?;
        let (audit_entries, _) = self.store.audit_head(agency_id).await?;
        Ok(AgencyOverview {
            agency,
            keys,
            audit_entries,
        })
    }

    /// An agency's signing keys, current and retired.
    pub async fn signing_keys(&self, agency_id: &str) -> Result<Vec<StoredKey>, ServiceError> {
        let keys = self.store.keys(agency_id).await?;
        if keys.is_empty() {
            return Err(ServiceError::NotFound(format!("agency {agency_id}")));
        }
        Ok(keys)
    }

    /// Checks that the master key opens the keys already stored, so a
    /// wrong master key is refused before anything is sealed under it.
    pub async fn check_master_key(&self) -> Result<(), ServiceError> {
        for a in self.store.list_agencies().await? {
            let keys = self.store.keys(&a.id).await?;
            KeyRing::open(&self.master, &a.id, &keys).map_err(|e| {
                ServiceError::WrongMasterKey(format!("{e}. Supply the master key this database was created with (TONGBAN_MASTER_KEY or master_key_file)."))
            })?;
        }
        Ok(())
    }

    /// Rotates an agency's signing key to one of the same algorithm; the
    /// old one stays published.
    pub async fn rotate_key(&self, agency_id: &str, actor: &str) -> Result<String, ServiceError> {
        self.rotate_key_to(agency_id, actor, None, None).await
    }

    /// Rotates an agency's signing key to a new key of `alg` (`None`: the
    /// current key's algorithm) whose Ed25519 headers say `name` (`None`:
    /// as the current key's do, when the algorithm stays Ed25519), so an
    /// agency can move to ES256 or SM2 (or back), or to the fully specified
    /// `Ed25519` name, at a rotation; the old key stays published and its
    /// credentials verify.
    pub async fn rotate_key_to(
        &self,
        agency_id: &str,
        actor: &str,
        alg: Option<KeyAlg>,
        name: Option<JwsAlgName>,
    ) -> Result<String, ServiceError> {
        self.store.agency(agency_id).await?;
        let keys = self.store.keys(agency_id).await?;
        let ring = KeyRing::open(&self.master, agency_id, &keys)
            .map_err(|e| ServiceError::Internal(format!("{e}; nothing was changed")))?;
        let current = ring.choice();
        let choice = match (alg, name) {
            (None, None) => current,
            (alg, name) => {
                let alg = alg.unwrap_or(current.alg);
                // An Ed25519 key that stays Ed25519 keeps its name unless told.
                let kept = (alg == KeyAlg::Ed25519 && current.alg == KeyAlg::Ed25519)
                    .then_some(current.name);
                key_choice(alg, name.or(kept))?
            }
        };
        let key = new_signing_key(&self.master, agency_id, self.now(), choice).map_err(internal)?;
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
    pub async fn agency(&self, agency_id: &str) -> Result<Arc<AgencyRuntime>, ServiceError> {
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
                return Err(ServiceError::UnknownAgency {
                    agency: agency_id.to_owned(),
                });
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
}

fn key_choice(alg: KeyAlg, name: Option<JwsAlgName>) -> Result<KeyChoice, ServiceError> {
    KeyChoice::new(alg, name).map_err(|e| ServiceError::InvalidRequest(e.to_string()))
}

fn check_region(region: &str) -> Result<(), ServiceError> {
    ids::check_region(region)
        .map_err(|e| ServiceError::InvalidRequest(format!("region {region:?}: {e}")))
}

pub(crate) fn check_agency_id(id: &str) -> Result<(), ServiceError> {
    let ok = (2..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::InvalidRequest(format!(
            "agency id {id:?}: use 2–40 lowercase letters, digits and '-', e.g. wujiang-amr"
        )))
    }
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
    let sealed = keys::seal(master, agency, &kid, &scalar)?;
    Ok((kid, jwk.to_string(), sealed))
}

fn open_encryption_key(
    master: &MasterKey,
    a: &Agency,
) -> Result<(josekit::jwk::Jwk, Map<String, Value>), KeyError> {
    let fail = || keys::sealed_for(&a.id, &a.enc_kid).unseal_error();
    let public: Map<String, Value> = serde_json::from_str(&a.enc_public_jwk).map_err(|_| fail())?;
    let d = keys::open(master, &a.id, &a.enc_kid, &a.enc_sealed)?;
    let mut private = public.clone();
    private.insert("d".into(), URL_SAFE_NO_PAD.encode(d.as_ref()).into());
    let jwk = josekit::jwk::Jwk::from_map(private).map_err(|_| fail())?;
    Ok((jwk, public))
}
