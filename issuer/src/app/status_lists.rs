//! Status lists: the signed token of each list, cached for its `ttl` but
//! never beyond half its lifetime (`exp - iat`), so a token served (and
//! kept by a counter) always has at least half its lifetime left.

use tongban_verifier::status::{Bits, StatusList, StatusListToken};

use super::ServiceError;

use super::{AgencyRuntime, CachedStatus, Service, internal};

impl Service {
    /// The signed status list token and how many seconds it may be cached
    /// (never past its `ttl`, nor past half its lifetime).
    pub async fn status_list_token(
        &self,
        rt: &AgencyRuntime,
        list: i64,
    ) -> Result<(String, u64), ServiceError> {
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
                    fresh_until,
                },
            );
        }
        Ok((token, u64::try_from(fresh_until - iat).unwrap_or(0)))
    }
}
