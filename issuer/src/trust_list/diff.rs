//! What a proposal changes, for the operators who review it before
//! signing: issuers added, removed or changed, and every key by its
//! `kid` and RFC 7638 thumbprint (what an operator compares with the
//! agency's, out of band), in Chinese and English.

use serde::Serialize;
use tongban_verifier::KeyWithId;
use tongban_verifier::trust::{TrustList, TrustedIssuer, TrustedKey};

/// One change between two lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Stable snake_case kind, e.g. `issuer_added`, `key_compromised`.
    pub kind: &'static str,
    /// The issuer concerned (`""` for the list itself).
    pub issuer: String,
    /// The key concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Its thumbprint, if a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// The change in Chinese.
    pub zh: String,
    /// The change in English.
    pub en: String,
}

fn thumbprint(k: &TrustedKey) -> String {
    KeyWithId::from_jwk(&k.jwk)
        .map(|k| k.key.thumbprint())
        .unwrap_or_else(|_| "?".into())
}

fn kid(k: &TrustedKey) -> String {
    k.jwk["kid"].as_str().unwrap_or("?").to_owned()
}

/// The changes from `old` to `new`, issuers in `new`'s order.
pub fn diff(old: &TrustList, new: &TrustList) -> Vec<Change> {
    let mut out = Vec::new();
    let list_change = |kind, zh: String, en: String| Change {
        kind,
        issuer: String::new(),
        kid: None,
        thumbprint: None,
        zh,
        en,
    };
    if old.anchor != new.anchor {
        out.push(list_change(
            "anchor_changed",
            format!("信任锚改为 {}", new.anchor.id),
            format!("anchor changed to {}", new.anchor.id),
        ));
    }
    if old.root_sequence != new.root_sequence {
        out.push(list_change(
            "root_changed",
            format!(
                "签署所依据的信任根由 {} 改为 {}",
                old.root_sequence.unwrap_or(0),
                new.root_sequence.unwrap_or(0)
            ),
            format!(
                "signed under root {} instead of {}",
                new.root_sequence.unwrap_or(0),
                old.root_sequence.unwrap_or(0)
            ),
        ));
    }
    for n in &new.issuers {
        match old.issuer(&n.id) {
            None => {
                out.push(issuer_change(
                    "issuer_added",
                    n,
                    format!(
                        "新增签发机构 {}（{}，{}），可签发 {}",
                        n.name_zh,
                        n.region,
                        n.id,
                        n.vcts.join("、")
                    ),
                    format!(
                        "issuer added: {} ({}, {}), may issue {}",
                        n.name_en,
                        n.region,
                        n.id,
                        n.vcts.join(", ")
                    ),
                ));
                for k in &n.keys {
                    out.push(key_change("key_added", n, k, "新增密钥", "key added"));
                }
            }
            Some(o) => issuer_diff(o, n, &mut out),
        }
    }
    verifier_diff(old, new, &mut out);
    for o in &old.issuers {
        if new.issuer(&o.id).is_none() {
            out.push(issuer_change(
                "issuer_removed",
                o,
                format!("移除签发机构 {}（{}）", o.name_zh, o.id),
                format!("issuer removed: {} ({})", o.name_en, o.id),
            ));
        }
    }
    out
}

