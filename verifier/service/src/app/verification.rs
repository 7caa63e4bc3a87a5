//! Checking a wallet's `vp_token` against the transaction's DCQL query,
//! through the shared OpenID4VP module
//! ([`verify_vp_token`]): every presentation through the `tongban-verifier`
//! library against the service's trust bundle, the KB-JWT's `aud` the
//! tenant's client identifier and its `nonce` the request's, DCQL matching
//! to the letter, and the transaction data hashes. The verdict keeps codes,
//! what was presented and the bundle's freshness, never claim values; the
//! claims go apart, to be erased once read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tongban_protocol::oid4vp::{DcqlQuery, Expectations, VpToken, verify_vp_token};
use tongban_verifier::{Policy, TrustBundle};

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
    /// Why it was rejected: the stable code of the shared OpenID4VP check
    /// (`dcql_wrong_type`, `presentation_rejected`, …) and, for a
    /// presentation the verifier library rejected, the library's code
    /// after it. Empty when accepted, refused or failed.
    pub codes: Vec<String>,
    /// What the first code means, in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_en: Option<String>,
    /// What the first code means, in Chinese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_zh: Option<String>,
    /// The precise detail (which query, which claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
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
    /// The claims by query id (each an array, one object per
    /// presentation), when accepted.
    pub claims: Option<Value>,
}

/// What a query asks, for the audit log: per credential query its types
/// and claim paths (never values).
pub fn dcql_summary(q: &DcqlQuery) -> Value {
    Value::Array(
        q.credentials
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "vct_values": c.meta.vct_values,
                    "claims": c.claims.as_ref().map(|cl| cl.iter().map(|x| &x.path).collect::<Vec<_>>()),
                })
            })
            .collect(),
    )
}

/// The request's facts a `vp_token` is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The DCQL query.
    pub query: &'a DcqlQuery,
    /// The tenant's full client identifier.
    pub client_id: &'a str,
    /// The request's nonce.
    pub nonce: &'a str,
    /// The transaction data strings sent.
    pub transaction_data: &'a [String],
}

/// Checks `vp_token` against the request.
pub fn check_vp_token(
    request: Request<'_>,
    vp_token: &VpToken,
    bundle: &TrustBundle,
    freshness: Freshness,
    now: i64,
) -> Checked {
    let mut verdict = Verdict {
        trust_bundle: Some(freshness),
        ..Verdict::default()
    };
    let expect = Expectations {
        client_id: request.client_id,
        nonce: request.nonce,
        transaction_data: request.transaction_data,
    };
    let policy = Policy::counter(now, request.client_id, request.nonce);
    match verify_vp_token(request.query, vp_token, &expect, &policy, bundle) {
        Ok(verified) => {
            let mut claims: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for p in verified {
                verdict.presentations.push(PresentationSummary {
                    query_id: p.query_id.clone(),
                    vct: p.report.credential.vct.clone(),
                    iss: p.report.credential.iss.clone(),
                    disclosed: p.report.disclosed.clone(),
                });
                claims
                    .entry(p.query_id)
                    .or_default()
                    .push(Value::Object(p.report.claims.unwrap_or_default()));
            }
            Checked {
                verdict,
                claims: Some(json!(claims)),
            }
        }
        Err(r) => {
            verdict.codes.push(r.code().to_owned());
            if let Some(code) = r.presentation_code() {
                verdict.codes.push(code.code().to_owned());
            }
            verdict.message_en = Some(r.message_en().to_owned());
            verdict.message_zh = Some(r.message_zh().to_owned());
            verdict.detail = Some(r.to_string());
            Checked {
                verdict,
                claims: None,
            }
        }
    }
}
