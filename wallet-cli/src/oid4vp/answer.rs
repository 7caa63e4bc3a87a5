//! From a checked request to the form posted to the response URI: which
//! stored credentials answer each DCQL credential query
//! (`tongban_protocol::oid4vp::dcql`), the transaction data the citizen
//! authorizes, the presentations (only the selected claims, a KB-JWT with
//! `aud` = the client identifier, `nonce` = the request's and the
//! transaction data hashes), the `vp_token`, and its encryption to the
//! verifier's key (JWE with `josekit`).

use serde_json::{Map, Value};
use tongban_protocol::oid4vp::request::transaction_data_hash;
use tongban_protocol::oid4vp::response::error_code;
use tongban_protocol::oid4vp::{
    AuthorizationErrorResponse, AuthorizationResponse, DcqlQuery, RequestObject, TransactionData,
    VpToken,
};
use tongban_verifier::{ClaimPath, HeldCredential, KeyBinding};

use super::error::AnswerError;
use super::request::{CheckedRequest, ResponseProtection};
use crate::store::{CopyInUse, StoredCredential};

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

/// One transaction data object of the request, as received and decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// The base64url string as received (what is hashed).
    pub encoded: String,
    /// Decoded.
    pub data: TransactionData,
}

/// The request's transaction data, each decoded and checked against its
/// DCQL query (a known type, every member, `credential_ids` naming
/// holder-bound queries, `sha-256` allowed). Anything else is
/// [`AnswerError::TransactionDataUnsupported`], which the caller posts as
/// `invalid_transaction_data`.
pub fn transactions(object: &RequestObject) -> Result<Vec<Transaction>, AnswerError> {
    object
        .transaction_data
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, encoded)| {
            TransactionData::decode(i, encoded, &object.dcql_query)
                .map(|data| Transaction {
                    encoded: encoded.clone(),
                    data,
                })
                .map_err(|e| AnswerError::TransactionDataUnsupported(e.to_string()))
        })
        .collect()
}

/// The claims of a stored credential as JSON, and whether it is holder
/// bound (`cnf`).
fn claims_of(c: &StoredCredential) -> Option<(Value, bool)> {
    let held = HeldCredential::parse(&c.sd_jwt).ok()?;
    let claims = held.claims().clone();
    let bound = claims.contains_key("cnf");
    Some((Value::Object(claims), bound))
}

