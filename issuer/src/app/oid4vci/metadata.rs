//! The agency's metadata as a credential issuer (§12.2) and as its own
//! authorization server (RFC 8414): served at
//! `/.well-known/openid-credential-issuer/agencies/<id>` and
//! `/.well-known/oauth-authorization-server/agencies/<id>` (path
//! insertion, §12.2.2 and RFC 8414 §3).

use std::collections::BTreeMap;
use tongban_verifier::Signer as _;

use serde_json::Value;
use tongban_protocol::oauth::dpop::DPOP_ALGS;
use tongban_protocol::oauth::{AUTHORIZATION_CODE, OPENID_CREDENTIAL, PKCE_S256};
use tongban_protocol::oid4vci::{
    ATTEST_JWT_CLIENT_AUTH, AuthorizationServerMetadata, BatchCredentialIssuance, ClaimDescription,
    CredentialConfiguration, CredentialIssuerMetadata, CredentialMetadata, Display, ENC_VALUES,
    FORMAT_SD_JWT_VC, Jwks, KEY_AGREEMENT, KeyAttestationsRequired, PRE_AUTH_GRANT,
    PROOF_TYPE_ATTESTATION, PROOF_TYPE_JWT, ProofTypeMetadata, RequestEncryptionMetadata,
    ResponseEncryptionMetadata, proof_signing_algs,
};
use tongban_verifier::catalogue::LicenceType;

use super::super::{AgencyRuntime, Service};
use super::provider_chain::PROVIDER_ALGS;
use crate::attestation_policy::{AgencyAttestation, AttestationPolicy};

/// `zh-CN` and `en-US` display names.
fn names(zh: &str, en: &str) -> Vec<Display> {
    vec![Display::new(zh, "zh-CN"), Display::new(en, "en-US")]
}

fn strings<const N: usize>(values: [&str; N]) -> Vec<String> {
    values.into_iter().map(str::to_owned).collect()
}

