//! From a checked request to the form posted to the response URI: which
//! stored credentials answer each DCQL credential query, the presentations
//! (made by [`crate::present`]'s code path: only the selected claims, a
//! KB-JWT with `aud` = the client identifier and `nonce` = the request's),
//! the `vp_token`, and its encryption to the verifier's key (JWE with
//! `josekit`).

use serde_json::{Map, Value, json};
use tongban_verifier::{ClaimPath, HeldCredential, KeyBinding, Signer};

use super::error::AnswerError;
use super::proto::{DcqlQuery, RequestObject, select_claims};
use super::request::{CheckedRequest, ResponseProtection};
use crate::store::StoredCredential;

/// One stored credential that can answer a query, and the claims it would
/// disclose.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The credential's id in the wallet.
    pub credential_id: String,
    /// Its type.
    pub vct: String,
    /// The claims that would leave the wallet.
    pub paths: Vec<ClaimPath>,
}

/// A credential query the answer must satisfy, and who can.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryMatch {
    /// The query's `id`.
    pub query_id: String,
    /// The stored credentials that answer it, in wallet order.
    pub candidates: Vec<Candidate>,
}

/// Refuses `transaction_data` this wallet does not know. No transaction
/// data type is supported yet, so any is refused (OpenID4VP §5.1: the
/// wallet MUST return an error on an unrecognised type); the caller posts
/// `invalid_transaction_data`.
pub fn check_transaction_data(object: &RequestObject) -> Result<(), AnswerError> {
    let Some(list) = object.transaction_data.as_ref() else {
        return Ok(());
    };
    let types: Vec<String> = list
        .iter()
        .map(|t| {
            tongban_verifier::encoding::b64_decode(t, "transaction data")
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| "(malformed)".into())
        })
        .collect();
    Err(AnswerError::TransactionDataUnsupported(format!(
        "unknown type(s) {types:?}"
    )))
}

/// The ids of the credential queries the answer must satisfy: every query,
/// or with `credential_sets` the first satisfiable option of each required
/// set (the first option when none is).
fn required_queries(query: &DcqlQuery, satisfiable: &dyn Fn(&str) -> bool) -> Vec<String> {
    let Some(sets) = &query.credential_sets else {
        return query.credentials.iter().map(|c| c.id.clone()).collect();
    };
    let mut out: Vec<String> = Vec::new();
    for set in sets {
        if set.get("required") == Some(&Value::Bool(false)) {
            continue;
        }
        let options: Vec<Vec<String>> = set
            .get("options")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|o| {
                o.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .collect();
        let chosen = options
            .iter()
            .find(|o| o.iter().all(|id| satisfiable(id)))
            .or(options.first());
        for id in chosen.into_iter().flatten() {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
    }
    out
}

/// For each credential query the answer needs, the stored credentials
/// that answer it (possibly none).
pub fn match_credentials(query: &DcqlQuery, stored: &[StoredCredential]) -> Vec<QueryMatch> {
    let held: Vec<(&StoredCredential, Map<String, Value>)> = stored
        .iter()
        .filter_map(|c| Some((c, HeldCredential::parse(&c.sd_jwt).ok()?.claims().clone())))
        .collect();
    let candidates = |id: &str| -> Vec<Candidate> {
        let Some(q) = query.credentials.iter().find(|q| q.id == id) else {
            return Vec::new();
        };
        held.iter()
            .filter_map(|(c, claims)| {
                Some(Candidate {
                    credential_id: c.id.clone(),
                    vct: c.vct.clone(),
                    paths: select_claims(q, &c.vct, claims)?,
                })
            })
            .collect()
    };
    required_queries(query, &|id| !candidates(id).is_empty())
        .into_iter()
        .map(|id| QueryMatch {
            candidates: candidates(&id),
            query_id: id,
        })
        .collect()
}

/// The credential chosen for one query.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The query's `id`.
    pub query_id: String,
    /// The candidate chosen.
    pub candidate: Candidate,
}

/// The `vp_token`: for each choice, one presentation of its credential
/// disclosing its claims, bound to `holder` with `aud` = the client
/// identifier and `nonce` = the request's, made at `now`.
pub fn vp_token(
    request: &CheckedRequest,
    choices: &[Choice],
    stored: &[StoredCredential],
    holder: &dyn Signer,
    now: i64,
) -> Result<Value, AnswerError> {
    let mut token = Map::new();
    for choice in choices {
        let c = stored
            .iter()
            .find(|c| c.id == choice.candidate.credential_id)
            .ok_or_else(|| {
                AnswerError::Building(format!("no credential {}", choice.candidate.credential_id))
            })?;
        let held = HeldCredential::parse(&c.sd_jwt)
            .map_err(|e| AnswerError::Building(format!("credential {}: {e}", c.id)))?;
        let kb = KeyBinding {
            signer: holder,
            audience: request.object.client_id.clone(),
            nonce: request.object.nonce.clone(),
            iat: now,
        };
        let presentation = held
            .present(&choice.candidate.paths, Some(&kb))
            .map_err(|e| AnswerError::Building(format!("credential {}: {e}", c.id)))?;
        token.insert(choice.query_id.clone(), json!([presentation]));
    }
    Ok(Value::Object(token))
}

/// The form posted to the response URI: `response=<JWE>` for
/// `direct_post.jwt` (the JWE's payload is `{"vp_token", "state"}`), or
/// `vp_token` and `state` for plain `direct_post`.
pub fn response_form(
    request: &CheckedRequest,
    vp_token: &Value,
) -> Result<Vec<(String, String)>, AnswerError> {
    let state = request.object.state.clone();
    match &request.protection {
        ResponseProtection::Encrypted { jwk, enc } => {
            let mut payload = Map::new();
            payload.insert("vp_token".into(), vp_token.clone());
            if let Some(s) = &state {
                payload.insert("state".into(), Value::String(s.clone()));
            }
            let jwe = encrypt(jwk, enc, &Value::Object(payload))?;
            Ok(vec![("response".into(), jwe)])
        }
        ResponseProtection::Plain => {
            let mut form = vec![("vp_token".into(), vp_token.to_string())];
            if let Some(s) = state {
                form.push(("state".into(), s));
            }
            Ok(form)
        }
    }
}

/// The form of an error response (`error`, `error_description`, `state`),
/// posted unencrypted.
pub fn error_form(
    request: &CheckedRequest,
    error: &str,
    description: &str,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("error".into(), error.to_owned()),
        ("error_description".into(), description.to_owned()),
    ];
    if let Some(s) = &request.object.state {
        form.push(("state".into(), s.clone()));
    }
    form
}

/// A compact JWE of `payload` to `jwk` (ECDH-ES on P-256), `enc` as
/// chosen, the key's `kid` copied.
pub fn encrypt(
    jwk: &Map<String, Value>,
    enc: &str,
    payload: &Value,
) -> Result<String, AnswerError> {
    let fail =
        |e: josekit::JoseError| AnswerError::Building(format!("encrypting the response: {e}"));
    let key = josekit::jwk::Jwk::from_map(jwk.clone()).map_err(fail)?;
    let encrypter = josekit::jwe::ECDH_ES
        .encrypter_from_jwk(&key)
        .map_err(fail)?;
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption(enc);
    if let Some(kid) = key.key_id() {
        header.set_key_id(kid);
    }
    let bytes = serde_json::to_vec(payload).map_err(|e| AnswerError::Building(e.to_string()))?;
    josekit::jwe::serialize_compact(&bytes, &header, &encrypter).map_err(fail)
}
