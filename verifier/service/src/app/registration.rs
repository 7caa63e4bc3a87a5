//! The tenant's registration in the trust list (`specs/trust-list.md`
//! §1.5): when the zone's list registers receiving agencies, a transaction
//! is created only for a service item registered to the agency whose
//! certificate the tenant signs with (its `x509_hash`), valid now, and only
//! asking for what that service item may ask (the same reading of the DCQL
//! query as the citizen's wallet applies). Otherwise it is refused before
//! anything is stored: `registration_invalid` or `claims_not_registered`.

use tongban_protocol::oid4vp::DcqlQuery;
use tongban_protocol::oid4vp::registration::asked;
use tongban_verifier::relying_party::Registered;
use tongban_verifier::{ErrorCode, Rejection};

use super::tenants::TenantRuntime;
use super::{Service, ServiceError};
use crate::pki;

impl Service {
    /// Checks a new transaction against the tenant's registration: `None`
    /// when the trust list registers no receiving agencies (older lists),
    /// the registration when it allows the query.
    pub(super) fn check_registration(
        &self,
        rt: &TenantRuntime,
        service_item: &str,
        dcql: &DcqlQuery,
    ) -> Result<Option<Registered>, ServiceError> {
        let bundle = self.trust().current().ok_or_else(|| {
            ServiceError::NoTrustBundle(
                "no trust bundle yet: the tenant's registration cannot be checked".into(),
            )
        })?;
        let list = bundle.trust_list().list();
        if !list.registers_verifiers() {
            return Ok(None);
        }
        let client_id = pki::x509_hash_client_id(&rt.tenant.cert_der);
        let hash = client_id.strip_prefix("x509_hash:").unwrap_or_default();
        if !rt.client_id.starts_with("x509_hash:") {
            return Err(ServiceError::NotRegistered(Rejection::new(
                ErrorCode::RequesterUnknown,
                format!(
                    "tenant {} uses client id {}; wallets identify a registered agency by x509_hash only",
                    rt.tenant.id, rt.client_id
                ),
            )));
        }
        let registered = list
            .registered_by_x509_hash(hash, service_item, self.now())
            .map_err(ServiceError::NotRegistered)?;
        registered
            .service_item
            .check_within(&asked(dcql))
            .map_err(ServiceError::NotRegistered)?;
        Ok(Some(registered))
    }
}
