//! The receiving agencies of the draft (trust list version 4,
//! `specs/trust-list.md` §1.5): add one with its request-signing keys,
//! certificate hashes or DNS names and registered service items, change it (rotate or
//! mark keys and certificates compromised, change the agreement), remove
//! it. Every change is checked against the list's rules before it is kept.

use serde_json::Value;
use tongban_verifier::relying_party::{ServiceItem, TrustedCertificate, TrustedVerifier};
use tongban_verifier::trust::{TrustList, TrustedKey};

use super::DraftError;

/// A certificate hash as given: the bare base64url SHA-256, or the whole
/// `x509_hash:` client identifier.
pub fn x509_hash_arg(text: &str) -> String {
    text.trim()
        .strip_prefix("x509_hash:")
        .unwrap_or(text.trim())
        .to_owned()
}

/// A DNS name as given: the bare name (lower-cased), or the whole
/// `x509_san_dns:` client identifier.
pub fn dns_name_arg(text: &str) -> String {
    text.trim()
        .strip_prefix("x509_san_dns:")
        .unwrap_or(text.trim())
        .to_ascii_lowercase()
}

fn check(list: &TrustList) -> Result<(), DraftError> {
    if let Some(v) = &list.verifiers {
        tongban_verifier::relying_party::validate(v).map_err(DraftError::ListInvalid)?;
    }
    Ok(())
}

fn new_key(jwk: Value, not_before: i64) -> TrustedKey {
    TrustedKey {
        jwk,
        not_before,
        not_after: None,
        revoked_at: None,
        compromised_at: None,
    }
}

fn new_cert(x509_hash: String, not_before: i64) -> TrustedCertificate {
    TrustedCertificate {
        x509_hash,
        not_before,
        not_after: None,
        compromised_at: None,
    }
}

/// What `add-verifier` adds.
#[derive(Debug)]
pub struct NewVerifier {
    /// Its id.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// Request-signing keys (public JWKs with `kid`).
    pub keys: Vec<Value>,
    /// Certificate hashes.
    pub x509_hashes: Vec<String>,
    /// DNS names (`x509_san_dns` client identifiers), lower case.
    pub dns_names: Vec<String>,
    /// Registered service items.
    pub service_items: Vec<ServiceItem>,
    /// When the registration (and the keys and certificates) start.
    pub not_before: i64,
    /// When the registration ends, if it does.
    pub not_after: Option<i64>,
}

/// Adds a receiving agency (the draft becomes version 4 with a `verifiers`
/// section).
pub fn add_verifier(list: &mut TrustList, v: NewVerifier) -> Result<(), DraftError> {
    list.upgrade();
    let verifiers = list.verifiers.get_or_insert_with(Vec::new);
    if verifiers.iter().any(|x| x.id == v.id) {
        return Err(DraftError::Invalid(format!(
            "receiving agency {} is already in the list (use update-verifier)",
            v.id
        )));
    }
    if v.service_items.is_empty() {
        return Err(DraftError::Invalid(
            "register at least one service item (--service-items FILE)".into(),
        ));
    }
    verifiers.push(TrustedVerifier {
        id: v.id,
        name_zh: v.name_zh,
        name_en: v.name_en,
        region: v.region,
        keys: v
            .keys
            .into_iter()
            .map(|k| new_key(k, v.not_before))
            .collect(),
        certificates: v
            .x509_hashes
            .into_iter()
            .map(|h| new_cert(h, v.not_before))
            .collect(),
        dns_names: v.dns_names,
        not_before: v.not_before,
        not_after: v.not_after,
        service_items: v.service_items,
    });
    check(list)
}

/// What `update-verifier` may change.
#[derive(Debug, Default)]
pub struct VerifierUpdate {
    /// New Chinese name.
    pub name_zh: Option<String>,
    /// New English name.
    pub name_en: Option<String>,
    /// New region.
    pub region: Option<String>,
    /// Keys to add (new `kid`s only).
    pub add_keys: Vec<Value>,
    /// Certificate hashes to add.
    pub add_x509_hashes: Vec<String>,
    /// DNS names to add.
    pub add_dns_names: Vec<String>,
    /// DNS names to withdraw.
    pub remove_dns_names: Vec<String>,
    /// Valid-from for what is added.
    pub not_before: i64,
    /// `(kid or x509_hash, at)`: retire (rotation).
    pub retire: Vec<(String, i64)>,
    /// `(kid or x509_hash, at)`: reported compromised.
    pub compromised: Vec<(String, i64)>,
    /// Service items to add or replace (by id).
    pub service_items: Vec<ServiceItem>,
    /// Service items to withdraw.
    pub remove_service_items: Vec<String>,
    /// A new end of the registration.
    pub not_after: Option<i64>,
}