/// Receiving agencies added, removed or changed (their registration as a
/// whole: keys, certificates, windows and service items are the agreement).
fn verifier_diff(old: &TrustList, new: &TrustList, out: &mut Vec<Change>) {
    let change = |kind, id: &str, zh: String, en: String| Change {
        kind,
        issuer: id.to_owned(),
        kid: None,
        thumbprint: None,
        zh,
        en,
    };
    for n in new.verifiers.iter().flatten() {
        match old.verifier(&n.id) {
            None => {
                out.push(change(
                    "verifier_added",
                    &n.id,
                    format!("新增接收机构 {}（{}，{}）", n.name_zh, n.region, n.id),
                    format!(
                        "receiving agency added: {} ({}, {})",
                        n.name_en, n.region, n.id
                    ),
                ));
                for k in &n.keys {
                    let (kid, tp) = (kid(k), thumbprint(k));
                    out.push(Change {
                        kind: "verifier_key_added",
                        issuer: n.id.clone(),
                        zh: format!("{}：新增请求签名密钥 {kid}，指纹 {tp}", n.name_zh),
                        en: format!(
                            "{}: request-signing key added {kid}, thumbprint {tp}",
                            n.name_en
                        ),
                        kid: Some(kid),
                        thumbprint: Some(tp),
                    });
                }
                for item in &n.service_items {
                    out.push(change(
                        "service_item_added",
                        &n.id,
                        format!("{}：登记事项 {}（{}）", n.name_zh, item.name_zh, item.id),
                        format!(
                            "{}: service item registered {} ({})",
                            n.name_en, item.name_en, item.id
                        ),
                    ));
                }
            }
            Some(o) if o != n => out.push(change(
                "verifier_changed",
                &n.id,
                format!("接收机构 {}（{}）的登记有变更", n.name_zh, n.id),
                format!(
                    "receiving agency {} ({}): registration changed",
                    n.name_en, n.id
                ),
            )),
            Some(_) => {}
        }
    }
    for o in old.verifiers.iter().flatten() {
        if new.verifier(&o.id).is_none() {
            out.push(change(
                "verifier_removed",
                &o.id,
                format!("移除接收机构 {}（{}）", o.name_zh, o.id),
                format!("receiving agency removed: {} ({})", o.name_en, o.id),
            ));
        }
    }
}

fn issuer_change(kind: &'static str, i: &TrustedIssuer, zh: String, en: String) -> Change {
    Change {
        kind,
        issuer: i.id.clone(),
        kid: None,
        thumbprint: None,
        zh,
        en,
    }
}

fn key_change(kind: &'static str, i: &TrustedIssuer, k: &TrustedKey, zh: &str, en: &str) -> Change {
    let (kid, tp) = (kid(k), thumbprint(k));
    Change {
        kind,
        issuer: i.id.clone(),
        zh: format!("{}：{zh} {kid}，指纹 {tp}", i.name_zh),
        en: format!("{}: {en} {kid}, thumbprint {tp}", i.name_en),
        kid: Some(kid),
        thumbprint: Some(tp),
    }
}

