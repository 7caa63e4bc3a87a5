//! Issuing: validating a request, allocating a status index, signing,
//! and the group commit that makes each credential durable before it is
//! returned.

use std::sync::Arc;

use rand_core::RngCore as _;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tongban_verifier::catalogue::LicenceType;
use tongban_verifier::catalogue::schema::Mode;
use tongban_verifier::{CredentialBuilder, PublicKey};

use super::ServiceError;
use crate::store::{
    Backend, Conflict, CredentialRecord, CredentialStatus, NewCredential, Store, StoreError,
};
use tongban_service_kit::{Clock, SharedClock};

use super::credential_id::credential_id;
use super::offers::{IssuedOffer, OfferOptions};
use super::os_bytes::OsBytes;
use super::{AgencyRuntime, Commit, MAX_GROUP, Service, internal};

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

/// A credential signed and not yet stored.
pub(super) struct Signed {
    /// Its record.
    pub(super) record: CredentialRecord,
    /// The SD-JWT VC.
    pub(super) credential: String,
    /// The status list URI in it.
    pub(super) status_uri: String,
    /// The agency's counter its status position came from.
    pub(super) status_seq: i64,
}

/// What [`Service::issue`] produced.
#[derive(Debug, Clone)]
pub enum Issued {
    /// Signed and stored.
    Credential(IssuedCredential),
    /// An offer; the credential is signed when the wallet redeems it.
    Offer(IssuedOffer),
}

impl Service {
    /// Validates the request against the catalogue and the agency's rights.
    pub fn check_request<'c>(
        &'c self,
        rt: &AgencyRuntime,
        req: &IssueRequest,
    ) -> Result<&'c LicenceType, ServiceError> {
        let lt = self.catalogue.by_vct(&req.vct).ok_or_else(|| {
            ServiceError::UnknownVct(format!("vct {:?} is not in the catalogue", req.vct))
        })?;
        if !rt.agency.vcts.iter().any(|v| v == &req.vct) {
            return Err(ServiceError::VctNotAuthorised(format!(
                "agency {} may issue {}; not {}",
                rt.agency.id,
                rt.agency.vcts.join(", "),
                req.vct
            )));
        }
        let violations = lt.validate(&req.claims, Mode::Complete);
        if !violations.is_empty() {
            return Err(ServiceError::ClaimsInvalid { violations });
        }
        let t = self.now();
        if let Some(exp) = req.expires_at
            && exp <= t
        {
            return Err(ServiceError::ValidityInvalid(format!(
                "expires_at {exp} is not in the future"
            )));
        }
        let exp = req
            .expires_at
            .unwrap_or(t + self.config.credential_validity_days * 86_400);
        if let Some(nbf) = req.not_before
            && nbf >= exp
        {
            return Err(ServiceError::ValidityInvalid(format!(
                "not_before {nbf} is not before the expiry {exp}"
            )));
        }
        match (&req.holder_jwk, &req.offer) {
            (None, None) => Err(ServiceError::HolderMissing(
                "neither holder_jwk nor offer was given".into(),
            )),
            (Some(_), Some(_)) => Err(ServiceError::HolderAmbiguous(
                "both holder_jwk and offer were given".into(),
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
    ) -> Result<Issued, ServiceError> {
        let lt = self.check_request(rt, &req)?;
        if let Some(opts) = &req.offer {
            // An offer stores no credential yet, so its licence id is
            // checked by a read; a credential's, by the insert itself.
            if let Some(l) = licence_id(&req.claims)
                && self.licence_id_taken(&rt.agency.id, &l).await?
            {
                return Err(licence_id_taken(&l, &rt.agency.id));
            }
            return self
                .create_offer(rt, lt, actor, &req, opts)
                .await
                .map(Issued::Offer);
        }
        let jwk = req
            .holder_jwk
            .as_ref()
            .ok_or_else(|| ServiceError::HolderMissing("no holder_jwk".into()))?;
        let holder = PublicKey::from_jwk(jwk)
            .map_err(|e| ServiceError::HolderKeyInvalid(format!("holder_jwk: {e}")))?;
        let Signed {
            record,
            credential,
            status_uri,
            status_seq,
        } = self
            .sign(
                rt,
                lt,
                req.claims,
                holder,
                req.expires_at,
                req.not_before,
                None,
            )
            .await?;
        let (reply, wait) = oneshot::channel();
        self.committer
            .send(Commit {
                item: NewCredential {
                    record,
                    status_seq,
                    actor: actor.to_owned(),
                },
                reply,
            })
            .await
            .map_err(|_| ServiceError::StorageUnavailable {
                detail: "the service is shutting down".into(),
                cause: None,
            })?;
        let (NewCredential { record, .. }, outcome) =
            wait.await.map_err(|_| ServiceError::StorageUnavailable {
                detail: "the commit task stopped".into(),
                cause: None,
            })?;
        match outcome {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::LicenceId)) => {
                let l = record.licence_id.as_deref().unwrap_or_default();
                return Err(licence_id_taken(l, &rt.agency.id));
            }
            Err(e) => return Err(e.into()),
        }
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

    async fn licence_id_taken(&self, agency: &str, licence_id: &str) -> Result<bool, ServiceError> {
        Ok(self.store.licence_id_exists(agency, licence_id).await?)
    }

    /// Allocates a status index and signs.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn sign(
        &self,
        rt: &AgencyRuntime,
        lt: &LicenceType,
        claims: Map<String, Value>,
        holder: PublicKey,
        exp: Option<i64>,
        nbf: Option<i64>,
        offer_id: Option<&str>,
    ) -> Result<Signed, ServiceError> {
        let g = self.next_index(&rt.agency.id).await?;
        let (list, idx) = crate::status_index::position(
            rt.agency.index_key.as_bytes(),
            g,
            rt.agency.status_list_size,
        );
        self.note_status_list(rt, list).await;
        let status_uri = format!("{}/status/{list}", rt.agency.iss);
        let iat = self.now();
        let exp = exp.unwrap_or(iat + self.config.credential_validity_days * 86_400);
        let licence_id = licence_id(&claims);
        let holder_thumbprint = holder.thumbprint();
        let mut b = CredentialBuilder::new(rt.agency.iss.clone(), lt.vct.clone(), iat)
            .claims(claims)
            .holder_key(holder)
            .status(json!({"status_list": {"idx": idx, "uri": status_uri}}))
            .sd_alg(self.config.sd_alg)
            .expires_at(exp);
        if let Some(n) = nbf {
            b = b.not_before(n);
        }
        let mut rng = OsBytes::new();
        let issued = b.issue(&rt.keys.jws_signer(), &mut rng).map_err(internal)?;
        let mut id = [0u8; 10];
        rng.fill_bytes(&mut id);
        let record = CredentialRecord {
            id: credential_id(self.clock.now_ms(), id),
            agency_id: rt.agency.id.clone(),
            vct: lt.vct.clone(),
            licence_id,
            status_list: list,
            status_idx: idx,
            status: CredentialStatus::Valid,
            holder_thumbprint: Some(holder_thumbprint),
            kid: rt.keys.kid.clone(),
            issued_at: iat,
            expires_at: Some(exp),
            offer_id: offer_id.map(str::to_owned),
            batch_id: None,
            key_storage: None,
        };
        Ok(Signed {
            record,
            credential: issued.sd_jwt,
            status_uri,
            status_seq: g,
        })
    }

    async fn next_index(&self, agency: &str) -> Result<i64, ServiceError> {
        let slot = {
            let mut m = self
                .allocators
                .lock()
                .map_err(|_| internal("allocator lock poisoned"))?;
            match m.get(agency) {
                Some(slot) => slot.clone(),
                None => m
                    .entry(agency.to_owned())
                    .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(0..0)))
                    .clone(),
            }
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
}

