//! The operator CA and the tenants (receiving agencies): each tenant gets
//! a P-256 request-signing key, sealed under the master key, and a leaf
//! certificate signed by the operator CA ([`crate::pki`]).

use std::sync::Arc;

use serde_json::json;
use zeroize::Zeroizing;

use super::{Service, ServiceError};
use crate::audit::{PendingEntry, SERVICE_CHAIN};
use crate::keys::Purpose;
use crate::pki;
use crate::store::{CaRecord, ClientIdPrefix, Tenant};

/// What an operator gives to create a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSpec {
    /// Short id: lower-case letters, digits, hyphens (`qingpu-ywtb`).
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Six-digit GB/T 2260 region code.
    pub region: String,
    /// The `dNSName` of its certificate.
    pub dns: String,
    /// Which client identifier it uses.
    pub client_id_prefix: ClientIdPrefix,
    /// Whether wallets may answer with unencrypted `direct_post` (only
    /// where the service's configuration allows it).
    pub allow_plain_direct_post: bool,
}

/// A tenant with its signing key opened and its client identifier.
pub struct TenantRuntime {
    /// The tenant row.
    pub tenant: Tenant,
    /// Its request-signing key, PKCS#8 DER.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
    /// Its client identifier (`x509_hash:…` or `x509_san_dns:…`).
    pub client_id: String,
}