fn issuer_diff(o: &TrustedIssuer, n: &TrustedIssuer, out: &mut Vec<Change>) {
    if (&o.name_zh, &o.name_en, &o.region) != (&n.name_zh, &n.name_en, &n.region) {
        out.push(issuer_change(
            "issuer_renamed",
            n,
            format!("{} 的名称或地区改为 {}（{}）", n.id, n.name_zh, n.region),
            format!("{}: name or region now {} ({})", n.id, n.name_en, n.region),
        ));
    }
    for v in n.vcts.iter().filter(|v| !o.vcts.contains(v)) {
        out.push(issuer_change(
            "vct_added",
            n,
            format!("{}：新增可签发证照类型 {v}", n.name_zh),
            format!("{}: may now issue {v}", n.name_en),
        ));
    }
    for v in o.vcts.iter().filter(|v| !n.vcts.contains(v)) {
        out.push(issuer_change(
            "vct_removed",
            n,
            format!("{}：不再可签发 {v}", n.name_zh),
            format!("{}: may no longer issue {v}", n.name_en),
        ));
    }
    for k in &n.keys {
        match o.keys.iter().find(|ok| ok.jwk == k.jwk) {
            None => out.push(key_change("key_added", n, k, "新增密钥", "key added")),
            Some(ok) => {
                if ok.compromised_since().is_none() && k.compromised_since().is_some() {
                    out.push(key_change(
                        "key_compromised",
                        n,
                        k,
                        "标记为已泄露的密钥（其签发的一切不再认可）",
                        "key marked COMPROMISED (nothing it signed verifies)",
                    ));
                } else if ok.not_after != k.not_after {
                    out.push(key_change(
                        "key_retired",
                        n,
                        k,
                        "停用（轮换）密钥",
                        "key retired (rotation)",
                    ));
                }
            }
        }
    }
    for k in o
        .keys
        .iter()
        .filter(|k| !n.keys.iter().any(|nk| nk.jwk == k.jwk))
    {
        out.push(key_change("key_removed", n, k, "移除密钥", "key removed"));
    }
    for s in n
        .status_lists
        .iter()
        .filter(|s| !o.status_lists.contains(s))
    {
        out.push(issuer_change(
            "status_list_added",
            n,
            format!("{}：新增状态列表 {s}", n.name_zh),
            format!("{}: status list added {s}", n.name_en),
        ));
    }
    for s in o
        .status_lists
        .iter()
        .filter(|s| !n.status_lists.contains(s))
    {
        out.push(issuer_change(
            "status_list_removed",
            n,
            format!("{}：移除状态列表 {s}", n.name_zh),
            format!("{}: status list removed {s}", n.name_en),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust_list::{IssuerUpdate, add_issuer, new_draft, update_issuer};
    use serde_json::json;
    use tongban_verifier::trust::Anchor;
    use tongban_verifier::{Ed25519Signer, Signer as _};

    #[test]
    fn additions_removals_and_key_changes_are_named_with_thumbprints() {
        let mut old = new_draft(Anchor {
            id: "https://t.example".into(),
            name_zh: "区".into(),
            name_en: "Zone".into(),
        });
        let key = |seed: u8, kid: &str| {
            let mut j = Ed25519Signer::from_seed(&[seed; 32], None)
                .public_key()
                .to_jwk();
            j["kid"] = json!(kid);
            j
        };
        let issuer = |id: &str| TrustedIssuer {
            id: id.into(),
            name_zh: "吴江".into(),
            name_en: "Wujiang".into(),
            region: "320509".into(),
            vcts: vec!["urn:x:1".into()],
            keys: vec![],
            status_lists: vec![],
        };
        add_issuer(&mut old, issuer("https://a"), vec![key(1, "k1")], 0).unwrap();
        add_issuer(&mut old, issuer("https://b"), vec![key(2, "k2")], 0).unwrap();
        let mut new = old.clone();
        crate::trust_list::remove_issuer(&mut new, "https://b").unwrap();
        update_issuer(
            &mut new,
            "https://a",
            IssuerUpdate {
                add_keys: vec![key(3, "k3")],
                compromised: vec![("k1".into(), 5)],
                ..Default::default()
            },
        )
        .unwrap();
        let d = diff(&old, &new);
        let kinds: Vec<&str> = d.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, ["key_compromised", "key_added", "issuer_removed"]);
        let tp = Ed25519Signer::from_seed(&[3; 32], None)
            .public_key()
            .thumbprint();
        assert_eq!(d[1].thumbprint.as_deref(), Some(tp.as_str()));
        assert!(d[1].zh.contains(&tp) && d[1].en.contains(&tp));
        assert!(diff(&new, &new).is_empty());
    }

    #[test]
    fn receiving_agencies_added_changed_and_removed_are_named() {
        use crate::trust_list::verifiers::{
            NewVerifier, VerifierUpdate, add_verifier, remove_verifier, update_verifier,
        };
        use tongban_verifier::relying_party::{LicenceGrant, ServiceItem};
        let old = new_draft(Anchor {
            id: "https://t.example".into(),
            name_zh: "区".into(),
            name_en: "Zone".into(),
        });
        let mut jwk = Ed25519Signer::from_seed(&[4; 32], None)
            .public_key()
            .to_jwk();
        jwk["kid"] = json!("c1");
        let agency = |id: &str| NewVerifier {
            id: id.into(),
            name_zh: "青浦".into(),
            name_en: "Qingpu".into(),
            region: "310118".into(),
            keys: vec![jwk.clone()],
            x509_hashes: vec![],
            dns_names: vec![],
            service_items: vec![ServiceItem {
                id: "item".into(),
                name_zh: "事项".into(),
                name_en: "Item".into(),
                purpose_zh: "依据".into(),
                purpose_en: "Basis".into(),
                licences: vec![LicenceGrant {
                    vct: "urn:x:1".into(),
                    claims: vec!["a".into()],
                    holder_binding_required: false,
                }],
            }],
            not_before: 0,
            not_after: None,
        };
        let mut new = old.clone();
        add_verifier(&mut new, agency("https://qp")).unwrap();
        let kinds: Vec<&str> = diff(&old, &new).iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            ["verifier_added", "verifier_key_added", "service_item_added"]
        );
        let mut changed = new.clone();
        update_verifier(
            &mut changed,
            "https://qp",
            VerifierUpdate {
                compromised: vec![("c1".into(), 5)],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(diff(&new, &changed)[0].kind, "verifier_changed");
        remove_verifier(&mut changed, "https://qp").unwrap();
        assert_eq!(diff(&new, &changed)[0].kind, "verifier_removed");
    }
}
