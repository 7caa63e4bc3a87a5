//! The credential endpoint (§8): request and response.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{PROOF_TYPE_ATTESTATION, PROOF_TYPE_JWT};

/// A credential request (§8.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRequest {
    /// The configuration asked for (one of the offer's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<String>,
    /// A credential identifier from the token response (not used by
    /// Tongban's issuers, which refuse it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_identifier: Option<String>,
    /// The key proofs, by proof type (1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proofs: Option<Proofs>,
    /// The single key proof of draft 15, still accepted by Tongban's
    /// issuers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<DraftProof>,
    /// Where to encrypt the response to (§8.2, §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<ResponseEncryptionRequest>,
}

impl CredentialRequest {
    /// A request for `configuration_id` with one JWT key proof (the 1.0
    /// `proofs` form).
    pub fn with_jwt_proof(
        configuration_id: impl Into<String>,
        jwt: impl Into<String>,
    ) -> CredentialRequest {
        CredentialRequest {
            credential_configuration_id: Some(configuration_id.into()),
            credential_identifier: None,
            proofs: Some(Proofs {
                jwt: Some(vec![jwt.into()]),
                other: Map::new(),
            }),
            proof: None,
            credential_response_encryption: None,
        }
    }

    /// A request for `configuration_id` with several JWT key proofs, one
    /// per key a credential of the batch is to be bound to (§8.2).
    pub fn with_jwt_proofs(
        configuration_id: impl Into<String>,
        jwts: Vec<String>,
    ) -> CredentialRequest {
        CredentialRequest {
            proofs: Some(Proofs {
                jwt: Some(jwts),
                other: Map::new(),
            }),
            ..CredentialRequest::with_jwt_proof(configuration_id, String::new())
        }
    }

    /// The JWT key proofs of a request: the 1.0 `proofs.jwt` list (one to
    /// `batch_size` proofs, a credential each, §8.2 and §12.2.4
    /// `batch_credential_issuance`), or the draft-15 `proof` form's one
    /// (not both). More than `batch_size` is
    /// [`ProofSelectError::OverBatchSize`].
    pub fn jwt_proofs(&self, batch_size: usize) -> Result<Vec<&str>, ProofSelectError> {
        match (&self.proofs, &self.proof) {
            (Some(proofs), None) => {
                if usize::from(proofs.jwt.is_some()) + proofs.other.len() != 1 {
                    return Err(ProofSelectError::NotOneProofType);
                }
                match proofs.jwt.as_deref() {
                    None => Err(ProofSelectError::UnsupportedProofType),
                    Some([]) => Err(ProofSelectError::Empty),
                    Some(list) if list.len() > batch_size => {
                        Err(ProofSelectError::OverBatchSize { max: batch_size })
                    }
                    Some(list) => Ok(list.iter().map(String::as_str).collect()),
                }
            }
            _ => self.single_jwt_proof().map(|one| vec![one]),
        }
    }

    /// A request for `configuration_id` whose key proof is one key
    /// attestation (the `attestation` proof type, Appendix F.3).
    pub fn with_attestation_proof(
        configuration_id: impl Into<String>,
        key_attestation: impl Into<String>,
    ) -> CredentialRequest {
        let mut other = Map::new();
        other.insert(
            PROOF_TYPE_ATTESTATION.into(),
            Value::Array(vec![Value::String(key_attestation.into())]),
        );
        CredentialRequest {
            credential_configuration_id: Some(configuration_id.into()),
            credential_identifier: None,
            proofs: Some(Proofs { jwt: None, other }),
            proof: None,
            credential_response_encryption: None,
        }
    }