/// For each credential query the answer needs (all of them, or with
/// `credential_sets` the first satisfiable option of each set), the stored
/// credentials that answer it — possibly none, when the request cannot be
/// answered.
pub fn match_credentials(query: &DcqlQuery, stored: &[StoredCredential]) -> Vec<QueryMatch> {
    let held: Vec<(&StoredCredential, Value, bool)> = stored
        .iter()
        .filter_map(|c| {
            let (claims, bound) = claims_of(c)?;
            Some((c, claims, bound))
        })
        .collect();
    let candidates = |id: &str| -> Vec<Candidate> {
        let Some(q) = query.query(id) else {
            return Vec::new();
        };
        held.iter()
            .filter_map(|(c, claims, bound)| {
                let selected = q.select_claims(&c.vct, claims, *bound)?;
                let mut paths = Vec::new();
                for p in selected {
                    paths.extend(p.concrete(claims).ok()?);
                }
                Some(Candidate {
                    credential_id: c.id.clone(),
                    vct: c.vct.clone(),
                    paths,
                })
            })
            .collect()
    };
    let ids: Vec<String> = match query.plan(|q| !candidates(&q.id).is_empty()) {
        Some(ids) => ids.into_iter().map(str::to_owned).collect(),
        // Unanswerable: report every query, the missing ones empty.
        None => query.credentials.iter().map(|q| q.id.clone()).collect(),
    };
    ids.into_iter()
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

/// The hashes of the transactions one presentation authorizes: each
/// transaction is authorized once, by the first chosen query it names
/// (OpenID4VP §5.1: only one of the referenced credentials is used).
fn hashes_for(query_id: &str, choices: &[Choice], transactions: &[Transaction]) -> Vec<String> {
    transactions
        .iter()
        .filter(|t| {
            choices
                .iter()
                .find(|c| t.data.credential_ids.contains(&c.query_id))
                .is_some_and(|c| c.query_id == query_id)
        })
        .map(|t| transaction_data_hash(&t.encoded))
        .collect()
}

/// The `vp_token`: for each choice, one presentation of its credential
/// — the copy taken for it ([`Wallet::take_copy`](crate::store::Wallet::take_copy),
/// in `copies`, the choices' order) — disclosing its claims, bound to that
/// copy's key with `aud` = the client identifier, `nonce` = the request's
/// and the transaction data hashes it authorizes, made at `now`.
pub fn vp_token(
    request: &CheckedRequest,
    choices: &[Choice],
    transactions: &[Transaction],
    copies: &[CopyInUse],
    now: i64,
) -> Result<VpToken, AnswerError> {
    if copies.len() != choices.len() {
        return Err(AnswerError::Building(format!(
            "{} credential copies for {} choices",
            copies.len(),
            choices.len()
        )));
    }
    let mut token = VpToken::new();
    for (choice, c) in choices.iter().zip(copies) {
        if c.credential_id != choice.candidate.credential_id {
            return Err(AnswerError::Building(format!(
                "no copy of credential {} was taken",
                choice.candidate.credential_id
            )));
        }
        let held = HeldCredential::parse(&c.sd_jwt)
            .map_err(|e| AnswerError::Building(format!("credential {}: {e}", c.credential_id)))?;
        let kb = KeyBinding {
            signer: &c.signer,
            audience: request.object.client_id.clone(),
            nonce: request.object.nonce.clone(),
            iat: now,
            transaction_data_hashes: hashes_for(&choice.query_id, choices, transactions),
        };
        let presentation = held
            .present(&choice.candidate.paths, Some(&kb))
            .map_err(|e| AnswerError::Building(format!("credential {}: {e}", c.credential_id)))?;
        token
            .entry(choice.query_id.clone())
            .or_default()
            .push(presentation);
    }
    Ok(token)
}

/// The form posted to the response URI: `response=<JWE>` for
/// `direct_post.jwt` (the JWE's payload is the authorization response,
/// `{"vp_token", "state"}`), or `vp_token` and `state` for plain
/// `direct_post`.
pub fn response_form(
    request: &CheckedRequest,
    vp_token: VpToken,
) -> Result<Vec<(String, String)>, AnswerError> {
    let response = AuthorizationResponse {
        vp_token,
        state: request.object.state.clone(),
    };
    match &request.protection {
        ResponseProtection::Encrypted { jwk, enc } => {
            let payload =
                serde_json::to_vec(&response).map_err(|e| AnswerError::Building(e.to_string()))?;
            Ok(vec![("response".into(), encrypt(jwk, enc, &payload)?)])
        }
        ResponseProtection::Plain => {
            let token = serde_json::to_string(&response.vp_token)
                .map_err(|e| AnswerError::Building(e.to_string()))?;
            let mut form = vec![("vp_token".into(), token)];
            form.extend(response.state.map(|s| ("state".into(), s)));
            Ok(form)
        }
    }
}

/// The form of an error response (`error`, `error_description`, `state`),
/// posted unencrypted (it carries nothing about the citizen).
pub fn error_form(
    request: &CheckedRequest,
    error: &str,
    description: &str,
) -> Vec<(String, String)> {
    let e = AuthorizationErrorResponse {
        error: error.to_owned(),
        error_description: Some(description.to_owned()),
        state: request.object.state.clone(),
    };
    let mut form = vec![("error".to_owned(), e.error)];
    form.extend(
        e.error_description
            .map(|d| ("error_description".to_owned(), d)),
    );
    form.extend(e.state.map(|s| ("state".to_owned(), s)));
    form
}

/// The error code posted when the citizen declines or holds nothing that
/// answers.
pub const ACCESS_DENIED: &str = error_code::ACCESS_DENIED;
/// The error code posted for transaction data the wallet cannot honour.
pub const INVALID_TRANSACTION_DATA: &str = error_code::INVALID_TRANSACTION_DATA;

/// A compact JWE of `payload` to `jwk` (ECDH-ES on P-256), `enc` as
/// chosen, the key's `kid` copied.
pub fn encrypt(jwk: &Map<String, Value>, enc: &str, payload: &[u8]) -> Result<String, AnswerError> {
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
    josekit::jwe::serialize_compact(payload, &header, &encrypter).map_err(fail)
}
