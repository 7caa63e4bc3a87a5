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
    AuthorizationServerMetadata, ClaimDescription, CredentialConfiguration,
    CredentialIssuerMetadata, CredentialMetadata, Display, ENC_VALUES, FORMAT_SD_JWT_VC, Jwks,
    KEY_AGREEMENT, PRE_AUTH_GRANT, PROOF_ALGS, PROOF_TYPE_JWT, ProofTypeMetadata,
    RequestEncryptionMetadata, ResponseEncryptionMetadata,
};
use tongban_verifier::catalogue::LicenceType;

use super::super::{AgencyRuntime, Service};

/// `zh-CN` and `en-US` display names.
fn names(zh: &str, en: &str) -> Vec<Display> {
    vec![Display::new(zh, "zh-CN"), Display::new(en, "en-US")]
}

fn strings<const N: usize>(values: [&str; N]) -> Vec<String> {
    values.into_iter().map(str::to_owned).collect()
}

/// One licence type as a credential configuration.
fn configuration(lt: &LicenceType, signing_algs: &[String]) -> CredentialConfiguration {
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
        proof_types_supported: Some(BTreeMap::from([(
            PROOF_TYPE_JWT.to_owned(),
            ProofTypeMetadata {
                proof_signing_alg_values_supported: strings(PROOF_ALGS),
                key_attestations_required: None,
            },
        )])),
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
        // What the agency's current key signs with (EdDSA, or SM2SM3).
        let signing_algs = vec![rt.keys.signer.algorithm().as_str().to_owned()];
        let configurations = a
            .vcts
            .iter()
            .filter_map(|vct| self.catalogue.by_vct(vct))
            .map(|lt| (lt.slug.to_owned(), configuration(lt, &signing_algs)))
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
            display: Some(names(&a.name_zh, &a.name_en)),
            credential_configurations_supported: configurations,
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
        AuthorizationServerMetadata {
            issuer: iss.clone(),
            token_endpoint: Some(format!("{iss}/token")),
            // RFC 8414 §2 makes it REQUIRED; `code` is the only one, used
            // by the authorization code flow when the agency has a login.
            response_types_supported: Some(strings(["code"])),
            grant_types_supported: Some(grants),
            pre_authorized_grant_anonymous_access_supported: Some(true),
            token_endpoint_auth_methods_supported: Some(strings(["none"])),
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
