//! The authorization request: the link a wallet is invoked with, the client
//! identifier and its prefixes (§5.9), the signed request object's claims
//! (§5, JAR), the verifier's client metadata (§5.1, §11), the wallet's POST
//! to the request URI (§5.10) and transaction data (§5.1, §B.3.3).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::dcql::DcqlQuery;

/// `typ` of a request object (§5).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The content type of a request URI response (§5.10.1).
pub const REQUEST_OBJECT_CONTENT_TYPE: &str = "application/oauth-authz-req+jwt";
/// `aud` of a request object under static discovery (§5.8).
pub const SELF_ISSUED_AUD: &str = "https://self-issued.me/v2";
/// The invocation scheme of §13.1.2's static configuration.
pub const OPENID4VP_SCHEME: &str = "openid4vp";
/// The invocation scheme HAIP 1.0 §5 allows.
pub const HAIP_SCHEME: &str = "haip-vp";
/// `response_type` of a presentation request (§5.4).
pub const RESPONSE_TYPE_VP_TOKEN: &str = "vp_token";
/// The encrypted direct-post response mode (§8.3.1).
pub const RESPONSE_MODE_DIRECT_POST_JWT: &str = "direct_post.jwt";
/// The plain direct-post response mode (§8.2).
pub const RESPONSE_MODE_DIRECT_POST: &str = "direct_post";
/// The JWE key agreement every Tongban verifier uses (HAIP 1.0 §5).
pub const JWE_ALG_ECDH_ES: &str = "ECDH-ES";
/// The content encryption algorithms a verifier lists (HAIP: both).
pub const JWE_ENC_VALUES: [&str; 2] = ["A128GCM", "A256GCM"];
/// The default `enc` when a request lists none (§8.3).
pub const JWE_ENC_DEFAULT: &str = "A128GCM";
/// The transaction data hash algorithm every party supports (§B.3.3).
pub const TRANSACTION_DATA_HASH_ALG: &str = "sha-256";

/// A client identifier (§5.9) split into its prefix and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientId {
    /// `x509_hash:<base64url SHA-256 of the leaf certificate's DER>`.
    X509Hash(String),
    /// `x509_san_dns:<a dNSName SAN of the leaf certificate>`.
    X509SanDns(String),
    /// `redirect_uri:<uri>`: unsigned requests only; Tongban wallets refuse it.
    RedirectUri(String),
    /// Another prefix this crate does not interpret (`decentralized_identifier`, …).
    Other {
        /// The prefix.
        prefix: String,
        /// The rest.
        value: String,
    },
    /// No prefix: a pre-registered client (§5.9.2).
    PreRegistered(String),
}

impl ClientId {
    /// Parses a full client identifier.
    pub fn parse(full: &str) -> ClientId {
        match full.split_once(':') {
            Some(("x509_hash", v)) => ClientId::X509Hash(v.to_owned()),
            Some(("x509_san_dns", v)) => ClientId::X509SanDns(v.to_owned()),
            Some(("redirect_uri", v)) => ClientId::RedirectUri(v.to_owned()),
            Some((prefix, value)) => ClientId::Other {
                prefix: prefix.to_owned(),
                value: value.to_owned(),
            },
            None => ClientId::PreRegistered(full.to_owned()),
        }
    }

    /// The `x509_hash` client identifier of a DER certificate.
    pub fn x509_hash_of(der: &[u8]) -> ClientId {
        ClientId::X509Hash(URL_SAFE_NO_PAD.encode(Sha256::digest(der)))
    }
}

impl fmt::Display for ClientId {
    /// The full identifier, prefix included (the KB-JWT's `aud`, §B.3.6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientId::X509Hash(v) => write!(f, "x509_hash:{v}"),
            ClientId::X509SanDns(v) => write!(f, "x509_san_dns:{v}"),
            ClientId::RedirectUri(v) => write!(f, "redirect_uri:{v}"),
            ClientId::Other { prefix, value } => write!(f, "{prefix}:{value}"),
            ClientId::PreRegistered(v) => f.write_str(v),
        }
    }
}

