//! The agency's records of its citizens, looked up by the subject the
//! agency's login names: where the claims of a wallet-initiated
//! authorization code flow come from.
//!
//! [`ClaimsSource`] is the seam. The service's own source,
//! [`StoredRecords`], is a table the admin API fills
//! (`POST /admin/v1/records`, [`Service::put_record`]): one record per
//! citizen and credential type, checked against the type's schema when it
//! is loaded, forgotten when its credential is issued or when it expires
//! unused (`record_ttl_secs`). An agency that would rather answer from its
//! own register plugs in another source.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::issuing::IssueRequest;
use super::offers::OfferOptions;
use super::{AgencyRuntime, Service, ServiceError, internal};
use crate::store::{Store, SubjectRecord};

/// One citizen's claims for one credential type.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectClaims {
    /// The claims, as the type's schema describes them.
    pub claims: Map<String, Value>,
    /// The credential's `exp`, if the record sets one.
    pub expires_at: Option<i64>,
    /// The credential's `nbf`, if the record sets one.
    pub not_before: Option<i64>,
}

/// Where the claims for an authenticated citizen come from.
#[async_trait]
pub trait ClaimsSource: Send + Sync {
    /// The claims of type `vct` the agency holds for `subject`, if any.
    async fn claims_for(
        &self,
        agency_id: &str,
        subject: &str,
        vct: &str,
        now: i64,
    ) -> Result<Option<SubjectClaims>, ServiceError>;
}

/// The records loaded through the admin API, in the service's database.
pub struct StoredRecords(pub(crate) Arc<dyn Store>);

impl std::fmt::Debug for StoredRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredRecords").finish_non_exhaustive()
    }
}

#[async_trait]
impl ClaimsSource for StoredRecords {
    async fn claims_for(
        &self,
        agency_id: &str,
        subject: &str,
        vct: &str,
        now: i64,
    ) -> Result<Option<SubjectClaims>, ServiceError> {
        let Some(r) = self.0.subject_record(agency_id, subject, vct, now).await? else {
            return Ok(None);
        };
        let claims = match serde_json::from_str(&r.claims).map_err(internal)? {
            Value::Object(m) => m,
            _ => return Err(internal("a stored record's claims are not an object")),
        };
        Ok(Some(SubjectClaims {
            claims,
            expires_at: r.credential_exp,
            not_before: r.credential_nbf,
        }))
    }
}

/// A record as the admin API loads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    /// The citizen's subject at the agency's login (`sub` of its ID token).
    pub subject: String,
    /// The licence type.
    pub vct: String,
    /// The claims, as the type's schema describes them.
    pub claims: Map<String, Value>,
    /// The credential's `exp`, Unix seconds.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// The credential's `nbf`, Unix seconds.
    #[serde(default)]
    pub not_before: Option<i64>,
}

/// A record loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLoaded {
    /// The subject.
    pub subject: String,
    /// The licence type.
    pub vct: String,
    /// Its configuration id (the `scope` a wallet asks with).
    pub scope: String,
    /// When it is forgotten unused.
    pub available_until: i64,
}

/// Longest subject accepted (OpenID Connect: 255 ASCII characters).
const MAX_SUBJECT: usize = 255;

/// Whether `subject` can be an OpenID Connect `sub`.
pub(crate) fn subject_is_valid(subject: &str) -> bool {
    !subject.is_empty() && subject.len() <= MAX_SUBJECT && !subject.chars().any(char::is_control)
}

impl Service {
    /// Loads (or replaces) a citizen's record for the agency: checked like
    /// an issue request (type, the agency's rights, the schema, validity).
    pub async fn put_record(
        &self,
        rt: &AgencyRuntime,
        actor: &str,
        req: RecordRequest,
    ) -> Result<RecordLoaded, ServiceError> {
        if !subject_is_valid(&req.subject) {
            return Err(ServiceError::InvalidRequest(
                "subject must be 1 to 255 characters without control characters".into(),
            ));
        }
        let as_issue = IssueRequest {
            vct: req.vct.clone(),
            claims: req.claims.clone(),
            holder_jwk: None,
            offer: Some(OfferOptions::for_record()),
            expires_at: req.expires_at,
            not_before: req.not_before,
        };
        let lt = self.check_request(rt, &as_issue)?;
        let now = self.now();
        let available_until = now + self.config.authorization.record_ttl_secs;
        self.store
            .put_subject_record(&SubjectRecord {
                agency_id: rt.agency.id.clone(),
                subject: req.subject.clone(),
                vct: req.vct.clone(),
                claims: Value::Object(req.claims).to_string(),
                credential_exp: req.expires_at,
                credential_nbf: req.not_before,
                expires_at: available_until,
                actor: actor.to_owned(),
                created_at: now,
            })
            .await?;
        Ok(RecordLoaded {
            subject: req.subject,
            vct: req.vct,
            scope: lt.slug.to_owned(),
            available_until,
        })
    }
}
