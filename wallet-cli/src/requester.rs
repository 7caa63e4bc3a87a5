//! Who is asking, and may they: every request (a counter's `TBR1`, an
//! agency's OpenID4VP request) is judged against the trust list the wallet
//! holds before anything is shown for consent.
//!
//! - A list that registers receiving agencies (version 4 with `verifiers`)
//!   identifies the requester: a signed counter request by its key, an
//!   online request by its certificate (`x509_hash`) or DNS name
//!   (`x509_san_dns`). A signature that
//!   fails, a key or certificate not listed, compromised or out of its
//!   window, an ended registration or an unregistered service item refuses
//!   the request. The registered names, region, service item and purpose
//!   are what the citizen is shown.
//! - Claims beyond the registration are listed ([`Judged::excess`]); the
//!   caller refuses unless the citizen insists (`--allow-unregistered`).
//! - An unsigned counter request, or any request when the wallet holds no
//!   list that registers agencies, comes from an **unverified requester**,
//!   and is shown as such.

use tongban_protocol::oid4vp::DcqlQuery;
use tongban_verifier::relying_party::{Asked, Excess, Registered};
use tongban_verifier::request::ReceivedRequest;
use tongban_verifier::trust::VerifiedTrustList;
use tongban_verifier::{ErrorCode, Rejection};

/// What the wallet knows of a requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// Identified through the trust list.
    Registered(Box<Registered>),
    /// Not identified; why.
    Unverified(&'static str),
}

/// A request judged: who asks, and what it asks beyond the registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// Who asks.
    pub requester: Requester,
    /// Claims asked beyond the registration (empty when within it, or
    /// when the requester is unverified: there is no registration).
    pub excess: Vec<Excess>,
}

impl Judged {
    /// The refusal for asking beyond the registration, if it does.
    pub fn over_asking(&self) -> Option<Rejection> {
        let Requester::Registered(r) = &self.requester else {
            return None;
        };
        if self.excess.is_empty() {
            return None;
        }
        let listed: Vec<String> = self.excess.iter().map(ToString::to_string).collect();
        Some(Rejection::new(
            ErrorCode::ClaimsNotRegistered,
            format!(
                "{} ({}) is registered for service item {} and asks beyond it: {}",
                r.name_en,
                r.verifier,
                r.service_item.id,
                listed.join(", ")
            ),
        ))
    }
}

const UNSIGNED: &str = "the request is not signed";
const NO_LIST: &str = "this wallet holds no trust list registering receiving agencies";

fn judge(registered: Registered, asked: &[Asked]) -> Judged {
    let excess = registered.service_item.excess(asked);
    Judged {
        requester: Requester::Registered(Box::new(registered)),
        excess,
    }
}

/// Judges a counter's request at `now`.
pub fn counter(
    req: &ReceivedRequest,
    list: Option<&VerifiedTrustList>,
    now: i64,
) -> Result<Judged, Rejection> {
    let unverified = |why| Judged {
        requester: Requester::Unverified(why),
        excess: Vec::new(),
    };
    let Some(list) = list.filter(|l| l.list().registers_verifiers()) else {
        return Ok(unverified(if req.is_signed() { NO_LIST } else { UNSIGNED }));
    };
    if !req.is_signed() {
        return Ok(unverified(UNSIGNED));
    }
    let registered = req.check_requester(list.list(), now)?;
    Ok(judge(registered, &[req.request.asked()]))
}

/// Judges an online request at `now`: `client_id` (`x509_hash:…` or
/// `x509_san_dns:…`, already checked against the signing certificate and
/// its chain to a trusted verifier CA), the service item its
/// `tongban_purpose` names, and its DCQL query.
pub fn online(
    client_id: &str,
    service_item: Option<&str>,
    query: &DcqlQuery,
    list: Option<&VerifiedTrustList>,
    now: i64,
) -> Result<Judged, Rejection> {
    let Some(list) = list.filter(|l| l.list().registers_verifiers()) else {
        return Ok(Judged {
            requester: Requester::Unverified(NO_LIST),
            excess: Vec::new(),
        });
    };
    let Some(item) = service_item else {
        return Err(Rejection::new(
            ErrorCode::ServiceItemUnregistered,
            "the request names no service item (tongban_purpose)",
        ));
    };
    let registered = list.list().registered_by_client_id(client_id, item, now)?;
    Ok(judge(
        registered,
        &tongban_protocol::oid4vp::registration::asked(query),
    ))
}

/// A history line for a request judged (or refused before it could be):
/// who asked, through which channel, with what outcome. The caller adds
/// the credentials and claims.
pub fn history_entry(
    channel: &str,
    outcome: &str,
    audience: &str,
    judged: Option<&Judged>,
    now: i64,
) -> crate::store::HistoryEntry {
    let registered = match judged.map(|j| &j.requester) {
        Some(Requester::Registered(r)) => Some(r),
        _ => None,
    };
    crate::store::HistoryEntry {
        at: now,
        channel: channel.into(),
        outcome: outcome.into(),
        code: None,
        audience: audience.into(),
        verifier: registered.map(|r| r.verifier.clone()),
        verifier_name: registered.map(|r| format!("{} / {}", r.name_zh, r.name_en)),
        service_item: registered.map(|r| r.service_item.id.clone()),
        requester_verified: registered.is_some(),
        credentials: Vec::new(),
        claims: Vec::new(),
        excess: judged
            .map(|j| j.excess.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        allow_unregistered: false,
    }
}
