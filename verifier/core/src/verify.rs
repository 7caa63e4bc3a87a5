//! Verification of a presentation, alone or in a batch.
//!
//! The checks run in the order of [`Check::ALL`]. Signature checks are
//! collected as they are reached and verified at the end (the Ed25519 ones
//! of a presentation, or of all presentations in [`verify_batch`], in one
//! batch equation of [`crate::ed25519`]; others one by one); a
//! failed signature then takes its place in the order, so the report always
//! names the first check that failed, whichever mode ran.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::catalogue::Catalogue;
use crate::catalogue::schema::Mode;
use crate::ed25519;
use crate::encoding::{b64_decode, parse_json};
use crate::error::{ErrorCode, Rejection};
use crate::json_tree::{self, Node, Obj};
use crate::jws::{HeaderRules, TreeJws};
use crate::keys::{Algorithm, PublicKey};
use crate::policy::{HolderBinding, Policy, Profile, StalePolicy};
use crate::report::{Check, CheckResult, CredentialInfo, Outcome, Report, Verdict};
use crate::resolver::{KeyQuery, KeyResolver, StatusAnswer, StatusQuery};
use crate::sdjwt::{
    DisclosureRef, SdAlg, SdJwtParts, Step, check_sd_alg_tree, compact_from_json_serialization,
    process_tree,
};
use crate::status::Status;

/// The `typ` of an SD-JWT VC issuer-signed JWT.
pub const TYP_SD_JWT_VC: &str = "dc+sd-jwt";
/// The `typ` of a Key Binding JWT.
pub const TYP_KB_JWT: &str = "kb+jwt";

/// The registered (non-personal) claims of an SD-JWT VC payload, which the
/// catalogue's schemas do not describe.
pub const REGISTERED_CLAIMS: &[&str] = &[
    "iss",
    "iat",
    "nbf",
    "exp",
    "vct",
    "vct#integrity",
    "cnf",
    "status",
];

/// Top-level claims an SD-JWT VC may never disclose selectively (the
/// SD-JWT VC draft's list, plus `iat` in Tongban's profile).
pub const NEVER_DISCLOSABLE: &[&str] = &[
    "iss",
    "vct",
    "vct#integrity",
    "iat",
    "exp",
    "nbf",
    "cnf",
    "status",
];

/// Verifies one presentation given as text.
pub fn verify(input: &str, policy: &Policy, resolver: &dyn KeyResolver) -> Report {
    verify_bytes(input.as_bytes(), policy, resolver)
}

/// Verifies one presentation given as bytes (invalid UTF-8 is a rejection).
/// Both the compact form and the JWS JSON Serialization (RFC 9901 §8,
/// recognised by a leading `{`) are accepted.
pub fn verify_bytes(input: &[u8], policy: &Policy, resolver: &dyn KeyResolver) -> Report {
    let input = compact_input(input, policy);
    let run = Run::prepare(input.as_deref().map_err(Clone::clone), policy, resolver);
    let ok = check_signatures(std::slice::from_ref(&run))
        .pop()
        .unwrap_or_default();
    run.finish(&ok)
}

/// The compact form of the input: itself, or converted from the JSON
/// serialization (a structure failure when that does not convert).
fn compact_input<'i>(input: &'i [u8], policy: &Policy) -> Result<Cow<'i, [u8]>, Rejection> {
    if input.first() != Some(&b'{') || input.len() > policy.limits.max_input_bytes {
        return Ok(Cow::Borrowed(input));
    }
    let json = parse_json(input, "the JSON serialization")?;
    Ok(Cow::Owned(
        compact_from_json_serialization(&json)?.into_bytes(),
    ))
}

/// Verifies many presentations (a day's scans), checking all their Ed25519
/// signatures with one batch equation. Reports come back in input order and
/// are the same as [`verify_bytes`] would give: single and batch
/// verification use the same cofactored equation ([`crate::ed25519`]), so
/// they accept the same signatures.
pub fn verify_batch(inputs: &[&[u8]], policy: &Policy, resolver: &dyn KeyResolver) -> Vec<Report> {
    let compact: Vec<Result<Cow<'_, [u8]>, Rejection>> =
        inputs.iter().map(|i| compact_input(i, policy)).collect();
    let runs: Vec<Run<'_>> = compact
        .iter()
        .map(|i| Run::prepare(i.as_deref().map_err(Clone::clone), policy, resolver))
        .collect();
    let results = check_signatures(&runs);
    runs.into_iter()
        .zip(results)
        .map(|(run, ok)| run.finish(&ok))
        .collect()
}

