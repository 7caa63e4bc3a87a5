//! What a run can end in: each error with its stable code, its exit status
//! (by the shared convention of `tongban_cli_support::exit`) and the extra
//! members its JSON form carries.

use serde_json::{Map, Value};
use tongban_cli_support::exit::Exit;
use tongban_wallet::oid4vp::AnswerError;
use tongban_wallet::present::PresentError;
use tongban_wallet::receive::ReceiveError;
use tongban_wallet::status::StatusError;
use tongban_wallet::store::WalletError;

/// Why a command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The wallet could not be opened, read or written.
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// Receiving a credential failed or was refused.
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    /// Bad arguments, unreadable input, or no way to ask.
    #[error("{0}")]
    Usage(String),
    /// A credential (or its status list) does not verify.
    #[error("the credential does not verify: {0}")]
    Refused(String),
    /// A download the fetching rules refused (plain http to another
    /// machine, a redirect to another origin, too large), with its code.
    #[error("{message}")]
    FetchRefused {
        /// The stable code.
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// The wallet refused a request by the trust list: a forged or unknown
    /// requester, or one asking beyond its registration (the excess).
    #[error("{}: {}\n  {}\n  {}", .rejection.code, .rejection.detail, .rejection.code.message_en(), .rejection.code.message_zh())]
    Requester {
        /// Why.
        rejection: tongban_verifier::Rejection,
        /// The claims asked beyond the registration.
        excess: Vec<String>,
    },
    /// The trust list could not be synced, imported or used.
    #[error(transparent)]
    Trust(#[from] tongban_wallet::trust::TrustError),
    /// The citizen (or the counter's expired request) said no.
    #[error("{0}")]
    Declined(String),
    /// An online request was not answered (refused, declined, nothing
    /// matched, a network failure), with what was told to the agency.
    #[error("{error}\n  {}", error.message_zh())]
    Answer {
        /// Why.
        error: AnswerError,
        /// The error response posted to the agency, if one was.
        posted: Option<&'static str>,
        /// Where the agency sends the citizen next, if it said.
        redirect_uri: Option<String>,
        /// Why posting the error response failed, if it did.
        post_failed: Option<String>,
    },
}

impl CliError {
    /// An online request not answered, with nothing told to the agency.
    pub fn answer(error: AnswerError) -> CliError {
        CliError::Answer {
            error,
            posted: None,
            redirect_uri: None,
            post_failed: None,
        }
    }
}

impl From<PresentError> for CliError {
    fn from(e: PresentError) -> Self {
        CliError::Usage(e.to_string())
    }
}

impl From<StatusError> for CliError {
    fn from(e: StatusError) -> Self {
        if let Some(code) = e.fetch_code() {
            CliError::FetchRefused {
                code,
                message: e.to_string(),
            }
        } else if e.is_refusal() {
            CliError::Refused(e.to_string())
        } else {
            CliError::Usage(e.to_string())
        }
    }
}

impl CliError {
    /// The stable code printed as `error[CODE]`.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Wallet(w) => w.code(),
            CliError::Receive(r) => r.code(),
            CliError::Usage(_) => "usage",
            CliError::Refused(_) => "credential_refused",
            CliError::Declined(_) => "declined",
            CliError::FetchRefused { code, .. } => code,
            CliError::Answer { error, .. } => error.code(),
            CliError::Requester { rejection, .. } => rejection.code.code(),
            CliError::Trust(t) => t.code(),
        }
    }

    /// The exit status: refused or declined (1), anything else (2).
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Refused(_) | CliError::Declined(_) | CliError::Requester { .. } => {
                Exit::Refused
            }
            CliError::Receive(r) if r.is_refusal() => Exit::Refused,
            CliError::Answer { error, .. } if error.is_refusal() => Exit::Refused,
            _ => Exit::Failed,
        }
    }

    /// The members the JSON error carries besides `code` and `message`: the
    /// issuer's `reason` for a refused receive.
    pub fn extra(&self) -> Map<String, Value> {
        let mut extra = Map::new();
        if let CliError::Receive(r) = self
            && let Some(reason) = r.reason()
        {
            extra.insert("reason".into(), Value::String(reason.into()));
        }
        if let CliError::Requester { rejection, excess } = self {
            extra.insert(
                "message_zh".into(),
                Value::String(rejection.code.message_zh().into()),
            );
            extra.insert(
                "excess".into(),
                Value::Array(excess.iter().cloned().map(Value::String).collect()),
            );
        }
        if let CliError::Answer {
            error,
            posted,
            redirect_uri,
            post_failed,
        } = self
        {
            extra.insert(
                "message_zh".into(),
                Value::String(error.message_zh().into()),
            );
            extra.insert(
                "posted".into(),
                posted.map_or(Value::Null, |p| Value::String(p.into())),
            );
            extra.insert(
                "redirect_uri".into(),
                redirect_uri.clone().map_or(Value::Null, Value::String),
            );
            if let Some(f) = post_failed {
                extra.insert("post_failed".into(), Value::String(f.clone()));
            }
        }
        extra
    }
}
