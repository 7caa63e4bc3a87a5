//! Errors of the API: one stable code per way a request can fail, its
//! HTTP status, and sentences in English and Chinese a clerk, operator or
//! wallet developer can act on. The body is
//! `{"code", "message_en", "message_zh", "detail"}`; on the OpenID4VP
//! endpoints it also carries OAuth's `error` and `error_description`.
//!
//! The codes are part of the public interface: never rename one, only add.

use serde_json::{Value, json};

use crate::app::ServiceError;
use crate::jose::JweRefusal;

tongban_service_kit::api_codes! {
    /// No token, or not a live one.
    Unauthorized => ("unauthorized", 401,
        "The request has no valid token. Send `Authorization: Bearer tbvs_…` with a token made by `tongban-verifier-service token create`.",
        "请求缺少有效令牌。请用 `tongban-verifier-service token create` 创建令牌，并以 `Authorization: Bearer tbvs_…` 发送。"),
    /// The token may not do this.
    Forbidden => ("forbidden", 403,
        "The token is valid but not for this: the admin token manages tenants and tokens, a tenant token handles its own transactions.",
        "令牌有效但无权执行此操作：管理令牌用于管理接收机构和令牌，机构令牌只能处理本机构的核验事务。"),
    /// No such object (for this tenant).
    NotFound => ("not_found", 404,
        "Nothing with this id exists for your agency. Check the id.",
        "本机构下不存在该编号的记录，请核对编号。"),
    /// No such endpoint.
    UnknownEndpoint => ("unknown_endpoint", 404,
        "There is no such endpoint on this service. The API is described at /openapi.json.",
        "本服务没有该接口，接口说明见 /openapi.json。"),
    /// The body is not JSON (or not the form).
    MalformedBody => ("malformed_body", 400,
        "The request body could not be read (not valid JSON, or not a form).",
        "无法读取请求正文（不是有效的 JSON 或表单）。"),
    /// The members are wrong.
    InvalidRequest => ("invalid_request", 422,
        "The request's members are wrong; the detail names the member.",
        "请求字段有误，详见说明中指出的字段。"),
    /// The DCQL query or shorthand is unusable.
    InvalidQuery => ("invalid_query", 422,
        "The credential query is unusable (DCQL rules, or a licence type not in the catalogue); the detail says what.",
        "证照查询无法使用（不符合 DCQL 规则，或证照类型不在目录中），详见说明。"),
    /// The body is too large.
    BodyTooLarge => ("body_too_large", 413,
        "The request body is larger than the service accepts.",
        "请求正文超过服务上限。"),
    /// Wrong content type.
    UnsupportedMediaType => ("unsupported_media_type", 415,
        "The request has the wrong Content-Type (application/json for the back-office API, application/x-www-form-urlencoded for the wallet endpoints).",
        "请求的 Content-Type 有误（后台接口用 application/json，钱包接口用 application/x-www-form-urlencoded）。"),
    /// An id is taken.
    Conflict => ("conflict", 409,
        "Something with this id already exists.",
        "该编号已存在。"),
    /// No operator CA.
    CaMissing => ("ca_missing", 409,
        "The service has no operator CA yet. Run `tongban-verifier-service ca init` first.",
        "服务尚未创建运营方 CA，请先运行 `tongban-verifier-service ca init`。"),
    /// Too many pending transactions.
    TooManyPending => ("too_many_pending", 429,
        "Your agency has as many open requests as the service allows. Wait for some to be answered or expire.",
        "本机构未完成的核验请求已达上限，请等待部分请求完成或过期后再试。"),
    /// Same-device outcome without the response code.
    ResponseCodeRequired => ("response_code_required", 403,
        "This same-device request's result is released only with the response_code the citizen's browser brought back to your page.",
        "同设备核验结果只凭群众浏览器带回页面的 response_code 发放。"),
    /// Wrong response code.
    ResponseCodeWrong => ("response_code_wrong", 403,
        "The response_code does not belong to this request. The page may have been opened in another browser; start again.",
        "response_code 与本次请求不符，页面可能在其他浏览器打开，请重新发起。"),
    /// The transaction expired.
    TransactionExpired => ("transaction_expired", 410,
        "The request has expired; the citizen must scan a new code.",
        "本次核验请求已过期，请群众扫描新的二维码。"),
    /// Already answered.
    AlreadyAnswered => ("transaction_already_answered", 409,
        "This request was already answered; each request is answered once.",
        "本次核验请求已有答复，每个请求只能答复一次。"),
    /// A transaction's wallet endpoints were called too often.
    TooManyAttempts => ("too_many_attempts", 429,
        "This request's links were called too often; the back office must start a new request.",
        "本次请求的链接被调用次数过多，请后台重新发起请求。"),
    /// The encrypted response is not a JWE.
    ResponseMalformed => ("response_malformed", 400,
        "The wallet's response is not a readable compact JWE.",
        "钱包的答复不是可读取的紧凑 JWE。"),
    /// Wrong JWE alg.
    ResponseAlgUnsupported => ("response_alg_unsupported", 400,
        "The wallet's response must be encrypted with ECDH-ES.",
        "钱包的答复必须使用 ECDH-ES 加密。"),
    /// Unlisted enc.
    ResponseEncUnsupported => ("response_enc_unsupported", 400,
        "The wallet's response uses a content encryption the request did not list (A128GCM or A256GCM).",
        "钱包的答复使用了请求未列出的内容加密算法（应为 A128GCM 或 A256GCM）。"),
    /// Wrong key.
    ResponseWrongKey => ("response_wrong_key", 400,
        "The wallet's response is not encrypted to this request's key (another request's, or a wrong key).",
        "钱包的答复未使用本次请求的密钥加密（可能是其他请求的密钥或错误密钥）。"),
    /// Compressed JWE.
    ResponseCompressed => ("response_compressed", 400,
        "Compressed responses (zip) are not accepted.",
        "不接受压缩（zip）的答复。"),
    /// Not the OpenID4VP response form.
    ResponseInvalid => ("response_invalid", 400,
        "The wallet's response is not in the form OpenID4VP asks for; the detail says what.",
        "钱包的答复不符合 OpenID4VP 要求的格式，详见说明。"),
    /// Wrong `state`.
    StateMismatch => ("state_mismatch", 400,
        "The response's state does not belong to this request.",
        "答复中的 state 与本次请求不符。"),
    /// Plain response where encryption is required.
    EncryptionRequired => ("encryption_required", 400,
        "This request accepts only encrypted responses (direct_post.jwt).",
        "本次请求只接受加密答复（direct_post.jwt）。"),
    /// The presentation failed verification.
    PresentationRejected => ("presentation_rejected", 400,
        "The presentation was checked and rejected; the request is closed with the verifier's codes.",
        "证照出示经核验未通过，本次请求已按核验代码结束。"),
    /// The transaction asks beyond the tenant's registered service item.
    ClaimsNotRegistered => ("claims_not_registered", 403,
        "The request asks for more than the agency's registered service item allows (trust list); the detail lists the excess. Ask only for the registered claims, or have the registration changed.",
        "请求索取的信息超出本机构在信任列表中登记的事项范围，超出部分见说明。请只索取已登记的信息，或申请变更登记。"),
    /// The tenant or the service item is not registered (or not now).
    RegistrationInvalid => ("registration_invalid", 403,
        "The trust list does not register this agency's certificate for this service item now (unknown, revoked or expired); the detail says which.",
        "信任列表中没有本机构证书在该事项下的有效登记（未登记、已吊销或已过期），详见说明。"),
    /// No fresh trust bundle.
    NoTrustBundle => ("trust_bundle_unavailable", 503,
        "The service has no fresh trust bundle and cannot verify now; nothing was recorded. Try again shortly.",
        "服务暂无有效的信任包，暂时无法核验，未记录任何结果，请稍后重试。"),
    /// The database is failing.
    StorageUnavailable => ("storage_unavailable", 503,
        "The service cannot reach its database right now; nothing was changed. Try again shortly.",
        "服务暂时无法访问数据库，未做任何更改，请稍后重试。"),
    /// Anything else.
    Internal => ("internal", 500,
        "The service failed unexpectedly; nothing was changed. The operator can find the cause in the logs.",
        "服务发生意外错误，未做任何更改。管理员可在日志中查找原因。"),
}

