//! The credential endpoint (§8): the access token's offer, the request
//! (decrypted when it is a JWE), its checks in the order
//! `specs/issuer-api.md` §5.4 gives, the key proof, and the credential
//! bound to the proof's key — plain, or encrypted to the wallet.

use serde_json::{Map, Value};
use tongban_protocol::oid4vci::{
    CredentialRequest, CredentialResponse, ExpectedNonce, IatWindow, ProofError, ProofSelectError,
    check_proof,
};
use tongban_verifier::PublicKey;

use super::super::{AgencyRuntime, KeyStorage, OfferRecord, Service, ServiceError, internal};
use super::dpop::DpopAt;
use super::encryption::{ResponseEncryption, decrypt_request};
use super::{Oid4vciError, refused};
use crate::store::OfferGrant;

/// A credential request's body as it arrived.
#[derive(Debug, Clone, Copy)]
pub enum CredentialBody<'a> {
    /// `application/json`: the request itself.
    Json(&'a [u8]),
    /// `application/jwt`: a compact JWE of the request to the agency's
    /// encryption key.
    Encrypted(&'a [u8]),
}

/// The answer to a credential request.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialReply {
    /// The credential response, as JSON.
    Plain(CredentialResponse),
    /// The credential response as a compact JWE to the wallet's key
    /// (`application/jwt`).
    Encrypted(String),
}

const INVALID_REQUEST: &str = "invalid_credential_request";

/// An access token as a request presents it (its `Debug` hides it).
#[derive(Clone, Copy)]
pub struct AccessToken<'a> {
    /// The token.
    pub token: &'a str,
    /// Presented with the `DPoP` scheme (else `Bearer`).
    pub dpop: bool,
}

impl std::fmt::Debug for AccessToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("dpop", &self.dpop)
            .finish_non_exhaustive()
    }
}

fn proof_refused(e: &ProofError) -> Oid4vciError {
    refused(e.error_code(), e.to_string())
}

fn selection_refused(e: ProofSelectError) -> Oid4vciError {
    refused(e.error_code(), e.to_string())
}

impl Service {
    /// The offer a credential request's access token (`None` when the
    /// request has none) was issued for: unexpired, unused, of this agency;
    /// and, for a DPoP-bound token, presented with the `DPoP` scheme and a
    /// proof by its key over this request (`ath`, `htu`, `htm`, a live
    /// nonce, a fresh `jti`).
    pub async fn credential_offer(
        &self,
        rt: &AgencyRuntime,
        token: Option<AccessToken<'_>>,
        dpop_proof: Option<&str>,
    ) -> Result<OfferRecord, Oid4vciError> {
        let agency_id = rt.agency.id.as_str();
        let token = token.ok_or_else(|| {
            Oid4vciError::InvalidToken("no access token (Authorization: Bearer or DPoP)".into())
        })?;
        let offer = self
            .offer_for_access_token(agency_id, token.token)
            .await?
            .ok_or_else(|| {
                Oid4vciError::InvalidToken(
                    "the access token is unknown, expired or already used".into(),
                )
            })?;
        match (&offer.dpop_jkt, token.dpop) {
            (Some(bound), true) => {
                let at = DpopAt::Resource {
                    access_token: token.token,
                };
                let proven = self.check_dpop_proof(
                    agency_id,
                    &format!("{}/credential", rt.agency.iss),
                    dpop_proof,
                    at,
                )?;
                match proven {
                    Some(k) if k == *bound => Ok(offer),
                    Some(_) => Err(self.dpop_wrong_key(agency_id, at)),
                    None => Err(self.dpop_missing(agency_id, at)),
                }
            }
            (Some(_), false) => Err(Oid4vciError::InvalidToken(
                "this access token is bound to a DPoP key: send it as Authorization: DPoP with a DPoP proof".into(),
            )),
            (None, true) => Err(Oid4vciError::InvalidToken(
                "this access token is not DPoP-bound: send it as Authorization: Bearer".into(),
            )),
            (None, false) => Ok(offer),
        }
    }

