//! Checking a wallet's `vp_token` against the transaction's DCQL query:
//! every presentation through the `tongban-verifier` library against the
//! service's trust bundle, with the KB-JWT's `aud` the tenant's client
//! identifier and its `nonce` the request's. The verdict keeps codes and
//! the bundle's freshness, never claim values; the claims go apart, to be
//! erased once read.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tongban_verifier::{Policy, TrustBundle, verify};

use super::ServiceError;
use crate::trust::Freshness;

/// What one accepted presentation was (no claim values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentationSummary {
    /// The DCQL credential query it answers.
    pub query_id: String,
    /// Its type.
    pub vct: Option<String>,
    /// Its issuer.
    pub iss: Option<String>,
    /// The claim paths it disclosed.
    pub disclosed: Vec<String>,
}

/// The verdict of a transaction, as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Verdict {
    /// Why it was rejected: stable codes (the verifier library's, or the
    /// query matching's), empty when accepted or refused.
    pub codes: Vec<String>,
    /// Details for people, one per code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// The wallet's error (`access_denied` when the citizen declined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_error: Option<String>,
    /// The wallet's error description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_error_description: Option<String>,
    /// What was presented and accepted.
    #[serde(default)]
    pub presentations: Vec<PresentationSummary>,
    /// The trust bundle the presentations were verified with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_bundle: Option<Freshness>,
}

/// The result of checking a `vp_token`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The verdict.
    pub verdict: Verdict,
    /// The claims by query id, when accepted.
    pub claims: Option<Value>,
}

/// The structural checks on a DCQL query the service relies on.
pub fn validate_dcql(q: &Value) -> Result<(), ServiceError> {
    let bad = |m: &str| Err(ServiceError::InvalidQuery(format!("dcql_query: {m}")));
    let Some(creds) = q.get("credentials").and_then(Value::as_array) else {
        return bad("credentials must be a non-empty array");
    };
    if creds.is_empty() || creds.len() > 16 {
        return bad("credentials must hold 1 to 16 queries");
    }
    let mut ids = std::collections::BTreeSet::new();
    for c in creds {
        let Some(id) = c.get("id").and_then(Value::as_str) else {
            return bad("every credential query needs an id");
        };
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            || !ids.insert(id)
        {
            return bad("credential query ids are unique, non-empty, of letters, digits, _ and -");
        }
        if c.get("format").and_then(Value::as_str) != Some("dc+sd-jwt") {
            return bad("format must be dc+sd-jwt (the only format this service verifies)");
        }
        let vcts = c.pointer("/meta/vct_values").and_then(Value::as_array);
        if vcts.is_none_or(|v| v.is_empty() || !v.iter().all(Value::is_string)) {
            return bad("meta.vct_values must list the accepted types");
        }
    }
    Ok(())
}

/// What a query asks, for the audit log: per credential query its types
/// and claim paths (never values).
pub fn dcql_summary(q: &Value) -> Value {
    let creds = q
        .get("credentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Value::Array(
        creds
            .iter()
            .map(|c| {
                json!({
                    "id": c.get("id"),
                    "vct_values": c.pointer("/meta/vct_values"),
                    "claims": c.get("claims").and_then(Value::as_array).map(|cl| {
                        cl.iter().map(|x| x.get("path").cloned().unwrap_or(Value::Null)).collect::<Vec<_>>()
                    }),
                })
            })
            .collect(),
    )
}

fn claim_paths(c: &Value) -> Vec<Vec<String>> {
    c.get("claims")
        .and_then(Value::as_array)
        .map(|cl| {
            cl.iter()
                .filter_map(|x| x.get("path").and_then(Value::as_array))
                .map(|p| {
                    p.iter()
                        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn has_path(claims: &Map<String, Value>, path: &[String]) -> bool {
    let mut cur: Option<&Value> = None;
    for (i, seg) in path.iter().enumerate() {
        cur = if i == 0 {
            claims.get(seg)
        } else {
            cur.and_then(|v| v.get(seg))
        };
        if cur.is_none() {
            return false;
        }
    }
    !path.is_empty()
}

/// Checks `vp_token` (query id → presentations) against the query.
pub fn check_vp_token(
    dcql: &Value,
    vp_token: &Value,
    client_id: &str,
    nonce: &str,
    bundle: &TrustBundle,
    freshness: Freshness,
    now: i64,
) -> Checked {
    let mut verdict = Verdict {
        trust_bundle: Some(freshness),
        ..Verdict::default()
    };
    let reject = |mut v: Verdict, code: &str, detail: String| {
        v.codes.push(code.to_owned());
        v.details.push(detail);
        Checked {
            verdict: v,
            claims: None,
        }
    };
    let Some(token) = vp_token.as_object() else {
        return reject(
            verdict,
            "vp_token_malformed",
            "vp_token is not a JSON object".into(),
        );
    };
    let creds = dcql
        .get("credentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for id in token.keys() {
        if !creds
            .iter()
            .any(|c| c.get("id").and_then(Value::as_str) == Some(id))
        {
            return reject(
                verdict,
                "unknown_query_id",
                format!("vp_token answers {id:?}, which the query does not ask"),
            );
        }
    }
    let mut claims_out = Map::new();
    let policy = Policy::counter(now, client_id, nonce);
    for c in &creds {
        let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
        let presentations: Vec<&str> = match token.get(id) {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(_) => {
                return reject(
                    verdict,
                    "vp_token_malformed",
                    format!("vp_token.{id} is not an array of presentations"),
                );
            }
            None => {
                return reject(
                    verdict,
                    "credential_missing",
                    format!("no presentation answers query {id:?}"),
                );
            }
        };
        let multiple = c.get("multiple").and_then(Value::as_bool).unwrap_or(false);
        if presentations.is_empty() || (presentations.len() > 1 && !multiple) {
            return reject(
                verdict,
                "too_many_presentations",
                format!("query {id:?} takes one presentation"),
            );
        }
        let vcts: Vec<&str> = c
            .pointer("/meta/vct_values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut answers = Vec::new();
        for p in presentations {
            let report = verify(p, &policy, bundle);
            if !report.is_accepted() {
                let code = report.code().map_or("presentation_rejected", |c| c.code());
                return reject(
                    verdict,
                    code,
                    format!("query {id:?}: the presentation was rejected"),
                );
            }
            let vct = report.credential.vct.clone();
            if !vct.as_deref().is_some_and(|v| vcts.contains(&v)) {
                return reject(
                    verdict,
                    "wrong_credential_type",
                    format!("query {id:?} asks for {vcts:?}, the presentation is {vct:?}"),
                );
            }
            let claims = report.claims.clone().unwrap_or_default();
            for path in claim_paths(c) {
                if !has_path(&claims, &path) {
                    return reject(
                        verdict,
                        "claim_missing",
                        format!("query {id:?}: claim {} was not disclosed", path.join(".")),
                    );
                }
            }
            verdict.presentations.push(PresentationSummary {
                query_id: id.to_owned(),
                vct,
                iss: report.credential.iss.clone(),
                disclosed: report.disclosed.clone(),
            });
            answers.push(Value::Object(claims));
        }
        claims_out.insert(id.to_owned(), Value::Array(answers));
    }
    Checked {
        verdict,
        claims: Some(Value::Object(claims_out)),
    }
}
