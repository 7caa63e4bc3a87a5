//! What the page's calls can fail with: a stable code, a sentence in
//! English and in Chinese a clerk can act on, and the detail.

use serde_json::{Value, json};
use tongban_verifier::Rejection;

/// Why a call from the page failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The verifier library refused something (a trust list, a status
    /// list, a bundle, a request, a transport text); its code and sentences.
    #[error("{}: {}", .0.code, .0.detail)]
    Refused(Rejection),
    /// No trust bundle is held yet.
    #[error("no trust bundle is held")]
    NoBundle,
    /// The pinned anchor keys could not be read.
    #[error("the anchor keys: {0}")]
    AnchorsInvalid(String),
    /// The page passed something malformed (a bug in the page, never the
    /// citizen's input).
    #[error("{0}")]
    Argument(String),
    /// A text too long for one QR code.
    #[error("the QR code: {0}")]
    QrEncode(String),
    /// A camera frame whose size does not match its pixels.
    #[error("the frame: {0}")]
    Frame(String),
}

impl WebError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::Refused(r) => r.code.code(),
            WebError::NoBundle => "no_bundle",
            WebError::AnchorsInvalid(_) => "anchors_invalid",
            WebError::Argument(_) => "page_argument_invalid",
            WebError::QrEncode(_) => "qr_encode_failed",
            WebError::Frame(_) => "frame_invalid",
        }
    }

    /// The English sentence.
    pub fn message_en(&self) -> &'static str {
        match self {
            WebError::Refused(r) => r.code.message_en(),
            WebError::NoBundle => {
                "This counter holds no trust bundle yet: sync while online, or load a bundle file."
            }
            WebError::AnchorsInvalid(_) => {
                "The trust anchor's key in the page's configuration cannot be read: ask the operator for the anchor key file."
            }
            WebError::Argument(_) => {
                "The page made a malformed call: reload it; if this repeats, report it."
            }
            WebError::QrEncode(_) => {
                "The request is too long for one QR code: ask for fewer claims."
            }
            WebError::Frame(_) => "A camera frame could not be read: restart the camera.",
        }
    }

    /// The Chinese sentence.
    pub fn message_zh(&self) -> &'static str {
        match self {
            WebError::Refused(r) => r.code.message_zh(),
            WebError::NoBundle => "本窗口尚无信任包：请联网同步，或载入信任包文件。",
            WebError::AnchorsInvalid(_) => {
                "页面配置中的信任锚公钥无法读取：请向运营方索取信任锚公钥文件。"
            }
            WebError::Argument(_) => "页面调用参数有误：请刷新页面；如反复出现请报告。",
            WebError::QrEncode(_) => "请求过长，一个二维码放不下：请减少所要求的字段。",
            WebError::Frame(_) => "无法读取摄像头画面：请重新打开摄像头。",
        }
    }

    /// The error as the page receives it.
    pub fn to_json(&self) -> Value {
        let detail = match self {
            WebError::Refused(r) => r.detail.clone(),
            other => other.to_string(),
        };
        json!({
            "code": self.code(),
            "message_en": self.message_en(),
            "message_zh": self.message_zh(),
            "detail": detail,
        })
    }
}

impl From<Rejection> for WebError {
    fn from(r: Rejection) -> Self {
        WebError::Refused(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_verifier::ErrorCode;

    #[test]
    fn every_error_has_a_code_and_two_sentences() {
        let all = [
            WebError::Refused(Rejection::new(ErrorCode::TrustListRollback, "x")),
            WebError::NoBundle,
            WebError::AnchorsInvalid("x".into()),
            WebError::Argument("x".into()),
            WebError::QrEncode("x".into()),
            WebError::Frame("x".into()),
        ];
        for e in all {
            let j = e.to_json();
            assert!(!j["code"].as_str().unwrap().is_empty());
            assert!(
                j["message_zh"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .any(|c| c > '\u{2E80}')
            );
            assert!(j["message_en"].as_str().unwrap().is_ascii());
        }
    }
}