/// What the proof check accepts: every algorithm the verifier library
/// verifies (ES256 among them, HAIP 1.0 §7).
fn proof_algs() -> Vec<String> {
    proof_signing_algs()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// `proof_types_supported` under the agency's key attestation rules: the
/// `jwt` type always; with key attestations taken, the `attestation` type
/// too (its algorithms: what a wallet provider signs with); when they are
/// required, `key_attestations_required` on each (§12.2.4), with the
/// accepted levels.
fn proof_types(rules: &AgencyAttestation) -> BTreeMap<String, ProofTypeMetadata> {
    let required = (rules.key_attestation == AttestationPolicy::Required).then(|| {
        serde_json::to_value(KeyAttestationsRequired {
            key_storage: rules.key_storage.clone(),
            user_authentication: rules.user_authentication.clone(),
        })
        .unwrap_or_default()
    });
    let mut types = BTreeMap::from([(
        PROOF_TYPE_JWT.to_owned(),
        ProofTypeMetadata {
            proof_signing_alg_values_supported: proof_algs(),
            key_attestations_required: required.clone(),
        },
    )]);
    if rules.key_attestation != AttestationPolicy::Off {
        types.insert(
            PROOF_TYPE_ATTESTATION.to_owned(),
            ProofTypeMetadata {
                proof_signing_alg_values_supported: strings(PROVIDER_ALGS),
                key_attestations_required: required,
            },
        );
    }
    types
}

/// One licence type as a credential configuration.
fn configuration(
    lt: &LicenceType,
    signing_algs: &[String],
    rules: &AgencyAttestation,
) -> CredentialConfiguration {
    let claims = lt
        .claims
        .iter()
        .map(|c| ClaimDescription {
            path: vec![Value::String(c.name.clone())],
            mandatory: Some(c.mandatory),
            display: Some(names(&c.label_zh, &c.label_en)),
        })
        .collect();
    CredentialConfiguration {
        format: FORMAT_SD_JWT_VC.to_owned(),
        vct: Some(lt.vct.clone()),
        scope: Some(lt.slug.to_owned()),
        cryptographic_binding_methods_supported: Some(strings(["jwk"])),
        credential_signing_alg_values_supported: Some(signing_algs.to_vec()),
        proof_types_supported: Some(proof_types(rules)),
        credential_metadata: Some(CredentialMetadata {
            display: Some(names(&lt.name_zh, &lt.name_en)),
            claims: Some(claims),
        }),
        display: None,
    }
}

impl Service {
    /// The agency's credential issuer metadata (§12.2): its endpoints, its
    /// request encryption key, and one configuration per licence type it
    /// issues.
    pub fn issuer_metadata(&self, rt: &AgencyRuntime) -> CredentialIssuerMetadata {
        let a = &rt.agency;
        // What the agency's current key signs with: its JWS `alg` (EdDSA
        // or Ed25519, ES256, SM2SM3), the one a new credential's header says.
        let signing_algs = vec![rt.keys.signer.algorithm().as_str().to_owned()];
        let rules = self.config.attestation.of(&a.id);
        let configurations = a
            .vcts
            .iter()
            .filter_map(|vct| self.catalogue.by_vct(vct))
            .map(|lt| (lt.slug.to_owned(), configuration(lt, &signing_algs, rules)))
            .collect();
        CredentialIssuerMetadata {
            credential_issuer: a.iss.clone(),
            authorization_servers: None,
            credential_endpoint: format!("{}/credential", a.iss),
            nonce_endpoint: Some(format!("{}/nonce", a.iss)),
            deferred_credential_endpoint: None,
            notification_endpoint: None,
            credential_request_encryption: Some(RequestEncryptionMetadata {
                jwks: Jwks {
                    keys: vec![rt.enc_public.clone()],
                },
                enc_values_supported: strings(ENC_VALUES),
                zip_values_supported: None,
                encryption_required: a.encryption_required,
            }),
            credential_response_encryption: Some(ResponseEncryptionMetadata {
                alg_values_supported: strings([KEY_AGREEMENT]),
                enc_values_supported: strings(ENC_VALUES),
                zip_values_supported: None,
                encryption_required: a.encryption_required,
            }),
            // Present only when a request may carry 2 or more proofs
            // (§12.2.4: batch_size ≥ 2; HAIP 1.0 §4: included or omitted).
            batch_credential_issuance: (self.config.batch_size >= 2).then_some(
                BatchCredentialIssuance {
                    batch_size: self.config.batch_size,
                },
            ),
            display: Some(names(&a.name_zh, &a.name_en)),
            credential_configurations_supported: configurations,
            tongban_trust_list_uri: self.config.trust_list_url.clone(),
        }
    }

    /// The agency's authorization server metadata (RFC 8414): the agency is
    /// its own authorization server, and `issuer` equals the credential
    /// issuer identifier exactly. The authorization code grant is listed
    /// (with its pushed request, authorization endpoint, PKCE `S256`, the
    /// scopes and `iss` in the response) when the agency has a citizen
    /// login; DPoP always.
    pub fn authorization_server_metadata(&self, rt: &AgencyRuntime) -> AuthorizationServerMetadata {
        let iss = &rt.agency.iss;
        let code_flow = self.login.serves(&rt.agency.id);
        let scopes: Vec<String> = rt
            .agency
            .vcts
            .iter()
            .filter_map(|vct| self.catalogue.by_vct(vct))
            .map(|lt| lt.slug.to_owned())
            .collect();
        let grants = if code_flow {
            strings([AUTHORIZATION_CODE, PRE_AUTH_GRANT])
        } else {
            strings([PRE_AUTH_GRANT])
        };
        let wallet = self.config.attestation.of(&rt.agency.id).wallet_attestation;
        let attest = wallet != AttestationPolicy::Off;
        let attest_required = wallet == AttestationPolicy::Required;
        AuthorizationServerMetadata {
            issuer: iss.clone(),
            token_endpoint: Some(format!("{iss}/token")),
            // RFC 8414 §2 makes it REQUIRED; `code` is the only one, used
            // by the authorization code flow when the agency has a login.
            response_types_supported: Some(strings(["code"])),
            grant_types_supported: Some(grants),
            // Wallet attestation (draft -07 §10.1): `attest_jwt_client_auth`
            // listed with the algorithms of both JWTs when the agency takes
            // it; `none` (and anonymous pre-authorized access) unless it
            // requires it. The PAR endpoint authenticates the same way.
            pre_authorized_grant_anonymous_access_supported: Some(!attest_required),
            token_endpoint_auth_methods_supported: Some(match wallet {
                AttestationPolicy::Off => strings(["none"]),
                AttestationPolicy::Accepted => strings(["none", ATTEST_JWT_CLIENT_AUTH]),
                AttestationPolicy::Required => strings([ATTEST_JWT_CLIENT_AUTH]),
            }),
            client_attestation_signing_alg_values_supported: attest.then(|| strings(PROVIDER_ALGS)),
            client_attestation_pop_signing_alg_values_supported: attest.then(proof_algs),
            authorization_endpoint: code_flow.then(|| format!("{iss}/authorize")),
            pushed_authorization_request_endpoint: code_flow.then(|| format!("{iss}/par")),
            require_pushed_authorization_requests: code_flow.then_some(true),
            code_challenge_methods_supported: code_flow.then(|| strings([PKCE_S256])),
            dpop_signing_alg_values_supported: Some(strings(DPOP_ALGS)),
            authorization_response_iss_parameter_supported: code_flow.then_some(true),
            scopes_supported: code_flow.then_some(scopes),
            authorization_details_types_supported: code_flow.then(|| strings([OPENID_CREDENTIAL])),
        }
    }
}
