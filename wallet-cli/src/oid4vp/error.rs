//! Why a verifier's request was not answered: [`AnswerError`], each case
//! with a stable code, a sentence in English and in Chinese, and whether it
//! is a refusal (exit status 1) or a failure to do what was asked (2).

/// What is wrong with a request the wallet refuses. Each has a stable code;
/// the wallet answers none of them (a request that fails these checks is
/// not known to come from the party it names, so nothing is posted to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestFault {
    /// Not a compact JWS (an unsigned or encrypted request object).
    NotSigned,
    /// `typ` is not `oauth-authz-req+jwt`.
    TypInvalid,
    /// `alg` is not `ES256`.
    AlgUnsupported,
    /// No usable `x5c` certificate chain.
    X5cMissing,
    /// A certificate in `x5c` is not a usable X.509 certificate.
    CertificateInvalid,
    /// The client identifier's prefix is neither `x509_hash` nor `x509_san_dns`.
    ClientIdPrefixUnsupported,
    /// The `x509_hash` is not the leaf certificate's.
    ClientIdHashMismatch,
    /// The `x509_san_dns` name is not a DNS name of the leaf certificate.
    ClientIdSanMismatch,
    /// The `response_uri` host is not the `x509_san_dns` name.
    ResponseUriHostMismatch,
    /// The leaf certificate is self-signed (HAIP forbids it).
    LeafSelfSigned,
    /// No CA the wallet trusts issued the certificate chain.
    VerifierCaUntrusted,
    /// An intermediate certificate does not chain.
    ChainInvalid,
    /// A certificate of the chain is outside its validity period.
    CertificateNotValidNow,
    /// The signature does not verify under the leaf's key.
    SignatureInvalid,
    /// The request object's `client_id` is not the link's.
    ClientIdMismatch,
    /// The `wallet_nonce` the wallet sent is not echoed.
    WalletNonceMismatch,
    /// `response_type` is not `vp_token`.
    ResponseTypeUnsupported,
    /// `response_mode` is neither `direct_post.jwt` nor (when allowed)
    /// `direct_post`.
    ResponseModeUnsupported,
    /// `response_uri` is missing, or not https (nor http to this machine).
    ResponseUriInvalid,
    /// `aud` is present and not `https://self-issued.me/v2`.
    AudInvalid,
    /// `exp` has passed.
    Expired,
    /// No P-256 ECDH-ES key in `client_metadata.jwks`, or no `enc` this
    /// wallet supports.
    EncryptionKeyMissing,
    /// The claims are malformed (a missing `nonce`, a bad DCQL query …).
    Malformed,
}

impl RequestFault {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            RequestFault::NotSigned => "request_not_signed",
            RequestFault::TypInvalid => "request_typ_invalid",
            RequestFault::AlgUnsupported => "request_alg_unsupported",
            RequestFault::X5cMissing => "request_x5c_missing",
            RequestFault::CertificateInvalid => "request_certificate_invalid",
            RequestFault::ClientIdPrefixUnsupported => "client_id_prefix_unsupported",
            RequestFault::ClientIdHashMismatch => "client_id_hash_mismatch",
            RequestFault::ClientIdSanMismatch => "client_id_san_mismatch",
            RequestFault::ResponseUriHostMismatch => "response_uri_host_mismatch",
            RequestFault::LeafSelfSigned => "verifier_certificate_self_signed",
            RequestFault::VerifierCaUntrusted => "verifier_ca_untrusted",
            RequestFault::ChainInvalid => "verifier_chain_invalid",
            RequestFault::CertificateNotValidNow => "verifier_certificate_expired",
            RequestFault::SignatureInvalid => "request_signature_invalid",
            RequestFault::ClientIdMismatch => "client_id_mismatch",
            RequestFault::WalletNonceMismatch => "wallet_nonce_mismatch",
            RequestFault::ResponseTypeUnsupported => "response_type_unsupported",
            RequestFault::ResponseModeUnsupported => "response_mode_unsupported",
            RequestFault::ResponseUriInvalid => "response_uri_invalid",
            RequestFault::AudInvalid => "request_aud_invalid",
            RequestFault::Expired => "request_expired",
            RequestFault::EncryptionKeyMissing => "response_encryption_unsupported",
            RequestFault::Malformed => "request_malformed",
        }
    }

    /// What the citizen reads, in Chinese.
    pub fn message_zh(self) -> &'static str {
        match self {
            RequestFault::LeafSelfSigned
            | RequestFault::VerifierCaUntrusted
            | RequestFault::ChainInvalid => {
                "无法确认请求方身份：其证书不是由钱包信任的机构签发的，未出示任何信息。"
            }
            RequestFault::CertificateNotValidNow => "请求方的证书不在有效期内，未出示任何信息。",
            RequestFault::Expired => "该请求已过期，请在办事页面重新发起。",
            RequestFault::SignatureInvalid
            | RequestFault::NotSigned
            | RequestFault::TypInvalid
            | RequestFault::AlgUnsupported
            | RequestFault::X5cMissing
            | RequestFault::CertificateInvalid => "请求的签名无效或缺失，未出示任何信息。",
            _ => "请求不符合规范或与请求方身份不一致，未出示任何信息。",
        }
    }

    /// What the citizen reads, in English.
    pub fn message_en(self) -> &'static str {
        match self {
            RequestFault::LeafSelfSigned
            | RequestFault::VerifierCaUntrusted
            | RequestFault::ChainInvalid => {
                "The requester cannot be identified: its certificate is not issued by a CA this wallet trusts; nothing was presented."
            }
            RequestFault::CertificateNotValidNow => {
                "The requester's certificate is not valid now; nothing was presented."
            }
            RequestFault::Expired => "The request has expired; start again on the service page.",
            RequestFault::SignatureInvalid
            | RequestFault::NotSigned
            | RequestFault::TypInvalid
            | RequestFault::AlgUnsupported
            | RequestFault::X5cMissing
            | RequestFault::CertificateInvalid => {
                "The request's signature is invalid or missing; nothing was presented."
            }
            _ => {
                "The request is malformed or does not match the requester's identity; nothing was presented."
            }
        }
    }
}