/// `request_uri_method` (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestUriMethod {
    /// GET the request object (RFC 9101).
    Get,
    /// POST wallet metadata and a wallet nonce (§5.10).
    Post,
}

/// The link that invokes a wallet with a request by reference:
/// `openid4vp://?client_id=…&request_uri=…&request_uri_method=post`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The scheme (`openid4vp` or `haip-vp`).
    pub scheme: String,
    /// The full client identifier.
    pub client_id: String,
    /// Where the request object is fetched.
    pub request_uri: String,
    /// How it is fetched; `None` means GET (RFC 9101).
    pub request_uri_method: Option<RequestUriMethod>,
}

/// Why a link is not a request by reference Tongban can follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not `openid4vp://` or `haip-vp://`.
    #[error("the link is not an openid4vp:// or haip-vp:// presentation request")]
    Scheme,
    /// A parameter is missing, repeated or not UTF-8.
    #[error("the presentation request link {0}")]
    Parameter(String),
    /// `request_uri_method` is neither `get` nor `post` (§5.1,
    /// `invalid_request_uri_method`).
    #[error("request_uri_method {0:?} is neither get nor post")]
    Method(String),
}

impl AuthorizationRequest {
    /// A cross-device link with `request_uri_method=post`.
    pub fn by_reference(client_id: &str, request_uri: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            scheme: OPENID4VP_SCHEME.into(),
            client_id: client_id.into(),
            request_uri: request_uri.into(),
            request_uri_method: Some(RequestUriMethod::Post),
        }
    }

    /// The link as text.
    pub fn to_uri(&self) -> String {
        let mut uri = format!(
            "{}://?client_id={}&request_uri={}",
            self.scheme,
            form_encode(&self.client_id),
            form_encode(&self.request_uri)
        );
        match self.request_uri_method {
            Some(RequestUriMethod::Post) => uri.push_str("&request_uri_method=post"),
            Some(RequestUriMethod::Get) => uri.push_str("&request_uri_method=get"),
            None => {}
        }
        uri
    }

    /// Parses a link. A request by value (`request=` or plain parameters)
    /// is refused: Tongban's wallet only takes signed requests by
    /// reference.
    pub fn parse(link: &str) -> Result<AuthorizationRequest, LinkError> {
        let link = link.trim();
        let (scheme, rest) = link.split_once("://").ok_or(LinkError::Scheme)?;
        if scheme != OPENID4VP_SCHEME && scheme != HAIP_SCHEME {
            return Err(LinkError::Scheme);
        }
        let query = rest.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let query = query.split('#').next().unwrap_or_default();
        let mut client_id = None;
        let mut request_uri = None;
        let mut method = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = form_decode(value)
                .ok_or_else(|| LinkError::Parameter(format!("parameter {name} is not UTF-8")))?;
            let slot = match name {
                "client_id" => &mut client_id,
                "request_uri" => &mut request_uri,
                "request_uri_method" => &mut method,
                "request" => {
                    return Err(LinkError::Parameter(
                        "passes the request by value; only request_uri is accepted".into(),
                    ));
                }
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(LinkError::Parameter(format!("repeats {name}")));
            }
        }
        let client_id = client_id.ok_or_else(|| LinkError::Parameter("has no client_id".into()))?;
        let request_uri =
            request_uri.ok_or_else(|| LinkError::Parameter("has no request_uri".into()))?;
        let request_uri_method = match method.as_deref() {
            None => None,
            Some("post") => Some(RequestUriMethod::Post),
            Some("get") => Some(RequestUriMethod::Get),
            Some(other) => return Err(LinkError::Method(other.to_owned())),
        };
        Ok(AuthorizationRequest {
            scheme: scheme.to_owned(),
            client_id,
            request_uri,
            request_uri_method,
        })
    }
}

/// The wallet's POST to a request URI (§5.10), form-encoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestUriPost {
    /// The wallet's metadata, a JSON object serialized as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_metadata: Option<String>,
    /// A fresh random value the request object must echo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_nonce: Option<String>,
}