    /// A credential request (§8.2) for `offer` (from
    /// [`credential_offer`](Self::credential_offer)): checked, and answered
    /// with the credential bound to the key proof's key.
    pub async fn credential_request(
        &self,
        rt: &AgencyRuntime,
        offer: &OfferRecord,
        body: CredentialBody<'_>,
    ) -> Result<CredentialReply, Oid4vciError> {
        let (payload, encrypted_request) = match body {
            CredentialBody::Json(b) => (b.to_vec(), false),
            CredentialBody::Encrypted(b) => (decrypt_request(rt, b)?, true),
        };
        // The JSON object first: each member's refusal has its own code,
        // which a typed parse of the whole request would lose.
        let raw: Map<String, Value> = serde_json::from_slice(&payload).map_err(|e| {
            refused(
                INVALID_REQUEST,
                format!("the request is not a JSON object: {e}"),
            )
        })?;

        // Which credential.
        let lt = self.catalogue.by_vct(&offer.vct).ok_or_else(|| {
            refused(
                "credential_request_denied",
                "the offered type left the catalogue",
            )
        })?;
        // A credential identifier is handed out (in the token response's
        // authorization_details) for authorization code grants only: the
        // offer's id.
        match raw.get("credential_identifier") {
            None => {}
            Some(_) if raw.contains_key("credential_configuration_id") => {
                return Err(refused(
                    INVALID_REQUEST,
                    "send credential_identifier or credential_configuration_id, not both",
                ));
            }
            Some(Value::String(id))
                if offer.grant != OfferGrant::PreAuthorized && *id == offer.id =>
            {
                return self
                    .finish_credential_request(rt, offer, raw, encrypted_request)
                    .await;
            }
            Some(_) => {
                return Err(refused(
                    "unknown_credential_identifier",
                    "this is not the credential identifier of the token response; use it, or credential_configuration_id",
                ));
            }
        }
        match raw.get("credential_configuration_id") {
            Some(Value::String(id)) if id == lt.slug => {}
            Some(Value::String(id)) => {
                return Err(refused(
                    "unknown_credential_configuration",
                    format!(
                        "{id:?} is not the configuration of this offer ({})",
                        lt.slug
                    ),
                ));
            }
            Some(_) => {
                return Err(refused(
                    INVALID_REQUEST,
                    "credential_configuration_id must be a string",
                ));
            }
            None => {
                return Err(refused(
                    INVALID_REQUEST,
                    "credential_configuration_id is missing",
                ));
            }
        }

        self.finish_credential_request(rt, offer, raw, encrypted_request)
            .await
    }

