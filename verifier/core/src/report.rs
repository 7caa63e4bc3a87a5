//! The verification report: every check with its outcome, the facts read
//! from the credential, the disclosed claims, and one verdict.
//!
//! Checks run in a fixed order and stop at the first failure; checks after
//! it are reported as [`Outcome::NotRun`]. Disclosed claims appear only in an
//! accepted report: nothing unverified is ever shown as a claim.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::{ErrorCode, Rejection};

/// One check of the verification, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Size, encoding, `~`/`.` structure, JSON well-formedness.
    Structure,
    /// `alg` allow-list, no header-supplied keys, no `crit`, `typ`.
    HeaderPolicy,
    /// `iss`, `vct` and the registered claims have the right form.
    Claims,
    /// The issuer is trusted, for this `vct`, with a key valid at `iat`.
    Trust,
    /// The issuer's signature verifies.
    Signature,
    /// Every disclosure is valid and referenced (RFC 9901 §7.1).
    Disclosures,
    /// The disclosed claims follow the licence type's schema (catalogue).
    Schema,
    /// `exp`, `nbf` and `iat` against the time of checking.
    ValidityWindow,
    /// Not revoked or suspended, per a fresh status list.
    Status,
    /// The KB-JWT proves possession of the key in `cnf`.
    HolderBinding,
    /// The KB-JWT's `aud` and `nonce` answer this verifier's request.
    NonceAudience,
}

impl Check {
    /// Every check, in order.
    pub const ALL: [Check; 11] = [
        Check::Structure,
        Check::HeaderPolicy,
        Check::Claims,
        Check::Trust,
        Check::Signature,
        Check::Disclosures,
        Check::Schema,
        Check::ValidityWindow,
        Check::Status,
        Check::HolderBinding,
        Check::NonceAudience,
    ];

    /// A short English label.
    pub const fn label_en(self) -> &'static str {
        match self {
            Check::Structure => "format",
            Check::HeaderPolicy => "header policy",
            Check::Claims => "standard fields",
            Check::Trust => "trusted issuer",
            Check::Schema => "licence type rules",
            Check::Status => "revocation status",
            Check::Signature => "issuer signature",
            Check::Disclosures => "disclosed fields",
            Check::ValidityWindow => "validity period",
            Check::HolderBinding => "holder binding",
            Check::NonceAudience => "request (nonce, audience)",
        }
    }

    /// A short Chinese label.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Check::Structure => "格式",
            Check::HeaderPolicy => "头部策略",
            Check::Claims => "标准字段",
            Check::Trust => "可信签发机构",
            Check::Schema => "证照类型规范",
            Check::Status => "证照状态",
            Check::Signature => "签发机构签名",
            Check::Disclosures => "披露字段",
            Check::ValidityWindow => "有效期",
            Check::HolderBinding => "持有人绑定",
            Check::NonceAudience => "请求匹配（nonce、受众）",
        }
    }
}

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The check ran and passed.
    Passed,
    /// The policy did not call for this check; the reason says why.
    Skipped {
        /// Why it was skipped.
        reason: String,
    },
    /// The check failed: the verdict is rejected.
    Failed {
        /// The stable code.
        code: ErrorCode,
    },
    /// An earlier check failed, so this one did not run.
    NotRun,
}

/// A check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Which check.
    pub check: Check,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed (or was skipped by policy).
    Accepted,
    /// A check failed.
    Rejected,
}

/// Facts read from the issuer-signed JWT (shown to the clerk; only
/// trustworthy when the verdict is accepted).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CredentialInfo {
    /// `iss`.
    pub iss: Option<String>,
    /// `vct`.
    pub vct: Option<String>,
    /// The header `alg`.
    pub alg: Option<String>,
    /// The header `kid`.
    pub kid: Option<String>,
    /// `iat`.
    pub iat: Option<i64>,
    /// `nbf`.
    pub nbf: Option<i64>,
    /// `exp`.
    pub exp: Option<i64>,
    /// `status`, as issued (checked against a status list by the trust layer).
    pub status: Option<Value>,
    /// Whether the presentation carried a Key Binding JWT.
    pub key_binding: bool,
    /// The KB-JWT's `transaction_data_hashes` (OpenID4VP 1.0 §B.3.3), when
    /// present: checked for shape here, compared with the request's
    /// transaction data by the caller that sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_data_hashes: Option<Vec<String>>,
    /// The KB-JWT's `transaction_data_hashes_alg`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_data_hashes_alg: Option<String>,
}

/// The full result of verifying one presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The verdict.
    pub verdict: Verdict,
    /// Every check in order with its outcome.
    pub checks: Vec<CheckResult>,
    /// Why it was rejected, when it was.
    pub rejection: Option<Rejection>,
    /// What the credential says about itself.
    pub credential: CredentialInfo,
    /// The verified claims (RFC 9901 §7.1 output), only when accepted.
    pub claims: Option<Map<String, Value>>,
    /// The paths of the disclosed claims, only when accepted.
    pub disclosed: Vec<String>,
    /// Conditions the policy lets pass with a warning (e.g. `status_stale`
    /// under `StalePolicy::Warn`).
    pub warnings: Vec<Rejection>,
    /// Every schema violation of the disclosed claims (with
    /// `claims_schema_violation`).
    pub schema_violations: Vec<crate::catalogue::schema::Violation>,
}

impl Report {
    /// The report of input refused before it could be parsed as a
    /// presentation (for example a damaged QR transport text): the
    /// structure check failed and nothing else ran.
    pub fn rejected_before_parsing(rejection: Rejection) -> Report {
        Report {
            verdict: Verdict::Rejected,
            checks: Check::ALL
                .iter()
                .map(|&check| CheckResult {
                    check,
                    outcome: if check == Check::Structure {
                        Outcome::Failed {
                            code: rejection.code,
                        }
                    } else {
                        Outcome::NotRun
                    },
                })
                .collect(),
            rejection: Some(rejection),
            credential: CredentialInfo::default(),
            claims: None,
            disclosed: Vec::new(),
            warnings: Vec::new(),
            schema_violations: Vec::new(),
        }
    }

    /// Whether the verdict is accepted.
    pub fn is_accepted(&self) -> bool {
        self.verdict == Verdict::Accepted
    }

    /// The rejection code, if rejected.
    pub fn code(&self) -> Option<ErrorCode> {
        self.rejection.as_ref().map(|r| r.code)
    }

    /// The check that failed, if any.
    pub fn failed_check(&self) -> Option<Check> {
        self.checks
            .iter()
            .find(|c| matches!(c.outcome, Outcome::Failed { .. }))
            .map(|c| c.check)
    }

    /// The report as JSON (the `--json` output; documented in
    /// `specs/credential-format.md`).
    pub fn to_json(&self) -> Value {
        let rejection = self.rejection.as_ref().map(|r| {
            json!({
                "code": r.code.code(),
                "check": self.failed_check(),
                "message_en": r.code.message_en(),
                "message_zh": r.code.message_zh(),
                "detail": r.detail,
            })
        });
        let warnings: Vec<Value> = self
            .warnings
            .iter()
            .map(|w| json!({"code": w.code.code(), "message_en": w.code.message_en(), "message_zh": w.code.message_zh(), "detail": w.detail}))
            .collect();
        json!({
            "verdict": self.verdict,
            "rejection": rejection,
            "warnings": warnings,
            "schema_violations": self.schema_violations,
            "credential": self.credential,
            "checks": self.checks,
            "disclosed": self.disclosed,
            "claims": self.claims,
        })
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