/// The verifier's metadata passed in the request (§5.1 `client_metadata`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// The response encryption keys (each with `kid`, `alg`, `use` `enc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwkSet>,
    /// The `enc` values the verifier accepts (default `A128GCM` alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_response_enc_values_supported: Option<Vec<String>>,
    /// The formats and algorithms the verifier accepts (§11.1).
    pub vp_formats_supported: Value,
}

/// A JWK set (RFC 7517 §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Value>,
}

impl ClientMetadata {
    /// The `enc` values the verifier accepts, with §8.3's default.
    pub fn enc_values(&self) -> Vec<String> {
        self.encrypted_response_enc_values_supported
            .clone()
            .unwrap_or_else(|| vec![JWE_ENC_DEFAULT.into()])
    }

    /// The response encryption key a wallet uses: the first P-256 key whose
    /// `use` is absent or `enc` and whose `alg` is `ECDH-ES` (the `alg`
    /// member is required, §8.3).
    pub fn encryption_key(&self) -> Option<&Value> {
        self.jwks.as_ref()?.keys.iter().find(|k| {
            let use_ok = k.get("use").is_none_or(|u| u == "enc");
            use_ok
                && k.get("alg").and_then(Value::as_str) == Some(JWE_ALG_ECDH_ES)
                && k.get("kty").and_then(Value::as_str) == Some("EC")
                && k.get("crv").and_then(Value::as_str) == Some("P-256")
        })
    }
}

/// Tongban's extension of the request object: who asks, and why, in both
/// languages (a wallet that does not know it ignores it, §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TongbanPurpose {
    /// The service item (事项) the request serves.
    pub service_item: String,
    /// The purpose, in Chinese.
    pub purpose_zh: String,
    /// The purpose, in English.
    pub purpose_en: String,
    /// The receiving agency's name, in Chinese.
    pub verifier_name_zh: String,
    /// The receiving agency's name, in English.
    pub verifier_name_en: String,
}

/// The claims of a signed request object (§5, §5.10.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestObject {
    /// The full client identifier; must equal the link's.
    pub client_id: String,
    /// `vp_token`.
    pub response_type: String,
    /// `direct_post.jwt` (or `direct_post` where configured).
    pub response_mode: String,
    /// Where the wallet posts the response.
    pub response_uri: String,
    /// The nonce the KB-JWT must carry.
    pub nonce: String,
    /// Ties the response to the transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// What is asked for.
    pub dcql_query: DcqlQuery,
    /// The verifier's metadata and response encryption key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    /// The wallet's nonce, echoed (§5.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_nonce: Option<String>,
    /// `https://self-issued.me/v2` under static discovery (§5.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expiry (the transaction's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Base64url JSON transaction data objects (§5.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_data: Option<Vec<String>>,
    /// Who asks and why (Tongban's extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tongban_purpose: Option<TongbanPurpose>,
}

/// The transaction data type Tongban defines: the citizen authorizes the
/// use of the presented credential for one application (申请) on the
/// agency's service platform.
pub const TRANSACTION_DATA_TYPE_APPLICATION: &str = "urn:tongban:transaction-data:application:1";

/// One transaction data object (§5.1), decoded. Unknown members are
/// refused (§8.5: "an object of a known type but containing unknown
/// fields").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionData {
    /// The type; Tongban knows [`TRANSACTION_DATA_TYPE_APPLICATION`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The credential queries that may authorize it.
    pub credential_ids: Vec<String>,
    /// Hash algorithms the verifier accepts (default `sha-256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_data_hashes_alg: Option<Vec<String>>,
    /// The application's number on the service platform.
    pub application_id: String,
    /// What the citizen authorizes, in Chinese.
    pub summary_zh: String,
    /// What the citizen authorizes, in English.
    pub summary_en: String,
}

