//! The issuer's metadata (OpenID4VCI 1.0 §12.2) as far as the flow needs
//! it: endpoints, encryption keys and algorithms, the offered
//! configuration.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tongban_protocol::oid4vci::{
    CredentialConfiguration, CredentialIssuerMetadata, Display, ENC_VALUES, FORMAT_SD_JWT_VC,
    KEY_AGREEMENT, PROOF_TYPE_JWT, well_known_path,
};

use super::{ReceiveError, printable};

/// `https://host/.well-known/<suffix><path>`: the well-known URL of an
/// identifier with a path (path insertion, RFC 8414 §3.1; a terminating
/// `/` of the path is dropped).
pub fn well_known_url(identifier: &str, suffix: &str) -> Result<String, ReceiveError> {
    let mut url = url::Url::parse(identifier)
        .map_err(|e| ReceiveError::MetadataInvalid(format!("{identifier:?} is not a URL ({e})")))?;
    if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
        return Err(ReceiveError::MetadataInvalid(format!(
            "{identifier:?} is not an issuer identifier (it has a query or fragment)"
        )));
    }
    let path = well_known_path(suffix, url.path());
    url.set_path(&path);
    Ok(url.into())
}

/// The issuer's metadata, as far as this flow needs it.
#[derive(Debug, Clone)]
pub(super) struct IssuerMetadata {
    pub(super) credential_endpoint: String,
    pub(super) nonce_endpoint: Option<String>,
    pub(super) authorization_servers: Vec<String>,
    pub(super) request_encryption: Option<RequestEncryption>,
    pub(super) response_enc: Option<String>,
    pub(super) encryption_required: bool,
    pub(super) configurations: BTreeMap<String, CredentialConfiguration>,
    pub(super) name: Option<String>,
    /// `batch_credential_issuance.batch_size`, when the issuer offers
    /// batches.
    pub(super) batch_size: Option<usize>,
    pub(super) trust_list_uri: Option<String>,
}

/// The issuer's key to encrypt the credential request to.
#[derive(Debug, Clone)]
pub(super) struct RequestEncryption {
    pub(super) jwk: Map<String, Value>,
    pub(super) enc: String,
}

/// What the offered configuration says.
#[derive(Debug, Clone)]
pub(super) struct Configuration {
    pub(super) id: String,
    pub(super) vct: String,
    pub(super) name: Option<String>,
    /// The OAuth scope the authorization code flow asks with.
    pub(super) scope: Option<String>,
}

pub(super) fn display_name(display: Option<&[Display]>) -> Option<String> {
    let list = display?;
    let by_locale = |prefix: &str| {
        list.iter()
            .find(|d| d.locale.as_deref().is_some_and(|l| l.starts_with(prefix)))
            .and_then(|d| d.name.as_deref())
            .map(printable)
    };
    match (by_locale("zh"), by_locale("en")) {
        (Some(zh), Some(en)) => Some(format!("{zh} {en}")),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => list.first().and_then(|d| d.name.as_deref()).map(printable),
    }
}

