//! The Digital Credentials Query Language (OpenID4VP 1.0 §6), as Tongban
//! speaks it: the query's types, its structural rules
//! ([`DcqlQuery::validate`]), the wallet's choice of what to disclose
//! ([`CredentialQuery::select_claims`], [`DcqlQuery::plan`]) and the
//! verifier's check that what came back is what was asked for
//! ([`CredentialQuery::check_disclosed`], [`DcqlQuery::check_answer`]).
//!
//! The only credential format is SD-JWT VC (`dc+sd-jwt`, §B.3); a query for
//! any other format is valid DCQL that no Tongban credential matches.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::path::ClaimPath;

/// The credential format identifier of SD-JWT VC (§B.3.1).
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";

/// A DCQL query (§6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The credential queries (non-empty).
    pub credentials: Vec<CredentialQuery>,
    /// Which combinations of credentials satisfy the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// A credential query (§6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Names the credential in the response (`[A-Za-z0-9_-]+`).
    pub id: String,
    /// The requested format (`dc+sd-jwt`).
    pub format: String,
    /// Whether several credentials may answer this query (default false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// Format-specific constraints; for SD-JWT VC, `vct_values`.
    pub meta: CredentialMeta,
    /// The requested claims; absent: no selectively disclosable claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Alternative combinations of `claims` ids, most preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
    /// Whether a Key Binding JWT is required (default true).
    #[serde(
        default = "default_true",
        skip_serializing_if = "Clone::clone",
        rename = "require_cryptographic_holder_binding"
    )]
    pub require_holder_binding: bool,
    /// Trusted authorities (§6.1.1): carried, not interpreted (Tongban's
    /// trust comes from the trust list, which the verifier checks anyway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_authorities: Option<Value>,
}

/// The `meta` of an SD-JWT VC credential query (§B.3.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialMeta {
    /// The accepted credential types (`vct`); required for `dc+sd-jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
}

/// A claims query (§6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Names the claim for `claim_sets` (required when they are present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the claim is.
    pub path: ClaimPath,
    /// The accepted values (strings, integers or booleans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// A credential set query (§6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// Each option is a set of credential query ids that together satisfy
    /// the use case.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied (default true).
    #[serde(default = "default_true", skip_serializing_if = "Clone::clone")]
    pub required: bool,
}

fn default_true() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A query that breaks a rule of §6 (the request is invalid, whoever made
/// it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcqlError {
    /// `credentials` is empty.
    #[error("the DCQL query asks for no credential")]
    NoCredentials,
    /// An id is empty or has a character outside `[A-Za-z0-9_-]`.
    #[error("{what} id {id:?} must be non-empty and use only letters, digits, '_' and '-'")]
    BadId {
        /// "credential" or "claim".
        what: &'static str,
        /// The id.
        id: String,
    },
    /// An id occurs twice.
    #[error("{what} id {id:?} occurs more than once")]
    DuplicateId {
        /// "credential" or "claim".
        what: &'static str,
        /// The id.
        id: String,
    },
    /// An SD-JWT VC query without `meta.vct_values`, or with an empty one.
    #[error("credential query {0:?} must name its types in meta.vct_values")]
    MissingVctValues(String),
    /// An empty `claims`, `claim_sets`, claim set, `values`, `credential_sets`
    /// or `options`.
    #[error("{0} must not be empty")]
    Empty(String),
    /// `claim_sets` without `claims`, or naming an unknown claim id, or a
    /// claim without an id while `claim_sets` is present.
    #[error("credential query {query:?}: {reason}")]
    BadClaimSets {
        /// The credential query id.
        query: String,
        /// What is wrong.
        reason: String,
    },
    /// A value in `values` that is not a string, integer or boolean.
    #[error("credential query {0:?}: values may only be strings, integers or booleans")]
    BadValue(String),
    /// A credential set option names an unknown credential query id.
    #[error("credential_sets names {0:?}, which is not a credential query")]
    UnknownSetMember(String),
}