    /// The rest of a credential request once the credential is
    /// identified: response encryption, the key proof, the credential.
    async fn finish_credential_request(
        &self,
        rt: &AgencyRuntime,
        offer: &OfferRecord,
        raw: Map<String, Value>,
        encrypted_request: bool,
    ) -> Result<CredentialReply, Oid4vciError> {
        // Response encryption (§8.2, §10).
        let response_enc = match raw.get("credential_response_encryption") {
            None if rt.agency.encryption_required => {
                return Err(refused(
                    "invalid_encryption_parameters",
                    "this agency requires an encrypted credential response (credential_response_encryption)",
                ));
            }
            None => None,
            Some(_) if !encrypted_request => {
                return Err(refused(
                    "invalid_encryption_parameters",
                    "a request asking for an encrypted response must itself be encrypted (OpenID4VCI 1.0 §8.2)",
                ));
            }
            Some(v) => Some(ResponseEncryption::parse(v)?),
        };

        // The key proof: every member checked above, the request is typed.
        if let Some(e) = ProofSelectError::of_json(&raw) {
            return Err(selection_refused(e));
        }
        let request: CredentialRequest = serde_json::from_value(Value::Object(raw))
            .map_err(|e| refused(INVALID_REQUEST, e.to_string()))?;
        let holders = match request.attestation_proof() {
            Some(attestation) => {
                let (keys, storage) = self
                    .attestation_proof(
                        rt,
                        attestation.map_err(selection_refused)?,
                        self.config.batch_size,
                    )
                    .await?;
                keys.into_iter()
                    .map(|key| (key, Some(storage.clone())))
                    .collect()
            }
            None => {
                let jwts = request
                    .jwt_proofs(self.config.batch_size)
                    .map_err(selection_refused)?;
                self.check_key_proofs(rt, &jwts).await?
            }
        };

        let credentials = self
            .redeem_offer(rt, offer, &holders)
            .await
            .map_err(|e| match e {
                ServiceError::LicenceIdTaken(_) | ServiceError::ValidityInvalid(_) => refused(
                    "credential_request_denied",
                    format!("{e}; ask the issuing agency to check the licence id"),
                ),
                ServiceError::InvalidTransition(_) => {
                    Oid4vciError::InvalidToken("the access token was already used".into())
                }
                e => Oid4vciError::Service(e),
            })?;
        let response = CredentialResponse::many(credentials);
        Ok(match response_enc {
            None => CredentialReply::Plain(response),
            Some(enc) => {
                let json = serde_json::to_vec(&response).map_err(internal)?;
                CredentialReply::Encrypted(enc.encrypt(&json)?)
            }
        })
    }

    /// Checks the key proofs (Appendix F.4) of a request — one, or a
    /// batch's — for the agency: its issuer identifier as every `aud`,
    /// `iat` within `proof_max_age_secs`, and one nonce, the same in every
    /// proof (§8.2: the batch is one request for one `c_nonce`), which must
    /// be a live `c_nonce` of the agency and is consumed once every proof
    /// passed. Each proof must be for its own key: a batch's credentials
    /// are bound to distinct keys, or they would be linkable. The key
    /// attestation in each proof's header is checked as the agency's policy
    /// says ([`super::key_attestation`]): when required, every proof of a
    /// batch carries one covering its own key. Returns the keys, in the
    /// proofs' order, each with what its key attestation states.
    async fn check_key_proofs(
        &self,
        rt: &AgencyRuntime,
        jwts: &[&str],
    ) -> Result<Vec<(PublicKey, Option<KeyStorage>)>, Oid4vciError> {
        let mut keys: Vec<(PublicKey, Option<KeyStorage>)> = Vec::with_capacity(jwts.len());
        let mut nonce: Option<String> = None;
        for jwt in jwts {
            let proof = check_proof(
                jwt,
                &rt.agency.iss,
                ExpectedNonce::Present,
                self.now(),
                IatWindow::with_max_age(self.config.proof_max_age_secs),
            )
            .map_err(|e| proof_refused(&e))?;
            let key_storage = self.proof_key_attestation(rt, &proof)?;
            let this = proof
                .nonce
                .ok_or_else(|| proof_refused(&ProofError::NonceMissing))?;
            match &nonce {
                None => nonce = Some(this),
                Some(first) if *first == this => {}
                Some(_) => {
                    return Err(refused(
                        "invalid_proof",
                        "every key proof of a batch must carry the same c_nonce (OpenID4VCI 1.0 §8.2); sign them all with one nonce from the nonce endpoint",
                    ));
                }
            }
            if keys.iter().any(|(k, _)| *k == proof.key) {
                return Err(refused(
                    "invalid_proof",
                    "two key proofs of the batch are for the same key; each credential of a batch is bound to its own key",
                ));
            }
            keys.push((proof.key, key_storage));
        }
        let nonce = nonce.ok_or_else(|| proof_refused(&ProofError::NonceMissing))?;
        if !self.consume_nonce(&rt.agency.id, &nonce).await? {
            return Err(proof_refused(&ProofError::NonceInvalid));
        }
        Ok(keys)
    }
}