pub(super) fn parse_issuer_metadata(
    m: &Map<String, Value>,
    credential_issuer: &str,
) -> Result<IssuerMetadata, ReceiveError> {
    let bad = |d: String| ReceiveError::MetadataInvalid(d);
    match m.get("credential_issuer").and_then(Value::as_str) {
        Some(i) if i == credential_issuer => {}
        other => {
            return Err(bad(format!(
                "it names the credential issuer {other:?}, not {credential_issuer:?} as the offer does (OpenID4VCI §12.2.4)"
            )));
        }
    }
    let m: CredentialIssuerMetadata = serde_json::from_value(Value::Object(m.clone()))
        .map_err(|e| bad(format!("not credential issuer metadata ({e})")))?;
    let authorization_servers = match m.authorization_servers {
        None => Vec::new(),
        Some(a) if a.is_empty() => {
            return Err(bad("authorization_servers is not a list of URLs".into()));
        }
        Some(a) => a,
    };

    // Response encryption (§12.2.4): usable when ECDH-ES and one of our
    // enc values are offered.
    let mut encryption_required = false;
    let mut response_enc = None;
    if let Some(r) = &m.credential_response_encryption {
        encryption_required |= r.encryption_required;
        if r.alg_values_supported.iter().any(|a| a == KEY_AGREEMENT) {
            response_enc = ENC_VALUES
                .iter()
                .find(|e| r.enc_values_supported.iter().any(|o| o == *e))
                .map(|e| (*e).to_owned());
        }
    }
    // Request encryption: a P-256 ECDH-ES key with a kid, and an enc value.
    let mut request_encryption = None;
    if let Some(r) = &m.credential_request_encryption {
        encryption_required |= r.encryption_required;
        let enc = ENC_VALUES
            .iter()
            .find(|e| r.enc_values_supported.iter().any(|o| o == *e));
        let key = r.jwks.keys.iter().find(|k| {
            let s = |n: &str| k.get(n).and_then(Value::as_str);
            s("kty") == Some("EC")
                && s("crv") == Some("P-256")
                && s("kid").is_some()
                && s("alg").is_none_or(|a| a == KEY_AGREEMENT)
                && s("use").is_none_or(|u| u == "enc")
                && !k.contains_key("d")
        });
        if let (Some(enc), Some(key)) = (enc, key) {
            request_encryption = Some(RequestEncryption {
                jwk: key.clone(),
                enc: (*enc).to_owned(),
            });
        }
    }
    Ok(IssuerMetadata {
        name: display_name(m.display.as_deref()),
        batch_size: m.batch_credential_issuance.map(|b| b.batch_size),
        credential_endpoint: m.credential_endpoint,
        nonce_endpoint: m.nonce_endpoint,
        authorization_servers,
        request_encryption,
        response_enc,
        encryption_required,
        configurations: m.credential_configurations_supported,
        trust_list_uri: m.tongban_trust_list_uri,
    })
}