/// Why a transaction data string is not one Tongban accepts
/// (`invalid_transaction_data`, §8.5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionDataError {
    /// Not base64url JSON of the expected members.
    #[error("transaction data {index} is malformed: {reason}")]
    Malformed {
        /// Its position.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A type Tongban does not know.
    #[error("transaction data {index} has the unknown type {kind:?}")]
    UnknownType {
        /// Its position.
        index: usize,
        /// The type.
        kind: String,
    },
    /// `credential_ids` is empty or names no credential query.
    #[error("transaction data {index} names no credential query of the request")]
    CredentialIds {
        /// Its position.
        index: usize,
    },
    /// A credential query it names does not require holder binding, so no
    /// KB-JWT could carry its hash (§B.3.3).
    #[error(
        "transaction data {index} names credential query {id:?}, which does not require holder binding"
    )]
    UnboundCredential {
        /// Its position.
        index: usize,
        /// The credential query.
        id: String,
    },
    /// `transaction_data_hashes_alg` does not include `sha-256`.
    #[error("transaction data {index} allows no hash algorithm Tongban supports (sha-256)")]
    HashAlg {
        /// Its position.
        index: usize,
    },
}

impl TransactionData {
    /// The base64url string of this object, as it goes in the request.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes and checks one transaction data string against the request's
    /// DCQL query: known type, all members present, `credential_ids` naming
    /// its credential queries, `sha-256` allowed.
    pub fn decode(
        index: usize,
        encoded: &str,
        query: &DcqlQuery,
    ) -> Result<TransactionData, TransactionDataError> {
        let malformed = |reason: String| TransactionDataError::Malformed { index, reason };
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|e| malformed(format!("not base64url: {e}")))?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| malformed(format!("not JSON: {e}")))?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("no type".into()))?;
        if kind != TRANSACTION_DATA_TYPE_APPLICATION {
            return Err(TransactionDataError::UnknownType {
                index,
                kind: kind.to_owned(),
            });
        }
        let data: TransactionData =
            serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        if data.credential_ids.is_empty()
            || data
                .credential_ids
                .iter()
                .any(|id| query.query(id).is_none())
        {
            return Err(TransactionDataError::CredentialIds { index });
        }
        if let Some(id) = data
            .credential_ids
            .iter()
            .find(|id| query.query(id).is_some_and(|q| !q.require_holder_binding))
        {
            return Err(TransactionDataError::UnboundCredential {
                index,
                id: id.clone(),
            });
        }
        if let Some(algs) = &data.transaction_data_hashes_alg
            && !algs.iter().any(|a| a == TRANSACTION_DATA_HASH_ALG)
        {
            return Err(TransactionDataError::HashAlg { index });
        }
        Ok(data)
    }
}

