//! Receiving agencies (relying parties) in the trust list: the zone's
//! data-sharing agreements.
//!
//! A version 4 trust list may carry a `verifiers` section: each receiving
//! agency with its names, region, the keys that sign its counters'
//! requests (`TBR1`, [`crate::request`]) and the hashes of the
//! certificates its online service signs OpenID4VP requests with
//! (`x509_hash`) or the DNS names they are issued for (`x509_san_dns`), a
//! registration window, and its registered **service
//! items** (事项): for each, the legal basis, and per licence type the claim
//! paths it may ask for and whether holder binding is required. A wallet
//! holding such a list checks every request against it: who asks (a
//! listed key or certificate, valid now, never compromised), for which
//! registered service item, and whether anything beyond the registration
//! is asked ([`ServiceItem::excess`]). Specified in `specs/trust-list.md`
//! §1.5.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, Rejection};
use crate::keys::{Algorithm, KeyWithId, PublicKey, jwk_pinned_alg};
use crate::trust::TrustedKey;

/// A receiving agency registered in the trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedVerifier {
    /// Its identifier (a URL); what a signed counter request names.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// GB/T 2260 administrative division code (6 digits).
    pub region: String,
    /// Its counters' request-signing keys (each with a `kid`), with
    /// windows and compromise marks exactly like an issuer's keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<TrustedKey>,
    /// The certificates its online service signs OpenID4VP requests with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<TrustedCertificate>,
    /// The DNS names its online service signs OpenID4VP requests under
    /// (`x509_san_dns:` client identifiers): any certificate for the name
    /// that chains to a verifier CA the wallet trusts. Lower case, each
    /// registered to one agency only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    /// The registration is valid from this time (Unix seconds).
    pub not_before: i64,
    /// The registration ends at this time, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// What it may ask for, service item by service item.
    pub service_items: Vec<ServiceItem>,
}

/// A request-signing certificate, by the hash its OpenID4VP client
/// identifier carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedCertificate {
    /// base64url (unpadded) SHA-256 of the leaf certificate's DER: the
    /// `x509_hash:` client identifier's value.
    pub x509_hash: String,
    /// Requests are accepted from this time.
    pub not_before: i64,
    /// Requests are not accepted from this time (retirement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// The certificate's key was reported compromised at this time:
    /// nothing it signs is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_at: Option<i64>,
}

/// A registered service item (事项): the data-sharing agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    /// Its identifier, as requests name it.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// The legal basis or purpose, in Chinese.
    pub purpose_zh: String,
    /// The legal basis or purpose, in English.
    pub purpose_en: String,
    /// Per licence type, what it may ask for.
    pub licences: Vec<LicenceGrant>,
}

/// What a service item may ask of one licence type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceGrant {
    /// The licence type (`vct`).
    pub vct: String,
    /// The claim paths it may ask for (dotted, `address.city`); asking
    /// for a path also covers what lies below it only when the grant is
    /// that path or a parent of it.
    pub claims: Vec<String>,
    /// Whether a presentation must be bound to the holder's key (a request
    /// that waives it is beyond the registration).
    #[serde(default)]
    pub holder_binding_required: bool,
}

/// What one request (or one credential query of it) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The licence type, if the request names one (a request without one
    /// is judged against every granted type: each claim must be granted
    /// for all of them).
    pub vct: Option<String>,
    /// The claim paths (dotted).
    pub claims: Vec<String>,
    /// Whether holder binding is asked for.
    pub holder_binding: bool,
}

/// A claim asked beyond the registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excess {
    /// The licence type (empty when the request names none).
    pub vct: String,
    /// The claim path, or `(holder binding waived)` / `(type not registered)`.
    pub claim: String,
}

impl std::fmt::Display for Excess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.vct, self.claim)
    }
}

/// The marker for a licence type the service item has no grant for.
pub const EXCESS_TYPE: &str = "(licence type not registered)";
/// The marker for a request that waives a required holder binding.
pub const EXCESS_BINDING: &str = "(holder binding waived)";