/// Checks the pending signatures of `runs`, one verdict per pending
/// signature per run. Ed25519 signatures with a single candidate key go
/// into one batch equation (for one presentation: its issuer signature and
/// its KB-JWT's); when the batch fails, each is checked alone to find the
/// culprits. Any other signature is checked alone.
fn check_signatures(runs: &[Run<'_>]) -> Vec<Vec<bool>> {
    let mut results: Vec<Vec<bool>> = runs.iter().map(|r| vec![false; r.pending.len()]).collect();
    let mut batch = Vec::new();
    let mut slots = Vec::new();
    for (ri, run) in runs.iter().enumerate() {
        for (pi, p) in run.pending.iter().enumerate() {
            match (p.keys.as_slice(), p.alg) {
                ([PublicKey::Ed25519(k)], Algorithm::EdDsa | Algorithm::Ed25519) => {
                    // A signature that cannot be decoded stays `false`.
                    if let Some(prepared) = ed25519::Prepared::new(k, p.message, &p.signature) {
                        batch.push(prepared);
                        slots.push((ri, pi));
                    }
                }
                _ => results[ri][pi] = p.verify(),
            }
        }
    }
    let all_good = ed25519::verify_batch(&batch);
    for ((ri, pi), prepared) in slots.into_iter().zip(&batch) {
        results[ri][pi] = all_good || prepared.verify();
    }
    results
}

/// A signature check reached but not yet performed.
struct Pending<'a> {
    check: Check,
    code: ErrorCode,
    alg: Algorithm,
    keys: Vec<PublicKey>,
    message: &'a [u8],
    signature: Vec<u8>,
}

impl Pending<'_> {
    fn verify(&self) -> bool {
        self.keys
            .iter()
            .any(|k| k.verify(self.alg, self.message, &self.signature))
    }
}

enum StageOutcome {
    Passed,
    Skipped(&'static str),
}

/// One presentation's checks, before its signatures are verified.
#[derive(Default)]
struct Run<'a> {
    stages: Vec<(Check, StageOutcome)>,
    failure: Option<(Check, Rejection)>,
    pending: Vec<Pending<'a>>,
    credential: CredentialInfo,
    processed: Option<Disclosed>,
    warnings: Vec<Rejection>,
    schema_violations: Vec<crate::catalogue::schema::Violation>,
}

/// The claims of an accepted presentation and the paths of its
/// disclosures, built owned once.
struct Disclosed {
    claims: Map<String, Value>,
    paths: Vec<String>,
}

/// The decoded bytes the parsed presentation borrows its strings from.
#[derive(Default)]
struct Buffers {
    jws: JwsBuffers,
    disclosures: Vec<Vec<u8>>,
}

/// The decoded headers and payloads of the two JWS.
#[derive(Default)]
struct JwsBuffers {
    header: Vec<u8>,
    payload: Vec<u8>,
    kb_header: Vec<u8>,
    kb_payload: Vec<u8>,
}

/// The parsed parts of a presentation: each JWS with its header read as a
/// tree, beside its payload read as a tree.
struct Parsed<'a, 'b> {
    parts: SdJwtParts<'a>,
    jws: TreeJws<'a, 'b>,
    payload: Obj<'b>,
    kb: Option<(TreeJws<'a, 'b>, Obj<'b>)>,
}

/// The registered claims, type-checked.
struct Registered<'p> {
    iss: Option<&'p str>,
    vct: Option<&'p str>,
    iat: Option<i64>,
    nbf: Option<i64>,
    exp: Option<i64>,
    cnf: Option<&'p Obj<'p>>,
    /// `status.status_list` as `(uri, idx)`.
    status: Option<(&'p str, u64)>,
}

impl<'a> Run<'a> {
    fn prepare(
        input: Result<&'a [u8], Rejection>,
        policy: &Policy,
        resolver: &dyn KeyResolver,
    ) -> Run<'a> {
        // Every check records one stage; a presentation has at most two
        // signatures (the issuer's, the KB-JWT's).
        let mut run = Run {
            stages: Vec::with_capacity(Check::ALL.len()),
            pending: Vec::with_capacity(2),
            ..Run::default()
        };
        run.run(input, policy, resolver);
        run
    }