/// Why a request was not answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The link is not an `openid4vp://` (or `haip-vp://`) request by
    /// reference.
    #[error("not a usable OpenID4VP request link: {0}")]
    LinkInvalid(String),
    /// `request_uri_method` is neither `get` nor `post`.
    #[error("request_uri_method {0:?} is neither get nor post")]
    RequestUriMethodInvalid(String),
    /// A URL the fetching rules refuse (not https, not loopback).
    #[error("{url}: {reason}")]
    InsecureUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The verifier answered with a redirect; none is followed.
    #[error("{url} answered with a redirect (HTTP {status}); redirects are not followed")]
    RedirectRefused {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The verifier could not be reached, or answered an error status.
    #[error("{url}: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// An answer larger than the bound.
    #[error("{url}: the answer is larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The bound.
        limit: u64,
    },
    /// The request is refused by the wallet's checks.
    #[error("the request is refused ({}): {detail}", fault.code())]
    Refused {
        /// Which check.
        fault: RequestFault,
        /// What exactly.
        detail: String,
    },
    /// `transaction_data` of a type this wallet does not know (posted to
    /// the verifier as `invalid_transaction_data`).
    #[error("the request carries transaction data this wallet cannot handle: {0}")]
    TransactionDataUnsupported(String),
    /// No stored credential answers the query.
    #[error("no credential in the wallet answers the request: {0}")]
    NoMatchingCredential(String),
    /// `--credential` names a credential that does not answer any query.
    #[error("{0}")]
    CredentialChoice(String),
    /// The citizen declined (or there was no one to ask).
    #[error("{0}")]
    Declined(String),
    /// The presentation or its encryption could not be made.
    #[error("{0}")]
    Building(String),
    /// The verifier refused the response.
    #[error("the verifier refused the response: {error}: {description}")]
    ResponseRejected {
        /// Its error code, or `http_<status>`.
        error: String,
        /// Its description.
        description: String,
    },
}

impl AnswerError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AnswerError::LinkInvalid(_) => "request_link_invalid",
            AnswerError::RequestUriMethodInvalid(_) => "invalid_request_uri_method",
            AnswerError::InsecureUrl { .. } => "fetch_insecure_url",
            AnswerError::RedirectRefused { .. } => "fetch_redirect_refused",
            AnswerError::Unreachable { .. } => "verifier_unreachable",
            AnswerError::TooLarge { .. } => "fetch_too_large",
            AnswerError::Refused { fault, .. } => fault.code(),
            AnswerError::TransactionDataUnsupported(_) => "invalid_transaction_data",
            AnswerError::NoMatchingCredential(_) => "no_matching_credential",
            AnswerError::CredentialChoice(_) => "credential_not_matching",
            AnswerError::Declined(_) => "declined",
            AnswerError::Building(_) => "presentation_failed",
            AnswerError::ResponseRejected { .. } => "response_rejected",
        }
    }

    /// Whether the answer is no (exit status 1): the wallet refused the
    /// request, the citizen declined, nothing matched, or the verifier
    /// refused the response — as opposed to a usage or network failure (2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            AnswerError::Refused { .. }
                | AnswerError::TransactionDataUnsupported(_)
                | AnswerError::NoMatchingCredential(_)
                | AnswerError::Declined(_)
                | AnswerError::ResponseRejected { .. }
        )
    }

    /// A sentence in Chinese for the citizen.
    pub fn message_zh(&self) -> &'static str {
        match self {
            AnswerError::Refused { fault, .. } => fault.message_zh(),
            AnswerError::TransactionDataUnsupported(_) => {
                "该请求包含钱包无法处理的交易数据，已拒绝。"
            }
            AnswerError::NoMatchingCredential(_) => "钱包中没有符合请求的证照。",
            AnswerError::CredentialChoice(_) => "所选证照不符合请求。",
            AnswerError::Declined(_) => "您已拒绝出示，未发送任何证照信息。",
            AnswerError::ResponseRejected { .. } => "请求方拒绝了出示结果，请在办事页面重新发起。",
            AnswerError::LinkInvalid(_) | AnswerError::RequestUriMethodInvalid(_) => {
                "这不是有效的出示请求链接或二维码。"
            }
            _ => "无法连接请求方，请检查网络后重试；未出示任何信息。",
        }
    }

    pub(crate) fn refused(fault: RequestFault, detail: impl Into<String>) -> AnswerError {
        AnswerError::Refused {
            fault,
            detail: detail.into(),
        }
    }
}