/// Checks the offered configuration is an SD-JWT VC this wallet can bind
/// to its key with `alg`.
pub(super) fn configuration(
    meta: &IssuerMetadata,
    id: &str,
    alg: &str,
) -> Result<Configuration, ReceiveError> {
    let c = meta.configurations.get(id).ok_or_else(|| {
        ReceiveError::MetadataInvalid(format!(
            "the offered configuration {id:?} is not in credential_configurations_supported"
        ))
    })?;
    let format = c.format.as_str();
    if format != FORMAT_SD_JWT_VC {
        return Err(ReceiveError::OfferUnsupported(format!(
            "the offered credential is in format {format:?}; this wallet holds {FORMAT_SD_JWT_VC} (SD-JWT VC) only"
        )));
    }
    let vct = c
        .vct
        .clone()
        .ok_or_else(|| ReceiveError::MetadataInvalid(format!("configuration {id:?} has no vct")))?;
    let algs = c.proof_signing_algs(PROOF_TYPE_JWT);
    if !algs.iter().any(|a| a == alg) {
        return Err(ReceiveError::OfferUnsupported(format!(
            "the issuer does not accept a {alg} key proof (jwt proof algorithms: {}); the credential could not be bound to this wallet's key",
            if algs.is_empty() {
                "none".into()
            } else {
                algs.join(", ")
            }
        )));
    }
    Ok(Configuration {
        id: id.to_owned(),
        vct,
        name: display_name(c.display()),
        scope: c.scope.as_deref().map(printable),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn metadata(changes: &[(&str, serde_json::Value)]) -> Map<String, Value> {
        let mut m = serde_json::json!({
            "credential_issuer": "https://i.example/agencies/a",
            "credential_endpoint": "https://i.example/agencies/a/credential",
            "nonce_endpoint": "https://i.example/agencies/a/nonce",
            "credential_request_encryption": {
                "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "enc-1", "use": "enc", "alg": "ECDH-ES"}]},
                "enc_values_supported": ["A256GCM", "A128GCM"],
                "encryption_required": false,
            },
            "credential_response_encryption": {
                "alg_values_supported": ["ECDH-ES"],
                "enc_values_supported": ["A256GCM"],
                "encryption_required": false,
            },
            "credential_configurations_supported": {
                "business-licence": {
                    "format": "dc+sd-jwt",
                    "vct": "urn:tongban:business-licence:1",
                    "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}},
                    "credential_metadata": {"display": [{"name": "营业执照", "locale": "zh-CN"}, {"name": "Business licence", "locale": "en-US"}]},
                },
                "mdl": {"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL"},
                "es256-only": {
                    "format": "dc+sd-jwt",
                    "vct": "urn:x",
                    "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
                },
            },
        });
        for (path, v) in changes {
            *m.pointer_mut(path).unwrap() = v.clone();
        }
        m.as_object().cloned().unwrap()
    }

    #[test]
    fn metadata_must_name_the_offered_issuer_and_gives_the_encryption_to_use() {
        let iss = "https://i.example/agencies/a";
        let m = parse_issuer_metadata(&metadata(&[]), iss).unwrap();
        let req = m.request_encryption.unwrap();
        assert_eq!(req.jwk["kid"], "enc-1");
        assert_eq!(
            req.enc, "A128GCM",
            "the wallet's preference among the offered"
        );
        assert_eq!(m.response_enc.as_deref(), Some("A256GCM"));
        // Another identifier than the offer's (§12.2.4).
        let e = parse_issuer_metadata(&metadata(&[]), "https://i.example/agencies/b");
        assert_eq!(e.unwrap_err().code(), "issuer_metadata_invalid");
        // No key this wallet can encrypt to (an X25519 key only).
        let m = parse_issuer_metadata(
            &metadata(&[(
                "/credential_request_encryption/jwks/keys/0/crv",
                serde_json::json!("X25519"),
            )]),
            iss,
        )
        .unwrap();
        assert!(m.request_encryption.is_none());
        // Only another key agreement for the response.
        let m = parse_issuer_metadata(
            &metadata(&[(
                "/credential_response_encryption/alg_values_supported",
                serde_json::json!(["RSA-OAEP-256"]),
            )]),
            iss,
        )
        .unwrap();
        assert!(m.response_enc.is_none());
    }

    #[test]
    fn only_sd_jwt_vc_configurations_bound_to_a_key_the_wallet_has() {
        let m = parse_issuer_metadata(&metadata(&[]), "https://i.example/agencies/a").unwrap();
        let c = configuration(&m, "business-licence", "EdDSA").unwrap();
        assert_eq!(c.vct, "urn:tongban:business-licence:1");
        assert_eq!(c.name.as_deref(), Some("营业执照 Business licence"));
        let code = |id: &str| configuration(&m, id, "EdDSA").unwrap_err().code();
        assert_eq!(code("mdl"), "offer_unsupported");
        assert_eq!(code("es256-only"), "offer_unsupported");
        assert_eq!(code("nope"), "issuer_metadata_invalid");
    }

    #[test]
    fn well_known_urls_insert_the_path() {
        assert_eq!(
            well_known_url(
                "https://i.example/agencies/demo",
                "openid-credential-issuer"
            )
            .unwrap(),
            "https://i.example/.well-known/openid-credential-issuer/agencies/demo"
        );
        assert_eq!(
            well_known_url("https://i.example/", "jwt-vc-issuer").unwrap(),
            "https://i.example/.well-known/jwt-vc-issuer"
        );
        assert_eq!(
            well_known_url("http://127.0.0.1:8080/a/", "oauth-authorization-server").unwrap(),
            "http://127.0.0.1:8080/.well-known/oauth-authorization-server/a"
        );
        assert!(well_known_url("https://i.example/a?x=1", "x").is_err());
    }
}
