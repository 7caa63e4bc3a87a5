//! The verifier's check of a VP token (§8.6): every presentation through
//! `tongban-verifier` with the request's client identifier as `aud` and its
//! nonce, each against its credential query (type, claims, holder
//! binding), the answer's shape against the whole DCQL query, and the
//! transaction data hashes against the request's transaction data.
//!
//! One failure rejects the whole token: a receiving agency acts on a
//! complete, verified answer or on none.

use serde_json::Map;
use tongban_verifier::{ErrorCode, HolderBinding, KeyResolver, Policy, Report, verify};

use super::dcql::{AnswerMismatch, DcqlQuery, DisclosureMismatch};
use super::request::{TRANSACTION_DATA_HASH_ALG, TransactionData, transaction_data_hash};
use super::response::VpToken;

/// The most presentations one VP token may carry.
pub const MAX_PRESENTATIONS: usize = 16;

/// What the request fixed, and the answer must match.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The full client identifier (the KB-JWT's `aud`, §B.3.6).
    pub client_id: &'a str,
    /// The request's nonce.
    pub nonce: &'a str,
    /// The request's transaction data strings, as sent.
    pub transaction_data: &'a [String],
}

/// One verified presentation.
#[derive(Debug, Clone)]
pub struct VerifiedPresentation {
    /// The credential query it answers.
    pub query_id: String,
    /// The verifier library's report (accepted).
    pub report: Report,
}

/// Why a VP token is rejected. [`VpTokenRejection::code`] is stable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VpTokenRejection {
    /// More presentations than [`MAX_PRESENTATIONS`].
    #[error("the answer carries {0} presentations; at most {MAX_PRESENTATIONS} are accepted")]
    TooLarge(usize),
    /// The answer's shape does not fit the DCQL query.
    #[error(transparent)]
    Answer(#[from] AnswerMismatch),
    /// A presentation failed verification.
    #[error("the presentation for {query_id:?} is rejected: {code}: {detail}")]
    Presentation {
        /// The credential query.
        query_id: String,
        /// The verifier library's code.
        code: ErrorCode,
        /// The library's detail.
        detail: String,
    },
    /// A verified presentation does not fit its credential query.
    #[error("the presentation for {query_id:?} does not fit the request: {mismatch}")]
    Disclosure {
        /// The credential query.
        query_id: String,
        /// How it does not fit.
        mismatch: DisclosureMismatch,
    },
    /// The holder did not sign exactly the request's transaction data.
    #[error("transaction data: {0}")]
    TransactionData(String),
}

impl VpTokenRejection {
    /// The stable code (`specs/verifier-service.md`).
    pub fn code(&self) -> &'static str {
        match self {
            VpTokenRejection::TooLarge(_) => "vp_token_too_large",
            VpTokenRejection::Answer(AnswerMismatch::UnknownQuery(_)) => "vp_token_unknown_query",
            VpTokenRejection::Answer(AnswerMismatch::Empty(_)) => "vp_token_empty_entry",
            VpTokenRejection::Answer(AnswerMismatch::TooMany(_)) => "vp_token_too_many",
            VpTokenRejection::Answer(AnswerMismatch::Missing(_)) => "vp_token_missing_credential",
            VpTokenRejection::Presentation { .. } => "presentation_rejected",
            VpTokenRejection::Disclosure { mismatch, .. } => match mismatch {
                DisclosureMismatch::WrongType { .. } => "dcql_wrong_type",
                DisclosureMismatch::ClaimMissing(_) => "dcql_claim_missing",
                DisclosureMismatch::HolderBindingMissing => "dcql_holder_binding_missing",
            },
            VpTokenRejection::TransactionData(_) => "transaction_data_mismatch",
        }
    }

    /// The verifier library's code, for a presentation it rejected.
    pub fn presentation_code(&self) -> Option<ErrorCode> {
        match self {
            VpTokenRejection::Presentation { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A sentence for the back office, in English.
    pub fn message_en(&self) -> &'static str {
        match self.code() {
            "vp_token_too_large" => "The answer carries more presentations than any request needs.",
            "vp_token_unknown_query" => {
                "The answer contains a credential the request did not ask for."
            }
            "vp_token_empty_entry" => {
                "The answer names a requested credential but carries no presentation of it."
            }
            "vp_token_too_many" => {
                "The answer carries several credentials where one was asked for."
            }
            "vp_token_missing_credential" => "The answer lacks a credential the request requires.",
            "presentation_rejected" => {
                "A presented credential failed verification; see the verifier's code."
            }
            "dcql_wrong_type" => "A presented credential is not of the requested licence type.",
            "dcql_claim_missing" => {
                "A presented credential does not disclose a field the request requires."
            }
            "dcql_holder_binding_missing" => {
                "A presented credential was not signed by its holder, and the request requires it."
            }
            _ => {
                "The holder's signature does not cover exactly the transaction the citizen was asked to authorize."
            }
        }
    }

    /// A sentence for the back office, in Chinese.
    pub fn message_zh(&self) -> &'static str {
        match self.code() {
            "vp_token_too_large" => "应答所含凭证数量超出任何请求所需。",
            "vp_token_unknown_query" => "应答包含请求未要求的证照。",
            "vp_token_empty_entry" => "应答列出了所请求的证照，但未附任何出示内容。",
            "vp_token_too_many" => "请求只要一份证照，应答却提供了多份。",
            "vp_token_missing_credential" => "应答缺少请求所必需的证照。",
            "presentation_rejected" => "所出示的证照未通过核验，详见核验错误码。",
            "dcql_wrong_type" => "所出示的证照不是请求的证照类型。",
            "dcql_claim_missing" => "所出示的证照未披露请求所必需的字段。",
            "dcql_holder_binding_missing" => "所出示的证照未经持有人签名，而请求要求签名。",
            _ => "持有人签名未准确覆盖请其授权的事务内容。",
        }
    }
}

