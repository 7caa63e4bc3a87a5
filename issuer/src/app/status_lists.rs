//! Status lists: the signed token of each list, cached for its `ttl` but
//! never beyond half its lifetime (`exp - iat`), so a token served (and
//! kept by a counter) always has at least half its lifetime left. The cache
//! is generation-counted (`status_cache`): a token is cached only if no
//! status of its list changed while it was being built.

use tongban_verifier::status::{Bits, StatusList, StatusListToken};

use super::ServiceError;
use super::status_cache::Lookup;

use super::{AgencyRuntime, Service, internal};

/// A freshly signed status list token.
struct Signed {
    token: String,
    iat: i64,
    /// Until when it may be served (the earlier of `ttl` and half its
    /// lifetime from `iat`).
    fresh_until: i64,
}

/// An agency's status lists, as published for the trust-list operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLists {
    /// The URI of every list that holds a credential, from list 0.
    pub uris: Vec<String>,
    /// The list new credentials go to: the last of `uris` (`None` before the
    /// first credential).
    pub current: Option<String>,
}

impl Service {
    /// The agency's status lists: every one that holds a credential.
    pub async fn status_lists(&self, rt: &AgencyRuntime) -> Result<StatusLists, ServiceError> {
        let count = self.store.status_list_count(&rt.agency.id).await?;
        let uris: Vec<String> = (0..count)
            .map(|n| format!("{}/status/{n}", rt.agency.iss))
            .collect();
        Ok(StatusLists {
            current: uris.last().cloned(),
            uris,
        })
    }

    /// Called with the list of each credential about to be signed: the first
    /// time this process sees the agency move to a list no credential was in
    /// yet, it says so — a warning in the log and
    /// `tongban_status_lists_opened_total{agency}` — because the trust-list
    /// operator must add the new list's URI to the agency's entry.
    pub(super) async fn note_status_list(&self, rt: &AgencyRuntime, list: i64) {
        let agency = &rt.agency.id;
        let known = match self.lists_seen_get(agency) {
            Some(k) => k,
            // First sight in this process: the lists already holding a
            // credential (an unreadable count only costs the warning).
            None => match self.store.status_list_count(agency).await {
                Ok(count) => count - 1,
                Err(_) => list,
            },
        };
        if self.lists_seen_raise(agency, known, list) && list > 0 {
            let uri = format!("{}/status/{list}", rt.agency.iss);
            tracing::warn!(
                agency = %agency,
                status_list = %uri,
                "the agency moved to a new status list; add its URI to the agency's trust-list entry (tongban-issuer trust-list update-issuer --status-lists-from {}/status)",
                rt.agency.iss
            );
            self.metrics.add(
                "tongban_status_lists_opened_total",
                &[("agency", agency)],
                1,
            );
        }
    }

    fn lists_seen_get(&self, agency: &str) -> Option<i64> {
        self.lists_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(agency)
            .copied()
    }

    /// Raises the highest list seen for `agency` (`known` if none yet) to
    /// `list`; whether `list` is above what was seen.
    fn lists_seen_raise(&self, agency: &str, known: i64, list: i64) -> bool {
        let mut m = self
            .lists_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let seen = m.entry(agency.to_owned()).or_insert(known);
        if list > *seen {
            *seen = list;
            true
        } else {
            false
        }
    }

    /// The signed status list token and how many seconds it may be cached
    /// (never past its `ttl`, nor past half its lifetime; 0 for a token
    /// whose list changed while it was being signed).
    pub async fn status_list_token(
        &self,
        rt: &AgencyRuntime,
        list: i64,
    ) -> Result<(String, u64), ServiceError> {
        let key = (rt.agency.id.clone(), list);
        let generation = match self.status_cache.lookup(&key, self.now()) {
            Lookup::Hit { token, left } => return Ok((token, left)),
            Lookup::Miss { generation } => generation,
        };
        let signed = self.sign_status_list(rt, list).await?;
        let cached =
            self.status_cache
                .offer(key, generation, signed.token.clone(), signed.fresh_until);
        // A token the cache refused was read before a change that has been
        // answered since: this request may have it, but no proxy may keep it.
        let max_age = if cached {
            u64::try_from(signed.fresh_until - signed.iat).unwrap_or(0)
        } else {
            0
        };
        Ok((signed.token, max_age))
    }

