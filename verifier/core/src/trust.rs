//! The signed trust list: which issuing agencies a verifier trusts, with
//! which keys, for which licence types.
//!
//! A trust list is a JWS (`typ` `tongban-trust-list+jwt`) signed by the
//! anchor keys of the zone's root of trust ([`crate::root`]): in version 3
//! the JWS JSON Serialization with a signature per operator, at least the
//! root's threshold of them by distinct keys; a version 1 or 2 list is a
//! compact JWS signed by one pinned key (a root of *k* = 1). A verified
//! list is a [`KeyResolver`]: it accepts a credential only when its issuer
//! is listed, the signing key is listed for that issuer, was within its
//! window at the credential's `iat` (a key retired at T, its `not_after`,
//! keeps the credentials issued before T) and was never reported
//! compromised (a compromised key validates nothing: its holder chooses
//! `iat`), and the issuer is authorised for the credential's `vct`. An
//! issuer that publishes status lists must reference one in every
//! credential ([`KeyResolver::status_required`]).
//! Specified in `specs/trust-list.md`.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::encoding::to_compact_json;
use crate::error::{ErrorCode, Rejection};
use crate::jws::sign_compact;
use crate::jws_json::MultiJws;
use crate::keys::{Algorithm, KeyWithId, PublicKey, SignError, Signer, jwk_pinned_alg};
use crate::relying_party::{self, Registered, TrustedVerifier};
use crate::resolver::{KeyQuery, KeyResolver};
use crate::root::{SignedBy, Tally, TrustAnchors, tally};

/// The `typ` of a trust list.
pub const TYP_TRUST_LIST: &str = "tongban-trust-list+jwt";
/// The trust list format version this crate writes. Version 3 is signed by
/// a threshold of anchor keys (JWS JSON Serialization) and names the root
/// of trust it was signed under (`root_sequence`). Version 2 names a
/// compromised key `compromised_at`; version 1 said `revoked_at`, which this
/// crate still reads, with the same meaning (see [`TrustedKey`]). Version 4
/// adds the receiving agencies and their registered service items
/// (`verifiers`, [`crate::relying_party`]).
pub const TRUST_LIST_VERSION: u32 = 4;
/// The oldest trust list format version this crate reads.
pub const OLDEST_TRUST_LIST_VERSION: u32 = 1;

/// The trust list document (the JWS payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// Format version: [`TRUST_LIST_VERSION`], or an older one down to
    /// [`OLDEST_TRUST_LIST_VERSION`].
    pub version: u32,
    /// Who signs the list.
    pub anchor: Anchor,
    /// Monotonic: a verifier refuses a list older than the one it holds.
    pub sequence: u64,
    /// When the list was signed (Unix seconds).
    pub issued_at: i64,
    /// When a newer list is due; after it, the list is stale.
    pub next_update: i64,
    /// The trusted issuing agencies.
    pub issuers: Vec<TrustedIssuer>,
    /// Version 3: the sequence of the root of trust whose keys signed the
    /// list (absent: pinned bare keys, root 0). A verifier that has not yet
    /// followed the chain that far fetches the missing roots first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_sequence: Option<u64>,
    /// Version 4: the receiving agencies and their registered service
    /// items (the data-sharing agreements). Present, even empty, means the
    /// zone registers requesters: a wallet then checks every request
    /// against it. Absent: no agreements (requesters are unverified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifiers: Option<Vec<TrustedVerifier>>,
}

/// The trust anchor's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// Identifier (a URL).
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
}

/// One issuing agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The `iss` of its credentials.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// GB/T 2260 administrative division code (6 digits).
    pub region: String,
    /// The `vct`s it may issue.
    pub vcts: Vec<String>,
    /// Its signing keys.
    pub keys: Vec<TrustedKey>,
    /// URIs of its status list tokens (what a bundle sync fetches).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_lists: Vec<String>,
}

/// One signing key of an issuer.
///
/// Two ways a key stops being trusted, never to be confused:
/// - **retired** (rotation): `not_after` is set; credentials issued before
///   it still verify, none issued at or after it;
/// - **compromised**: `compromised_at` (version 2) or `revoked_at`
///   (version 1) is set; nothing the key signed is accepted any more,
///   whatever its `iat` says, because whoever holds a stolen key writes the
///   `iat` too. The agency reissues what the key signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// The public JWK, with its `kid`.
    pub jwk: Value,
    /// Credentials issued before this time are not accepted under this key.
    pub not_before: i64,
    /// Credentials issued at or after this time are not accepted: the end
    /// of the key's window, and how a key is retired at rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// Version 1 only: the key was reported compromised at this time. Read
    /// exactly as `compromised_at` (version 1 already named it the mark of
    /// a compromised key; only its check was too lenient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    /// Version 2: the key was reported compromised at this time (kept for
    /// the record): every credential and status list it signed is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_at: Option<i64>,
}