    fn stage<T>(&mut self, check: Check, result: Result<T, Rejection>) -> Option<T> {
        match result {
            Ok(v) => {
                self.stages.push((check, StageOutcome::Passed));
                Some(v)
            }
            Err(e) => {
                self.failure = Some((check, e));
                None
            }
        }
    }

    fn run(
        &mut self,
        input: Result<&'a [u8], Rejection>,
        policy: &Policy,
        resolver: &dyn KeyResolver,
    ) -> Option<()> {
        let mut bufs = Buffers::default();
        let parsed = self.stage(
            Check::Structure,
            input.and_then(|i| structure(i, policy, &mut bufs.jws)),
        )?;
        let Parsed {
            parts,
            mut jws,
            payload,
            kb,
        } = parsed;
        self.describe(&jws, &payload, kb.is_some());

        let expected_typ = match &policy.profile {
            Profile::SdJwtVc => Some(TYP_SD_JWT_VC),
            Profile::PlainSdJwt { typ } => typ.as_deref(),
        };
        let alg = self.stage(
            Check::HeaderPolicy,
            jws.check_header(&HeaderRules {
                what: "the credential",
                expected_typ,
                typ_missing: ErrorCode::TypMissing,
                typ_invalid: ErrorCode::TypInvalid,
                allow_x5c: true,
            }),
        )?;

        let reg = self.stage(Check::Claims, registered(&payload, &policy.profile))?;

        // An owned copy of `x5c` only when there is one (HAIP's X.509 path).
        let x5c = jws.header.get("x5c").map(Node::to_value);
        let query = KeyQuery {
            iss: reg.iss,
            kid: jws.kid(),
            alg,
            vct: reg.vct,
            iat: reg.iat,
            now: policy.now,
            x5c: x5c.as_ref(),
        };
        let keys = self.stage(Check::Trust, resolver.resolve(&query))?;
        self.stages.push((Check::Signature, StageOutcome::Passed));
        self.pending.push(Pending {
            check: Check::Signature,
            code: ErrorCode::SignatureInvalid,
            alg,
            keys,
            message: jws.signing_input.as_bytes(),
            signature: std::mem::take(&mut jws.signature),
        });

        let (processed, sd_alg) = self.stage(
            Check::Disclosures,
            disclosures(&parts, &payload, &mut bufs.disclosures, &policy.profile),
        )?;
        self.schema_stage(&processed.claims, reg.vct, policy)?;
        self.processed = Some(processed);

        self.stage(Check::ValidityWindow, validity(&reg, policy))?;

        match (&reg.status, reg.iss) {
            (Some((uri, idx)), Some(iss)) => {
                let q = StatusQuery {
                    iss,
                    uri,
                    idx: *idx,
                    now: policy.now,
                    max_age_secs: policy.max_status_age_secs,
                };
                match status_check(resolver.status(&q), policy) {
                    Ok(StatusVerdict::Fresh) => {
                        self.stages.push((Check::Status, StageOutcome::Passed))
                    }
                    Ok(StatusVerdict::NotChecked) => self.stages.push((
                        Check::Status,
                        StageOutcome::Skipped("the trust source carries no status lists"),
                    )),
                    Ok(StatusVerdict::StaleWarning(w)) => {
                        self.warnings.push(w);
                        self.stages.push((Check::Status, StageOutcome::Passed));
                    }
                    Err(r) => {
                        self.stage::<()>(Check::Status, Err(r))?;
                    }
                }
            }
            (None, Some(iss)) if resolver.status_required(iss) => {
                self.stage::<()>(
                    Check::Status,
                    Err(Rejection::new(
                        ErrorCode::StatusMissing,
                        format!(
                            "issuer {iss:?} publishes status lists, and the credential has no status claim"
                        ),
                    )),
                )?;
            }
            _ => self.stages.push((
                Check::Status,
                StageOutcome::Skipped("the credential carries no status"),
            )),
        }

        let Some((mut kb, kb_payload)) = kb else {
            if let HolderBinding::Required { .. } = policy.holder_binding {
                self.stage::<()>(
                    Check::HolderBinding,
                    Err(Rejection::new(
                        ErrorCode::KbMissing,
                        "no Key Binding JWT, and the policy requires holder binding",
                    )),
                )?;
            }
            self.stages.push((
                Check::HolderBinding,
                StageOutcome::Skipped("no KB-JWT presented; the policy does not require one"),
            ));
            self.stages.push((
                Check::NonceAudience,
                StageOutcome::Skipped("no KB-JWT presented"),
            ));
            return Some(());
        };
        let bound = holder_binding(
            &kb,
            &kb_payload,
            &reg,
            sd_alg.digest_inline(parts.sd_hash_input),
            policy,
        )
        .and_then(|bound| Ok((bound, transaction_data_hashes(&kb_payload)?)));
        let ((kb_alg, holder_key), (hashes, hashes_alg)) =
            self.stage(Check::HolderBinding, bound)?;
        self.credential.transaction_data_hashes = hashes;
        self.credential.transaction_data_hashes_alg = hashes_alg;
        self.pending.push(Pending {
            check: Check::HolderBinding,
            code: ErrorCode::KbSignatureInvalid,
            alg: kb_alg,
            keys: vec![holder_key],
            message: kb.signing_input.as_bytes(),
            signature: std::mem::take(&mut kb.signature),
        });

        match &policy.holder_binding {
            HolderBinding::Required { audience, nonce } => {
                self.stage(
                    Check::NonceAudience,
                    nonce_audience(&kb_payload, audience, nonce),
                )?;
            }
            HolderBinding::NotRequired => {
                self.stages.push((
                    Check::NonceAudience,
                    StageOutcome::Skipped("the policy names no audience or nonce"),
                ));
            }
        }
        Some(())
    }

