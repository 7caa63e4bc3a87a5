//! Errors of the admin and public API: one stable code per way a request
//! can fail (a [`ServiceError`] or a malformed request), its HTTP status,
//! and sentences in English and Chinese that an agency clerk can act on.
//! OpenID4VCI endpoints answer in the OAuth error format instead
//! ([`super::oid4vci`]).
//!
//! The codes are part of the public interface (`specs/issuer-api.md` lists
//! them, a test keeps the list complete): never rename one, only add.

use serde::Serialize;
use tongban_verifier::catalogue::schema::Violation;

use crate::app::ServiceError;

tongban_service_kit::api_codes! {
    /// No admin token, or not a live one.
    Unauthorized => ("unauthorized", 401,
        "The request has no valid admin token. Send `Authorization: Bearer tbat_…` with a token made by `tongban-issuer token create`.",
        "请求缺少有效的管理令牌。请用 `tongban-issuer token create` 创建令牌，并以 `Authorization: Bearer tbat_…` 发送。"),
    /// The token lacks the scope this action needs.
    ScopeMissing => ("scope_missing", 403,
        "The admin token is valid but not allowed to do this. Ask the service operator for a token with the named scope.",
        "管理令牌有效，但无权执行此操作。请向服务管理员申请具有所述权限的令牌。"),
    /// No such object for this agency.
    NotFound => ("not_found", 404,
        "Nothing with this id exists for your agency. Check the id.",
        "本机构下不存在该编号的记录，请核对编号。"),
    /// No such endpoint.
    UnknownEndpoint => ("unknown_endpoint", 404,
        "There is no such endpoint on this service. The API is described at /openapi.json.",
        "本服务没有该接口，接口说明见 /openapi.json。"),
    /// No such agency on this service.
    UnknownAgency => ("unknown_agency", 404,
        "This service hosts no agency with this id.",
        "本服务未托管该编号的发证机构。"),
    /// The `vct` is not in the catalogue.
    UnknownVct => ("unknown_vct", 422,
        "The licence type (vct) is not in the Tongban catalogue. Use one of the types listed at /types.",
        "证照类型（vct）不在通办证照目录中，请使用 /types 所列类型之一。"),
    /// The agency may not issue this `vct`.
    VctNotAuthorised => ("vct_not_authorised", 403,
        "Your agency is not registered to issue this licence type. Ask the service operator to add it to the agency.",
        "本机构未登记签发此类证照，请联系服务管理员为本机构添加该类型。"),
    /// The claims break the type's schema.
    ClaimsInvalid => ("claims_invalid", 422,
        "Some fields do not meet the licence type's rules; each is listed with what is wrong. Nothing was signed.",
        "部分字段不符合该证照类型的规则，已逐项列出原因，未签发任何证照。"),
    /// Neither a holder key nor an offer was requested.
    HolderMissing => ("holder_missing", 422,
        "Say who will hold the credential: give the citizen's public key (holder_jwk) or ask for an OpenID4VCI offer (offer).",
        "请指明持证人：提供持证人公钥（holder_jwk），或申请 OpenID4VCI 领取邀请（offer）。"),
    /// Both a holder key and an offer were requested.
    HolderAmbiguous => ("holder_ambiguous", 422,
        "Give either holder_jwk or offer, not both.",
        "holder_jwk 与 offer 只能二选一。"),
    /// The holder key is not a usable public JWK.
    HolderKeyInvalid => ("holder_key_invalid", 422,
        "The holder's public key is not a usable public JWK (Ed25519 or P-256, no private part).",
        "持证人公钥不是可用的公开 JWK（须为 Ed25519 或 P-256，且不含私钥部分）。"),
    /// The validity window is impossible.
    ValidityInvalid => ("validity_invalid", 422,
        "The validity dates are impossible (the credential would expire before it starts or before now).",
        "有效期不合理（证照将在生效前或当前时间之前失效）。"),
    /// The body is not JSON.
    MalformedJson => ("malformed_json", 400,
        "The request body is not valid JSON.",
        "请求正文不是有效的 JSON。"),
    /// The JSON does not have the expected members.
    InvalidRequest => ("invalid_request", 422,
        "The request is valid JSON but its members are wrong; the detail names the member.",
        "请求是有效的 JSON，但字段有误，详见说明中指出的字段。"),
    /// The body is too large.
    BodyTooLarge => ("body_too_large", 413,
        "The request body is larger than the service accepts. Split a large batch into smaller ones.",
        "请求正文超过服务上限，请将大批量拆分后提交。"),
    /// Wrong content type.
    UnsupportedMediaType => ("unsupported_media_type", 415,
        "The request has the wrong Content-Type (application/json, or application/x-ndjson for batches).",
        "请求的 Content-Type 有误（应为 application/json，批量请求为 application/x-ndjson）。"),
    /// The licence id is already used by this agency.
    LicenceIdTaken => ("licence_id_taken", 409,
        "Your agency has already issued a credential with this licence_id. Each e-licence id is unique per agency.",
        "本机构已签发过相同 licence_id 的证照，电子证照编号在本机构内必须唯一。"),
    /// The status change does not apply.
    InvalidTransition => ("invalid_transition", 409,
        "The credential's current status does not allow this change (a revoked credential stays revoked; only a suspended one can be reinstated).",
        "证照当前状态不允许此变更（已吊销的证照不可恢复；只有已暂停的证照可以恢复）。"),
    /// No such status list.
    StatusListNotFound => ("status_list_not_found", 404,
        "The agency has no status list with this number.",
        "该机构没有此编号的状态列表。"),
    /// The agency's citizen login cannot be reached or is misconfigured.
    LoginUnavailable => ("login_unavailable", 502,
        "The agency's citizen login (its identity provider) cannot be reached right now. Try again shortly; if it persists, the service operator should check the agency's login settings.",
        "发证机构的统一身份认证暂时无法访问，请稍后重试；如持续出现，请服务管理员检查该机构的登录配置。"),
    /// The database is unreachable or failing.
    StorageUnavailable => ("storage_unavailable", 503,
        "The service cannot reach its database right now; nothing was changed. Try again shortly.",
        "服务暂时无法访问数据库，未做任何更改，请稍后重试。"),
    /// Anything else.
    Internal => ("internal", 500,
        "The service failed unexpectedly; nothing was changed. The operator can find the cause in the logs.",
        "服务发生意外错误，未做任何更改。管理员可在日志中查找原因。"),
}