impl TrustedKey {
    /// When the key was reported compromised, whichever version's member
    /// says so; `None` for a key in good standing (or merely retired).
    pub fn compromised_since(&self) -> Option<i64> {
        self.compromised_at.or(self.revoked_at)
    }
}

impl TrustList {
    /// Checks the list's own consistency (unique issuers and `kid`s, keys
    /// that parse, 6-digit regions, sane windows).
    pub fn validate(&self) -> Result<(), Rejection> {
        let bad = |why: String| Rejection::new(ErrorCode::TrustListMalformed, why);
        if !(OLDEST_TRUST_LIST_VERSION..=TRUST_LIST_VERSION).contains(&self.version) {
            return Err(bad(format!(
                "version {} is not supported (expected {OLDEST_TRUST_LIST_VERSION} to {TRUST_LIST_VERSION})",
                self.version
            )));
        }
        if self.next_update <= self.issued_at {
            return Err(bad("next_update is not after issued_at".into()));
        }
        if self.version < 3 && self.root_sequence.is_some() {
            return Err(bad(format!(
                "root_sequence is a version 3 member (this list says version {})",
                self.version
            )));
        }
        if let Some(verifiers) = &self.verifiers {
            if self.version < 4 {
                return Err(bad(format!(
                    "verifiers is a version 4 member (this list says version {})",
                    self.version
                )));
            }
            relying_party::validate(verifiers)?;
        }
        let mut ids = HashSet::new();
        for issuer in &self.issuers {
            if issuer.id.is_empty() || !ids.insert(issuer.id.as_str()) {
                return Err(bad(format!(
                    "issuer id {:?} is empty or listed twice",
                    issuer.id
                )));
            }
            if issuer.region.len() != 6 || !issuer.region.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!(
                    "issuer {}: region {:?} is not a 6-digit GB/T 2260 code",
                    issuer.id, issuer.region
                )));
            }
            let mut kids = HashSet::new();
            for k in &issuer.keys {
                let parsed = KeyWithId::from_jwk(&k.jwk)
                    .map_err(|e| bad(format!("issuer {}: {e}", issuer.id)))?;
                let kid = parsed
                    .kid
                    .ok_or_else(|| bad(format!("issuer {}: a key has no kid", issuer.id)))?;
                // The per-key algorithm pin (`specs/trust-list.md` §1): an
                // `alg` the key can make, and one every SM2 key must name.
                let pin = jwk_pinned_alg(&k.jwk, &parsed.key)
                    .map_err(|e| bad(format!("issuer {}: key {kid}: {e}", issuer.id)))?;
                if pin.is_none() && parsed.key.default_algorithm().requires_pin() {
                    return Err(bad(format!(
                        "issuer {}: key {kid}: an {} key must name its \"alg\"",
                        issuer.id,
                        parsed.key.default_algorithm().as_str()
                    )));
                }
                if !kids.insert(kid.clone()) {
                    return Err(bad(format!(
                        "issuer {}: kid {kid:?} is listed twice",
                        issuer.id
                    )));
                }
                match (self.version, k.revoked_at, k.compromised_at) {
                    (1, _, Some(_)) => {
                        return Err(bad(format!(
                            "issuer {}: key {kid}: compromised_at is a version 2 member (version 1 says revoked_at)",
                            issuer.id
                        )));
                    }
                    (v, Some(_), _) if v >= 2 => {
                        return Err(bad(format!(
                            "issuer {}: key {kid}: revoked_at is a version 1 member (version {v} says compromised_at)",
                            issuer.id
                        )));
                    }
                    _ => {}
                }
                if k.not_after.is_some_and(|na| na <= k.not_before) {
                    return Err(bad(format!(
                        "issuer {}: key {kid}: not_after is not after not_before",
                        issuer.id
                    )));
                }
            }
        }
        Ok(())
    }

    /// Brings a list of an older version to [`TRUST_LIST_VERSION`] with the
    /// same meaning (a version 1 `revoked_at` becomes `compromised_at`).
    pub fn upgrade(&mut self) {
        if self.version >= TRUST_LIST_VERSION {
            return;
        }
        for key in self.issuers.iter_mut().flat_map(|i| i.keys.iter_mut()) {
            if let Some(at) = key.revoked_at.take() {
                key.compromised_at = Some(at);
            }
        }
        self.version = TRUST_LIST_VERSION;
    }

    /// Signs the list with one anchor key as a compact JWS (versions 1
    /// and 2, and a version 3 list under pinned bare keys).
    pub fn sign(&self, anchor: &dyn Signer) -> Result<String, SignError> {
        let payload = serde_json::to_value(self).map_err(|e| SignError(e.to_string()))?;
        sign_compact(anchor, TYP_TRUST_LIST, &payload)
    }

    /// The list as an unsigned proposal (JWS JSON Serialization with no
    /// signature yet); each operator adds theirs with
    /// [`MultiJws::add_signature`] and [`TYP_TRUST_LIST`].
    pub fn proposal(&self) -> Result<MultiJws, SignError> {
        let payload = serde_json::to_value(self).map_err(|e| SignError(e.to_string()))?;
        Ok(MultiJws::unsigned(&payload))
    }

    /// The issuer with this id.
    pub fn issuer(&self, id: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|i| i.id == id)
    }

    /// Whether the list registers receiving agencies (version 4 with a
    /// `verifiers` section, even empty): then every request is checked
    /// against it.
    pub fn registers_verifiers(&self) -> bool {
        self.verifiers.is_some()
    }

    /// The registered receiving agency with this id.
    pub fn verifier(&self, id: &str) -> Option<&TrustedVerifier> {
        self.verifiers.as_deref()?.iter().find(|v| v.id == id)
    }

    /// The receiving agency that lists the certificate `x509_hash`.
    pub fn verifier_by_x509_hash(&self, x509_hash: &str) -> Option<&TrustedVerifier> {
        self.verifiers
            .as_deref()?
            .iter()
            .find(|v| v.certificates.iter().any(|c| c.x509_hash == x509_hash))
    }

    /// The receiving agency that lists the DNS name `name` (compared
    /// without regard to case).
    pub fn verifier_by_dns_name(&self, name: &str) -> Option<&TrustedVerifier> {
        let name = name.to_ascii_lowercase();
        self.verifiers
            .as_deref()?
            .iter()
            .find(|v| v.dns_names.contains(&name))
    }

    /// The online requester behind an OpenID4VP client identifier and its
    /// registered `service_item`, checked at `now`: `x509_hash:` by the
    /// certificate ([`TrustList::registered_by_x509_hash`]),
    /// `x509_san_dns:` by the DNS name (the caller has checked that the
    /// request's certificate carries it and chains to a trusted CA).
    /// `requester_unknown` for any other prefix or an unlisted name.
    pub fn registered_by_client_id(
        &self,
        client_id: &str,
        service_item: &str,
        now: i64,
    ) -> Result<Registered, Rejection> {
        if let Some(hash) = client_id.strip_prefix("x509_hash:") {
            return self.registered_by_x509_hash(hash, service_item, now);
        }
        if let Some(name) = client_id.strip_prefix("x509_san_dns:") {
            let v = self.verifier_by_dns_name(name).ok_or_else(|| {
                Rejection::new(
                    ErrorCode::RequesterUnknown,
                    format!("no receiving agency in the trust list has the DNS name {name}"),
                )
            })?;
            v.check_dns_name(&name.to_ascii_lowercase())?;
            return v.registered(service_item, now);
        }
        Err(Rejection::new(
            ErrorCode::RequesterUnknown,
            format!(
                "client id {client_id:?} is neither an x509_hash nor an x509_san_dns the trust list can name"
            ),
        ))
    }

    /// The online requester behind `x509_hash` and its registered
    /// `service_item`, checked at `now`: a listed certificate within its
    /// window and never compromised, a registration valid now, a registered
    /// service item. `requester_unknown` when no agency lists the
    /// certificate.
    pub fn registered_by_x509_hash(
        &self,
        x509_hash: &str,
        service_item: &str,
        now: i64,
    ) -> Result<Registered, Rejection> {
        let v = self.verifier_by_x509_hash(x509_hash).ok_or_else(|| {
            Rejection::new(
                ErrorCode::RequesterUnknown,
                format!("no receiving agency in the trust list has certificate {x509_hash}"),
            )
        })?;
        v.check_certificate(x509_hash, now)?;
        v.registered(service_item, now)
    }
}