    /// Checks the disclosed personal claims against the catalogue.
    fn schema_stage(
        &mut self,
        claims: &Map<String, Value>,
        vct: Option<&str>,
        policy: &Policy,
    ) -> Option<()> {
        if !policy.check_schema {
            self.stages.push((
                Check::Schema,
                StageOutcome::Skipped("the policy does not check schemas"),
            ));
            return Some(());
        }
        let catalogue = match Catalogue::builtin() {
            Ok(c) => c,
            Err(e) => {
                return self.stage::<()>(
                    Check::Schema,
                    Err(Rejection::new(
                        ErrorCode::ClaimsSchemaViolation,
                        e.to_string(),
                    )),
                );
            }
        };
        let Some(kind) = vct.and_then(|v| catalogue.by_vct(v)) else {
            self.stages.push((
                Check::Schema,
                StageOutcome::Skipped("the licence type is not in the catalogue"),
            ));
            return Some(());
        };
        // The usual case, valid claims, needs no copy of them.
        if kind
            .schema
            .validate_except(claims, Mode::Disclosed, REGISTERED_CLAIMS)
            .is_empty()
        {
            self.stages.push((Check::Schema, StageOutcome::Passed));
            return Some(());
        }
        // Otherwise the violations are listed in the order of this copy.
        let mut personal = claims.clone();
        for registered in REGISTERED_CLAIMS {
            personal.remove(*registered);
        }
        let violations = kind.validate(&personal, Mode::Disclosed);
        let detail = violations
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        self.schema_violations = violations;
        self.stage::<()>(
            Check::Schema,
            Err(Rejection::new(ErrorCode::ClaimsSchemaViolation, detail)),
        )
    }