    /// Reads list `list` of the agency from the database and signs it now.
    async fn sign_status_list(
        &self,
        rt: &AgencyRuntime,
        list: i64,
    ) -> Result<Signed, ServiceError> {
        let count = self.store.status_list_count(&rt.agency.id).await?;
        if list < 0 || list >= count {
            return Err(ServiceError::StatusListNotFound(format!(
                "{} has {count} status list(s); {list} is not one",
                rt.agency.id
            )));
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
        // Served until the ttl has passed or half the lifetime is used up,
        // whichever comes first: then a new token is signed.
        let fresh_until = iat
            .saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX))
            .min(iat.saturating_add(lifetime / 2));
        let uri = format!("{}/status/{list}", rt.agency.iss);
        let token = StatusListToken::sign(
            &rt.keys.jws_signer(),
            &rt.agency.iss,
            &uri,
            iat,
            Some(iat + lifetime),
            Some(ttl),
            &sl,
        )
        .map_err(internal)?;
        Ok(Signed {
            token,
            iat,
            fresh_until,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use rand_core::OsRng;
    use tongban_service_kit::ManualClock;
    use tongban_verifier::{Ed25519Signer, Signer as _};

    use super::super::status_cache::Lookup;
    use super::super::{Database, IssueRequest, Issued, Service};
    use crate::config::{Config, Overrides};
    use crate::keys::MasterKey;
    use crate::store::StatusChange;

    async fn demo_service(dir: &std::path::Path) -> std::sync::Arc<Service> {
        let config = Config::load_with(
            None,
            &Overrides {
                data_dir: Some(dir.to_owned()),
                public_url: Some("https://issuer.test".into()),
                ..Default::default()
            },
            |k| (k == "TONGBAN_ISSUER_STATUS_LIST_SIZE").then(|| "1024".into()),
        )
        .unwrap();
        let db = Database::open(&config).await.unwrap();
        let master = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let svc = Service::new(config, db, master, ManualClock::new(1_800_000_000)).unwrap();
        crate::bootstrap::bootstrap_demo(&svc).await.unwrap();
        svc
    }

    /// *Outside review:* a rebuild in flight re-cached a token read before
    /// a revocation that had just cleared the cache, so the revocation
    /// answered 200 while the list served "valid" for the next `ttl`. The
    /// two steps of a rebuild are driven here around the revocation: its
    /// read before, its cache insert after.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_revocation_during_a_rebuild_shows_in_the_next_token() {
        let dir = tempfile::tempdir().unwrap();
        let svc = demo_service(dir.path()).await;
        let rt = svc.agency("demo").await.unwrap();
        let holder = Ed25519Signer::generate(&mut OsRng, None);
        let claims = tongban_test_support::sample::catalogue_claims("business-licence", 1);
        let req = IssueRequest {
            vct: "urn:tongban:business-licence:1".into(),
            claims,
            holder_jwk: Some(holder.public_key().to_jwk()),
            offer: None,
            expires_at: None,
            not_before: None,
        };
        let Issued::Credential(issued) = svc.issue(&rt, "test", req).await.unwrap() else {
            panic!("a credential, not an offer")
        };
        let rec = issued.record;
        let key = ("demo".to_owned(), rec.status_list);
        let idx = usize::try_from(rec.status_idx).unwrap();

        // A rebuild misses the cache and reads the list (still valid) ...
        let Lookup::Miss { generation } = svc.status_cache.lookup(&key, svc.now()) else {
            panic!("nothing is cached yet")
        };
        let stale = svc.sign_status_list(&rt, rec.status_list).await.unwrap();
        // ... the revocation commits and answers ...
        svc.change_status("demo", &rec.id, StatusChange::Revoke, None, "test")
            .await
            .unwrap();
        // ... and only then does the rebuild try to cache what it read.
        let cached = svc
            .status_cache
            .offer(key, generation, stale.token, stale.fresh_until);
        assert!(!cached, "a token read before the revocation was cached");

        let (token, _) = svc.status_list_token(&rt, rec.status_list).await.unwrap();
        let served = tongban_verifier::status::StatusListToken::parse(&token).unwrap();
        assert_eq!(
            served.token.list.get(idx),
            Some(1),
            "the list served after the revocation's answer must say revoked"
        );
    }
}
