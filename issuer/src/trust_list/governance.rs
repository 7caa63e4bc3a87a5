//! Governing the trust list together: a change is a *proposal* file (the
//! signed document with its signatures so far, JWS JSON Serialization),
//! which each operator reviews and signs on their own machine, and which
//! becomes the published list or root only once the threshold is met. No
//! shared server: the file travels between the provinces' operators.
//!
//! Every function here either returns the new document or refuses with
//! nothing changed; the CLI writes files only after success.

use tongban_verifier::jws_json::MultiJws;
use tongban_verifier::root::{
    AnchorKey, MAX_ROOT_STEPS, RootKey, TRUST_ROOT_VERSION, TYP_TRUST_ROOT, TrustRoot, tally,
};
use tongban_verifier::trust::{Anchor, TYP_TRUST_LIST, TrustList, VerifiedTrustList};
use tongban_verifier::{Ed25519Signer, ErrorCode, KeyWithId, Signer as _, TrustAnchors};

use super::DraftError;

/// Which kind of document a proposal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A trust list.
    List,
    /// A root of trust.
    Root,
}

impl Kind {
    /// The `typ` its signatures carry.
    pub fn typ(self) -> &'static str {
        match self {
            Kind::List => TYP_TRUST_LIST,
            Kind::Root => TYP_TRUST_ROOT,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::List => "the trust list proposal",
            Kind::Root => "the root proposal",
        }
    }

    fn code(self) -> ErrorCode {
        match self {
            Kind::List => ErrorCode::TrustListMalformed,
            Kind::Root => ErrorCode::TrustRootChainBroken,
        }
    }
}

/// Reads a proposal (or a published document) of `kind`.
pub fn parse(text: &str, kind: Kind) -> Result<MultiJws, DraftError> {
    MultiJws::parse(text, kind.what(), kind.code()).map_err(DraftError::Refused)
}

/// Proposes the next list from the draft: sequence + 1, issued `now`, due
/// for replacement after `validity_secs`, signed under root
/// `root_sequence` (`None`: pinned bare keys). The draft keeps the new
/// sequence (an abandoned proposal leaves a gap, which verifiers allow).
pub fn propose_list(
    draft: &mut TrustList,
    root: &TrustAnchors,
    now: i64,
    validity_secs: i64,
) -> Result<MultiJws, DraftError> {
    if validity_secs <= 0 {
        return Err(DraftError::Invalid("the validity must be positive".into()));
    }
    let mut next = draft.clone();
    next.upgrade();
    next.sequence = draft.sequence + 1;
    next.issued_at = now;
    next.next_update = now + validity_secs;
    next.root_sequence = (root.sequence() > 0).then_some(root.sequence());
    if let Some(r) = root.root()
        && r.anchor.id != next.anchor.id
    {
        return Err(DraftError::Invalid(format!(
            "the draft is for anchor {}, the root for {}",
            next.anchor.id, r.anchor.id
        )));
    }
    next.validate().map_err(DraftError::ListInvalid)?;
    let doc = next.proposal()?;
    *draft = next;
    Ok(doc)
}

/// What `root propose` takes.
#[derive(Debug)]
pub struct RootProposal {
    /// The zone; default: the previous root's.
    pub anchor: Option<Anchor>,
    /// The anchor keys (public JWKs, each with a `kid`).
    pub keys: Vec<serde_json::Value>,
    /// *k*.
    pub threshold: u32,
    /// When it is proposed.
    pub now: i64,
    /// Seconds until it expires.
    pub validity_secs: i64,
}

/// Proposes the next root after `previous` (`None` or bare keys: root 1).
pub fn propose_root(
    previous: Option<&TrustAnchors>,
    p: RootProposal,
) -> Result<MultiJws, DraftError> {
    if p.validity_secs <= 0 {
        return Err(DraftError::Invalid("the validity must be positive".into()));
    }
    let anchor = p
        .anchor
        .or_else(|| previous.and_then(|r| r.root()).map(|r| r.anchor.clone()))
        .ok_or_else(|| {
            DraftError::Invalid(
                "name the zone (--anchor-id, --name-zh, --name-en) for a first root".into(),
            )
        })?;
    let root = TrustRoot {
        version: TRUST_ROOT_VERSION,
        anchor,
        sequence: previous.map_or(0, TrustAnchors::sequence) + 1,
        issued_at: p.now,
        expires: p.now + p.validity_secs,
        threshold: p.threshold,
        keys: p.keys.into_iter().map(|jwk| RootKey { jwk }).collect(),
    };
    root.validate().map_err(DraftError::Refused)?;
    Ok(root.proposal())
}

/// The keys a proposal's signatures may come from: a list's, the root's
/// keys; a root's, its own and the previous root's.
pub fn eligible_keys(
    doc: &MultiJws,
    kind: Kind,
    root_or_previous: Option<&TrustAnchors>,
) -> Result<Vec<AnchorKey>, DraftError> {
    let mut keys: Vec<AnchorKey> = root_or_previous
        .map(|r| r.keys().to_vec())
        .unwrap_or_default();
    if kind == Kind::Root {
        let root: TrustRoot =
            serde_json::from_value(serde_json::Value::Object(doc.payload.clone()))
                .map_err(|e| DraftError::Invalid(format!("not a root proposal: {e}")))?;
        for k in root.validate().map_err(DraftError::Refused)? {
            if !keys.iter().any(|o| o.thumbprint == k.thumbprint) {
                keys.push(k);
            }
        }
    }
    Ok(keys)
}