/// Verifies a VP token against the request that asked for it.
///
/// `policy` supplies the time, skew, limits and stale policy; its holder
/// binding is replaced per presentation: required (with the client
/// identifier and nonce) where the credential query requires it or the
/// presentation carries a KB-JWT anyway, so that a KB-JWT made for another
/// verifier or transaction is never accepted.
pub fn verify_vp_token(
    query: &DcqlQuery,
    vp_token: &VpToken,
    expect: &Expectations<'_>,
    policy: &Policy,
    resolver: &dyn KeyResolver,
) -> Result<Vec<VerifiedPresentation>, VpTokenRejection> {
    let total: usize = vp_token.values().map(Vec::len).sum();
    if total > MAX_PRESENTATIONS {
        return Err(VpTokenRejection::TooLarge(total));
    }
    query.check_answer(vp_token.iter().map(|(id, p)| (id.as_str(), p.len())))?;
    let mut verified = Vec::with_capacity(total);
    for (query_id, presentations) in vp_token {
        let Some(cq) = query.query(query_id) else {
            return Err(AnswerMismatch::UnknownQuery(query_id.clone()).into());
        };
        for presentation in presentations {
            let bound = cq.require_holder_binding || !presentation.ends_with('~');
            let policy = Policy {
                holder_binding: if bound {
                    HolderBinding::Required {
                        audience: expect.client_id.to_owned(),
                        nonce: expect.nonce.to_owned(),
                    }
                } else {
                    HolderBinding::NotRequired
                },
                ..policy.clone()
            };
            let report = verify(presentation, &policy, resolver);
            if let Some(rejection) = &report.rejection {
                return Err(VpTokenRejection::Presentation {
                    query_id: query_id.clone(),
                    code: rejection.code,
                    detail: rejection.detail.clone(),
                });
            }
            let empty = Map::new();
            let disclosed = report.claims.as_ref().unwrap_or(&empty);
            let vct = report.credential.vct.as_deref().unwrap_or_default();
            cq.check_disclosed(vct, disclosed, report.credential.key_binding)
                .map_err(|mismatch| VpTokenRejection::Disclosure {
                    query_id: query_id.clone(),
                    mismatch,
                })?;
            verified.push(VerifiedPresentation {
                query_id: query_id.clone(),
                report,
            });
        }
    }
    check_transaction_data(query, expect.transaction_data, &verified)?;
    Ok(verified)
}

