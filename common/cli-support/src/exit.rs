//! Exit statuses and error printing shared by every Tongban program, so a
//! script can treat `tongban-issuer`, `tongban-verify` and `tongban-wallet`
//! alike:
//!
//! | status | meaning |
//! | --- | --- |
//! | 0 | done (for a check: accepted) |
//! | 1 | the program worked and the answer is no: a presentation rejected, a credential refused, the citizen declined |
//! | 2 | the program could not do what was asked: bad arguments, unreadable files, network failures |
//!
//! Errors are printed one way: `PROGRAM: error[CODE]: SENTENCE` on standard
//! error, or with `--json` a single JSON document `{"error": {"code", "message", …}}`
//! on standard output, so a script reads exactly one document.

use std::process::ExitCode;

use serde_json::{Map, Value};

/// What a program's run came to, as an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; for a check, accepted (status 0).
    Ok,
    /// The answer is no: rejected, refused or declined (status 1).
    Refused,
    /// The program could not do what was asked (status 2).
    Failed,
}

impl Exit {
    /// The numeric status.
    pub const fn status(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Refused => 1,
            Exit::Failed => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.status())
    }
}

/// Prints an error the shared way: `program: error[code]: message` on
/// standard error, or with `json` one `{"error": {...}}` document on
/// standard output carrying `code`, `message` and the `extra` members.
pub fn print_error(
    program: &str,
    json: bool,
    code: &str,
    message: &str,
    extra: Map<String, Value>,
) {
    if json {
        println!("{}", error_document(code, message, extra));
    } else {
        eprintln!("{program}: error[{code}]: {message}");
    }
}

/// The `{"error": {"code", "message", …extra}}` document `--json` prints.
pub fn error_document(code: &str, message: &str, extra: Map<String, Value>) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), Value::String(code.into()));
    error.insert("message".into(), Value::String(message.into()));
    error.extend(extra);
    let mut doc = Map::new();
    doc.insert("error".into(), Value::Object(error));
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_convention() {
        assert_eq!(Exit::Ok.status(), 0);
        assert_eq!(Exit::Refused.status(), 1);
        assert_eq!(Exit::Failed.status(), 2);
    }

    #[test]
    fn the_json_error_carries_code_message_and_extras() {
        let mut extra = Map::new();
        extra.insert("reason".into(), Value::String("invalid_grant".into()));
        let doc = error_document("usage", "bad flag", extra);
        assert_eq!(
            doc,
            serde_json::json!({"error": {"code": "usage", "message": "bad flag", "reason": "invalid_grant"}})
        );
    }
}
