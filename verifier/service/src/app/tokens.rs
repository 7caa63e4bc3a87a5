//! Bearer tokens: made (the secret shown once), listed, revoked, and
//! checked on every back-office request.

use serde_json::json;

use super::{Service, ServiceError};
use crate::audit::{PendingEntry, SERVICE_CHAIN};
use crate::store::TokenRecord;
use crate::tokens::{self, NewToken, TOKEN_PREFIX, TokenScope};

impl Service {
    /// Makes a token; `scope` names a tenant, or the admin.
    pub async fn create_token(
        &self,
        scope: TokenScope,
        label: &str,
        actor: &str,
    ) -> Result<NewToken, ServiceError> {
        if let TokenScope::Tenant(t) = &scope {
            self.store.tenant(t).await?;
        }
        let new = tokens::generate();
        let record = TokenRecord {
            id: new.id.clone(),
            scope: scope.clone(),
            label: label.to_owned(),
            created_at: self.now(),
            revoked_at: None,
        };
        let chain = scope.tenant().unwrap_or(SERVICE_CHAIN).to_owned();
        let audit = PendingEntry::new(
            chain,
            actor,
            "token.create",
            new.id.clone(),
            json!({"scope": scope, "label": label}),
        );
        self.store.create_token(&record, &new.hash, audit).await?;
        Ok(new)
    }

    /// Every token (never a secret).
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, ServiceError> {
        Ok(self.store.tokens().await?)
    }

    /// Revokes a token by its id.
    pub async fn revoke_token(&self, id: &str, actor: &str) -> Result<(), ServiceError> {
        let tokens = self.store.tokens().await?;
        let t = tokens
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("token {id}")))?;
        let chain = t.scope.tenant().unwrap_or(SERVICE_CHAIN).to_owned();
        let audit = PendingEntry::new(chain, actor, "token.revoke", id, json!({}));
        self.store.revoke_token(id, self.now(), audit).await?;
        Ok(())
    }

    /// The live token a bearer secret belongs to.
    pub async fn authenticate(&self, secret: &str) -> Result<TokenRecord, ServiceError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Err(ServiceError::Unauthorized(format!(
                "send Authorization: Bearer {TOKEN_PREFIX}…"
            )));
        }
        self.store
            .token_by_hash(&tokens::hash_secret(secret))
            .await?
            .ok_or_else(|| ServiceError::Unauthorized("unknown or revoked token".into()))
    }
}