/// A key of a verified list, parsed.
#[derive(Debug, Clone)]
struct ListedKey {
    kid: String,
    key: PublicKey,
    /// The JWK's `alg`: the one algorithm the key is accepted under.
    alg: Option<Algorithm>,
    not_before: i64,
    not_after: Option<i64>,
    compromised_at: Option<i64>,
}

/// A trust list whose anchor signatures have been verified.
#[derive(Debug, Clone)]
pub struct VerifiedTrustList {
    list: TrustList,
    keys: HashMap<String, Vec<ListedKey>>,
    jws: String,
    signed_by: Vec<SignedBy>,
    threshold: usize,
    anchor_keys: usize,
    root_sequence: u64,
    compact: bool,
}

impl VerifiedTrustList {
    /// Verifies a signed trust list against pinned bare anchor keys (any
    /// one of them suffices: a root of *k* = 1). `held` is the sequence
    /// number of the list already held, if any: a lower one is refused
    /// (`trust_list_rollback`).
    pub fn verify(
        jws: &str,
        anchors: &[KeyWithId],
        held: Option<u64>,
    ) -> Result<VerifiedTrustList, Rejection> {
        VerifiedTrustList::verify_under(jws, &TrustAnchors::from_keys(anchors), held)
    }

    /// Verifies a signed trust list under the root of trust a verifier has
    /// followed: at least its threshold of valid signatures by distinct
    /// keys of the current root (signatures by other keys are ignored; two
    /// by one key count once), a well-formed list, a `root_sequence` the
    /// verifier has reached, and no rollback below `held`.
    pub fn verify_under(
        jws: &str,
        anchors: &TrustAnchors,
        held: Option<u64>,
    ) -> Result<VerifiedTrustList, Rejection> {
        let code = ErrorCode::TrustListMalformed;
        let doc = MultiJws::parse(jws, "the trust list", code)?;
        // A list signed under a root this verifier has not reached cannot
        // be judged by its threshold; say so (a refusal either way).
        let claimed = doc.payload.get("root_sequence").and_then(Value::as_u64);
        if let Some(needs) = claimed
            && needs > anchors.sequence()
        {
            return Err(Rejection::new(
                ErrorCode::TrustRootChainBroken,
                format!(
                    "the trust list was signed under root {needs}, and this verifier has followed the chain only to root {}",
                    anchors.sequence()
                ),
            ));
        }
        let counted = tally(&doc, anchors.keys(), "the trust list", TYP_TRUST_LIST, code)?;
        check_threshold(&doc, &counted, anchors)?;
        let list: TrustList =
            serde_json::from_value(Value::Object(doc.payload.clone())).map_err(|e| {
                Rejection::new(
                    ErrorCode::TrustListMalformed,
                    format!("the trust list: {e}"),
                )
            })?;
        list.validate()?;
        let needs = list.root_sequence.unwrap_or(0);
        if needs > anchors.sequence() {
            return Err(Rejection::new(
                ErrorCode::TrustRootChainBroken,
                format!(
                    "the trust list was signed under root {needs}, and this verifier has followed the chain only to root {}",
                    anchors.sequence()
                ),
            ));
        }
        if let Some(root) = anchors.root()
            && root.anchor.id != list.anchor.id
        {
            return Err(Rejection::new(
                ErrorCode::TrustListAnchorUnknown,
                format!(
                    "the trust list is for anchor {}, the pinned root for {}",
                    list.anchor.id, root.anchor.id
                ),
            ));
        }
        if let Some(held) = held
            && list.sequence < held
        {
            return Err(Rejection::new(
                ErrorCode::TrustListRollback,
                format!(
                    "sequence {} is older than the held list's {held}",
                    list.sequence
                ),
            ));
        }
        let mut keys = HashMap::new();
        for issuer in &list.issuers {
            let mut parsed_keys = Vec::new();
            for k in &issuer.keys {
                let kw = KeyWithId::from_jwk(&k.jwk)
                    .map_err(|e| Rejection::new(ErrorCode::TrustListMalformed, e.to_string()))?;
                let alg = jwk_pinned_alg(&k.jwk, &kw.key)
                    .map_err(|e| Rejection::new(ErrorCode::TrustListMalformed, e.to_string()))?;
                parsed_keys.push(ListedKey {
                    kid: kw.kid.unwrap_or_default(),
                    alg,
                    key: kw.key,
                    not_before: k.not_before,
                    not_after: k.not_after,
                    compromised_at: k.compromised_since(),
                });
            }
            keys.insert(issuer.id.clone(), parsed_keys);
        }
        Ok(VerifiedTrustList {
            list,
            keys,
            jws: jws.trim().to_owned(),
            signed_by: counted.signed_by,
            threshold: anchors.threshold(),
            anchor_keys: anchors.keys().len(),
            root_sequence: anchors.sequence(),
            compact: doc.compact,
        })
    }