/// An API error: its code and a precise detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The code.
    pub code: ApiCode,
    /// What exactly was wrong (English).
    pub detail: String,
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
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code.code(),
            "message_en": self.code.message_en(),
            "message_zh": self.code.message_zh(),
            "detail": self.detail,
        })
    }

    /// The body for a wallet: also OAuth's `error` and `error_description`.
    pub fn wallet_body(&self) -> Value {
        let mut b = self.body();
        let error = match self.code.status() {
            500..=599 => "server_error",
            _ => "invalid_request",
        };
        if let Some(o) = b.as_object_mut() {
            o.insert("error".into(), error.into());
            o.insert("error_description".into(), self.detail.clone().into());
        }
        b
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let code = match &e {
            ServiceError::InvalidRequest(_) => ApiCode::InvalidRequest,
            ServiceError::InvalidQuery(_) => ApiCode::InvalidQuery,
            ServiceError::Unauthorized(_) => ApiCode::Unauthorized,
            ServiceError::Forbidden(_) => ApiCode::Forbidden,
            ServiceError::NotFound(_) => ApiCode::NotFound,
            ServiceError::Conflict(_) => ApiCode::Conflict,
            ServiceError::CaMissing => ApiCode::CaMissing,
            ServiceError::TooManyPending { .. } => ApiCode::TooManyPending,
            ServiceError::ResponseCodeRequired => ApiCode::ResponseCodeRequired,
            ServiceError::ResponseCodeWrong => ApiCode::ResponseCodeWrong,
            ServiceError::TransactionExpired(_) => ApiCode::TransactionExpired,
            ServiceError::AlreadyAnswered(_) => ApiCode::AlreadyAnswered,
            ServiceError::TooManyAttempts(_) => ApiCode::TooManyAttempts,
            ServiceError::Response(r) => match r {
                JweRefusal::Malformed(_) => ApiCode::ResponseMalformed,
                JweRefusal::Alg(_) => ApiCode::ResponseAlgUnsupported,
                JweRefusal::Enc(_) => ApiCode::ResponseEncUnsupported,
                JweRefusal::Zip => ApiCode::ResponseCompressed,
                _ => ApiCode::ResponseWrongKey,
            },
            ServiceError::ResponseInvalid(_) => ApiCode::ResponseInvalid,
            ServiceError::StateMismatch => ApiCode::StateMismatch,
            ServiceError::EncryptionRequired => ApiCode::EncryptionRequired,
            ServiceError::NoTrustBundle(_) => ApiCode::NoTrustBundle,
            ServiceError::NotRegistered(r)
                if r.code == tongban_verifier::ErrorCode::ClaimsNotRegistered =>
            {
                ApiCode::ClaimsNotRegistered
            }
            ServiceError::NotRegistered(_) => ApiCode::RegistrationInvalid,
            ServiceError::StorageUnavailable { .. } => ApiCode::StorageUnavailable,
            _ => ApiCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_have_both_sentences() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ApiCode::ALL {
            assert!(seen.insert(c.code()), "{} twice", c.code());
            assert!(
                c.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
            assert!(!c.message_en().is_empty() && !c.message_zh().is_empty());
            assert!((400..600).contains(&c.status()));
        }
    }
}