/// The `transaction_data_hashes` entry for one transaction data string: the
/// base64url SHA-256 of the string as received, not decoded (§B.3.3).
pub fn transaction_data_hash(encoded: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(encoded.as_bytes()))
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a
/// space); `None` when a `%` escape is broken or the bytes are not UTF-8.
pub fn form_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    #[test]
    fn client_ids_keep_their_prefix() {
        let id = ClientId::parse("x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk");
        assert_eq!(
            id,
            ClientId::X509Hash("Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk".into())
        );
        assert_eq!(
            id.to_string(),
            "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk"
        );
        assert_eq!(
            ClientId::parse("x509_san_dns:client.example.org"),
            ClientId::X509SanDns("client.example.org".into())
        );
        assert_eq!(
            ClientId::parse("example-client"),
            ClientId::PreRegistered("example-client".into())
        );
        assert!(matches!(
            ClientId::parse("decentralized_identifier:did:example:123"),
            ClientId::Other { prefix, .. } if prefix == "decentralized_identifier"
        ));
        let hash = ClientId::x509_hash_of(b"der");
        assert!(matches!(&hash, ClientId::X509Hash(v) if v.len() == 43));
    }

    #[test]
    fn links_round_trip_and_refuse_what_the_wallet_cannot_follow() {
        let link = AuthorizationRequest::by_reference(
            "x509_hash:abc",
            "https://verifier.example/oid4vp/qingpu/request/r1?x=1",
        );
        let text = link.to_uri();
        assert_eq!(
            text,
            "openid4vp://?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Fverifier.example%2Foid4vp%2Fqingpu%2Frequest%2Fr1%3Fx%3D1&request_uri_method=post"
        );
        assert_eq!(AuthorizationRequest::parse(&text).unwrap(), link);
        let haip = AuthorizationRequest::parse(
            "haip-vp://authorize?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Fv.example%2Fr",
        )
        .unwrap();
        assert_eq!(haip.scheme, "haip-vp");
        assert_eq!(haip.request_uri_method, None);
        for (bad, why) in [
            ("https://?client_id=a&request_uri=b", "scheme"),
            ("openid4vp://?request_uri=b", "client_id"),
            ("openid4vp://?client_id=a", "request_uri"),
            (
                "openid4vp://?client_id=a&client_id=b&request_uri=c",
                "repeat",
            ),
            (
                "openid4vp://?client_id=a&request_uri=b&request_uri_method=PUT",
                "method",
            ),
            ("openid4vp://?client_id=a&request=eyJ", "by value"),
            ("openid4vp://?client_id=%FF&request_uri=b", "utf-8"),
        ] {
            assert!(AuthorizationRequest::parse(bad).is_err(), "{why}");
        }
    }

    #[test]
    fn the_encryption_key_is_an_ecdh_es_p256_key_for_encryption() {
        let md: ClientMetadata = serde_json::from_value(json!({
            "jwks": {"keys": [
                {"kty": "EC", "crv": "P-256", "kid": "s", "use": "sig", "alg": "ECDH-ES", "x": "", "y": ""},
                {"kty": "OKP", "crv": "X25519", "kid": "x", "alg": "ECDH-ES", "x": ""},
                {"kty": "EC", "crv": "P-256", "kid": "noalg", "x": "", "y": ""},
                {"kty": "EC", "crv": "P-256", "kid": "e", "use": "enc", "alg": "ECDH-ES", "x": "", "y": ""}
            ]},
            "vp_formats_supported": {"dc+sd-jwt": {}}
        }))
        .unwrap();
        assert_eq!(md.encryption_key().unwrap()["kid"], "e");
        assert_eq!(md.enc_values(), vec!["A128GCM".to_string()]);
    }

    #[test]
    fn transaction_data_is_checked_against_the_query() {
        let query = DcqlQuery::single("bl", "urn:bl", vec![], true);
        let td = TransactionData {
            kind: TRANSACTION_DATA_TYPE_APPLICATION.into(),
            credential_ids: vec!["bl".into()],
            transaction_data_hashes_alg: None,
            application_id: "SH-2026-000123".into(),
            summary_zh: "企业迁入登记".into(),
            summary_en: "Company relocation registration".into(),
        };
        let encoded = td.encode();
        assert_eq!(TransactionData::decode(0, &encoded, &query).unwrap(), td);
        assert_eq!(transaction_data_hash(&encoded).len(), 43);
        let other = TransactionData {
            credential_ids: vec!["nope".into()],
            ..td.clone()
        };
        assert_eq!(
            TransactionData::decode(0, &other.encode(), &query),
            Err(TransactionDataError::CredentialIds { index: 0 })
        );
        let alg = TransactionData {
            transaction_data_hashes_alg: Some(vec!["sha-384".into()]),
            ..td
        };
        assert_eq!(
            TransactionData::decode(1, &alg.encode(), &query),
            Err(TransactionDataError::HashAlg { index: 1 })
        );
        let unknown = URL_SAFE_NO_PAD.encode(br#"{"type":"payment","credential_ids":["bl"]}"#);
        assert!(matches!(
            TransactionData::decode(2, &unknown, &query),
            Err(TransactionDataError::UnknownType { index: 2, .. })
        ));
        assert!(matches!(
            TransactionData::decode(3, "!!", &query),
            Err(TransactionDataError::Malformed { index: 3, .. })
        ));
    }

    #[test]
    fn form_encoding_round_trips() {
        let s = "x509_hash:a/b+c d=é&";
        assert_eq!(form_decode(&form_encode(s)).unwrap(), s);
        assert_eq!(form_decode("a+b").unwrap(), "a b");
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%ZZ"), None);
    }
}