impl DcqlQuery {
    /// The catalogue shorthand: one SD-JWT VC of type `vct`, the claims at
    /// `paths`, holder binding as given.
    pub fn single(
        id: impl Into<String>,
        vct: impl Into<String>,
        paths: Vec<ClaimPath>,
        require_holder_binding: bool,
    ) -> DcqlQuery {
        let claims = (!paths.is_empty()).then(|| {
            paths
                .into_iter()
                .map(|path| ClaimsQuery {
                    id: None,
                    path,
                    values: None,
                })
                .collect()
        });
        DcqlQuery {
            credentials: vec![CredentialQuery {
                id: id.into(),
                format: FORMAT_SD_JWT_VC.into(),
                multiple: false,
                meta: CredentialMeta {
                    vct_values: Some(vec![vct.into()]),
                },
                claims,
                claim_sets: None,
                require_holder_binding,
                trusted_authorities: None,
            }],
            credential_sets: None,
        }
    }

    /// Checks every structural rule of §6 (ids, non-empty arrays,
    /// `claim_sets` referencing claim ids, sets referencing credential
    /// queries, `vct_values` for SD-JWT VC).
    pub fn validate(&self) -> Result<(), DcqlError> {
        if self.credentials.is_empty() {
            return Err(DcqlError::NoCredentials);
        }
        let mut ids = BTreeSet::new();
        for q in &self.credentials {
            check_id("credential", &q.id)?;
            if !ids.insert(q.id.as_str()) {
                return Err(DcqlError::DuplicateId {
                    what: "credential",
                    id: q.id.clone(),
                });
            }
            q.validate()?;
        }
        if let Some(sets) = &self.credential_sets {
            if sets.is_empty() {
                return Err(DcqlError::Empty("credential_sets".into()));
            }
            for set in sets {
                if set.options.is_empty() {
                    return Err(DcqlError::Empty("credential_sets[].options".into()));
                }
                for option in &set.options {
                    if option.is_empty() {
                        return Err(DcqlError::Empty("a credential_sets option".into()));
                    }
                    if let Some(unknown) = option.iter().find(|id| !ids.contains(id.as_str())) {
                        return Err(DcqlError::UnknownSetMember(unknown.clone()));
                    }
                }
            }
        }
        Ok(())
    }

    /// The credential query with this id.
    pub fn query(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|q| q.id == id)
    }

    /// Which credential queries a wallet answers (§6.4.2), given which of
    /// them it can satisfy: every query when there are no credential sets;
    /// otherwise, for each set, its first option the wallet can satisfy
    /// (required sets must have one, optional sets are answered when they
    /// can be). `None` when a required query or set cannot be satisfied:
    /// then no credential may be returned at all.
    pub fn plan(&self, satisfiable: impl Fn(&CredentialQuery) -> bool) -> Option<Vec<&str>> {
        let can = |id: &str| self.query(id).is_some_and(&satisfiable);
        let Some(sets) = &self.credential_sets else {
            return self
                .credentials
                .iter()
                .all(&satisfiable)
                .then(|| self.credentials.iter().map(|q| q.id.as_str()).collect());
        };
        let mut chosen: Vec<&str> = Vec::new();
        for set in sets {
            match set.options.iter().find(|o| o.iter().all(|id| can(id))) {
                Some(option) => {
                    for id in option {
                        if !chosen.contains(&id.as_str()) {
                            chosen.push(id);
                        }
                    }
                }
                None if set.required => return None,
                None => {}
            }
        }
        Some(chosen)
    }

    /// Checks which credential queries an answer covers (§8.1, §6.4.2):
    /// every answered id is a query, a query that is not `multiple` has
    /// exactly one presentation, none has zero, and the answered ids
    /// satisfy the query (all queries, or an option of every required set).
    pub fn check_answer<'a>(
        &self,
        answered: impl IntoIterator<Item = (&'a str, usize)>,
    ) -> Result<(), AnswerMismatch> {
        let mut present = BTreeSet::new();
        for (id, count) in answered {
            let query = self
                .query(id)
                .ok_or_else(|| AnswerMismatch::UnknownQuery(id.to_owned()))?;
            if count == 0 {
                return Err(AnswerMismatch::Empty(id.to_owned()));
            }
            if count > 1 && !query.multiple {
                return Err(AnswerMismatch::TooMany(id.to_owned()));
            }
            present.insert(id);
        }
        let missing = match &self.credential_sets {
            None => self
                .credentials
                .iter()
                .find(|q| !present.contains(q.id.as_str()))
                .map(|q| q.id.clone()),
            Some(sets) => sets
                .iter()
                .filter(|s| s.required)
                .find(|s| {
                    !s.options
                        .iter()
                        .any(|o| o.iter().all(|id| present.contains(id.as_str())))
                })
                .map(|s| {
                    s.options
                        .iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("|")
                }),
        };
        match missing {
            Some(id) => Err(AnswerMismatch::Missing(id)),
            None => Ok(()),
        }
    }
}