    /// The distinct anchor keys whose signature was counted.
    pub fn signed_by(&self) -> &[SignedBy] {
        &self.signed_by
    }

    /// `(k, n)`: the threshold the list met, of how many anchor keys.
    pub fn threshold(&self) -> (usize, usize) {
        (self.threshold, self.anchor_keys)
    }

    /// The sequence of the root of trust the list was verified under (0
    /// for pinned bare keys).
    pub fn root_sequence(&self) -> u64 {
        self.root_sequence
    }

    /// Whether the list came as a compact JWS (versions 1 and 2) rather
    /// than the JWS JSON Serialization.
    pub fn is_compact(&self) -> bool {
        self.compact
    }

    /// The verified document.
    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// The signed JWS as received.
    pub fn jws(&self) -> &str {
        &self.jws
    }

    /// Keys of `issuer` that may sign at `at` (status list tokens): listed,
    /// within their window and never reported compromised.
    pub fn keys_valid_at(
        &self,
        issuer: &str,
        kid: Option<&str>,
        at: i64,
    ) -> Result<Vec<PublicKey>, Rejection> {
        self.listed_valid_at(issuer, kid, at)
            .map(|keys| keys.into_iter().map(|k| k.key.clone()).collect())
    }

    /// [`VerifiedTrustList::keys_valid_at`] narrowed to the keys that may
    /// sign with `alg`: of the right type, and pinned (by the JWK's `alg`)
    /// to `alg` when pinned at all. None is `alg_key_mismatch`.
    pub fn keys_for_alg(
        &self,
        issuer: &str,
        kid: Option<&str>,
        at: i64,
        alg: Algorithm,
    ) -> Result<Vec<PublicKey>, Rejection> {
        let fitting: Vec<PublicKey> = self
            .listed_valid_at(issuer, kid, at)?
            .into_iter()
            .filter(|k| alg.fits(&k.key) && k.alg.is_none_or(|pin| pin.pin_admits(alg)))
            .map(|k| k.key.clone())
            .collect();
        if fitting.is_empty() {
            return Err(Rejection::new(
                ErrorCode::AlgKeyMismatch,
                format!("alg {} does not fit the listed key", alg.as_str()),
            ));
        }
        Ok(fitting)
    }

