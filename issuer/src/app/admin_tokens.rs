//! Admin tokens: creating them (the secret shown once), listing, revoking,
//! and authenticating a request's bearer secret.

use std::sync::Arc;

use crate::store::TokenRecord;
use crate::tokens::{self, NewToken, Scopes, hash_secret};

use super::token_cache::Lookup;
use super::{AgencyRuntime, Service, ServiceError};

impl Service {
    /// Creates an admin token for an agency; the secret is returned once.
    pub async fn create_token(
        &self,
        agency_id: &str,
        scopes: Scopes,
        label: &str,
        actor: &str,
    ) -> Result<NewToken, ServiceError> {
        self.store.agency(agency_id).await?;
        let t = tokens::generate();
        let record = TokenRecord {
            id: t.id.clone(),
            agency_id: agency_id.to_owned(),
            scopes,
            label: label.to_owned(),
            created_at: self.now(),
            revoked_at: None,
        };
        self.store.create_token(&record, &t.hash, actor).await?;
        Ok(t)
    }

    /// An agency's tokens (never the secrets).
    pub async fn list_tokens(&self, agency_id: &str) -> Result<Vec<TokenRecord>, ServiceError> {
        Ok(self.store.list_tokens(agency_id).await?)
    }

    /// Revokes a token of the agency.
    pub async fn revoke_token(
        &self,
        agency_id: &str,
        id: &str,
        actor: &str,
    ) -> Result<(), ServiceError> {
        self.store
            .revoke_token(agency_id, id, self.now(), actor)
            .await?;
        // After the commit, before the answer: from now on this process
        // refuses the token (other processes within their cache lifetime).
        self.token_cache.forget(id);
        Ok(())
    }

    /// The live token with this secret, and its agency with keys opened.
    /// A token found live is trusted for `admin_token_cache_secs` without
    /// reading it again ([`super::token_cache`]).
    pub async fn authenticate(
        &self,
        secret: &str,
    ) -> Result<(Arc<TokenRecord>, Arc<AgencyRuntime>), ServiceError> {
        let hash = hash_secret(secret);
        let now = self.now();
        let token = match self.token_cache.lookup(&hash, now) {
            Lookup::Hit(token) => token,
            Lookup::Miss { generation } => {
                let token = Arc::new(self.store.token_by_hash(&hash).await?.ok_or_else(|| {
                    ServiceError::Unauthorized("the token is unknown or revoked".into())
                })?);
                self.token_cache
                    .offer(&hash, token.clone(), now, generation);
                token
            }
        };
        let rt = self.agency(&token.agency_id).await?;
        Ok((token, rt))
    }
}
