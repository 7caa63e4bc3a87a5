//! A small demonstration zone for the counter's browser page: the zone's
//! anchor signs a trust list naming the Wujiang agency (business licences)
//! with one status list, and the agency issues the catalogue's sample
//! business licence to the zone's holder, at status index [`VALID_IDX`]
//! or [`REVOKED_IDX`]. The zone's list is signed either by its one anchor
//! key (bare keys, *k* = 1) or, under a root of trust, by the provinces'
//! [`operators`] (a threshold of them). Times are real (`now` is passed in) so that a
//! browser, which reads its own clock, accepts them.

use serde_json::{Value, json};
use tongban_verifier::root::{RootKey, TRUST_ROOT_VERSION, TYP_TRUST_ROOT, TrustRoot};
use tongban_verifier::status::{Bits, StatusList, StatusListToken};
use tongban_verifier::trust::{Anchor, TYP_TRUST_LIST, TrustList, TrustedIssuer};
use tongban_verifier::{CredentialBuilder, Ed25519Signer, Signer as _};

use crate::keys::public_jwk;
use crate::present::{Audience, present};
use crate::sample::catalogue_samples;
use crate::zone::{self, BUSINESS_LICENCE};

/// The status index of the credential that stays valid.
pub const VALID_IDX: u64 = 7;
/// The status index of the credential [`status_list`] can mark revoked.
pub const REVOKED_IDX: u64 = 8;

/// The three provinces' operator keys that govern the zone's root of
/// trust (Shanghai, Jiangsu, Zhejiang), fixed.
pub fn operators() -> [Ed25519Signer; 3] {
    [
        Ed25519Signer::from_seed(&[0x51; 32], Some("sh-ops-1".into())),
        Ed25519Signer::from_seed(&[0x52; 32], Some("js-ops-1".into())),
        Ed25519Signer::from_seed(&[0x53; 32], Some("zj-ops-1".into())),
    ]
}

fn anchor() -> Anchor {
    Anchor {
        id: zone::ANCHOR_ID.into(),
        name_zh: zone::ANCHOR_NAME_ZH.into(),
        name_en: zone::ANCHOR_NAME_EN.into(),
    }
}

/// The zone, with the URL its status list is published at.
pub struct CounterZone {
    /// Where the agency's status list token is served.
    pub status_uri: String,
}

impl CounterZone {
    /// The zone with its status list at `status_uri`.
    pub fn new(status_uri: impl Into<String>) -> CounterZone {
        CounterZone {
            status_uri: status_uri.into(),
        }
    }

    /// The anchor's public key as a JWKS: what a counter pins.
    pub fn anchors(&self) -> Value {
        json!({"keys": [public_jwk(&zone::anchor())]})
    }

    /// The trust list `sequence`, signed at `now`, due for replacement at
    /// `next_update`.
    pub fn trust_list(&self, sequence: u64, now: i64, next_update: i64) -> String {
        self.list(2, sequence, None, now, next_update)
            .sign(&zone::anchor())
            .unwrap_or_default()
    }

    /// The zone's root of trust `sequence`: `threshold` of `keys`, signed
    /// by `signed_by` (a JWS JSON Serialization document, `root-<n>.json`),
    /// valid from `issued_at` to `expires`.
    pub fn root(
        &self,
        sequence: u64,
        threshold: u32,
        keys: &[&Ed25519Signer],
        signed_by: &[&Ed25519Signer],
        issued_at: i64,
        expires: i64,
    ) -> String {
        let root = TrustRoot {
            version: TRUST_ROOT_VERSION,
            anchor: anchor(),
            sequence,
            issued_at,
            expires,
            threshold,
            keys: keys
                .iter()
                .map(|k| {
                    let mut jwk = k.public_key().to_jwk();
                    jwk["kid"] = Value::String(k.key_id().unwrap_or_default().into());
                    RootKey { jwk }
                })
                .collect(),
        };
        let mut doc = root.proposal();
        for s in signed_by {
            // Signing with an Ed25519 key does not fail.
            let _ = doc.add_signature(*s, TYP_TRUST_ROOT);
        }
        doc.to_json_text()
    }

    /// The version 3 trust list `sequence` under root `root_sequence`,
    /// signed by `signed_by` (JWS JSON Serialization).
    pub fn threshold_list(
        &self,
        sequence: u64,
        root_sequence: u64,
        signed_by: &[&Ed25519Signer],
        now: i64,
        next_update: i64,
    ) -> String {
        let list = self.list(3, sequence, Some(root_sequence), now, next_update);
        let Ok(mut doc) = list.proposal() else {
            return String::new();
        };
        for s in signed_by {
            let _ = doc.add_signature(*s, TYP_TRUST_LIST);
        }
        doc.to_json_text()
    }

    fn list(
        &self,
        version: u32,
        sequence: u64,
        root_sequence: Option<u64>,
        now: i64,
        next_update: i64,
    ) -> TrustList {
        let wj = &zone::agencies()[1];
        TrustList {
            version,
            anchor: anchor(),
            sequence,
            root_sequence,
            verifiers: None,
            issued_at: now,
            next_update,
            issuers: vec![TrustedIssuer {
                id: wj.id.into(),
                name_zh: wj.name_zh.into(),
                name_en: wj.name_en.into(),
                region: wj.region.into(),
                vcts: vec![BUSINESS_LICENCE.into()],
                keys: vec![zone::trusted_key(
                    &wj.signer,
                    now - 365 * 86_400,
                    None,
                    None,
                )],
                status_lists: vec![self.status_uri.clone()],
            }],
            x509_anchors: None,
        }
    }

    /// The agency's status list token issued at `iat`, with
    /// [`REVOKED_IDX`] revoked when `revoked`.
    pub fn status_list(&self, iat: i64, revoked: bool) -> String {
        let wj = &zone::agencies()[1];
        let mut list = StatusList::new(Bits::new(1).unwrap_or_else(|| unreachable!()), 1024);
        if revoked {
            list.set(REVOKED_IDX as usize, 1);
        }
        StatusListToken::sign(
            &wj.signer,
            wj.id,
            &self.status_uri,
            iat,
            None,
            Some(3600),
            &list,
        )
        .unwrap_or_default()
    }

    /// The sample business licence issued at `iat` with status index `idx`.
    pub fn credential(&self, iat: i64, idx: u64) -> String {
        let wj = &zone::agencies()[1];
        let claims = catalogue_samples()
            .get("business-licence")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut rng = rand::rngs::OsRng;
        CredentialBuilder::new(wj.id, BUSINESS_LICENCE, iat)
            .expires_at(iat + 5 * 365 * 86_400)
            .holder_key(zone::holder().public_key())
            .status(json!({"status_list": {"idx": idx, "uri": self.status_uri}}))
            .claims(claims)
            .issue(&wj.signer, &mut rng)
            .map(|c| c.sd_jwt)
            .unwrap_or_default()
    }

    /// The holder's presentation of `credential` disclosing `disclose`,
    /// for `aud` and `nonce`, made at `iat`.
    pub fn present(
        &self,
        credential: &str,
        disclose: &[&str],
        aud: &str,
        nonce: &str,
        iat: i64,
    ) -> String {
        present(
            credential,
            disclose,
            &zone::holder(),
            Audience { aud, nonce, iat },
        )
        .unwrap_or_default()
    }
}