impl std::fmt::Debug for TenantRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRuntime")
            .field("tenant", &self.tenant.id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The client identifier of a tenant.
pub fn client_id(t: &Tenant) -> String {
    match t.client_id_prefix {
        ClientIdPrefix::X509Hash => pki::x509_hash_client_id(&t.cert_der),
        ClientIdPrefix::X509SanDns => format!("x509_san_dns:{}", t.dns),
    }
}

fn check_spec(s: &TenantSpec, allow_plain: bool, public_host: &str) -> Result<(), ServiceError> {
    let bad = |m: String| Err(ServiceError::InvalidRequest(m));
    if s.id.is_empty()
        || s.id.len() > 64
        || !s
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || s.id.starts_with('_')
    {
        return bad(format!(
            "tenant id {:?}: use 1 to 64 lower-case letters, digits and hyphens",
            s.id
        ));
    }
    for (name, v) in [("name_zh", &s.name_zh), ("name_en", &s.name_en)] {
        if v.trim().is_empty() || v.chars().count() > 200 {
            return bad(format!("{name}: give 1 to 200 characters"));
        }
    }
    if s.region.len() != 6 || !s.region.bytes().all(|b| b.is_ascii_digit()) {
        return bad(format!(
            "region {:?}: a six-digit GB/T 2260 code such as 310118",
            s.region
        ));
    }
    if !pki::valid_dns_name(&s.dns) {
        return bad(format!("dns {:?} is not a DNS host name", s.dns));
    }
    if s.client_id_prefix == ClientIdPrefix::X509SanDns && !s.dns.eq_ignore_ascii_case(public_host)
    {
        return bad(format!(
            "dns {:?}: an x509_san_dns tenant's DNS name must be this service's host ({public_host:?}), because wallets check that the response URI's host matches it (OpenID4VP 1.0 §5.9.3); use x509_hash for another name",
            s.dns
        ));
    }
    if s.allow_plain_direct_post && !allow_plain {
        return bad("allow_plain_direct_post: this service's configuration does not allow unencrypted responses (allow_plain_direct_post = true)".into());
    }
    Ok(())
}

impl Service {
    /// Makes the operator CA (once). Returns its certificate, DER.
    pub async fn init_ca(&self, common_name: &str, actor: &str) -> Result<Vec<u8>, ServiceError> {
        if common_name.trim().is_empty() {
            return Err(ServiceError::InvalidRequest(
                "the CA needs a common name".into(),
            ));
        }
        if self.store.ca().await?.is_some() {
            return Err(ServiceError::Conflict(
                "the operator CA already exists (ca export prints its certificate)".into(),
            ));
        }
        let now = self.now();
        let issued = pki::new_ca(common_name, now).map_err(ServiceError::internal)?;
        let record = CaRecord {
            common_name: common_name.to_owned(),
            sealed_key: self
                .master
                .seal(&Purpose::CaKey.of("ca"), &issued.key_pkcs8)
                .map_err(ServiceError::internal)?,
            cert_der: issued.cert_der.clone(),
            created_at: now,
        };
        let audit = PendingEntry::new(
            SERVICE_CHAIN,
            actor,
            "ca.init",
            "ca",
            json!({"common_name": common_name, "x509_hash": pki::x509_hash_client_id(&issued.cert_der)}),
        );
        self.store.init_ca(&record, audit).await?;
        Ok(issued.cert_der)
    }

    /// The operator CA's certificate, DER.
    pub async fn ca_certificate(&self) -> Result<Vec<u8>, ServiceError> {
        Ok(self
            .store
            .ca()
            .await?
            .ok_or(ServiceError::CaMissing)?
            .cert_der)
    }

    /// Creates a tenant: its key, its certificate signed by the operator CA.
    pub async fn create_tenant(
        &self,
        spec: &TenantSpec,
        actor: &str,
    ) -> Result<Tenant, ServiceError> {
        check_spec(
            spec,
            self.config.allow_plain_direct_post,
            self.config.public_host(),
        )?;
        // Every x509_san_dns tenant would show wallets the same client id
        // (the service's host): wallets, and the trust list's
        // registrations, could not tell two apart.
        if spec.client_id_prefix == ClientIdPrefix::X509SanDns
            && let Some(other) = self
                .store
                .tenants()
                .await?
                .into_iter()
                .find(|t| t.client_id_prefix == ClientIdPrefix::X509SanDns)
        {
            return Err(ServiceError::Conflict(format!(
                "tenant {} already uses x509_san_dns:{}; wallets could not tell two tenants with one client id apart (use x509_hash)",
                other.id, other.dns
            )));
        }
        let ca = self.store.ca().await?.ok_or(ServiceError::CaMissing)?;
        let ca_key = self
            .master
            .open(&Purpose::CaKey.of("ca"), &ca.sealed_key)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let now = self.now();
        let issued = pki::new_leaf(&spec.name_en, &spec.dns, &ca.common_name, &ca_key, now)
            .map_err(|e| ServiceError::InvalidRequest(e.to_string()))?;
        let tenant = Tenant {
            id: spec.id.clone(),
            name_zh: spec.name_zh.clone(),
            name_en: spec.name_en.clone(),
            region: spec.region.clone(),
            dns: spec.dns.clone(),
            client_id_prefix: spec.client_id_prefix,
            allow_plain_direct_post: spec.allow_plain_direct_post,
            sealed_key: self
                .master
                .seal(&Purpose::RequestSigning.of(&spec.id), &issued.key_pkcs8)
                .map_err(ServiceError::internal)?,
            cert_der: issued.cert_der,
            created_at: now,
        };
        let audit = PendingEntry::new(
            spec.id.clone(),
            actor,
            "tenant.create",
            spec.id.clone(),
            json!({
                "name_zh": tenant.name_zh, "name_en": tenant.name_en, "region": tenant.region,
                "dns": tenant.dns, "client_id": client_id(&tenant),
                "allow_plain_direct_post": tenant.allow_plain_direct_post,
            }),
        );
        self.store.create_tenant(&tenant, audit).await?;
        Ok(tenant)
    }

    /// Every tenant.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, ServiceError> {
        Ok(self.store.tenants().await?)
    }

    /// A tenant with its key opened (cached: a tenant never changes).
    pub async fn tenant_runtime(&self, id: &str) -> Result<Arc<TenantRuntime>, ServiceError> {
        if let Some(rt) = self.tenants.read().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(rt);
        }
        let tenant = self.store.tenant(id).await?;
        let key_pkcs8 = self
            .master
            .open(&Purpose::RequestSigning.of(&tenant.id), &tenant.sealed_key)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let rt = Arc::new(TenantRuntime {
            client_id: client_id(&tenant),
            tenant,
            key_pkcs8,
        });
        if let Ok(mut m) = self.tenants.write() {
            m.insert(id.to_owned(), rt.clone());
        }
        Ok(rt)
    }
}