    /// Copies what the credential says about itself into the report.
    fn describe(&mut self, jws: &TreeJws<'_, '_>, p: &Obj<'_>, key_binding: bool) {
        let node_string = |v: Option<&Node<'_>>| v.and_then(Node::as_str).map(str::to_owned);
        self.credential = CredentialInfo {
            iss: node_string(p.get("iss")),
            vct: node_string(p.get("vct")),
            alg: node_string(jws.header.get("alg")),
            kid: node_string(jws.header.get("kid")),
            iat: p.get("iat").and_then(Node::as_i64),
            nbf: p.get("nbf").and_then(Node::as_i64),
            exp: p.get("exp").and_then(Node::as_i64),
            status: p.get("status").map(Node::to_value),
            key_binding,
            transaction_data_hashes: None,
            transaction_data_hashes_alg: None,
        };
    }

    /// Places failed signatures in the order and builds the report.
    fn finish(self, signature_ok: &[bool]) -> Report {
        let mut failure = self.failure;
        for (p, &ok) in self.pending.iter().zip(signature_ok) {
            let earlier = failure.as_ref().is_none_or(|(c, _)| p.check < *c);
            if !ok && earlier {
                let detail = match p.code {
                    ErrorCode::KbSignatureInvalid => {
                        "the KB-JWT signature does not verify with the key in cnf"
                    }
                    _ => "the issuer signature does not verify with any trusted key",
                };
                failure = Some((p.check, Rejection::new(p.code, detail)));
            }
        }
        let failed_at = failure.as_ref().map(|(c, _)| *c);
        let checks = Check::ALL
            .iter()
            .map(|&check| {
                let outcome = match (failed_at, &failure) {
                    (Some(f), Some((_, r))) if f == check => Outcome::Failed { code: r.code },
                    (Some(f), _) if check > f => Outcome::NotRun,
                    _ => match self.stages.iter().find(|(c, _)| *c == check) {
                        Some((_, StageOutcome::Skipped(why))) => Outcome::Skipped {
                            reason: (*why).to_owned(),
                        },
                        Some((_, StageOutcome::Passed)) => Outcome::Passed,
                        None => Outcome::NotRun,
                    },
                };
                CheckResult { check, outcome }
            })
            .collect();
        let rejection = failure.map(|(_, r)| r);
        let accepted = rejection.is_none();
        let schema_failed = rejection
            .as_ref()
            .is_some_and(|r| r.code == ErrorCode::ClaimsSchemaViolation);
        let (claims, disclosed) = match (accepted, self.processed) {
            (true, Some(p)) => (Some(p.claims), p.paths),
            _ => (None, Vec::new()),
        };
        Report {
            verdict: if accepted {
                Verdict::Accepted
            } else {
                Verdict::Rejected
            },
            checks,
            rejection,
            credential: self.credential,
            claims,
            disclosed,
            warnings: if accepted { self.warnings } else { Vec::new() },
            schema_violations: if schema_failed {
                self.schema_violations
            } else {
                Vec::new()
            },
        }
    }
}

fn structure<'a, 'b>(
    input: &'a [u8],
    policy: &Policy,
    bufs: &'b mut JwsBuffers,
) -> Result<Parsed<'a, 'b>, Rejection> {
    if input.len() > policy.limits.max_input_bytes {
        return Err(Rejection::new(
            ErrorCode::InputTooLarge,
            format!(
                "{} bytes, the limit is {}",
                input.len(),
                policy.limits.max_input_bytes
            ),
        ));
    }
    let text = core::str::from_utf8(input).map_err(|e| {
        Rejection::new(
            ErrorCode::InvalidUtf8,
            format!("the presentation is not UTF-8: {e}"),
        )
    })?;
    let parts = SdJwtParts::split(text, policy.limits.max_disclosures)?;
    let (jws, payload) = TreeJws::parse(
        parts.issuer_jwt,
        "the credential",
        &mut bufs.header,
        &mut bufs.payload,
        json_tree::parse_object,
    )?;
    let kb = parts
        .kb_jwt
        .map(|k| {
            TreeJws::parse(
                k,
                "the KB-JWT",
                &mut bufs.kb_header,
                &mut bufs.kb_payload,
                json_tree::parse_object,
            )
        })
        .transpose()?;
    Ok(Parsed {
        parts,
        jws,
        payload,
        kb,
    })
}

