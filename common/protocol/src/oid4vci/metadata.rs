//! Metadata: the credential issuer's (§12.2) and its authorization
//! server's (RFC 8414). Metadata is extensible: unknown members are
//! ignored on parse.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Credential issuer metadata (§12.2.4), served at
/// `/.well-known/openid-credential-issuer<path>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialIssuerMetadata {
    /// The credential issuer identifier; must equal the one the metadata
    /// was fetched for.
    pub credential_issuer: String,
    /// The authorization servers; absent means the issuer is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<String>>,
    /// The credential endpoint (§8).
    pub credential_endpoint: String,
    /// The nonce endpoint (§7), when the issuer wants proofs with a nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// The deferred credential endpoint (§9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_credential_endpoint: Option<String>,
    /// The notification endpoint (§11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_endpoint: Option<String>,
    /// How to encrypt credential requests to the issuer (§10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_request_encryption: Option<RequestEncryptionMetadata>,
    /// Which encrypted credential responses the issuer can make (§10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<ResponseEncryptionMetadata>,
    /// Batch issuance (§12.2.4): present when the issuer takes several key
    /// proofs in one request (HAIP 1.0 §4: an issuer says whether it
    /// supports batch issuance by including or omitting it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_credential_issuance: Option<BatchCredentialIssuance>,
    /// The issuer's names, per locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<Display>>,
    /// What the issuer can issue, by configuration id.
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
    /// Tongban extension: where the zone's signed trust list is published
    /// (its roots beside it, `specs/trust-list.md` §1.3). A wallet fetches
    /// it and keeps it only when it verifies under the root the wallet has
    /// pinned (`specs/issuer-api.md` §3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tongban_trust_list_uri: Option<String>,
}

/// `batch_credential_issuance` (§12.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCredentialIssuance {
    /// The most proofs (so credentials) one request may carry; 2 or more.
    pub batch_size: usize,
}

/// `credential_request_encryption` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEncryptionMetadata {
    /// The issuer's public encryption keys, each with a `kid`.
    pub jwks: Jwks,
    /// Content encryption algorithms the issuer can decrypt.
    pub enc_values_supported: Vec<String>,
    /// Compression algorithms, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_values_supported: Option<Vec<String>>,
    /// Whether every credential request must be encrypted.
    #[serde(default)]
    pub encryption_required: bool,
}

/// `credential_response_encryption` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseEncryptionMetadata {
    /// Key management algorithms the issuer can encrypt with.
    pub alg_values_supported: Vec<String>,
    /// Content encryption algorithms the issuer can encrypt with.
    pub enc_values_supported: Vec<String>,
    /// Compression algorithms, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_values_supported: Option<Vec<String>>,
    /// Whether every credential response must be encrypted.
    #[serde(default)]
    pub encryption_required: bool,
}

/// A JWK set (RFC 7517 §5); the keys are kept as JSON objects, for the
/// caller's JOSE library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Map<String, Value>>,
}

/// A display entry: a name (and more) in one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The BCP 47 language tag (`zh-CN`, `en-US`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Display {
    /// One entry's name in `locale`.
    pub fn new(name: impl Into<String>, locale: impl Into<String>) -> Display {
        Display {
            name: Some(name.into()),
            locale: Some(locale.into()),
            description: None,
        }
    }
}

/// One entry of `credential_configurations_supported` (§12.2.4, and
/// Appendix A.3 for `dc+sd-jwt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    /// The credential format (`dc+sd-jwt`).
    pub format: String,
    /// The SD-JWT VC type (format-specific; `dc+sd-jwt` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// The OAuth scope for the authorization code flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// How the credential is bound to the holder (`jwk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cryptographic_binding_methods_supported: Option<Vec<String>>,
    /// The algorithms the issuer signs credentials with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_signing_alg_values_supported: Option<Vec<String>>,
    /// Key proof types accepted, by proof type (`jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_types_supported: Option<BTreeMap<String, ProofTypeMetadata>>,
    /// Display names and claims (the 1.0 shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<CredentialMetadata>,
    /// Display names where drafts before 1.0 put them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<Display>>,
}