    /// The key attestation of a request whose `proofs` use the
    /// `attestation` proof type (Appendix F.3: an array of exactly one
    /// JWT), or `None` when the request uses another proof type (or the
    /// draft-15 `proof`).
    pub fn attestation_proof(&self) -> Option<Result<&str, ProofSelectError>> {
        let proofs = self.proofs.as_ref()?;
        let value = proofs.other.get(PROOF_TYPE_ATTESTATION)?;
        if proofs.jwt.is_some() || proofs.other.len() != 1 || self.proof.is_some() {
            return Some(Err(ProofSelectError::NotOneProofType));
        }
        Some(match value.as_array().map(Vec::as_slice) {
            Some([Value::String(jwt)]) => Ok(jwt.as_str()),
            _ => Err(ProofSelectError::AttestationNotOne),
        })
    }

    /// The one JWT key proof of a request, in the 1.0 `proofs` form or the
    /// draft-15 `proof` form (not both); several proofs are
    /// [`ProofSelectError::Batch`] (see [`Self::jwt_proofs`] for a batch).
    pub fn single_jwt_proof(&self) -> Result<&str, ProofSelectError> {
        match (&self.proofs, &self.proof) {
            (Some(_), Some(_)) => Err(ProofSelectError::Both),
            (None, None) => Err(ProofSelectError::Missing),
            (Some(proofs), None) => {
                if usize::from(proofs.jwt.is_some()) + proofs.other.len() != 1 {
                    return Err(ProofSelectError::NotOneProofType);
                }
                match proofs.jwt.as_deref() {
                    None => Err(ProofSelectError::UnsupportedProofType),
                    Some([one]) => Ok(one),
                    Some([]) => Err(ProofSelectError::Empty),
                    Some(_) => Err(ProofSelectError::Batch),
                }
            }
            (None, Some(proof)) => {
                if proof.proof_type != PROOF_TYPE_JWT {
                    return Err(ProofSelectError::DraftProofTypeNotJwt);
                }
                proof
                    .jwt
                    .as_deref()
                    .ok_or(ProofSelectError::DraftJwtMissing)
            }
        }
    }
}

/// `proofs` (§8.2): lists of proofs by proof type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proofs {
    /// JWT key proofs (Appendix F.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Vec<String>>,
    /// Other proof types (`di_vp`, `attestation`), kept as JSON.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The draft-15 `proof`: `{"proof_type": "jwt", "jwt": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftProof {
    /// The proof type (`jwt`).
    pub proof_type: String,
    /// The JWT, for the `jwt` proof type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
}

/// Why a request's key proof could not be picked. Each maps to the OAuth
/// error code an issuer answers ([`error_code`](Self::error_code)); the
/// messages are the issuer's `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofSelectError {
    /// Both `proofs` and `proof`.
    #[error("send proofs or proof, not both")]
    Both,
    /// Neither.
    #[error("the request has no key proof (proofs.jwt)")]
    Missing,
    /// `proofs` holds no or several proof types.
    #[error("proofs must hold exactly one proof type")]
    NotOneProofType,
    /// `proofs` holds another proof type than `jwt`.
    #[error("only the jwt proof type is supported")]
    UnsupportedProofType,
    /// `proofs.jwt` is empty.
    #[error("proofs.jwt is empty")]
    Empty,
    /// `proofs.jwt` holds several proofs where one was expected.
    #[error("batch issuance is not supported: send one proof")]
    Batch,
    /// `proofs.jwt` holds more proofs than the issuer's `batch_size`
    /// (§12.2.4): `invalid_proof` (§8.3.1.2, the `proofs` parameter is
    /// invalid).
    #[error("proofs.jwt holds more proofs than this issuer's batch_size ({max})")]
    OverBatchSize {
        /// The issuer's `batch_size`.
        max: usize,
    },
    /// The draft-15 `proof.proof_type` is not `jwt`.
    #[error("proof.proof_type must be jwt")]
    DraftProofTypeNotJwt,
    /// The draft-15 `proof.jwt` is missing.
    #[error("proof.jwt is missing")]
    DraftJwtMissing,
    /// `proofs` is not a JSON object (found by an issuer reading the
    /// request's JSON before it is typed; see [`ProofSelectError::of_json`]).
    #[error("proofs must be an object")]
    ProofsNotObject,
    /// `proofs.jwt` is not an array (see [`ProofSelectError::of_json`]).
    #[error("proofs.jwt must be an array")]
    JwtNotArray,
    /// An entry of `proofs.jwt` is not a string (see
    /// [`ProofSelectError::of_json`]).
    #[error("proofs.jwt must hold strings")]
    JwtNotString,
    /// `proofs.attestation` is not an array of exactly one JWT string.
    #[error("proofs.attestation must be an array of exactly one key attestation JWT")]
    AttestationNotOne,
}