/// An API error: its code, a precise detail, and for schema violations the
/// failing fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The code.
    pub code: ApiCode,
    /// What exactly was wrong (English, names the field or id).
    pub detail: String,
    /// Failing fields, for [`ApiCode::ClaimsInvalid`].
    pub violations: Vec<Violation>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.code(), self.detail)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// An error with a detail.
    pub fn new(code: ApiCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            violations: Vec::new(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            message: &'a str,
            message_zh: &'a str,
            detail: &'a str,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            violations: &'a [Violation],
        }
        serde_json::to_value(Body {
            error: self.code.code(),
            message: self.code.message_en(),
            message_zh: self.code.message_zh(),
            detail: &self.detail,
            violations: &self.violations,
        })
        .unwrap_or_default()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let code = match &e {
            ServiceError::InvalidRequest(_) => ApiCode::InvalidRequest,
            ServiceError::Unauthorized(_) => ApiCode::Unauthorized,
            ServiceError::UnknownAgency { .. } => ApiCode::UnknownAgency,
            ServiceError::NotFound(_) => ApiCode::NotFound,
            ServiceError::UnknownVct(_) => ApiCode::UnknownVct,
            ServiceError::VctNotAuthorised(_) => ApiCode::VctNotAuthorised,
            ServiceError::ClaimsInvalid { .. } => ApiCode::ClaimsInvalid,
            ServiceError::HolderMissing(_) => ApiCode::HolderMissing,
            ServiceError::HolderAmbiguous(_) => ApiCode::HolderAmbiguous,
            ServiceError::HolderKeyInvalid(_) => ApiCode::HolderKeyInvalid,
            ServiceError::ValidityInvalid(_) => ApiCode::ValidityInvalid,
            ServiceError::LicenceIdTaken(_) => ApiCode::LicenceIdTaken,
            ServiceError::InvalidTransition(_) => ApiCode::InvalidTransition,
            ServiceError::StatusListNotFound(_) => ApiCode::StatusListNotFound,
            ServiceError::StorageUnavailable { .. } => ApiCode::StorageUnavailable,
            ServiceError::LoginUnavailable(_) => ApiCode::LoginUnavailable,
            ServiceError::WrongMasterKey(_) | ServiceError::Internal(_) => ApiCode::Internal,
        };
        let detail = e.to_string();
        let violations = match e {
            ServiceError::ClaimsInvalid { violations } => violations,
            _ => Vec::new(),
        };
        ApiError {
            code,
            detail,
            violations,
        }
    }
}