/// Reads a NumericDate (RFC 7519): any JSON number; fractions are rounded
/// towards the stricter side by the caller's choice of `round`.
fn numeric_date(p: &Obj<'_>, name: &str, round: fn(f64) -> f64) -> Result<Option<i64>, Rejection> {
    match p.get(name) {
        None => Ok(None),
        Some(Node::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            (None, Some(f)) if f.is_finite() && f.abs() < 1e15 => Ok(Some(round(f) as i64)),
            _ => Err(Rejection::new(
                ErrorCode::ClaimTypeInvalid,
                format!("{name} is out of range"),
            )),
        },
        Some(_) => Err(Rejection::new(
            ErrorCode::ClaimTypeInvalid,
            format!("{name} is not a number"),
        )),
    }
}

fn registered<'p>(p: &'p Obj<'p>, profile: &Profile) -> Result<Registered<'p>, Rejection> {
    let iss = match (p.get("iss"), profile) {
        (Some(Node::Str(iss)), _) if !iss.is_empty() => Some(iss.as_ref()),
        (None, Profile::PlainSdJwt { .. }) => None,
        _ => {
            return Err(Rejection::new(
                ErrorCode::IssMissing,
                "iss is missing or not a non-empty string",
            ));
        }
    };
    let vct = match (p.get("vct"), profile) {
        (Some(Node::Str(v)), _) if !v.is_empty() => Some(v.as_ref()),
        (None, Profile::PlainSdJwt { .. }) => None,
        _ => {
            return Err(Rejection::new(
                ErrorCode::VctMissing,
                "vct is missing or not a non-empty string",
            ));
        }
    };
    let cnf = match p.get("cnf") {
        None => None,
        Some(Node::Object(c)) => Some(c),
        Some(_) => {
            return Err(Rejection::new(
                ErrorCode::ClaimTypeInvalid,
                "cnf is not an object",
            ));
        }
    };
    let status = match p.get("status") {
        None => None,
        Some(Node::Object(s)) => match s.get("status_list") {
            // Another status mechanism: not one Tongban checks.
            None => None,
            Some(Node::Object(sl)) => match (
                sl.get("uri").and_then(Node::as_str),
                sl.get("idx").and_then(Node::as_u64),
            ) {
                (Some(uri), Some(idx)) => Some((uri, idx)),
                _ => {
                    return Err(Rejection::new(
                        ErrorCode::ClaimTypeInvalid,
                        "status.status_list needs a string uri and a non-negative integer idx",
                    ));
                }
            },
            Some(_) => {
                return Err(Rejection::new(
                    ErrorCode::ClaimTypeInvalid,
                    "status.status_list is not an object",
                ));
            }
        },
        Some(_) => {
            return Err(Rejection::new(
                ErrorCode::ClaimTypeInvalid,
                "status is not an object",
            ));
        }
    };
    Ok(Registered {
        iss,
        vct,
        iat: numeric_date(p, "iat", f64::ceil)?,
        nbf: numeric_date(p, "nbf", f64::ceil)?,
        exp: numeric_date(p, "exp", f64::floor)?,
        cnf,
        status,
    })
}

fn disclosures<'b>(
    parts: &SdJwtParts<'b>,
    payload: &'b Obj<'b>,
    bufs: &'b mut Vec<Vec<u8>>,
    profile: &Profile,
) -> Result<(Disclosed, SdAlg), Rejection> {
    let sd_alg = check_sd_alg_tree(payload)?;
    // One buffer per disclosure, each decoded and parsed in turn (the order
    // of `Disclosure::parse_with`, so the first fault found is the same).
    bufs.resize_with(parts.disclosures.len(), Vec::new);
    let mut parsed = Vec::with_capacity(parts.disclosures.len());
    for (encoded, buf) in parts.disclosures.iter().zip(bufs.iter_mut()) {
        *buf = b64_decode(encoded, "a disclosure")?;
        let bytes: &'b [u8] = buf;
        parsed.push(DisclosureRef::parse(encoded, bytes, sd_alg)?);
    }
    let (claims, paths) = process_tree(payload, &parsed)?;
    if *profile == Profile::SdJwtVc {
        for path in &paths {
            if let [Step::Key(name)] = path.as_slice()
                && NEVER_DISCLOSABLE.contains(name)
            {
                return Err(Rejection::new(
                    ErrorCode::ClaimNotDisclosable,
                    format!("{name} must not be selectively disclosed"),
                ));
            }
        }
    }
    let paths = paths.iter().map(|p| path_string(p)).collect();
    Ok((Disclosed { claims, paths }, sd_alg))
}