/// An answer whose shape does not fit the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerMismatch {
    /// The answer names a credential query the request did not make.
    #[error("the answer names {0:?}, which the request did not ask for")]
    UnknownQuery(String),
    /// An entry with no presentation.
    #[error("the answer for {0:?} holds no presentation")]
    Empty(String),
    /// Several presentations for a query that is not `multiple`.
    #[error("the answer for {0:?} holds several presentations; one was asked for")]
    TooMany(String),
    /// A required credential (or set) is not answered.
    #[error("the answer lacks the requested credential {0:?}")]
    Missing(String),
}

/// A presentation that does not fit its credential query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureMismatch {
    /// The credential's type is not among `vct_values`, or the format is not
    /// one Tongban presents.
    #[error("the credential is of type {found:?}; the request asked for {expected:?}")]
    WrongType {
        /// The presented `vct`.
        found: String,
        /// The requested types.
        expected: Vec<String>,
    },
    /// A requested claim is not disclosed (or has a value the request does
    /// not accept), and no claim set is satisfied.
    #[error("the presentation does not disclose {0}")]
    ClaimMissing(String),
    /// Holder binding was required and the presentation has no KB-JWT.
    #[error("the presentation carries no holder signature, and the request requires one")]
    HolderBindingMissing,
}

impl CredentialQuery {
    fn validate(&self) -> Result<(), DcqlError> {
        if self.format == FORMAT_SD_JWT_VC {
            match &self.meta.vct_values {
                Some(v) if !v.is_empty() => {}
                _ => return Err(DcqlError::MissingVctValues(self.id.clone())),
            }
        }
        let Some(claims) = &self.claims else {
            if self.claim_sets.is_some() {
                return Err(self.bad_sets("claim_sets is present without claims"));
            }
            return Ok(());
        };
        if claims.is_empty() {
            return Err(DcqlError::Empty(format!("the claims of {:?}", self.id)));
        }
        let mut claim_ids = BTreeSet::new();
        for c in claims {
            if let Some(id) = &c.id {
                check_id("claim", id)?;
                if !claim_ids.insert(id.as_str()) {
                    return Err(DcqlError::DuplicateId {
                        what: "claim",
                        id: id.clone(),
                    });
                }
            } else if self.claim_sets.is_some() {
                return Err(self.bad_sets("every claim needs an id when claim_sets is present"));
            }
            if let Some(values) = &c.values {
                if values.is_empty() {
                    return Err(DcqlError::Empty(format!("a values of {:?}", self.id)));
                }
                let scalar = |v: &Value| {
                    v.is_string() || v.is_boolean() || v.as_i64().is_some() || v.as_u64().is_some()
                };
                if !values.iter().all(scalar) {
                    return Err(DcqlError::BadValue(self.id.clone()));
                }
            }
        }
        if let Some(sets) = &self.claim_sets {
            if sets.is_empty() || sets.iter().any(Vec::is_empty) {
                return Err(DcqlError::Empty(format!("the claim_sets of {:?}", self.id)));
            }
            if let Some(unknown) = sets
                .iter()
                .flatten()
                .find(|id| !claim_ids.contains(id.as_str()))
            {
                return Err(self.bad_sets(&format!("claim_sets names unknown claim {unknown:?}")));
            }
        }
        Ok(())
    }

    fn bad_sets(&self, reason: &str) -> DcqlError {
        DcqlError::BadClaimSets {
            query: self.id.clone(),
            reason: reason.into(),
        }
    }

