//! The Yangtze River Delta demonstration zone as tests see it: the trust
//! anchor and three agencies across three provinces (Shanghai Qingpu
//! 310118, Jiangsu Suzhou Wujiang 320509, Zhejiang Jiaxing Jiashan
//! 330421), each with a credential key and a status-list key from fixed
//! seeds. The verifier's trust tests build their trust list from these, and
//! the end-to-end trust-bundle tests enter them through `tongban-issuer
//! trust-list`.

use tongban_verifier::{Ed25519Signer, TrustedKey};

use crate::keys::public_jwk;

/// The anchor's identifier.
pub const ANCHOR_ID: &str = "https://trust.yrd.example";
/// The anchor's name in Chinese.
pub const ANCHOR_NAME_ZH: &str = "长三角生态绿色一体化发展示范区";
/// The anchor's name in English.
pub const ANCHOR_NAME_EN: &str = "Yangtze River Delta demonstration zone";
/// The anchor key's `kid`.
pub const ANCHOR_KID: &str = "yrd-anchor-1";
/// The business licence type.
pub const BUSINESS_LICENCE: &str = "urn:tongban:business-licence:1";
/// The driving licence type.
pub const DRIVING_LICENCE: &str = "urn:tongban:driving-licence:1";

/// One issuing agency of the zone.
pub struct Agency {
    /// The issuer identifier (`iss`).
    pub id: &'static str,
    /// Its name in Chinese.
    pub name_zh: &'static str,
    /// Its name in English.
    pub name_en: &'static str,
    /// Its administrative division code (six digits).
    pub region: &'static str,
    /// The one licence type it may issue.
    pub vct: &'static str,
    /// Signs its credentials (kid `qp-1`, `wj-1` or `js-1`).
    pub signer: Ed25519Signer,
    /// Signs its status list tokens (the same kid with `-status`).
    pub status_signer: Ed25519Signer,
}

/// The anchor's signing key (kid [`ANCHOR_KID`]).
pub fn anchor() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0xa0; 32], Some(ANCHOR_KID.into()))
}

/// The holder of the zone's credentials.
pub fn holder() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[0x77; 32], None)
}

/// The three agencies, in the order Qingpu, Wujiang, Jiashan.
pub fn agencies() -> Vec<Agency> {
    [
        (
            "https://amr.qingpu.example",
            "上海市青浦区市场监督管理局",
            "Qingpu AMR",
            "310118",
            BUSINESS_LICENCE,
            "qp-1",
        ),
        (
            "https://amr.wujiang.example",
            "苏州市吴江区市场监督管理局",
            "Wujiang AMR",
            "320509",
            BUSINESS_LICENCE,
            "wj-1",
        ),
        (
            "https://police.jiashan.example",
            "嘉善县公安局交通警察大队",
            "Jiashan traffic police",
            "330421",
            DRIVING_LICENCE,
            "js-1",
        ),
    ]
    .into_iter()
    .zip(31u8..)
    .map(|((id, name_zh, name_en, region, vct, kid), seed)| Agency {
        id,
        name_zh,
        name_en,
        region,
        vct,
        signer: Ed25519Signer::from_seed(&[seed; 32], Some(kid.into())),
        status_signer: Ed25519Signer::from_seed(&[seed + 100; 32], Some(format!("{kid}-status"))),
    })
    .collect()
}

/// A trust list's entry for `signer`'s key (its public JWK with `kid`),
/// valid from `not_before`, until `not_after`, revoked at `revoked_at`.
pub fn trusted_key(
    signer: &Ed25519Signer,
    not_before: i64,
    not_after: Option<i64>,
    revoked_at: Option<i64>,
) -> TrustedKey {
    TrustedKey {
        jwk: public_jwk(signer),
        not_before,
        not_after,
        revoked_at,
        compromised_at: None,
        x5c: None,
    }
}

#[cfg(test)]
mod tests {
    use tongban_verifier::Signer as _;

    use super::*;

    #[test]
    fn every_agency_has_its_own_keys_and_kids() {
        let a = agencies();
        assert_eq!(a.len(), 3);
        let kids: Vec<_> = a.iter().filter_map(|a| a.signer.key_id()).collect();
        assert_eq!(kids, ["qp-1", "wj-1", "js-1"]);
        assert_eq!(a[1].status_signer.key_id(), Some("wj-1-status"));
        assert_ne!(a[0].signer.public_key(), a[1].signer.public_key());
        assert_ne!(a[0].signer.public_key(), a[0].status_signer.public_key());
    }
}