impl CredentialConfiguration {
    /// The algorithms accepted for `proof_type` key proofs (empty when the
    /// proof type is not accepted).
    pub fn proof_signing_algs(&self, proof_type: &str) -> &[String] {
        self.proof_types_supported
            .as_ref()
            .and_then(|p| p.get(proof_type))
            .map_or(&[], |p| p.proof_signing_alg_values_supported.as_slice())
    }

    /// The display entries: `credential_metadata.display` (1.0), or the
    /// configuration's own `display` (earlier drafts).
    pub fn display(&self) -> Option<&[Display]> {
        self.credential_metadata
            .as_ref()
            .and_then(|m| m.display.as_deref())
            .or(self.display.as_deref())
    }
}

/// `proof_types_supported.<type>` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofTypeMetadata {
    /// The algorithms accepted for proofs of this type.
    pub proof_signing_alg_values_supported: Vec<String>,
    /// Key attestation requirements, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_attestations_required: Option<Value>,
}

/// `credential_metadata` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialMetadata {
    /// The credential's names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<Display>>,
    /// Its claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimDescription>>,
}

/// One claim of `credential_metadata.claims` (Appendix B.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDescription {
    /// The claim path: names, array indices and `null` (all elements).
    pub path: Vec<Value>,
    /// Whether the issuer always includes the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory: Option<bool>,
    /// The claim's names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<Display>>,
}

/// OAuth authorization server metadata (RFC 8414 §2), as far as the
/// pre-authorized and authorization code flows use it, served at
/// `/.well-known/oauth-authorization-server<path>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The authorization server identifier; must equal the one the metadata
    /// was fetched for (RFC 8414 §3.3).
    pub issuer: String,
    /// The token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The OAuth `response_type` values supported (RFC 8414 §2: REQUIRED
    /// in a server's metadata; optional here so that a wallet still reads
    /// metadata that leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    /// The grant types supported; absent means the RFC's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// Whether a token request without client authentication is accepted
    /// for the pre-authorized code grant (§12.3).
    #[serde(
        rename = "pre-authorized_grant_anonymous_access_supported",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_grant_anonymous_access_supported: Option<bool>,
    /// Client authentication methods at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The authorization endpoint (RFC 6749 §3.1), for the authorization
    /// code grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The pushed authorization request endpoint (RFC 9126 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// Whether every authorization request must be pushed (RFC 9126 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// PKCE methods (RFC 8414 §2): `S256` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// DPoP proof algorithms accepted (RFC 9449 §5.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Whether the authorization response carries `iss` (RFC 9207 §3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// The scopes the server knows (RFC 8414 §2): one per credential
    /// configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// `authorization_details` types accepted (RFC 9396 §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details_types_supported: Option<Vec<String>>,
    /// Algorithms accepted for the wallet (client) attestation's signature
    /// (attestation-based client authentication, draft -07 §10.1: present
    /// whenever `attest_jwt_client_auth` is listed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_attestation_signing_alg_values_supported: Option<Vec<String>>,
    /// Algorithms accepted for the attestation's proof of possession.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_attestation_pop_signing_alg_values_supported: Option<Vec<String>>,
}