    /// Whether a credential of this format and type can answer the query.
    pub fn accepts_type(&self, vct: &str) -> bool {
        self.format == FORMAT_SD_JWT_VC
            && self
                .meta
                .vct_values
                .as_ref()
                .is_some_and(|v| v.iter().any(|t| t == vct))
    }

    /// The wallet's side (§6.4.1): the claim paths to disclose from a
    /// credential of type `vct` whose full claims (every disclosure
    /// applied) are `claims`, or `None` when the credential cannot answer
    /// the query. `holder_bound` says whether the credential has a `cnf`
    /// key. With `claim_sets`, the first satisfiable option is chosen.
    pub fn select_claims(
        &self,
        vct: &str,
        claims: &Value,
        holder_bound: bool,
    ) -> Option<Vec<ClaimPath>> {
        if !self.accepts_type(vct) || (self.require_holder_binding && !holder_bound) {
            return None;
        }
        let Some(queries) = &self.claims else {
            return Some(Vec::new());
        };
        let has = |c: &ClaimsQuery| matches_claim(c, claims);
        match &self.claim_sets {
            None => queries
                .iter()
                .all(has)
                .then(|| queries.iter().map(|c| c.path.clone()).collect()),
            Some(sets) => sets.iter().find_map(|set| {
                let chosen: Option<Vec<ClaimPath>> = set
                    .iter()
                    .map(|id| {
                        queries
                            .iter()
                            .find(|c| c.id.as_deref() == Some(id))
                            .filter(|c| has(c))
                            .map(|c| c.path.clone())
                    })
                    .collect();
                chosen
            }),
        }
    }

    /// The verifier's side: a verified presentation of type `vct` that
    /// disclosed `disclosed` (the processed claims, RFC 9901 §7.1) fits the
    /// query: the type is requested, the holder signed when required, and
    /// every requested claim (or every claim of one claim set, any of them)
    /// is disclosed with an accepted value.
    pub fn check_disclosed(
        &self,
        vct: &str,
        disclosed: &Map<String, Value>,
        key_binding: bool,
    ) -> Result<(), DisclosureMismatch> {
        if !self.accepts_type(vct) {
            return Err(DisclosureMismatch::WrongType {
                found: vct.to_owned(),
                expected: self.meta.vct_values.clone().unwrap_or_default(),
            });
        }
        if self.require_holder_binding && !key_binding {
            return Err(DisclosureMismatch::HolderBindingMissing);
        }
        let Some(queries) = &self.claims else {
            return Ok(());
        };
        // The claims as one JSON object, borrowed into a Value only for the
        // path walk.
        let root = Value::Object(disclosed.clone());
        let missing = |c: &ClaimsQuery| (!matches_claim(c, &root)).then(|| c.path.to_string());
        match &self.claim_sets {
            None => match queries.iter().find_map(missing) {
                Some(path) => Err(DisclosureMismatch::ClaimMissing(path)),
                None => Ok(()),
            },
            Some(sets) => {
                let by_id: BTreeMap<&str, &ClaimsQuery> = queries
                    .iter()
                    .filter_map(|c| c.id.as_deref().map(|id| (id, c)))
                    .collect();
                let satisfied = sets.iter().any(|set| {
                    set.iter()
                        .all(|id| by_id.get(id.as_str()).is_some_and(|c| missing(c).is_none()))
                });
                if satisfied {
                    Ok(())
                } else {
                    let first = sets
                        .first()
                        .into_iter()
                        .flatten()
                        .filter_map(|id| by_id.get(id.as_str()))
                        .find_map(|c| missing(c))
                        .unwrap_or_else(|| "any of the requested claim sets".into());
                    Err(DisclosureMismatch::ClaimMissing(first))
                }
            }
        }
    }
}

/// Whether `claims` has the claim `c` asks for, with an accepted value when
/// `values` restricts it (any selected element matching, type and value
/// exactly).
fn matches_claim(c: &ClaimsQuery, claims: &Value) -> bool {
    let Ok(selected) = c.path.select(claims) else {
        return false;
    };
    match &c.values {
        None => true,
        Some(values) => selected.iter().any(|v| values.contains(v)),
    }
}