impl ProofSelectError {
    /// The OAuth error code: `invalid_credential_request` for a malformed
    /// request, `invalid_proof` for a missing or unusable proof.
    pub fn error_code(self) -> &'static str {
        match self {
            ProofSelectError::Both
            | ProofSelectError::NotOneProofType
            | ProofSelectError::Batch
            | ProofSelectError::ProofsNotObject
            | ProofSelectError::JwtNotArray => "invalid_credential_request",
            _ => "invalid_proof",
        }
    }

    /// The refusal of a request's `proofs`/`proof` members (as JSON) whose
    /// shape a [`CredentialRequest`] cannot hold or would read differently:
    /// `null`s and wrong JSON types, which typed parsing would turn into a
    /// parse error. `None` means the members are well-formed, and
    /// [`CredentialRequest::single_jwt_proof`] on the parsed request gives
    /// the answer. An issuer checks this first so that a malformed proof
    /// member gets the proof's error code, never a generic parse error.
    pub fn of_json(request: &Map<String, Value>) -> Option<ProofSelectError> {
        match (request.get("proofs"), request.get("proof")) {
            (Some(_), Some(_)) => Some(ProofSelectError::Both),
            (None, None) => None,
            (Some(proofs), None) => {
                let Some(proofs) = proofs.as_object() else {
                    return Some(ProofSelectError::ProofsNotObject);
                };
                if proofs.len() != 1 {
                    return Some(ProofSelectError::NotOneProofType);
                }
                match proofs.get(PROOF_TYPE_JWT)? {
                    Value::Array(list) if list.iter().all(Value::is_string) => None,
                    Value::Array(_) => Some(ProofSelectError::JwtNotString),
                    _ => Some(ProofSelectError::JwtNotArray),
                }
            }
            (None, Some(proof)) => {
                if proof.get("proof_type").and_then(Value::as_str) != Some(PROOF_TYPE_JWT) {
                    return Some(ProofSelectError::DraftProofTypeNotJwt);
                }
                match proof.get("jwt") {
                    None | Some(Value::String(_) | Value::Null) => None,
                    Some(_) => Some(ProofSelectError::DraftJwtMissing),
                }
            }
        }
    }
}

/// `credential_response_encryption` of a request (§8.2): the wallet's
/// ephemeral public key and the content encryption to use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseEncryptionRequest {
    /// The public key (with `alg` `ECDH-ES`), as a JSON object.
    pub jwk: Map<String, Value>,
    /// The content encryption algorithm.
    pub enc: String,
    /// Compression, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// A credential response (§8.3): the credentials now, or a
/// `transaction_id` for deferred issuance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialResponse {
    /// The issued credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<IssuedCredential>>,
    /// Deferred issuance: the transaction to ask about later (§9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Deferred issuance: seconds to wait before asking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// An id for the notification endpoint (§11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
}

impl CredentialResponse {
    /// The response carrying one credential.
    pub fn one(credential: impl Into<String>) -> CredentialResponse {
        CredentialResponse::many(vec![credential.into()])
    }