/// Adds `signer`'s signature. Refused, with the proposal unchanged, when
/// this key already signed it (a second signature would not count), or
/// when `eligible` is given and the key is not among them.
pub fn sign(
    doc: &mut MultiJws,
    kind: Kind,
    signer: &Ed25519Signer,
    eligible: Option<&[AnchorKey]>,
) -> Result<(), DraftError> {
    let me = AnchorKey {
        kid: signer.key_id().map(str::to_owned),
        key: signer.public_key(),
        thumbprint: signer.public_key().thumbprint(),
    };
    if let Some(eligible) = eligible
        && !eligible.iter().any(|k| k.thumbprint == me.thumbprint)
    {
        return Err(DraftError::NotAnAnchor {
            kid: me.kid.unwrap_or_default(),
            thumbprint: me.thumbprint,
        });
    }
    let mine = KeyWithId {
        key: me.key.clone(),
        kid: None,
    };
    let already = tally(
        doc,
        TrustAnchors::from_keys(&[mine]).keys(),
        kind.what(),
        kind.typ(),
        kind.code(),
    )
    .map_err(DraftError::Refused)?;
    if !already.signed_by.is_empty() {
        return Err(DraftError::AlreadySigned {
            kid: me.kid.unwrap_or_default(),
            thumbprint: me.thumbprint,
        });
    }
    doc.add_signature(signer, kind.typ())?;
    Ok(())
}

/// Checks that a list proposal meets the root's threshold (every rule a
/// verifier applies); refused with the verifier's code otherwise.
pub fn publish_list(doc: &MultiJws, root: &TrustAnchors) -> Result<VerifiedTrustList, DraftError> {
    VerifiedTrustList::verify_under(&doc.to_json_text(), root, None).map_err(DraftError::Refused)
}

/// Checks that a root proposal follows from `previous` (a threshold of the
/// old keys and of its own), or, with no previous root, carries its own
/// threshold; refused with `trust_root_chain_broken` otherwise.
pub fn publish_root(
    doc: &MultiJws,
    previous: Option<&TrustAnchors>,
) -> Result<TrustAnchors, DraftError> {
    let text = doc.to_json_text();
    let next = match previous {
        Some(prev) => prev
            .follow(std::slice::from_ref(&text), MAX_ROOT_STEPS)
            .map_err(DraftError::Refused)?,
        None => TrustAnchors::pin_root(&text).map_err(DraftError::Refused)?,
    };
    let claimed = tongban_verifier::root::peek_root_sequence(&text).unwrap_or_default();
    if next.sequence() != claimed {
        return Err(DraftError::Refused(tongban_verifier::Rejection::new(
            ErrorCode::TrustRootChainBroken,
            format!(
                "root {claimed} does not follow root {}",
                previous.map_or(0, TrustAnchors::sequence)
            ),
        )));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn op(seed: u8, kid: &str) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[seed; 32], Some(kid.into()))
    }

    fn public(s: &Ed25519Signer) -> Value {
        let mut j = s.public_key().to_jwk();
        j["kid"] = Value::String(s.key_id().unwrap_or_default().into());
        j
    }

    fn zone() -> Anchor {
        Anchor {
            id: "https://trust.example".into(),
            name_zh: "示范区".into(),
            name_en: "Zone".into(),
        }
    }

    #[test]
    fn three_operators_two_of_three_and_a_rotation() {
        let (sh, js, zj, ah) = (op(1, "sh"), op(2, "js"), op(3, "zj"), op(4, "ah"));
        let mut r1 = propose_root(
            None,
            RootProposal {
                anchor: Some(zone()),
                keys: vec![public(&sh), public(&js), public(&zj)],
                threshold: 2,
                now: 100,
                validity_secs: 1000,
            },
        )
        .unwrap();
        sign(&mut r1, Kind::Root, &sh, None).unwrap();
        assert!(publish_root(&r1, None).is_err(), "one of two");
        assert!(matches!(
            sign(&mut r1, Kind::Root, &sh, None),
            Err(DraftError::AlreadySigned { .. })
        ));
        let eligible = eligible_keys(&r1, Kind::Root, None).unwrap();
        assert!(matches!(
            sign(&mut r1, Kind::Root, &ah, Some(&eligible)),
            Err(DraftError::NotAnAnchor { .. })
        ));
        sign(&mut r1, Kind::Root, &js, Some(&eligible)).unwrap();
        let root1 = publish_root(&r1, None).unwrap();

        let mut draft = crate::trust_list::new_draft(zone());
        let mut list = propose_list(&mut draft, &root1, 200, 100).unwrap();
        sign(&mut list, Kind::List, &zj, None).unwrap();
        assert_eq!(
            publish_list(&list, &root1).unwrap_err().code(),
            "trust_list_threshold_not_met"
        );
        sign(&mut list, Kind::List, &sh, None).unwrap();
        let v = publish_list(&list, &root1).unwrap();
        assert_eq!(v.signed_by().len(), 2);
        assert_eq!(v.list().root_sequence, Some(1));

        // Zhejiang's operator leaves, Anhui's joins.
        let mut r2 = propose_root(
            Some(&root1),
            RootProposal {
                anchor: None,
                keys: vec![public(&sh), public(&js), public(&ah)],
                threshold: 2,
                now: 300,
                validity_secs: 1000,
            },
        )
        .unwrap();
        sign(&mut r2, Kind::Root, &ah, None).unwrap();
        sign(&mut r2, Kind::Root, &zj, None).unwrap();
        assert!(publish_root(&r2, Some(&root1)).is_err(), "old 1 of 2");
        sign(&mut r2, Kind::Root, &sh, None).unwrap();
        let root2 = publish_root(&r2, Some(&root1)).unwrap();
        assert_eq!(root2.sequence(), 2);
    }
}