fn check_id(what: &'static str, id: &str) -> Result<(), DcqlError> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DcqlError::BadId {
            what,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    const BL: &str = "urn:tongban:business-licence:1";

    fn query(v: Value) -> DcqlQuery {
        let q: DcqlQuery = serde_json::from_value(v).unwrap();
        q.validate().unwrap();
        q
    }

    fn licence() -> Value {
        json!({
            "vct": BL,
            "entity_name": "苏州吴江示例有限公司",
            "uscc": "91320509MA1XXXXXX1",
            "legal_representative": "张三",
            "address": {"province": "江苏省", "city": "苏州市"},
            "business_scope": ["软件开发", "技术服务"]
        })
    }

    #[test]
    fn the_catalogue_shorthand_is_a_valid_query_that_round_trips() {
        let q = DcqlQuery::single(
            "licence",
            BL,
            vec![
                ClaimPath::keys(["entity_name"]).unwrap(),
                ClaimPath::keys(["address", "city"]).unwrap(),
            ],
            true,
        );
        q.validate().unwrap();
        let v = serde_json::to_value(&q).unwrap();
        assert_eq!(
            v,
            json!({"credentials": [{
                "id": "licence", "format": "dc+sd-jwt",
                "meta": {"vct_values": [BL]},
                "claims": [{"path": ["entity_name"]}, {"path": ["address", "city"]}]
            }]})
        );
        assert_eq!(serde_json::from_value::<DcqlQuery>(v).unwrap(), q);
        let unbound = DcqlQuery::single("x", BL, vec![], false);
        assert_eq!(
            serde_json::to_value(&unbound).unwrap()["credentials"][0]["require_cryptographic_holder_binding"],
            json!(false)
        );
    }

    #[test]
    fn every_structural_rule_is_enforced() {
        let bad = [
            (json!({"credentials": []}), "no credential"),
            (
                json!({"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]}}]}),
                "bad id",
            ),
            (
                json!({"credentials": [
                    {"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]}},
                    {"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]}}]}),
                "duplicate",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}]}),
                "vct_values",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]}, "claims": []}]}),
                "empty claims",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]},
                    "claim_sets": [["x"]]}]}),
                "sets without claims",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]},
                    "claims": [{"id": "x", "path": ["a"]}], "claim_sets": [["y"]]}]}),
                "unknown claim id",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]},
                    "claims": [{"path": ["a"]}], "claim_sets": [["y"]]}]}),
                "claim without id",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]},
                    "claims": [{"path": ["a"], "values": [1.5]}]}]}),
                "float value",
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]}}],
                    "credential_sets": [{"options": [["b"]]}]}),
                "unknown set member",
            ),
        ];
        for (v, why) in bad {
            let q: DcqlQuery = match serde_json::from_value(v) {
                Ok(q) => q,
                Err(_) => continue,
            };
            assert!(q.validate().is_err(), "{why} must be refused");
        }
        // Unknown members are ignored (§6).
        query(json!({"credentials": [{"id": "a", "format": "dc+sd-jwt",
            "meta": {"vct_values": [BL], "future": 1}, "future": true}], "future": {}}));
    }

    #[test]
    fn the_wallet_discloses_exactly_the_requested_claims() {
        let q = query(json!({"credentials": [{"id": "bl", "format": "dc+sd-jwt",
            "meta": {"vct_values": [BL]},
            "claims": [{"path": ["entity_name"]}, {"path": ["address", "city"]}]}]}));
        let cq = &q.credentials[0];
        let paths = cq.select_claims(BL, &licence(), true).unwrap();
        assert_eq!(
            paths,
            vec![
                ClaimPath::keys(["entity_name"]).unwrap(),
                ClaimPath::keys(["address", "city"]).unwrap()
            ]
        );
        assert_eq!(cq.select_claims("urn:other", &licence(), true), None);
        assert_eq!(
            cq.select_claims(BL, &json!({"entity_name": "x"}), true),
            None
        );
        assert_eq!(
            cq.select_claims(BL, &licence(), false),
            None,
            "holder binding is required by default"
        );
    }

    #[test]
    fn claim_sets_pick_the_first_option_the_credential_satisfies() {
        let q = query(json!({"credentials": [{"id": "bl", "format": "dc+sd-jwt",
            "meta": {"vct_values": [BL]},
            "claims": [
                {"id": "phone", "path": ["phone"]},
                {"id": "name", "path": ["entity_name"]},
                {"id": "uscc", "path": ["uscc"]},
                {"id": "shanghai", "path": ["address", "city"], "values": ["上海市"]}
            ],
            "claim_sets": [["phone"], ["shanghai", "name"], ["name", "uscc"]]}]}));
        let cq = &q.credentials[0];
        assert_eq!(
            cq.select_claims(BL, &licence(), true).unwrap(),
            vec![
                ClaimPath::keys(["entity_name"]).unwrap(),
                ClaimPath::keys(["uscc"]).unwrap()
            ],
            "the first two options are not satisfiable (no phone; the city is not 上海市)"
        );
        let mut disclosed = Map::new();
        disclosed.insert("entity_name".into(), json!("x"));
        assert_eq!(
            cq.check_disclosed(BL, &disclosed, true),
            Err(DisclosureMismatch::ClaimMissing(r#"["phone"]"#.into()))
        );
        disclosed.insert("uscc".into(), json!("y"));
        assert_eq!(cq.check_disclosed(BL, &disclosed, true), Ok(()));
    }

    #[test]
    fn the_verifier_refuses_wrong_types_missing_claims_and_missing_binding() {
        let q = DcqlQuery::single(
            "bl",
            BL,
            vec![ClaimPath::keys(["entity_name"]).unwrap()],
            true,
        );
        let cq = &q.credentials[0];
        let licence = licence();
        let disclosed = licence.as_object().unwrap();
        assert_eq!(cq.check_disclosed(BL, disclosed, true), Ok(()));
        assert!(matches!(
            cq.check_disclosed("urn:other", disclosed, true),
            Err(DisclosureMismatch::WrongType { .. })
        ));
        assert_eq!(
            cq.check_disclosed(BL, disclosed, false),
            Err(DisclosureMismatch::HolderBindingMissing)
        );
        assert_eq!(
            cq.check_disclosed(BL, &Map::new(), true),
            Err(DisclosureMismatch::ClaimMissing(
                r#"["entity_name"]"#.into()
            ))
        );
    }

    #[test]
    fn credential_sets_plan_the_answer_and_check_it() {
        let q = query(json!({
            "credentials": [
                {"id": "bl", "format": "dc+sd-jwt", "meta": {"vct_values": [BL]}},
                {"id": "id_card", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:id"]}},
                {"id": "passport", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:pp"]}},
                {"id": "extra", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:extra"]}}
            ],
            "credential_sets": [
                {"options": [["bl"]]},
                {"options": [["id_card"], ["passport"]]},
                {"options": [["extra"]], "required": false}
            ]
        }));
        let have = |held: &'static [&'static str]| {
            move |c: &CredentialQuery| held.contains(&c.id.as_str())
        };
        assert_eq!(
            q.plan(have(&["bl", "passport"])),
            Some(vec!["bl", "passport"])
        );
        assert_eq!(
            q.plan(have(&["bl", "id_card", "passport", "extra"])),
            Some(vec!["bl", "id_card", "extra"])
        );
        assert_eq!(q.plan(have(&["bl"])), None);
        assert_eq!(q.check_answer([("bl", 1), ("passport", 1)]), Ok(()));
        assert_eq!(
            q.check_answer([("bl", 1)]),
            Err(AnswerMismatch::Missing("id_card|passport".into()))
        );
        assert_eq!(
            q.check_answer([("bl", 2), ("passport", 1)]),
            Err(AnswerMismatch::TooMany("bl".into()))
        );
        assert_eq!(
            q.check_answer([("bl", 1), ("nope", 1)]),
            Err(AnswerMismatch::UnknownQuery("nope".into()))
        );
        let plain = DcqlQuery::single("bl", BL, vec![], true);
        assert_eq!(plain.plan(|_| false), None);
        assert_eq!(
            plain.check_answer([]),
            Err(AnswerMismatch::Missing("bl".into()))
        );
    }
}