/// Every transaction data string is hashed (sha-256) in the KB-JWT of a
/// presentation answering one of its `credential_ids`, and no KB-JWT
/// carries a hash the request did not send for its credential.
fn check_transaction_data(
    query: &DcqlQuery,
    sent: &[String],
    verified: &[VerifiedPresentation],
) -> Result<(), VpTokenRejection> {
    let mismatch = |s: String| Err(VpTokenRejection::TransactionData(s));
    let mut expected = Vec::with_capacity(sent.len());
    for (index, encoded) in sent.iter().enumerate() {
        let data = TransactionData::decode(index, encoded, query)
            .map_err(|e| VpTokenRejection::TransactionData(e.to_string()))?;
        expected.push((transaction_data_hash(encoded), data.credential_ids, false));
    }
    for p in verified {
        let info = &p.report.credential;
        if let Some(alg) = &info.transaction_data_hashes_alg
            && alg != TRANSACTION_DATA_HASH_ALG
        {
            return mismatch(format!("hash algorithm {alg:?} is not sha-256"));
        }
        for hash in info.transaction_data_hashes.iter().flatten() {
            let Some(entry) = expected
                .iter_mut()
                .find(|(h, ids, _)| h == hash && ids.contains(&p.query_id))
            else {
                return mismatch(format!(
                    "the presentation for {:?} signs transaction data the request did not send for it",
                    p.query_id
                ));
            };
            entry.2 = true;
        }
    }
    match expected.iter().position(|(_, _, covered)| !covered) {
        Some(index) => mismatch(format!(
            "transaction data {index} is not signed by the holder"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::oid4vp::path::ClaimPath;
    use crate::oid4vp::request::{TRANSACTION_DATA_TYPE_APPLICATION, TransactionData};
    use rand::SeedableRng;
    use serde_json::json;
    use tongban_verifier::{
        CredentialBuilder, Ed25519Signer, HeldCredential, InMemoryKeys, KeyBinding, KeyWithId,
        Signer,
    };

    const ISS: &str = "https://wujiang-amr.example";
    const BL: &str = "urn:tongban:business-licence:1";
    const NOW: i64 = 1_800_000_000;
    const CLIENT: &str = "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk";
    const NONCE: &str = "n-0S6_WzA2Mj";

    struct Fixture {
        credential: String,
        holder: Ed25519Signer,
        keys: InMemoryKeys,
    }

    fn fixture(vct: &str) -> Fixture {
        let issuer = Ed25519Signer::from_seed(&[7; 32], Some("k1".into()));
        let holder = Ed25519Signer::from_seed(&[8; 32], None);
        let claims = json!({"company_name": "苏州吴江示例有限公司", "legal_representative": "李明",
            "address": "苏州市吴江区"});
        let issued = CredentialBuilder::new(ISS, vct, NOW - 100)
            .expires_at(NOW + 100_000)
            .holder_key(holder.public_key())
            .claims(claims.as_object().unwrap().clone())
            .issue(&issuer, &mut rand::rngs::StdRng::seed_from_u64(1))
            .unwrap();
        let mut keys = InMemoryKeys::new();
        keys.add_issuer_key(
            ISS,
            KeyWithId {
                key: issuer.public_key(),
                kid: Some("k1".into()),
            },
        );
        Fixture {
            credential: issued.sd_jwt,
            holder,
            keys,
        }
    }

    impl Fixture {
        fn present(&self, claims: &[&str], aud: &str, nonce: &str, td: &[String]) -> String {
            let held = HeldCredential::parse(&self.credential).unwrap();
            let paths: Vec<_> = claims
                .iter()
                .map(|c| tongban_verifier::ClaimPath::parse(c).unwrap())
                .collect();
            let kb = KeyBinding {
                signer: &self.holder,
                audience: aud.into(),
                nonce: nonce.into(),
                iat: NOW,
                transaction_data_hashes: td.iter().map(|t| transaction_data_hash(t)).collect(),
            };
            held.present(&paths, Some(&kb)).unwrap()
        }
    }

    fn query() -> DcqlQuery {
        DcqlQuery::single(
            "licence",
            BL,
            vec![
                ClaimPath::keys(["company_name"]).unwrap(),
                ClaimPath::keys(["legal_representative"]).unwrap(),
            ],
            true,
        )
    }

    fn policy() -> Policy {
        let mut p = Policy::counter(NOW, "", "");
        p.check_schema = false;
        p
    }

    fn token(p: String) -> VpToken {
        VpToken::from([("licence".to_string(), vec![p])])
    }

    fn run(
        q: &DcqlQuery,
        vp: &VpToken,
        td: &[String],
        keys: &InMemoryKeys,
    ) -> Result<Vec<VerifiedPresentation>, VpTokenRejection> {
        let expect = Expectations {
            client_id: CLIENT,
            nonce: NONCE,
            transaction_data: td,
        };
        verify_vp_token(q, vp, &expect, &policy(), keys)
    }

    #[test]
    fn an_answer_that_fits_the_request_is_verified() {
        let f = fixture(BL);
        let p = f.present(
            &["company_name", "legal_representative"],
            CLIENT,
            NONCE,
            &[],
        );
        let verified = run(&query(), &token(p), &[], &f.keys).unwrap();
        assert_eq!(verified.len(), 1);
        assert_eq!(verified[0].query_id, "licence");
        let claims = verified[0].report.claims.as_ref().unwrap();
        assert_eq!(claims["legal_representative"], "李明");
    }

    #[test]
    fn a_presentation_for_another_verifier_or_transaction_is_rejected() {
        let f = fixture(BL);
        let claims = ["company_name", "legal_representative"];
        for (aud, nonce, code) in [
            ("x509_hash:other", NONCE, ErrorCode::KbAudMismatch),
            (CLIENT, "another-nonce", ErrorCode::KbNonceMismatch),
        ] {
            let p = f.present(&claims, aud, nonce, &[]);
            let e = run(&query(), &token(p), &[], &f.keys).unwrap_err();
            assert_eq!(e.code(), "presentation_rejected");
            assert_eq!(e.presentation_code(), Some(code));
        }
        // Even where the query does not require holder binding, a KB-JWT
        // that is there must be for this verifier.
        let mut unbound = query();
        unbound.credentials[0].require_holder_binding = false;
        let p = f.present(&claims, "x509_hash:other", NONCE, &[]);
        let e = run(&unbound, &token(p), &[], &f.keys).unwrap_err();
        assert_eq!(e.code(), "presentation_rejected");
    }

    #[test]
    fn a_missing_claim_a_wrong_type_and_a_wrong_shape_have_their_own_codes() {
        let f = fixture(BL);
        let p = f.present(&["company_name"], CLIENT, NONCE, &[]);
        let e = run(&query(), &token(p.clone()), &[], &f.keys).unwrap_err();
        assert_eq!(e.code(), "dcql_claim_missing");

        let other = fixture("urn:tongban:food-licence:1");
        let p2 = other.present(
            &["company_name", "legal_representative"],
            CLIENT,
            NONCE,
            &[],
        );
        let e = run(&query(), &token(p2), &[], &other.keys).unwrap_err();
        assert_eq!(e.code(), "dcql_wrong_type");

        let full = f.present(
            &["company_name", "legal_representative"],
            CLIENT,
            NONCE,
            &[],
        );
        let two = VpToken::from([("licence".to_string(), vec![full.clone(), full.clone()])]);
        assert_eq!(
            run(&query(), &two, &[], &f.keys).unwrap_err().code(),
            "vp_token_too_many"
        );
        let unknown = VpToken::from([
            ("licence".to_string(), vec![full.clone()]),
            ("extra".to_string(), vec![full.clone()]),
        ]);
        assert_eq!(
            run(&query(), &unknown, &[], &f.keys).unwrap_err().code(),
            "vp_token_unknown_query"
        );
        assert_eq!(
            run(&query(), &VpToken::new(), &[], &f.keys)
                .unwrap_err()
                .code(),
            "vp_token_missing_credential"
        );
        let many = VpToken::from([("licence".to_string(), vec![full; MAX_PRESENTATIONS + 1])]);
        assert_eq!(
            run(&query(), &many, &[], &f.keys).unwrap_err().code(),
            "vp_token_too_large"
        );
    }

    #[test]
    fn no_key_binding_where_it_is_required_is_rejected() {
        let f = fixture(BL);
        let held = HeldCredential::parse(&f.credential).unwrap();
        let paths: Vec<_> = ["company_name", "legal_representative"]
            .iter()
            .map(|c| tongban_verifier::ClaimPath::parse(c).unwrap())
            .collect();
        let bare = held.present(&paths, None).unwrap();
        let e = run(&query(), &token(bare.clone()), &[], &f.keys).unwrap_err();
        assert_eq!(e.presentation_code(), Some(ErrorCode::KbMissing));
        let mut unbound = query();
        unbound.credentials[0].require_holder_binding = false;
        assert!(run(&unbound, &token(bare), &[], &f.keys).is_ok());
    }

    #[test]
    fn transaction_data_must_be_signed_exactly() {
        let f = fixture(BL);
        let td = TransactionData {
            kind: TRANSACTION_DATA_TYPE_APPLICATION.into(),
            credential_ids: vec!["licence".into()],
            transaction_data_hashes_alg: None,
            application_id: "SH-QP-2026-0001".into(),
            summary_zh: "企业迁入登记".into(),
            summary_en: "Company relocation registration".into(),
        }
        .encode();
        let sent = vec![td.clone()];
        let claims = ["company_name", "legal_representative"];
        let signed = f.present(&claims, CLIENT, NONCE, &sent);
        assert!(run(&query(), &token(signed.clone()), &sent, &f.keys).is_ok());

        let unsigned = f.present(&claims, CLIENT, NONCE, &[]);
        let e = run(&query(), &token(unsigned), &sent, &f.keys).unwrap_err();
        assert_eq!(e.code(), "transaction_data_mismatch");

        let e = run(&query(), &token(signed), &[], &f.keys).unwrap_err();
        assert_eq!(
            e.code(),
            "transaction_data_mismatch",
            "a hash for data never sent"
        );

        let other = vec![format!("{td}A")];
        let wrong = f.present(&claims, CLIENT, NONCE, &other);
        let e = run(&query(), &token(wrong), &sent, &f.keys).unwrap_err();
        assert_eq!(e.code(), "transaction_data_mismatch");
    }
}