    fn listed_valid_at(
        &self,
        issuer: &str,
        kid: Option<&str>,
        at: i64,
    ) -> Result<Vec<&ListedKey>, Rejection> {
        let keys = self.keys.get(issuer).ok_or_else(|| {
            Rejection::new(
                ErrorCode::IssuerUnknown,
                format!("issuer {issuer:?} is not in the trust list"),
            )
        })?;
        let chosen: Vec<&ListedKey> = keys
            .iter()
            .filter(|k| kid.is_none_or(|want| want == k.kid))
            .collect();
        if chosen.is_empty() {
            return Err(Rejection::new(
                ErrorCode::KeyUnknown,
                format!(
                    "issuer {issuer:?} has no listed key {:?}",
                    kid.unwrap_or_default()
                ),
            ));
        }
        let mut ok = Vec::new();
        let mut last = None;
        for k in chosen {
            match k.check_at(at) {
                Ok(()) => ok.push(k),
                Err(r) => last = Some(r),
            }
        }
        match (ok.is_empty(), last) {
            (false, _) => Ok(ok),
            (true, Some(r)) => Err(r),
            (true, None) => Err(Rejection::new(ErrorCode::KeyUnknown, "no usable key")),
        }
    }

    /// A compact description for logs: anchor, sequence, issuer count,
    /// and the anchors that signed.
    pub fn summary(&self) -> String {
        format!(
            "{} #{} ({} issuers; signed by {} of {} anchor keys, {} needed)",
            self.list.anchor.id,
            self.list.sequence,
            self.list.issuers.len(),
            self.signed_by.len(),
            self.anchor_keys,
            self.threshold
        )
    }