/// Changes a receiving agency; returns what was added (kids, hashes and
/// DNS names).
pub fn update_verifier(
    list: &mut TrustList,
    id: &str,
    u: VerifierUpdate,
) -> Result<Vec<String>, DraftError> {
    list.upgrade();
    let v = list
        .verifiers
        .iter_mut()
        .flatten()
        .find(|v| v.id == id)
        .ok_or_else(|| DraftError::Invalid(format!("receiving agency {id} is not in the list")))?;
    if let Some(n) = u.name_zh {
        v.name_zh = n;
    }
    if let Some(n) = u.name_en {
        v.name_en = n;
    }
    if let Some(r) = u.region {
        v.region = r;
    }
    if let Some(at) = u.not_after {
        v.not_after = Some(at);
    }
    let mut added = Vec::new();
    for jwk in u.add_keys {
        if v.keys.iter().any(|k| k.jwk["kid"] == jwk["kid"]) {
            continue;
        }
        added.push(jwk["kid"].as_str().unwrap_or_default().to_owned());
        v.keys.push(new_key(jwk, u.not_before));
    }
    for h in u.add_x509_hashes {
        if v.certificates.iter().any(|c| c.x509_hash == h) {
            continue;
        }
        added.push(h.clone());
        v.certificates.push(new_cert(h, u.not_before));
    }
    for name in u.add_dns_names {
        if !v.dns_names.contains(&name) {
            added.push(name.clone());
            v.dns_names.push(name);
        }
    }
    for gone in &u.remove_dns_names {
        let before = v.dns_names.len();
        v.dns_names.retain(|n| n != gone);
        if v.dns_names.len() == before {
            return Err(DraftError::Invalid(format!("{id} has no DNS name {gone}")));
        }
    }
    for (name, at) in &u.retire {
        set_mark(v, name, *at, false)?;
    }
    for (name, at) in &u.compromised {
        set_mark(v, name, *at, true)?;
    }
    for item in u.service_items {
        match v.service_items.iter_mut().find(|i| i.id == item.id) {
            Some(old) => *old = item,
            None => v.service_items.push(item),
        }
    }
    for gone in &u.remove_service_items {
        let before = v.service_items.len();
        v.service_items.retain(|i| &i.id != gone);
        if v.service_items.len() == before {
            return Err(DraftError::Invalid(format!(
                "{id} has no service item {gone}"
            )));
        }
    }
    check(list)?;
    Ok(added)
}

/// Retires (`compromised` false: sets `not_after`) or marks compromised
/// the key `name` (a `kid`) or certificate `name` (an `x509_hash`).
fn set_mark(
    v: &mut TrustedVerifier,
    name: &str,
    at: i64,
    compromised: bool,
) -> Result<(), DraftError> {
    if let Some(k) = v.keys.iter_mut().find(|k| k.jwk["kid"] == name) {
        if compromised {
            k.compromised_at.get_or_insert(at);
        } else {
            k.not_after = Some(at);
        }
        return Ok(());
    }
    let hash = x509_hash_arg(name);
    if let Some(c) = v.certificates.iter_mut().find(|c| c.x509_hash == hash) {
        if compromised {
            c.compromised_at.get_or_insert(at);
        } else {
            c.not_after = Some(at);
        }
        return Ok(());
    }
    Err(DraftError::NoSuchKey {
        issuer: v.id.clone(),
        kid: name.into(),
    })
}

/// Removes a receiving agency (its requests are refused by every wallet
/// holding a newer list; an older list cannot be replayed, `sequence`).
pub fn remove_verifier(list: &mut TrustList, id: &str) -> Result<(), DraftError> {
    list.upgrade();
    let verifiers = list.verifiers.get_or_insert_with(Vec::new);
    let before = verifiers.len();
    verifiers.retain(|v| v.id != id);
    if verifiers.len() == before {
        return Err(DraftError::Invalid(format!(
            "receiving agency {id} is not in the list"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_verifier::relying_party::LicenceGrant;
    use tongban_verifier::trust::Anchor;
    use tongban_verifier::{Ed25519Signer, Signer as _};

    fn item(id: &str) -> ServiceItem {
        ServiceItem {
            id: id.into(),
            name_zh: "事项".into(),
            name_en: "Item".into(),
            purpose_zh: "依据".into(),
            purpose_en: "Basis".into(),
            licences: vec![LicenceGrant {
                vct: "urn:x:1".into(),
                claims: vec!["company_name".into()],
                holder_binding_required: true,
            }],
        }
    }

    #[test]
    fn add_update_and_remove_a_receiving_agency() {
        let mut d = super::super::new_draft(Anchor {
            id: "https://t.example".into(),
            name_zh: "锚".into(),
            name_en: "Anchor".into(),
        });
        let key = Ed25519Signer::from_seed(&[3; 32], None);
        let mut jwk = key.public_key().to_jwk();
        jwk["kid"] = "c1".into();
        let hash = tongban_verifier::encoding::b64_encode([1u8; 32]);
        add_verifier(
            &mut d,
            NewVerifier {
                id: "https://amr.qingpu.example".into(),
                name_zh: "青浦".into(),
                name_en: "Qingpu".into(),
                region: "310118".into(),
                keys: vec![jwk],
                x509_hashes: vec![x509_hash_arg(&format!("x509_hash:{hash}"))],
                dns_names: vec![],
                service_items: vec![item("a")],
                not_before: 10,
                not_after: None,
            },
        )
        .unwrap();
        assert_eq!(d.version, 4);
        let added = update_verifier(
            &mut d,
            "https://amr.qingpu.example",
            VerifierUpdate {
                compromised: vec![("c1".into(), 20), (hash.clone(), 30)],
                service_items: vec![item("b")],
                remove_service_items: vec!["a".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert!(added.is_empty());
        let v = d.verifier("https://amr.qingpu.example").unwrap();
        assert_eq!(v.keys[0].compromised_at, Some(20));
        assert_eq!(v.certificates[0].compromised_at, Some(30));
        assert_eq!(v.service_items.len(), 1);
        // An agency with a bad region is refused, the draft unchanged in
        // what the caller saves (the error is returned).
        let err = update_verifier(
            &mut d.clone(),
            "https://amr.qingpu.example",
            VerifierUpdate {
                region: Some("31".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.code(), "trust_list_invalid");
        remove_verifier(&mut d, "https://amr.qingpu.example").unwrap();
        assert!(remove_verifier(&mut d, "https://amr.qingpu.example").is_err());
        assert!(d.registers_verifiers());
    }
}