/// A path written as [`crate::ClaimPath`] displays it: `address.locality`,
/// `nationalities.0`.
fn path_string(path: &[Step<'_>]) -> String {
    use core::fmt::Write as _;
    let mut out = String::new();
    for (i, step) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        match step {
            Step::Key(k) => out.push_str(k),
            Step::Index(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
    out
}

/// How the status check ended, when it did not reject.
enum StatusVerdict {
    Fresh,
    NotChecked,
    StaleWarning(Rejection),
}

/// Maps a trust source's status answer through the policy. A revocation is
/// final even from a stale list; a stale list otherwise fails (or warns)
/// before suspension is considered, since a suspension may have been lifted.
fn status_check(answer: StatusAnswer, policy: &Policy) -> Result<StatusVerdict, Rejection> {
    let (status, stale) = match answer {
        StatusAnswer::NotAvailable => return Ok(StatusVerdict::NotChecked),
        StatusAnswer::Failed(r) => return Err(r),
        StatusAnswer::Found { status, stale } => (status, stale),
    };
    if status == Status::Invalid {
        return Err(Rejection::new(
            ErrorCode::StatusRevoked,
            "the status list marks the credential invalid (1)",
        ));
    }
    let mut verdict = StatusVerdict::Fresh;
    if let Some(reason) = stale {
        let r = Rejection::new(ErrorCode::StatusStale, reason);
        match policy.stale {
            StalePolicy::Reject => return Err(r),
            StalePolicy::Warn => verdict = StatusVerdict::StaleWarning(r),
        }
    }
    match status {
        Status::Valid => Ok(verdict),
        Status::Suspended => Err(Rejection::new(
            ErrorCode::StatusSuspended,
            "the status list marks the credential suspended (2)",
        )),
        other => Err(Rejection::new(
            ErrorCode::StatusUnknown,
            format!(
                "the status list holds value {} for the credential",
                other.value()
            ),
        )),
    }
}

fn validity(reg: &Registered<'_>, policy: &Policy) -> Result<(), Rejection> {
    let skew = i64::from(policy.clock_skew_secs);
    let now = policy.now;
    if let Some(exp) = reg.exp
        && now.saturating_sub(skew) >= exp
    {
        return Err(Rejection::new(
            ErrorCode::Expired,
            format!("exp {exp} is not after now {now} (skew {skew}s)"),
        ));
    }
    if let Some(nbf) = reg.nbf
        && now.saturating_add(skew) < nbf
    {
        return Err(Rejection::new(
            ErrorCode::NotYetValid,
            format!("nbf {nbf} is after now {now} (skew {skew}s)"),
        ));
    }
    if let Some(iat) = reg.iat
        && iat > now.saturating_add(skew)
    {
        return Err(Rejection::new(
            ErrorCode::IssuedInFuture,
            format!("iat {iat} is after now {now} (skew {skew}s)"),
        ));
    }
    Ok(())
}

fn holder_binding(
    kb: &TreeJws<'_, '_>,
    p: &Obj<'_>,
    reg: &Registered<'_>,
    expected_sd_hash: crate::encoding::Digest32B64,
    policy: &Policy,
) -> Result<(Algorithm, PublicKey), Rejection> {
    let cnf = reg.cnf.ok_or_else(|| {
        Rejection::new(
            ErrorCode::CnfMissing,
            "the credential has no cnf, so no KB-JWT can be checked",
        )
    })?;
    let jwk = cnf.get("jwk").ok_or_else(|| {
        Rejection::new(
            ErrorCode::CnfInvalid,
            "cnf has no jwk (the only confirmation method accepted)",
        )
    })?;
    let holder_key = PublicKey::from_jwk_tree(jwk)
        .map_err(|e| Rejection::new(ErrorCode::CnfInvalid, format!("cnf.jwk: {e}")))?;
    let alg = kb.check_header(&HeaderRules {
        what: "the KB-JWT",
        expected_typ: Some(TYP_KB_JWT),
        typ_missing: ErrorCode::KbTypInvalid,
        typ_invalid: ErrorCode::KbTypInvalid,
        allow_x5c: false,
    })?;
    if !alg.fits(&holder_key) {
        return Err(Rejection::new(
            ErrorCode::KbSignatureInvalid,
            format!(
                "the KB-JWT alg {} cannot be made by the key in cnf",
                alg.as_str()
            ),
        ));
    }
    let missing = |name: &str| {
        Rejection::new(
            ErrorCode::KbClaimMissing,
            format!("the KB-JWT {name} is missing or of the wrong type"),
        )
    };
    let iat = numeric_date(p, "iat", f64::ceil)
        .map_err(|_| missing("iat"))?
        .ok_or_else(|| missing("iat"))?;
    let is_string = |v: &Node<'_>| matches!(v, Node::Str(_));
    match p.get("aud") {
        Some(Node::Str(_)) => {}
        Some(Node::Array(a)) if !a.is_empty() && a.iter().all(is_string) => {}
        _ => return Err(missing("aud")),
    }
    if !p.get("nonce").is_some_and(is_string) {
        return Err(missing("nonce"));
    }
    let Some(Node::Str(sd_hash)) = p.get("sd_hash") else {
        return Err(missing("sd_hash"));
    };
    let expected = expected_sd_hash.as_str();
    if expected.is_empty() || sd_hash.as_ref() != expected {
        return Err(Rejection::new(
            ErrorCode::KbSdHashMismatch,
            "sd_hash does not match the presented SD-JWT and disclosures",
        ));
    }
    let skew = i64::from(policy.clock_skew_secs);
    if iat > policy.now.saturating_add(skew) {
        return Err(Rejection::new(
            ErrorCode::KbIatInvalid,
            format!("KB-JWT iat {iat} is in the future"),
        ));
    }
    let oldest = policy
        .now
        .saturating_sub(i64::from(policy.kb_max_age_secs))
        .saturating_sub(skew);
    if iat < oldest {
        return Err(Rejection::new(
            ErrorCode::KbIatInvalid,
            format!("KB-JWT iat {iat} is older than {}s", policy.kb_max_age_secs),
        ));
    }
    Ok((alg, holder_key))
}

/// The KB-JWT's `transaction_data_hashes` and `transaction_data_hashes_alg`
/// (OpenID4VP 1.0 §B.3.3), when present: a non-empty array of strings and a
/// string, or the KB-JWT is refused. Whether they match a request's
/// transaction data is the caller's comparison (the library does not know
/// the request).
#[allow(clippy::type_complexity)]
fn transaction_data_hashes(
    p: &Obj<'_>,
) -> Result<(Option<Vec<String>>, Option<String>), Rejection> {
    let malformed = |name: &str| {
        Rejection::new(
            ErrorCode::KbClaimMissing,
            format!("the KB-JWT {name} is of the wrong type"),
        )
    };
    let hashes = match p.get("transaction_data_hashes") {
        None => None,
        Some(Node::Array(a)) if !a.is_empty() => Some(
            a.iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| malformed("transaction_data_hashes"))?,
        ),
        Some(_) => return Err(malformed("transaction_data_hashes")),
    };
    let alg = match p.get("transaction_data_hashes_alg") {
        None => None,
        Some(Node::Str(s)) => Some(s.as_ref().to_owned()),
        Some(_) => return Err(malformed("transaction_data_hashes_alg")),
    };
    Ok((hashes, alg))
}

fn nonce_audience(p: &Obj<'_>, audience: &str, nonce: &str) -> Result<(), Rejection> {
    let aud_ok = match p.get("aud") {
        Some(Node::Str(a)) => a == audience,
        Some(Node::Array(a)) => a.iter().any(|v| v.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(Rejection::new(
            ErrorCode::KbAudMismatch,
            format!("the KB-JWT aud is not {audience:?}"),
        ));
    }
    if p.get("nonce").and_then(Node::as_str) != Some(nonce) {
        return Err(Rejection::new(
            ErrorCode::KbNonceMismatch,
            "the KB-JWT nonce is not the one requested",
        ));
    }
    Ok(())
}