    /// The canonical JSON of the document (for display).
    pub fn to_json(&self) -> String {
        to_compact_json(&self.list)
    }
}

/// Refuses a list below the threshold, with the code that says why: no
/// signature by any anchor key (`trust_list_anchor_unknown`), one by a key
/// a rotation removed (`trust_anchor_removed`), one by an anchor key that
/// does not verify (`trust_list_signature_invalid`), or simply too few
/// (`trust_list_threshold_not_met`).
fn check_threshold(
    doc: &MultiJws,
    counted: &Tally,
    anchors: &TrustAnchors,
) -> Result<(), Rejection> {
    let (have, need) = (counted.signed_by.len(), anchors.threshold());
    if have >= need {
        return Ok(());
    }
    let removed = tally(
        doc,
        anchors.removed(),
        "the trust list",
        TYP_TRUST_LIST,
        ErrorCode::TrustListMalformed,
    )?;
    if let Some(r) = removed.signed_by.first() {
        return Err(Rejection::new(
            ErrorCode::TrustAnchorRemoved,
            format!(
                "the trust list is signed by key {} ({}), which root {} no longer lists; {have} of the {need} signatures needed are by current anchor keys",
                r.kid.as_deref().unwrap_or("?"),
                r.thumbprint,
                anchors.sequence()
            ),
        ));
    }
    if counted.failed > 0 {
        return Err(Rejection::new(
            ErrorCode::TrustListSignatureInvalid,
            format!(
                "{} signature(s) by a pinned anchor key do not verify; {have} of {need} needed do",
                counted.failed
            ),
        ));
    }
    if have == 0 {
        let kids: Vec<&str> = counted
            .unknown
            .iter()
            .map(|k| k.as_deref().unwrap_or_default())
            .collect();
        return Err(Rejection::new(
            ErrorCode::TrustListAnchorUnknown,
            format!(
                "the trust list is signed by kid {:?}, which is not a pinned anchor",
                kids.join(", ")
            ),
        ));
    }
    Err(Rejection::new(
        ErrorCode::TrustListThresholdNotMet,
        format!(
            "{have} distinct anchor key(s) of root {} signed the trust list; it needs {need} of {}",
            anchors.sequence(),
            anchors.keys().len()
        ),
    ))
}

impl ListedKey {
    fn check_at(&self, at: i64) -> Result<(), Rejection> {
        // Not compared with `at`: the signer chose `at`, and a thief can
        // backdate it to before the compromise.
        if let Some(compromised) = self.compromised_at {
            return Err(Rejection::new(
                ErrorCode::KeyRevoked,
                format!(
                    "key {} was reported compromised at {compromised}; nothing it signed is accepted (the token says it was issued at {at})",
                    self.kid
                ),
            ));
        }
        if at < self.not_before || self.not_after.is_some_and(|na| at >= na) {
            return Err(Rejection::new(
                ErrorCode::KeyNotValidAtIssuance,
                format!(
                    "key {} is valid from {} to {:?}; the credential was issued at {at}",
                    self.kid, self.not_before, self.not_after
                ),
            ));
        }
        Ok(())
    }
}

impl KeyResolver for VerifiedTrustList {
    fn status_required(&self, iss: &str) -> bool {
        self.list
            .issuer(iss)
            .is_some_and(|i| !i.status_lists.is_empty())
    }

    fn resolve(&self, q: &KeyQuery<'_>) -> Result<Vec<PublicKey>, Rejection> {
        let iss = q.iss.ok_or_else(|| {
            Rejection::new(ErrorCode::IssuerUnknown, "the credential names no issuer")
        })?;
        let issuer = self.list.issuer(iss).ok_or_else(|| {
            Rejection::new(
                ErrorCode::IssuerUnknown,
                format!("issuer {iss:?} is not in the trust list"),
            )
        })?;
        let vct = q.vct.unwrap_or_default();
        if !issuer.vcts.iter().any(|v| v == vct) {
            return Err(Rejection::new(
                ErrorCode::VctNotAuthorised,
                format!("issuer {iss:?} is not authorised to issue {vct:?}"),
            ));
        }
        let iat = q.iat.ok_or_else(|| {
            Rejection::new(
                ErrorCode::IatMissing,
                "the credential has no iat, so its key's validity cannot be checked",
            )
        })?;
        self.keys_for_alg(iss, q.kid, iat, q.alg)
    }
}