    /// The response carrying a batch: one credential per key proof, in the
    /// proofs' order (§8.3).
    pub fn many(credentials: Vec<String>) -> CredentialResponse {
        CredentialResponse {
            credentials: Some(
                credentials
                    .into_iter()
                    .map(|c| IssuedCredential {
                        credential: Value::String(c),
                    })
                    .collect(),
            ),
            transaction_id: None,
            interval: None,
            notification_id: None,
        }
    }
}

/// One entry of `credentials` (§8.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// The credential: a string for `dc+sd-jwt`, an object for some other
    /// formats.
    pub credential: Value,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn request(v: Value) -> CredentialRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_documented_request_round_trips() {
        // specs/issuer-api.md §5.4.
        let v = json!({
            "credential_configuration_id": "business-licence",
            "proofs": {"jwt": ["<openid4vci-proof+jwt>"]},
            "credential_response_encryption": {"jwk": {"kty": "EC", "crv": "P-256", "x": "…", "y": "…", "alg": "ECDH-ES", "kid": "w1"}, "enc": "A256GCM"},
        });
        let r = request(v.clone());
        assert_eq!(r.single_jwt_proof(), Ok("<openid4vci-proof+jwt>"));
        assert_eq!(
            r.credential_response_encryption.as_ref().unwrap().enc,
            "A256GCM"
        );
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        let built = CredentialRequest {
            credential_response_encryption: r.credential_response_encryption.clone(),
            ..CredentialRequest::with_jwt_proof("business-licence", "<openid4vci-proof+jwt>")
        };
        assert_eq!(built, r);
    }

    #[test]
    fn a_batch_of_proofs_is_taken_up_to_the_batch_size() {
        let r = CredentialRequest::with_jwt_proofs("x", vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"credential_configuration_id": "x", "proofs": {"jwt": ["a", "b", "c"]}})
        );
        assert_eq!(r.jwt_proofs(3), Ok(vec!["a", "b", "c"]));
        let over = r.jwt_proofs(2).unwrap_err();
        assert_eq!(over, ProofSelectError::OverBatchSize { max: 2 });
        assert_eq!(over.error_code(), "invalid_proof");
        assert_eq!(r.single_jwt_proof(), Err(ProofSelectError::Batch));
        let draft = request(json!({"proof": {"proof_type": "jwt", "jwt": "j"}}));
        assert_eq!(draft.jwt_proofs(1), Ok(vec!["j"]));
        for (v, want) in [
            (json!({"proofs": {"jwt": []}}), ProofSelectError::Empty),
            (json!({}), ProofSelectError::Missing),
            (
                json!({"proofs": {"attestation": ["a"]}}),
                ProofSelectError::UnsupportedProofType,
            ),
        ] {
            assert_eq!(request(v.clone()).jwt_proofs(5), Err(want), "{v}");
        }
        let many = CredentialResponse::many(vec!["c1".into(), "c2".into()]);
        assert_eq!(
            serde_json::to_value(&many).unwrap(),
            json!({"credentials": [{"credential": "c1"}, {"credential": "c2"}]})
        );
    }

    #[test]
    fn the_draft_15_proof_is_accepted() {
        let r = request(json!({
            "credential_configuration_id": "x",
            "proof": {"proof_type": "jwt", "jwt": "j"},
        }));
        assert_eq!(r.single_jwt_proof(), Ok("j"));
    }

    #[test]
    fn every_unusable_proof_selection_has_its_code() {
        let cases = [
            (
                json!({"proofs": {"jwt": ["a"]}, "proof": {"proof_type": "jwt", "jwt": "a"}}),
                ProofSelectError::Both,
                "invalid_credential_request",
            ),
            (json!({}), ProofSelectError::Missing, "invalid_proof"),
            (
                json!({"proofs": {"jwt": ["a"], "di_vp": []}}),
                ProofSelectError::NotOneProofType,
                "invalid_credential_request",
            ),
            (
                json!({"proofs": {}}),
                ProofSelectError::NotOneProofType,
                "invalid_credential_request",
            ),
            (
                json!({"proofs": {"attestation": ["a"]}}),
                ProofSelectError::UnsupportedProofType,
                "invalid_proof",
            ),
            (
                json!({"proofs": {"jwt": []}}),
                ProofSelectError::Empty,
                "invalid_proof",
            ),
            (
                json!({"proofs": {"jwt": ["a", "b"]}}),
                ProofSelectError::Batch,
                "invalid_credential_request",
            ),
            (
                json!({"proof": {"proof_type": "cwt", "jwt": "a"}}),
                ProofSelectError::DraftProofTypeNotJwt,
                "invalid_proof",
            ),
            (
                json!({"proof": {"proof_type": "jwt"}}),
                ProofSelectError::DraftJwtMissing,
                "invalid_proof",
            ),
        ];
        for (v, want, code) in cases {
            let got = request(v.clone()).single_jwt_proof().unwrap_err();
            assert_eq!(got, want, "{v}");
            assert_eq!(got.error_code(), code, "{v}");
        }
    }

    #[test]
    fn malformed_proof_members_are_refused_before_typing() {
        let cases = [
            (
                json!({"proofs": "x", "proof": null}),
                Some(ProofSelectError::Both),
            ),
            (
                json!({"proofs": null}),
                Some(ProofSelectError::ProofsNotObject),
            ),
            (
                json!({"proofs": {"jwt": null, "x": 1}}),
                Some(ProofSelectError::NotOneProofType),
            ),
            (
                json!({"proofs": {"jwt": "a"}}),
                Some(ProofSelectError::JwtNotArray),
            ),
            (
                json!({"proofs": {"jwt": null}}),
                Some(ProofSelectError::JwtNotArray),
            ),
            (
                json!({"proofs": {"jwt": [5]}}),
                Some(ProofSelectError::JwtNotString),
            ),
            (
                json!({"proofs": {"jwt": ["a", 5]}}),
                Some(ProofSelectError::JwtNotString),
            ),
            (
                json!({"proof": null}),
                Some(ProofSelectError::DraftProofTypeNotJwt),
            ),
            (
                json!({"proof": {"jwt": "a"}}),
                Some(ProofSelectError::DraftProofTypeNotJwt),
            ),
            (
                json!({"proof": {"proof_type": "jwt", "jwt": 5}}),
                Some(ProofSelectError::DraftJwtMissing),
            ),
            (json!({"proofs": {"jwt": ["a"]}}), None),
            (json!({"proofs": {"jwt": []}}), None),
            (json!({"proofs": {"attestation": 5}}), None),
            (json!({"proof": {"proof_type": "jwt", "jwt": null}}), None),
            (json!({}), None),
        ];
        for (v, want) in cases {
            let got = ProofSelectError::of_json(v.as_object().unwrap());
            assert_eq!(got, want, "{v}");
            if got.is_none() {
                // Well-formed: the typed request parses and selects.
                assert!(
                    serde_json::from_value::<CredentialRequest>(v.clone()).is_ok(),
                    "{v}"
                );
            }
        }
        assert_eq!(
            ProofSelectError::ProofsNotObject.error_code(),
            "invalid_credential_request"
        );
        assert_eq!(
            ProofSelectError::JwtNotArray.error_code(),
            "invalid_credential_request"
        );
        assert_eq!(ProofSelectError::JwtNotString.error_code(), "invalid_proof");
    }

    #[test]
    fn the_issuers_credential_response_round_trips() {
        let v = json!({"credentials": [{"credential": "eyJ…~WyJ…~"}]});
        let r: CredentialResponse = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r, CredentialResponse::one("eyJ…~WyJ…~"));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        let deferred: CredentialResponse =
            serde_json::from_value(json!({"transaction_id": "t-1", "interval": 5})).unwrap();
        assert_eq!(deferred.transaction_id.as_deref(), Some("t-1"));
        assert!(deferred.credentials.is_none());
    }
}
