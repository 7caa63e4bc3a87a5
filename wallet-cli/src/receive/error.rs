//! Why a credential was not received: [`ReceiveError`], with a stable code
//! for each case, and [`printable`], how text from the network is made
//! safe to show.

/// Why a credential was not received. Each variant has a stable
/// [`code`](ReceiveError::code); [`is_refusal`](ReceiveError::is_refusal)
/// tells a refusal (by the issuer, or of the credential) from a usage,
/// network or protocol error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The text is not a credential offer, or the offer is malformed.
    #[error("not a usable credential offer: {0}")]
    OfferInvalid(String),
    /// A well-formed offer this wallet cannot take up.
    #[error("{0}")]
    OfferUnsupported(String),
    /// A URL that is neither https nor on this machine.
    #[error(
        "{0} is not https; refusing to send or trust anything over plain http (--allow-http for a test issuer)"
    )]
    InsecureUrl(String),
    /// The issuer could not be reached.
    #[error("cannot reach {url}: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The issuer's metadata is missing, malformed or inconsistent.
    #[error("the issuer's metadata is not usable: {0}")]
    MetadataInvalid(String),
    /// The offer needs a PIN and there is no terminal to ask for it.
    #[error(
        "this offer needs the PIN the agency sent separately: give it with --tx-code or TONGBAN_TX_CODE (no terminal to ask on)"
    )]
    TxCodeRequired,
    /// No PIN was entered at the prompt.
    #[error("no PIN entered; nothing was received")]
    TxCodeNotEntered,
    /// The PIN does not have the form the offer announces (not sent).
    #[error("the PIN was not sent: {0}")]
    TxCodeFormat(String),
    /// The issuer says the PIN is wrong, and how many attempts are left.
    #[error("the PIN is wrong; {remaining} attempt(s) left before the offer is locked")]
    TxCodeWrong {
        /// Attempts left.
        remaining: u32,
    },
    /// Too many wrong PINs: the issuer has locked the offer.
    #[error("too many wrong PINs: the issuer has locked this offer; ask the agency for a new one")]
    OfferLocked,
    /// The issuer refuses the offer's code (expired, used or unknown).
    #[error("the issuer no longer accepts this offer ({0}); ask the agency for a new one")]
    OfferRejected(String),
    /// The issuer answered an error not covered above.
    #[error("the issuer's {endpoint} endpoint refused the request: {error}: {description}")]
    IssuerError {
        /// `token`, `nonce` or `credential`.
        endpoint: &'static str,
        /// The OAuth `error` code (or `http_<status>`).
        error: String,
        /// The issuer's `error_description`.
        description: String,
    },
    /// The issuer's answer is malformed or not what the protocol says.
    #[error("the issuer's answer is not usable: {0}")]
    ResponseInvalid(String),
    /// Encrypting the request or decrypting the response failed.
    #[error("encryption: {0}")]
    Encryption(String),
    /// The encrypted response is compressed (`zip` in its protected
    /// header): refused before decryption, which would inflate it without
    /// a bound.
    #[error(
        "the credential response is compressed (\"zip\": {0:?}); compressed responses are refused"
    )]
    CompressedResponse(String),
    /// The holder key could not sign the proof.
    #[error("the holder key could not sign the key proof: {0}")]
    Signing(String),
    /// The citizen's login at the issuer did not authorize the wallet
    /// (`error` in the authorization response).
    #[error("the issuer did not authorize this request: {0}")]
    AuthorizationDenied(String),
    /// The authorization response is not this request's (`state`, `iss`)
    /// or has no code.
    #[error("the authorization response cannot be used: {0}")]
    AuthorizationResponseInvalid(String),
    /// The browser did not come back from the login in time.
    #[error("the login in the browser did not come back within {0} seconds; run receive again")]
    LoginTimeout(u64),
    /// The wallet cannot listen for the browser's return on this machine.
    #[error("cannot wait for the browser on the loopback interface: {0}")]
    Loopback(String),
    /// The received credential does not pass the checks.
    #[error("the credential does not verify: {reason} — {detail}")]
    Refused {
        /// A stable code: a verifier error code (`signature_invalid`,
        /// `disclosure_unreferenced`, …) or `issuer_mismatch`,
        /// `vct_mismatch`, `holder_key_mismatch`.
        reason: String,
        /// What exactly, in English.
        detail: String,
    },
}

impl ReceiveError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiveError::OfferInvalid(_) => "offer_invalid",
            ReceiveError::OfferUnsupported(_) => "offer_unsupported",
            ReceiveError::InsecureUrl(_) => "insecure_url",
            ReceiveError::Unreachable { .. } => "issuer_unreachable",
            ReceiveError::MetadataInvalid(_) => "issuer_metadata_invalid",
            ReceiveError::TxCodeRequired => "tx_code_required",
            ReceiveError::TxCodeNotEntered => "tx_code_not_entered",
            ReceiveError::TxCodeFormat(_) => "tx_code_format",
            ReceiveError::TxCodeWrong { .. } => "tx_code_wrong",
            ReceiveError::OfferLocked => "offer_locked",
            ReceiveError::OfferRejected(_) => "offer_rejected",
            ReceiveError::IssuerError { .. } => "issuer_error",
            ReceiveError::ResponseInvalid(_) => "issuer_response_invalid",
            ReceiveError::Encryption(_) => "encryption_failed",
            ReceiveError::CompressedResponse(_) => "response_compressed",
            ReceiveError::Signing(_) => "signing_failed",
            ReceiveError::Refused { .. } => "credential_refused",
            ReceiveError::AuthorizationDenied(_) => "authorization_denied",
            ReceiveError::AuthorizationResponseInvalid(_) => "authorization_response_invalid",
            ReceiveError::LoginTimeout(_) => "login_timeout",
            ReceiveError::Loopback(_) => "loopback_unavailable",
        }
    }

    /// Whether this is a refusal — of the credential by the wallet, or of
    /// the offer or PIN by the issuer — rather than a usage, network or
    /// protocol error.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ReceiveError::Refused { .. }
                | ReceiveError::TxCodeWrong { .. }
                | ReceiveError::TxCodeNotEntered
                | ReceiveError::OfferLocked
                | ReceiveError::OfferRejected(_)
                | ReceiveError::AuthorizationDenied(_)
        )
    }

    /// For a refused credential, the precise reason code.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ReceiveError::Refused { reason, .. } => Some(reason),
            _ => None,
        }
    }

    pub(super) fn refused(reason: &str, detail: impl Into<String>) -> Self {
        ReceiveError::Refused {
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

/// Text from the network, made safe to print: no control characters (no
/// terminal escapes), at most 300 characters.
pub fn printable(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > 300 {
        clean.chars().take(300).collect::<String>() + "…"
    } else {
        clean
    }
}
