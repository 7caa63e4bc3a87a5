//! The tenant's registration in the trust list (`specs/trust-list.md`
//! §1.5): when the zone's list registers receiving agencies, a transaction
//! is created only for a service item registered to the agency whose
//! certificate the tenant signs with (its `x509_hash`), or whose DNS name
//! an `x509_san_dns` tenant uses, valid now, and only
//! asking for what that service item may ask (the same reading of the DCQL
//! query as the citizen's wallet applies). Otherwise it is refused before
//! anything is stored: `registration_invalid` or `claims_not_registered`.

use tongban_protocol::oid4vp::DcqlQuery;
use tongban_protocol::oid4vp::registration::asked;
use tongban_verifier::relying_party::Registered;

use super::tenants::TenantRuntime;
use super::{Service, ServiceError};
use crate::pki;
use crate::store::ClientIdPrefix;

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
        // What wallets will see: the x509_hash of the tenant's certificate,
        // or the DNS name of an x509_san_dns tenant.
        let client_id = match rt.tenant.client_id_prefix {
            ClientIdPrefix::X509Hash => pki::x509_hash_client_id(&rt.tenant.cert_der),
            ClientIdPrefix::X509SanDns => rt.client_id.clone(),
        };
        let registered = list
            .registered_by_client_id(&client_id, service_item, self.now())
            .map_err(ServiceError::NotRegistered)?;
        registered
            .service_item
            .check_within(&asked(dcql))
            .map_err(ServiceError::NotRegistered)?;
        Ok(Some(registered))
    }
}