impl AuthorizationServerMetadata {
    /// Whether the server says it supports `grant_type` (true when it does
    /// not list its grant types).
    pub fn supports_grant(&self, grant_type: &str) -> bool {
        self.grant_types_supported
            .as_ref()
            .is_none_or(|g| g.iter().any(|t| t == grant_type))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::super::{ENC_VALUES, PRE_AUTH_GRANT, proof_signing_algs};
    use super::*;
    use serde_json::json;

    /// The metadata as the issuer serves it (`app/oid4vci/metadata.rs`,
    /// `specs/issuer-api.md` §5.1), one configuration.
    fn issuer_metadata() -> Value {
        json!({
            "credential_issuer": "https://i.example/agencies/demo",
            "credential_endpoint": "https://i.example/agencies/demo/credential",
            "nonce_endpoint": "https://i.example/agencies/demo/nonce",
            "credential_request_encryption": {
                "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "enc-1", "use": "enc", "alg": "ECDH-ES"}]},
                "enc_values_supported": ENC_VALUES,
                "encryption_required": false,
            },
            "credential_response_encryption": {
                "alg_values_supported": ["ECDH-ES"],
                "enc_values_supported": ENC_VALUES,
                "encryption_required": false,
            },
            "batch_credential_issuance": {"batch_size": 5},
            "display": [
                {"name": "通办演示发证机构", "locale": "zh-CN"},
                {"name": "Tongban demo issuer", "locale": "en-US"},
            ],
            "credential_configurations_supported": {
                "business-licence": {
                    "format": "dc+sd-jwt",
                    "vct": "urn:tongban:business-licence:1",
                    "scope": "business-licence",
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "credential_signing_alg_values_supported": ["EdDSA"],
                    "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": proof_signing_algs()}},
                    "credential_metadata": {
                        "display": [
                            {"name": "营业执照", "locale": "zh-CN"},
                            {"name": "Business licence", "locale": "en-US"},
                        ],
                        "claims": [{
                            "path": ["company_name"],
                            "mandatory": true,
                            "display": [
                                {"name": "名称", "locale": "zh-CN"},
                                {"name": "Company name", "locale": "en-US"},
                            ],
                        }],
                    },
                },
            },
        })
    }

    #[test]
    fn the_issuers_metadata_round_trips() {
        let v = issuer_metadata();
        let m: CredentialIssuerMetadata = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&m).unwrap(), v);
        let c = &m.credential_configurations_supported["business-licence"];
        assert_eq!(c.proof_signing_algs("jwt"), proof_signing_algs());
        assert_eq!(m.batch_credential_issuance.unwrap().batch_size, 5);
        assert!(c.proof_signing_algs("cwt").is_empty());
        assert_eq!(
            c.display().unwrap()[0],
            Display::new("营业执照", "zh-CN"),
            "1.0 places display under credential_metadata"
        );
        let req = m.credential_request_encryption.unwrap();
        assert_eq!(req.jwks.keys[0]["kid"], "enc-1");
        assert!(
            !m.credential_response_encryption
                .unwrap()
                .encryption_required
        );
    }

    #[test]
    fn metadata_is_extensible_and_drafts_display_is_read() {
        let mut v = issuer_metadata();
        v["signed_metadata"] = json!("x");
        v["credential_configurations_supported"]["mdl"] = json!({"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL", "display": [{"name": "mDL"}]});
        let m: CredentialIssuerMetadata = serde_json::from_value(v).unwrap();
        let mdl = &m.credential_configurations_supported["mdl"];
        assert_eq!(mdl.vct, None);
        assert_eq!(mdl.display().unwrap()[0].name.as_deref(), Some("mDL"));
        // Required members stay required.
        let mut v = issuer_metadata();
        v.as_object_mut().unwrap().remove("credential_endpoint");
        assert!(serde_json::from_value::<CredentialIssuerMetadata>(v).is_err());
        let mut v = issuer_metadata();
        v["credential_endpoint"] = json!(7);
        assert!(serde_json::from_value::<CredentialIssuerMetadata>(v).is_err());
    }

    #[test]
    fn the_authorization_server_metadata_round_trips() {
        let v = json!({
            "issuer": "https://i.example/agencies/demo",
            "token_endpoint": "https://i.example/agencies/demo/token",
            "grant_types_supported": [PRE_AUTH_GRANT],
            "pre-authorized_grant_anonymous_access_supported": true,
            "token_endpoint_auth_methods_supported": ["none"],
        });
        let m: AuthorizationServerMetadata = serde_json::from_value(v.clone()).unwrap();
        assert!(m.supports_grant(PRE_AUTH_GRANT));
        assert!(!m.supports_grant("authorization_code"));
        assert_eq!(serde_json::to_value(&m).unwrap(), v);
        let bare: AuthorizationServerMetadata =
            serde_json::from_value(json!({"issuer": "https://a.example"})).unwrap();
        assert!(bare.supports_grant(PRE_AUTH_GRANT), "no list: not refused");
        assert_eq!(bare.token_endpoint, None);
    }
}
