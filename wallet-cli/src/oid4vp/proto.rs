//! TEMPORARY: the few OpenID4VP messages the wallet needs, until
//! `tongban_protocol::oid4vp` lands; replaced by it, not kept beside it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tongban_verifier::{ClaimPath, PathSegment};

/// `typ` of a signed request object.
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// `aud` of a request object for a self-issued wallet.
pub const SELF_ISSUED_AUD: &str = "https://self-issued.me/v2";

/// The `openid4vp://` link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// `client_id`.
    pub client_id: String,
    /// `request_uri`.
    pub request_uri: String,
    /// `request_uri_method`.
    pub request_uri_method: Option<String>,
}

impl AuthorizationRequest {
    /// Parses the link.
    pub fn parse(uri: &str) -> Result<AuthorizationRequest, String> {
        let url = url::Url::parse(uri.trim()).map_err(|e| e.to_string())?;
        if !matches!(url.scheme(), "openid4vp" | "haip-vp") {
            return Err(format!("scheme {} is not openid4vp", url.scheme()));
        }
        let get = |k: &str| {
            url.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        Ok(AuthorizationRequest {
            client_id: get("client_id").ok_or("no client_id")?,
            request_uri: get("request_uri").ok_or("no request_uri")?,
            request_uri_method: get("request_uri_method"),
        })
    }
}

/// Tongban's purpose extension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TongbanPurpose {
    /// 事项.
    #[serde(default)]
    pub service_item: Option<String>,
    /// Purpose (zh).
    #[serde(default)]
    pub purpose_zh: Option<String>,
    /// Purpose (en).
    #[serde(default)]
    pub purpose_en: Option<String>,
    /// Verifier name (zh).
    #[serde(default)]
    pub verifier_name_zh: Option<String>,
    /// Verifier name (en).
    #[serde(default)]
    pub verifier_name_en: Option<String>,
}

/// `client_metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// `jwks`.
    #[serde(default)]
    pub jwks: Option<Value>,
    /// `encrypted_response_enc_values_supported`.
    #[serde(default)]
    pub encrypted_response_enc_values_supported: Option<Vec<String>>,
}

/// The request object's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestObject {
    /// `client_id`.
    pub client_id: String,
    /// `response_type`.
    pub response_type: String,
    /// `response_mode`.
    #[serde(default)]
    pub response_mode: Option<String>,
    /// `response_uri`.
    #[serde(default)]
    pub response_uri: Option<String>,
    /// `nonce`.
    pub nonce: String,
    /// `state`.
    #[serde(default)]
    pub state: Option<String>,
    /// `dcql_query`.
    pub dcql_query: DcqlQuery,
    /// `client_metadata`.
    #[serde(default)]
    pub client_metadata: Option<ClientMetadata>,
    /// `wallet_nonce`.
    #[serde(default)]
    pub wallet_nonce: Option<String>,
    /// `aud`.
    #[serde(default)]
    pub aud: Option<String>,
    /// `exp`.
    #[serde(default)]
    pub exp: Option<i64>,
    /// `transaction_data`.
    #[serde(default)]
    pub transaction_data: Option<Vec<String>>,
    /// `tongban_purpose`.
    #[serde(default)]
    pub tongban_purpose: Option<TongbanPurpose>,
}

/// A DCQL query (the subset this stub reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// `credentials`.
    pub credentials: Vec<CredentialQuery>,
    /// `credential_sets`.
    #[serde(default)]
    pub credential_sets: Option<Vec<Value>>,
}

/// One credential query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// `id`.
    pub id: String,
    /// `format`.
    pub format: String,
    /// `meta`.
    #[serde(default)]
    pub meta: Map<String, Value>,
    /// `claims`.
    #[serde(default)]
    pub claims: Option<Vec<Map<String, Value>>>,
}

impl DcqlQuery {
    /// Structural checks.
    pub fn validate(&self) -> Result<(), String> {
        if self.credentials.is_empty() {
            return Err("no credential query".into());
        }
        Ok(())
    }
}

fn path_of(claim: &Map<String, Value>) -> Option<ClaimPath> {
    let segs = claim.get("path")?.as_array()?;
    segs.iter()
        .map(|s| match s {
            Value::String(k) => Some(PathSegment::Key(k.clone())),
            Value::Number(n) => n.as_u64().map(|i| PathSegment::Index(i as usize)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .map(ClaimPath)
}

/// The claims of a credential of type `vct` holding `claims` that answer
/// `query`, or `None` when it cannot.
pub fn select_claims(
    query: &CredentialQuery,
    vct: &str,
    claims: &Map<String, Value>,
) -> Option<Vec<ClaimPath>> {
    if query.format != "dc+sd-jwt" {
        return None;
    }
    let vcts = query.meta.get("vct_values")?.as_array()?;
    if !vcts.iter().any(|v| v.as_str() == Some(vct)) {
        return None;
    }
    let mut out = Vec::new();
    for c in query.claims.iter().flatten() {
        let path = path_of(c)?;
        let mut cur: Option<&Value> = None;
        for (i, seg) in path.0.iter().enumerate() {
            cur = match (i, seg, cur) {
                (0, PathSegment::Key(k), _) => claims.get(k),
                (_, PathSegment::Key(k), Some(Value::Object(o))) => o.get(k),
                (_, PathSegment::Index(n), Some(Value::Array(a))) => a.get(*n),
                _ => None,
            };
        }
        cur?;
        out.push(path);
    }
    Some(out)
}