fn licence_id_taken(licence_id: &str, agency: &str) -> ServiceError {
    ServiceError::LicenceIdTaken(format!(
        "licence_id {licence_id:?} was already issued by {agency}"
    ))
}

/// The `licence_id` claim, if the claims carry one.
pub(crate) fn licence_id(claims: &Map<String, Value>) -> Option<String> {
    claims
        .get("licence_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Groups committed at once: one on SQLite (one writer, so a second group
/// would only queue for it), several on PostgreSQL, where each group
/// commits on its own pooled connection. There groups of one agency commit
/// one after the other (each is linked to the audit chain head the one
/// before left, `store/sql/postgres_groups.rs`), and groups of different
/// agencies side by side.
pub(crate) fn committers(backend: Backend, pool_size: u32) -> usize {
    match backend {
        Backend::Sqlite => 1,
        // Leave half the pool to everything else (status-index blocks,
        // reads, the other writes).
        Backend::Postgres => usize::try_from(pool_size / 2)
            .unwrap_or(1)
            .clamp(1, MAX_COMMITTERS),
    }
}

/// Most PostgreSQL groups in flight at once.
const MAX_COMMITTERS: usize = 4;

/// A group that would commit beside another one in flight waits until it
/// holds this many credentials (or the other is done): a PostgreSQL
/// transaction costs the server about the same whether it holds 5
/// credentials or 50, so small groups side by side cost more than they
/// overlap.
const MIN_PARALLEL_GROUP: usize = 32;

/// The commit task: takes whatever credentials have queued (up to
/// [`MAX_GROUP`]) as a group, once one of `committers` is free, and
/// commits it; each caller is answered once the group holding its own
/// credential is committed. On shutdown (every sender gone) it returns
/// after the groups in flight are done.
pub(crate) async fn run_committer(
    store: Arc<dyn Store>,
    clock: SharedClock,
    mut rx: mpsc::Receiver<Commit>,
    committers: usize,
) {
    let committers = committers.max(1);
    let free = Arc::new(Semaphore::new(committers));
    let finished = Arc::new(Notify::new());
    loop {
        // Wait for a free committer before taking a group: meanwhile more
        // credentials queue, and the group grows.
        let Ok(permit) = free.clone().acquire_owned().await else {
            break;
        };
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut batch = vec![first];
        let mut open = drain(&mut rx, &mut batch);
        while open && batch.len() < MIN_PARALLEL_GROUP && free.available_permits() + 1 < committers
        {
            tokio::select! {
                c = rx.recv() => match c {
                    Some(c) => {
                        batch.push(c);
                        open = drain(&mut rx, &mut batch);
                    }
                    None => open = false,
                },
                () = finished.notified() => {}
            }
        }
        if committers == 1 {
            commit_group(store.as_ref(), clock.as_ref(), batch).await;
            drop(permit);
        } else {
            let (store, clock, finished) = (store.clone(), clock.clone(), finished.clone());
            tokio::spawn(async move {
                commit_group(store.as_ref(), clock.as_ref(), batch).await;
                drop(permit);
                finished.notify_one();
            });
        }
    }
    // Every group in flight answers its callers before the task ends.
    let _ = free
        .acquire_many(u32::try_from(committers).unwrap_or(u32::MAX))
        .await;
}

/// Moves what has queued into `batch`, up to [`MAX_GROUP`]; false once the
/// channel is closed and empty.
fn drain(rx: &mut mpsc::Receiver<Commit>, batch: &mut Vec<Commit>) -> bool {
    while batch.len() < MAX_GROUP {
        match rx.try_recv() {
            Ok(c) => batch.push(c),
            Err(mpsc::error::TryRecvError::Empty) => return true,
            Err(mpsc::error::TryRecvError::Disconnected) => return false,
        }
    }
    true
}

/// Commits one group in one transaction and answers each caller with its
/// own outcome; if the database fails the group, each credential is
/// committed alone, so a failure that belongs to one fails only it. A
/// credential the failed group did store (its commit went through but the
/// answer was lost on the way back) is answered as stored, not stored and
/// audited a second time.
async fn commit_group(store: &dyn Store, clock: &dyn Clock, batch: Vec<Commit>) {
    let (items, replies): (Vec<NewCredential>, Vec<_>) =
        batch.into_iter().map(|c| (c.item, c.reply)).unzip();
    match store.insert_credentials(&items, clock.now()).await {
        Ok(outcomes) => {
            for ((item, reply), outcome) in items.into_iter().zip(replies).zip(outcomes) {
                let _ = reply.send((item, outcome.map_err(StoreError::Conflict)));
            }
        }
        Err(e) if items.len() == 1 => {
            // Tried alone already: stored after all, or the error.
            if let (Some(item), Some(reply)) =
                (items.into_iter().next(), replies.into_iter().next())
            {
                let r = if already_stored(store, &item).await {
                    Ok(())
                } else {
                    Err(e)
                };
                let _ = reply.send((item, r));
            }
        }
        Err(_) => {
            for (item, reply) in items.into_iter().zip(replies) {
                let r = if already_stored(store, &item).await {
                    Ok(())
                } else {
                    store
                        .insert_credentials(std::slice::from_ref(&item), clock.now())
                        .await
                        .and_then(|mut o| match o.pop() {
                            Some(outcome) => outcome.map_err(StoreError::Conflict),
                            None => {
                                Err(StoreError::Corrupt("no outcome for the credential".into()))
                            }
                        })
                };
                let _ = reply.send((item, r));
            }
        }
    }
}

/// Whether this very credential is stored: its id (made for this request
/// alone, `credential_id`) at the status position it was given. False when
/// it cannot be read.
async fn already_stored(store: &dyn Store, item: &NewCredential) -> bool {
    let r = &item.record;
    match store.credential(&r.agency_id, &r.id).await {
        Ok(stored) => stored.status_list == r.status_list && stored.status_idx == r.status_idx,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_credential_a_lost_answer_stored_is_known_by_its_id_and_position() {
        use crate::store::sql::fixtures::{credential, store_with_agency};
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_agency(dir.path()).await;
        let item = credential("c1", "L1", 1);
        assert!(!already_stored(&store, &item).await);
        store
            .insert_credentials(std::slice::from_ref(&item), 2)
            .await
            .unwrap();
        assert!(already_stored(&store, &item).await);
        // The same id at another position is not this credential.
        let mut elsewhere = item.clone();
        elsewhere.record.status_idx = 2;
        assert!(!already_stored(&store, &elsewhere).await);
        // Nor is another agency's.
        let mut other = item;
        other.record.agency_id = "b".into();
        assert!(!already_stored(&store, &other).await);
    }

    #[test]
    fn sqlite_commits_one_group_at_a_time_postgres_several_within_half_the_pool() {
        assert_eq!(committers(Backend::Sqlite, 16), 1);
        assert_eq!(committers(Backend::Postgres, 16), MAX_COMMITTERS);
        assert_eq!(committers(Backend::Postgres, 4), 2);
        assert_eq!(committers(Backend::Postgres, 1), 1);
    }
}