fn path_covered(granted: &[String], asked: &str) -> bool {
    granted.iter().any(|g| {
        asked == g
            || asked
                .strip_prefix(g.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

impl ServiceItem {
    /// What `asked` asks beyond this item's grants (empty: within the
    /// registration). A request that names no licence type is within the
    /// registration only when every claim is granted for every granted
    /// type (the wallet cannot know which one the citizen will choose).
    pub fn excess(&self, asked: &[Asked]) -> Vec<Excess> {
        let mut out = Vec::new();
        for a in asked {
            let grants: Vec<&LicenceGrant> = match &a.vct {
                Some(v) => self.licences.iter().filter(|g| &g.vct == v).collect(),
                None => self.licences.iter().collect(),
            };
            let vct = a.vct.clone().unwrap_or_default();
            if grants.is_empty() {
                out.push(Excess {
                    vct: vct.clone(),
                    claim: EXCESS_TYPE.into(),
                });
                continue;
            }
            for c in &a.claims {
                if !grants.iter().all(|g| path_covered(&g.claims, c)) {
                    out.push(Excess {
                        vct: vct.clone(),
                        claim: c.clone(),
                    });
                }
            }
            if !a.holder_binding && grants.iter().any(|g| g.holder_binding_required) {
                out.push(Excess {
                    vct,
                    claim: EXCESS_BINDING.into(),
                });
            }
        }
        out
    }

    /// Refuses `asked` beyond this item's grants (`claims_not_registered`,
    /// the excess listed in the detail).
    pub fn check_within(&self, asked: &[Asked]) -> Result<(), Rejection> {
        let excess = self.excess(asked);
        if excess.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = excess.iter().map(ToString::to_string).collect();
        Err(Rejection::new(
            ErrorCode::ClaimsNotRegistered,
            format!(
                "service item {} is not registered for: {}",
                self.id,
                listed.join(", ")
            ),
        ))
    }
}

fn bad(why: String) -> Rejection {
    Rejection::new(ErrorCode::TrustListMalformed, why)
}

fn check_region(what: &str, region: &str) -> Result<(), Rejection> {
    if region.len() != 6 || !region.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!(
            "{what}: region {region:?} is not a 6-digit GB/T 2260 code"
        )));
    }
    Ok(())
}

/// A DNS host name as a registration names it: lower-case letters, digits
/// and hyphens in labels of 1 to 63 characters (no leading or trailing
/// hyphen), at least two labels, at most 253 characters.
fn dns_name_ok(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Checks the `verifiers` section's consistency (unique ids, `kid`s,
/// certificate hashes, DNS names and service items; keys that parse; sane
/// windows).
pub fn validate(verifiers: &[TrustedVerifier]) -> Result<(), Rejection> {
    let mut ids = HashSet::new();
    let mut hashes = HashSet::new();
    let mut names = HashSet::new();
    for v in verifiers {
        if v.id.is_empty() || !ids.insert(v.id.as_str()) {
            return Err(bad(format!(
                "verifier id {:?} is empty or listed twice",
                v.id
            )));
        }
        let what = format!("verifier {}", v.id);
        check_region(&what, &v.region)?;
        if v.not_after.is_some_and(|na| na <= v.not_before) {
            return Err(bad(format!("{what}: not_after is not after not_before")));
        }
        if v.keys.is_empty() && v.certificates.is_empty() && v.dns_names.is_empty() {
            return Err(bad(format!(
                "{what}: neither a request-signing key, a certificate nor a DNS name"
            )));
        }
        for name in &v.dns_names {
            if !dns_name_ok(name) || !names.insert(name.as_str()) {
                return Err(bad(format!(
                    "{what}: DNS name {name:?} is not a lower-case host name, or is listed twice"
                )));
            }
        }
        let mut kids = HashSet::new();
        for k in &v.keys {
            let parsed = KeyWithId::from_jwk(&k.jwk).map_err(|e| bad(format!("{what}: {e}")))?;
            let kid = parsed
                .kid
                .ok_or_else(|| bad(format!("{what}: a key has no kid")))?;
            jwk_pinned_alg(&k.jwk, &parsed.key)
                .map_err(|e| bad(format!("{what}: key {kid}: {e}")))?;
            if !kids.insert(kid.clone()) {
                return Err(bad(format!("{what}: kid {kid:?} is listed twice")));
            }
            if k.revoked_at.is_some() {
                return Err(bad(format!(
                    "{what}: key {kid}: a verifier key says compromised_at, not revoked_at"
                )));
            }
            if k.not_after.is_some_and(|na| na <= k.not_before) {
                return Err(bad(format!(
                    "{what}: key {kid}: not_after is not after not_before"
                )));
            }
        }
        for c in &v.certificates {
            let decoded = crate::encoding::b64_decode(&c.x509_hash, "x509_hash")
                .map_err(|r| bad(format!("{what}: {}", r.detail)))?;
            if decoded.len() != 32 || !hashes.insert(c.x509_hash.as_str()) {
                return Err(bad(format!(
                    "{what}: x509_hash {:?} is not a SHA-256, or is listed twice",
                    c.x509_hash
                )));
            }
            if c.not_after.is_some_and(|na| na <= c.not_before) {
                return Err(bad(format!(
                    "{what}: certificate {}: not_after is not after not_before",
                    c.x509_hash
                )));
            }
        }
        let mut items = HashSet::new();
        for item in &v.service_items {
            if item.id.is_empty() || !items.insert(item.id.as_str()) {
                return Err(bad(format!(
                    "{what}: service item {:?} is empty or listed twice",
                    item.id
                )));
            }
            let mut vcts = HashSet::new();
            for g in &item.licences {
                if g.claims.is_empty() || !vcts.insert(g.vct.as_str()) {
                    return Err(bad(format!(
                        "{what}: service item {}: licence type {:?} has no claims or is listed twice",
                        item.id, g.vct
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A requester identified through the trust list: the agency and the
/// registered service item its request names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    /// The agency's id.
    pub verifier: String,
    /// Its name in Chinese.
    pub name_zh: String,
    /// Its name in English.
    pub name_en: String,
    /// Its region code.
    pub region: String,
    /// The registered service item.
    pub service_item: ServiceItem,
}

impl TrustedVerifier {
    /// Refuses a registration outside its window at `now`.
    pub fn check_registration(&self, now: i64) -> Result<(), Rejection> {
        if now < self.not_before || self.not_after.is_some_and(|na| now >= na) {
            return Err(Rejection::new(
                ErrorCode::RequesterRegistrationExpired,
                format!(
                    "the registration of {} is valid from {} to {:?}; it is now {now}",
                    self.id, self.not_before, self.not_after
                ),
            ));
        }
        Ok(())
    }

    /// The registered service item `id`, with the agency (the registration
    /// must be valid at `now`).
    pub fn registered(&self, item: &str, now: i64) -> Result<Registered, Rejection> {
        self.check_registration(now)?;
        let found = self
            .service_items
            .iter()
            .find(|i| i.id == item)
            .ok_or_else(|| {
                Rejection::new(
                    ErrorCode::ServiceItemUnregistered,
                    format!("{} has no registered service item {item:?}", self.id),
                )
            })?;
        Ok(Registered {
            verifier: self.id.clone(),
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone(),
            region: self.region.clone(),
            service_item: found.clone(),
        })
    }

    /// The request-signing keys named `kid` (every key without one) usable
    /// at `now` for `alg`: listed, within their window, never compromised.
    pub fn request_keys(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        now: i64,
    ) -> Result<Vec<PublicKey>, Rejection> {
        let mut out = Vec::new();
        let mut last = None;
        for k in &self.keys {
            let Ok(parsed) = KeyWithId::from_jwk(&k.jwk) else {
                continue;
            };
            if kid.is_some_and(|want| parsed.kid.as_deref() != Some(want)) {
                continue;
            }
            let name = parsed.kid.clone().unwrap_or_default();
            if let Some(at) = k.compromised_since() {
                last = Some(Rejection::new(
                    ErrorCode::RequesterKeyRevoked,
                    format!("{}'s key {name} was reported compromised at {at}", self.id),
                ));
                continue;
            }
            if now < k.not_before || k.not_after.is_some_and(|na| now >= na) {
                last = Some(Rejection::new(
                    ErrorCode::RequesterRegistrationExpired,
                    format!(
                        "{}'s key {name} is valid from {} to {:?}; it is now {now}",
                        self.id, k.not_before, k.not_after
                    ),
                ));
                continue;
            }
            let pin = jwk_pinned_alg(&k.jwk, &parsed.key).ok().flatten();
            if alg.fits(&parsed.key) && pin.is_none_or(|p| p.pin_admits(alg)) {
                out.push(parsed.key);
            } else {
                last = Some(Rejection::new(
                    ErrorCode::RequestSignatureInvalid,
                    format!("alg {} does not fit {}'s key {name}", alg.as_str(), self.id),
                ));
            }
        }
        if !out.is_empty() {
            return Ok(out);
        }
        Err(last.unwrap_or_else(|| {
            Rejection::new(
                ErrorCode::RequesterUnknown,
                format!(
                    "{} has no listed request-signing key {:?}",
                    self.id,
                    kid.unwrap_or_default()
                ),
            )
        }))
    }

    /// Refuses the DNS name `name` (of an `x509_san_dns:` client
    /// identifier) unless it is listed for this agency.
    pub fn check_dns_name(&self, name: &str) -> Result<(), Rejection> {
        if self.dns_names.iter().any(|n| n == name) {
            return Ok(());
        }
        Err(Rejection::new(
            ErrorCode::RequesterUnknown,
            format!("DNS name {name} is not listed for {}", self.id),
        ))
    }

    /// Refuses the certificate `x509_hash` unless it is listed for this
    /// agency, within its window at `now` and never compromised.
    pub fn check_certificate(&self, x509_hash: &str, now: i64) -> Result<(), Rejection> {
        let c = self
            .certificates
            .iter()
            .find(|c| c.x509_hash == x509_hash)
            .ok_or_else(|| {
                Rejection::new(
                    ErrorCode::RequesterUnknown,
                    format!("certificate {x509_hash} is not listed for {}", self.id),
                )
            })?;
        if let Some(at) = c.compromised_at {
            return Err(Rejection::new(
                ErrorCode::RequesterKeyRevoked,
                format!("certificate {x509_hash} was reported compromised at {at}"),
            ));
        }
        if now < c.not_before || c.not_after.is_some_and(|na| now >= na) {
            return Err(Rejection::new(
                ErrorCode::RequesterRegistrationExpired,
                format!(
                    "certificate {x509_hash} is valid from {} to {:?}; it is now {now}",
                    c.not_before, c.not_after
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> ServiceItem {
        ServiceItem {
            id: "qp-001".into(),
            name_zh: "食品经营许可".into(),
            name_en: "Food business permit".into(),
            purpose_zh: "依据《食品安全法》第35条".into(),
            purpose_en: "Food Safety Law art. 35".into(),
            licences: vec![LicenceGrant {
                vct: "urn:x:1".into(),
                claims: vec!["company_name".into(), "address".into()],
                holder_binding_required: true,
            }],
        }
    }

    fn asked(vct: Option<&str>, claims: &[&str], hb: bool) -> Asked {
        Asked {
            vct: vct.map(Into::into),
            claims: claims.iter().map(|c| (*c).to_owned()).collect(),
            holder_binding: hb,
        }
    }

    #[test]
    fn a_request_within_the_grant_has_no_excess() {
        let i = item();
        assert!(
            i.excess(&[asked(
                Some("urn:x:1"),
                &["company_name", "address.city"],
                true
            )])
            .is_empty()
        );
        assert!(i.excess(&[asked(None, &["company_name"], true)]).is_empty());
    }

    #[test]
    fn each_claim_beyond_the_grant_is_listed() {
        let i = item();
        let e = i.excess(&[asked(
            Some("urn:x:1"),
            &["company_name", "legal_representative", "addressee"],
            false,
        )]);
        let claims: Vec<&str> = e.iter().map(|x| x.claim.as_str()).collect();
        assert_eq!(
            claims,
            ["legal_representative", "addressee", EXCESS_BINDING]
        );
        let e = i.excess(&[asked(Some("urn:y:1"), &["a"], true)]);
        assert_eq!(e[0].claim, EXCESS_TYPE);
        let refused = i
            .check_within(&[asked(Some("urn:x:1"), &["company_name", "id_number"], true)])
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::ClaimsNotRegistered);
        assert!(
            refused.detail.contains("urn:x:1 id_number"),
            "{}",
            refused.detail
        );
    }

    #[test]
    fn windows_and_compromise_of_registrations_and_certificates() {
        let hash = crate::encoding::b64_encode([7u8; 32]);
        let v = TrustedVerifier {
            id: "https://amr.qingpu.example".into(),
            name_zh: "青浦".into(),
            name_en: "Qingpu".into(),
            region: "310118".into(),
            keys: vec![],
            certificates: vec![TrustedCertificate {
                x509_hash: hash.clone(),
                not_before: 100,
                not_after: Some(200),
                compromised_at: None,
            }],
            dns_names: vec![],
            not_before: 100,
            not_after: Some(300),
            service_items: vec![item()],
        };
        validate(std::slice::from_ref(&v)).unwrap();
        assert!(v.registered("qp-001", 150).is_ok());
        assert_eq!(
            v.registered("qp-001", 300).unwrap_err().code,
            ErrorCode::RequesterRegistrationExpired
        );
        assert_eq!(
            v.registered("other", 150).unwrap_err().code,
            ErrorCode::ServiceItemUnregistered
        );
        assert!(v.check_certificate(&hash, 150).is_ok());
        assert_eq!(
            v.check_certificate(&hash, 250).unwrap_err().code,
            ErrorCode::RequesterRegistrationExpired
        );
        assert_eq!(
            v.check_certificate("AAAA", 150).unwrap_err().code,
            ErrorCode::RequesterUnknown
        );
        let mut stolen = v.clone();
        stolen.certificates[0].compromised_at = Some(120);
        assert_eq!(
            stolen.check_certificate(&hash, 110).unwrap_err().code,
            ErrorCode::RequesterKeyRevoked
        );
        let mut twice = v.clone();
        twice.service_items.push(item());
        assert!(validate(&[twice]).is_err());
        let mut nothing = v;
        nothing.certificates.clear();
        assert!(validate(&[nothing]).is_err());
    }
}
