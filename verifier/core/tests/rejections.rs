//! One test per rejection rule: each crafts a presentation that breaks
//! exactly one rule (everything else valid and correctly signed) and checks
//! the stable code and the check that reports it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use serde_json::{Map, Value, json};
use tongban_test_support::clock::NOW;
use tongban_test_support::jws::{sign_json, sign_raw};
use tongban_test_support::sdjwt::{self, credential_payload, issuer_header, with_disclosures};
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::sdjwt::sha256_b64;
use tongban_verifier::*;

const ISS: &str = "https://amr.wujiang.example";
const AUD: &str = "https://counter.qingpu.example";
const NONCE: &str = "n-0001";

struct Fx {
    issuer: Ed25519Signer,
    holder: Ed25519Signer,
    keys: InMemoryKeys,
}

fn fx() -> Fx {
    let issuer = Ed25519Signer::from_seed(&[1; 32], Some("k1".into()));
    let holder = Ed25519Signer::from_seed(&[2; 32], None);
    let mut keys = InMemoryKeys::new();
    keys.add_issuer_key(
        ISS,
        KeyWithId {
            key: issuer.public_key(),
            kid: Some("k1".into()),
        },
    );
    Fx {
        issuer,
        holder,
        keys,
    }
}

fn policy() -> Policy {
    Policy::counter(NOW, AUD, NONCE)
}

/// Signs any header and payload (so a test can break one rule and keep a
/// valid signature).
fn jwt(signer: &dyn Signer, header: &Value, payload: &Value) -> String {
    sign_json(signer, header, payload).unwrap()
}

fn header() -> Value {
    issuer_header("k1")
}

fn d(name: &str, value: Value) -> Disclosure {
    Disclosure::create(format!("salt-{name}"), Some(name.into()), value)
}

/// A valid payload disclosing `ds` at the top level (plus a decoy).
fn payload(f: &Fx, ds: &[&Disclosure]) -> Map<String, Value> {
    let mut sd: Vec<String> = ds.iter().map(|d| d.digest.clone()).collect();
    sd.push(sha256_b64("decoy"));
    let holder = f.holder.public_key().to_jwk();
    credential_payload(ISS, "urn:tongban:test:1", NOW, holder, sd)
}

fn sd_jwt(f: &Fx, header: &Value, payload: &Map<String, Value>, ds: &[&Disclosure]) -> String {
    let jwt = jwt(&f.issuer, header, &Value::Object(payload.clone()));
    let encoded: Vec<&str> = ds.iter().map(|d| d.encoded.as_str()).collect();
    with_disclosures(&jwt, &encoded)
}

fn kb_payload(sd: &str) -> Map<String, Value> {
    sdjwt::kb_payload(NOW - 10, AUD, NONCE, sd)
}

fn with_kb(f: &Fx, sd: &str, header: &Value, payload: &Map<String, Value>) -> String {
    format!(
        "{sd}{}",
        jwt(&f.holder, header, &Value::Object(payload.clone()))
    )
}

fn kb_header() -> Value {
    sdjwt::kb_header()
}

/// A complete, valid presentation with two disclosures.
fn valid(f: &Fx) -> String {
    let (a, b) = (
        d("company_name", json!("某某公司")),
        d("address", json!("吴江")),
    );
    let sd = sd_jwt(f, &header(), &payload(f, &[&a, &b]), &[&a, &b]);
    with_kb(f, &sd, &kb_header(), &kb_payload(&sd))
}

/// Verifies and asserts the code and the failing check.
fn rejects(input: &str, code: ErrorCode, check: Check) {
    rejects_with(input, &policy(), code, check);
}

fn rejects_with(input: &str, policy: &Policy, code: ErrorCode, check: Check) {
    let f = fx();
    let report = verify(input, policy, &f.keys);
    assert_eq!(report.code(), Some(code), "{:?}", report.rejection);
    assert_eq!(report.failed_check(), Some(check));
    assert!(
        report.claims.is_none(),
        "a rejected report must not carry claims"
    );
    // The batch path gives the same answer.
    let batch = verify_batch(&[input.as_bytes()], policy, &f.keys);
    assert_eq!(batch[0], report);
}

/// Builds a presentation whose payload is changed by `edit`, re-signed.
fn with_payload(edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let f = fx();
    let a = d("company_name", json!("某某公司"));
    let mut p = payload(&f, &[&a]);
    edit(&mut p);
    let sd = sd_jwt(&f, &header(), &p, &[&a]);
    with_kb(&f, &sd, &kb_header(), &kb_payload(&sd))
}

fn with_header(h: Value) -> String {
    let f = fx();
    let a = d("company_name", json!("某某公司"));
    let sd = sd_jwt(&f, &h, &payload(&f, &[&a]), &[&a]);
    with_kb(&f, &sd, &kb_header(), &kb_payload(&sd))
}

fn with_kb_edit(
    edit_header: impl FnOnce(&mut Value),
    edit: impl FnOnce(&mut Map<String, Value>),
) -> String {
    let f = fx();
    let a = d("company_name", json!("某某公司"));
    let sd = sd_jwt(&f, &header(), &payload(&f, &[&a]), &[&a]);
    let mut h = kb_header();
    edit_header(&mut h);
    let mut p = kb_payload(&sd);
    edit(&mut p);
    with_kb(&f, &sd, &h, &p)
}

#[test]
fn a_valid_presentation_is_accepted() {
    let f = fx();
    let report = verify(&valid(&f), &policy(), &f.keys);
    assert!(report.is_accepted(), "{:?}", report.rejection);
    let claims = report.claims.unwrap();
    assert_eq!(claims["company_name"], json!("某某公司"));
    assert!(!claims.contains_key("_sd") && !claims.contains_key("_sd_alg"));
    for c in &report.checks {
        match c.check {
            // No status claim, and pinned keys carry no status lists; the
            // test vct is not in the catalogue.
            Check::Status | Check::Schema => assert!(matches!(c.outcome, Outcome::Skipped { .. })),
            _ => assert_eq!(c.outcome, Outcome::Passed, "{:?}", c.check),
        }
    }
}

// ---- structure ----------------------------------------------------------

#[test]
fn input_over_the_size_bound() {
    let mut p = policy();
    p.limits.max_input_bytes = 100;
    rejects_with(
        &valid(&fx()),
        &p,
        ErrorCode::InputTooLarge,
        Check::Structure,
    );
}

#[test]
fn invalid_utf8() {
    let f = fx();
    let report = verify_bytes(b"abc\xff~", &policy(), &f.keys);
    assert_eq!(report.code(), Some(ErrorCode::InvalidUtf8));
    // Invalid UTF-8 inside a disclosure, correctly base64url-encoded.
    let bad = Disclosure {
        encoded: b64_encode(b"[\"s\",\"n\",\"\xff\"]"),
        digest: sha256_b64(&b64_encode(b"[\"s\",\"n\",\"\xff\"]")),
        salt: String::new(),
        name: None,
        value: Value::Null,
    };
    let sd = sd_jwt(&f, &header(), &payload(&f, &[&bad]), &[&bad]);
    rejects(
        &with_kb(&f, &sd, &kb_header(), &kb_payload(&sd)),
        ErrorCode::InvalidUtf8,
        Check::Disclosures,
    );
}

#[test]
fn not_an_sd_jwt() {
    let v = valid(&fx());
    let jwt = v.split('~').next().unwrap();
    rejects(jwt, ErrorCode::SdJwtMalformed, Check::Structure);
    rejects(
        &v.replacen('~', "~~", 1),
        ErrorCode::SdJwtMalformed,
        Check::Structure,
    );
}

#[test]
fn jws_with_wrong_part_count() {
    let v = valid(&fx());
    let (jwt, rest) = v.split_once('~').unwrap();
    rejects(
        &format!("{jwt}.x~{rest}"),
        ErrorCode::JwsMalformed,
        Check::Structure,
    );
}

#[test]
fn non_canonical_base64url() {
    let v = valid(&fx());
    // Padding on the signature.
    let (jwt, rest) = v.split_once('~').unwrap();
    rejects(
        &format!("{jwt}==~{rest}"),
        ErrorCode::Base64Invalid,
        Check::Structure,
    );
    // A non-zero trailing bit in the last character of the signature
    // (86 characters: the last one carries 4 unused bits).
    let (head, sig) = jwt.rsplit_once('.').unwrap();
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(idx ^ 1).unwrap();
    let sig2 = format!("{}{tweaked}", &sig[..sig.len() - 1]);
    rejects(
        &format!("{head}.{sig2}~{rest}"),
        ErrorCode::Base64Invalid,
        Check::Structure,
    );
    // Standard-alphabet characters in a disclosure.
    let f = fx();
    let a = d("company_name", json!("x"));
    let sd = sd_jwt(&f, &header(), &payload(&f, &[&a]), &[]);
    let bad = format!("{sd}ab+/~");
    rejects(&bad, ErrorCode::Base64Invalid, Check::Disclosures);
}

#[test]
fn json_nested_beyond_the_bound() {
    let deep = "[".repeat(40) + &"]".repeat(40);
    let f = fx();
    let p = payload(&f, &[]);
    let mut text = to_compact_json(&Value::Object(p));
    text.insert_str(text.len() - 1, &format!(",\"deep\":{deep}"));
    let jwt = format!("{}~", sign_raw(&f.issuer, &header(), &text).unwrap());
    rejects(&jwt, ErrorCode::JsonTooDeep, Check::Structure);
}

#[test]
fn json_with_duplicate_member_names() {
    let f = fx();
    let text = format!(
        r#"{{"iss":"{ISS}","iss":"https://evil.example","vct":"x","iat":{},"_sd":[]}}"#,
        NOW - 10
    );
    let jwt = format!("{}~", sign_raw(&f.issuer, &header(), &text).unwrap());
    rejects(&jwt, ErrorCode::JsonDuplicateKey, Check::Structure);
}

#[test]
fn too_many_disclosures() {
    let mut p = policy();
    p.limits.max_disclosures = 1;
    rejects_with(
        &valid(&fx()),
        &p,
        ErrorCode::TooManyDisclosures,
        Check::Structure,
    );
}

// ---- header policy --------------------------------------------------------

#[test]
fn alg_none_hmac_and_unknown_are_rejected() {
    for alg in [
        "none", "HS256", "HS512", "RS256", "PS256", "ES384", "ES256K",
    ] {
        rejects(
            &with_header(json!({"alg": alg, "typ": "dc+sd-jwt", "kid": "k1"})),
            ErrorCode::AlgUnsupported,
            Check::HeaderPolicy,
        );
    }
}

#[test]
fn alg_that_does_not_fit_the_key() {
    rejects(
        &with_header(json!({"alg": "ES256", "typ": "dc+sd-jwt", "kid": "k1"})),
        ErrorCode::AlgKeyMismatch,
        Check::Trust,
    );
}

#[test]
fn fully_specified_ed25519_alg_is_accepted() {
    let f = fx();
    let input = with_header(json!({"alg": "Ed25519", "typ": "dc+sd-jwt", "kid": "k1"}));
    assert!(verify(&input, &policy(), &f.keys).is_accepted());
}

#[test]
fn header_supplied_keys_are_rejected() {
    let jwk = fx().issuer.public_key().to_jwk();
    for (name, value) in [
        ("jwk", jwk),
        ("jku", json!("https://evil.example/jwks")),
        ("x5u", json!("https://evil.example/cert")),
    ] {
        let mut h = header();
        h[name] = value;
        rejects(
            &with_header(h),
            ErrorCode::HeaderKeyInjection,
            Check::HeaderPolicy,
        );
    }
}

#[test]
fn unknown_crit_is_rejected() {
    let mut h = header();
    h["crit"] = json!(["tongban-ext"]);
    h["tongban-ext"] = json!(true);
    rejects(
        &with_header(h),
        ErrorCode::CritUnsupported,
        Check::HeaderPolicy,
    );
}

#[test]
fn missing_typ() {
    rejects(
        &with_header(json!({"alg": "EdDSA", "kid": "k1"})),
        ErrorCode::TypMissing,
        Check::HeaderPolicy,
    );
}

#[test]
fn wrong_typ() {
    for typ in ["vc+sd-jwt", "JWT", "example+sd-jwt", "kb+jwt"] {
        rejects(
            &with_header(json!({"alg": "EdDSA", "typ": typ, "kid": "k1"})),
            ErrorCode::TypInvalid,
            Check::HeaderPolicy,
        );
    }
}

// ---- claims and signature ---------------------------------------------------

#[test]
fn missing_iss() {
    rejects(
        &with_payload(|p| drop(p.remove("iss"))),
        ErrorCode::IssMissing,
        Check::Claims,
    );
}

#[test]
fn missing_vct() {
    rejects(
        &with_payload(|p| drop(p.remove("vct"))),
        ErrorCode::VctMissing,
        Check::Claims,
    );
    rejects(
        &with_payload(|p| drop(p.insert("vct".into(), json!(7)))),
        ErrorCode::VctMissing,
        Check::Claims,
    );
}

#[test]
fn registered_claims_of_the_wrong_type() {
    rejects(
        &with_payload(|p| drop(p.insert("exp".into(), json!("soon")))),
        ErrorCode::ClaimTypeInvalid,
        Check::Claims,
    );
    rejects(
        &with_payload(|p| drop(p.insert("cnf".into(), json!("k")))),
        ErrorCode::ClaimTypeInvalid,
        Check::Claims,
    );
    rejects(
        &with_payload(|p| drop(p.insert("status".into(), json!(1)))),
        ErrorCode::ClaimTypeInvalid,
        Check::Claims,
    );
}

#[test]
fn unknown_issuer_and_unknown_kid() {
    rejects(
        &with_payload(|p| drop(p.insert("iss".into(), json!("https://other.example")))),
        ErrorCode::IssuerUnknown,
        Check::Trust,
    );
    rejects(
        &with_header(json!({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": "k9"})),
        ErrorCode::KeyUnknown,
        Check::Trust,
    );
}

#[test]
fn tampered_payload_fails_the_signature() {
    let v = valid(&fx());
    let (jwt, rest) = v.split_once('~').unwrap();
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let payload = encoding::b64_json(parts[1], "p").unwrap();
    let mut payload = payload.as_object().cloned().unwrap();
    payload.insert("exp".into(), json!(NOW + 999_999_999));
    let forged = b64_encode(to_compact_json(&Value::Object(payload)));
    parts[1] = &forged;
    rejects(
        &format!("{}~{rest}", parts.join(".")),
        ErrorCode::SignatureInvalid,
        Check::Signature,
    );
}

#[test]
fn signature_by_another_key() {
    let f = fx();
    let mallory = Ed25519Signer::from_seed(&[66; 32], Some("k1".into()));
    let a = d("company_name", json!("x"));
    let p = payload(&f, &[&a]);
    let mut sd = jwt(&mallory, &header(), &Value::Object(p));
    sd.push('~');
    sd.push_str(&a.encoded);
    sd.push('~');
    rejects(
        &with_kb(&f, &sd, &kb_header(), &kb_payload(&sd)),
        ErrorCode::SignatureInvalid,
        Check::Signature,
    );
}

// ---- disclosures: RFC 9901 §7.1 --------------------------------------------

fn presentation_with(p: Map<String, Value>, ds: &[&Disclosure]) -> String {
    let f = fx();
    let sd = sd_jwt(&f, &header(), &p, ds);
    with_kb(&f, &sd, &kb_header(), &kb_payload(&sd))
}

#[test]
fn disclosure_not_referenced() {
    let f = fx();
    let (a, stray) = (d("company_name", json!("x")), d("stray", json!("y")));
    rejects(
        &presentation_with(payload(&f, &[&a]), &[&a, &stray]),
        ErrorCode::DisclosureUnreferenced,
        Check::Disclosures,
    );
}

#[test]
fn digest_appearing_twice() {
    let f = fx();
    let a = d("company_name", json!("x"));
    let mut p = payload(&f, &[&a]);
    p["_sd"].as_array_mut().unwrap().push(json!(a.digest));
    rejects(
        &presentation_with(p, &[&a]),
        ErrorCode::DigestDuplicate,
        Check::Disclosures,
    );
}

#[test]
fn same_disclosure_twice() {
    let f = fx();
    let a = d("company_name", json!("x"));
    rejects(
        &presentation_with(payload(&f, &[&a]), &[&a, &a]),
        ErrorCode::DisclosureDuplicate,
        Check::Disclosures,
    );
}

#[test]
fn claim_named_sd_or_ellipsis() {
    let f = fx();
    for name in ["_sd", "..."] {
        let a = d(name, json!("x"));
        rejects(
            &presentation_with(payload(&f, &[&a]), &[&a]),
            ErrorCode::DisclosureNameReserved,
            Check::Disclosures,
        );
    }
}

#[test]
fn disclosed_name_colliding_with_a_plaintext_claim() {
    let f = fx();
    let a = d("company_name", json!("x"));
    let mut p = payload(&f, &[&a]);
    p.insert("company_name".into(), json!("y"));
    rejects(
        &presentation_with(p, &[&a]),
        ErrorCode::DisclosureNameCollision,
        Check::Disclosures,
    );
}

#[test]
fn two_element_disclosure_referenced_from_sd() {
    let f = fx();
    let el = Disclosure::create("salt".into(), None, json!("x"));
    rejects(
        &presentation_with(payload(&f, &[&el]), &[&el]),
        ErrorCode::DisclosureKindMismatch,
        Check::Disclosures,
    );
}

#[test]
fn three_element_disclosure_referenced_from_an_array() {
    let f = fx();
    let a = d("company_name", json!("x"));
    let mut p = payload(&f, &[]);
    p.insert("list".into(), json!([{"...": a.digest}]));
    rejects(
        &presentation_with(p, &[&a]),
        ErrorCode::DisclosureKindMismatch,
        Check::Disclosures,
    );
}

#[test]
fn sd_alg_below_the_top_level() {
    let f = fx();
    let mut p = payload(&f, &[]);
    p.insert("nested".into(), json!({"_sd_alg": "sha-256", "a": 1}));
    rejects(
        &presentation_with(p, &[]),
        ErrorCode::SdAlgMisplaced,
        Check::Disclosures,
    );
}

#[test]
fn sd_alg_unsupported() {
    let f = fx();
    for alg in [json!("sha-1"), json!("SHA-256"), json!("sha-512"), json!(1)] {
        let mut p = payload(&f, &[]);
        p.insert("_sd_alg".into(), alg);
        rejects(
            &presentation_with(p, &[]),
            ErrorCode::SdAlgUnsupported,
            Check::Disclosures,
        );
    }
}

#[test]
fn malformed_sd_and_disclosures() {
    let f = fx();
    let mut p = payload(&f, &[]);
    p.insert("_sd".into(), json!({"a": 1}));
    rejects(
        &presentation_with(p, &[]),
        ErrorCode::SdInvalid,
        Check::Disclosures,
    );
    let bad = Disclosure {
        encoded: b64_encode(r#"["salt",1,"x"]"#),
        digest: sha256_b64(&b64_encode(r#"["salt",1,"x"]"#)),
        salt: String::new(),
        name: None,
        value: Value::Null,
    };
    rejects(
        &presentation_with(payload(&f, &[&bad]), &[&bad]),
        ErrorCode::DisclosureMalformed,
        Check::Disclosures,
    );
}

#[test]
fn registered_claims_must_not_be_disclosed() {
    let f = fx();
    for name in ["cnf", "status", "exp", "nbf"] {
        let a = d(name, json!(1));
        let mut p = payload(&f, &[&a]);
        p.remove(name);
        rejects(
            &presentation_with(p, &[&a]),
            ErrorCode::ClaimNotDisclosable,
            Check::Disclosures,
        );
    }
}

// ---- schema (the catalogue) -------------------------------------------------------

#[test]
fn disclosed_claims_breaking_the_licence_type_schema() {
    let f = fx();
    let bad = d("unified_social_credit_code", json!("91320509MA1Q8K3T2D"));
    let extra = d("favourite_colour", json!("red"));
    let mut p = payload(&f, &[&bad, &extra]);
    p.insert("vct".into(), json!("urn:tongban:business-licence:1"));
    let input = presentation_with(p, &[&bad, &extra]);
    rejects(&input, ErrorCode::ClaimsSchemaViolation, Check::Schema);
    let report = verify(&input, &policy(), &f.keys);
    let paths: Vec<&str> = report
        .schema_violations
        .iter()
        .map(|v| v.path.as_str())
        .collect();
    assert_eq!(paths, ["unified_social_credit_code", "favourite_colour"]);
    assert!(report.rejection.unwrap().detail.contains("check character"));
    // Valid claims of the type pass; undisclosed required claims are fine.
    let good = d("unified_social_credit_code", json!("91320509MA1Q8K3T2C"));
    let mut p = payload(&f, &[&good]);
    p.insert("vct".into(), json!("urn:tongban:business-licence:1"));
    let report = verify(&presentation_with(p, &[&good]), &policy(), &f.keys);
    assert!(report.is_accepted(), "{:?}", report.rejection);
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.check == Check::Schema && c.outcome == Outcome::Passed)
    );
}

// ---- validity window ----------------------------------------------------------

#[test]
fn expired() {
    rejects(
        &with_payload(|p| drop(p.insert("exp".into(), json!(NOW - 61)))),
        ErrorCode::Expired,
        Check::ValidityWindow,
    );
}

#[test]
fn expiry_within_the_skew_is_accepted() {
    let f = fx();
    let input = with_payload(|p| drop(p.insert("exp".into(), json!(NOW - 30))));
    assert!(verify(&input, &policy(), &f.keys).is_accepted());
}

#[test]
fn not_yet_valid() {
    rejects(
        &with_payload(|p| drop(p.insert("nbf".into(), json!(NOW + 61)))),
        ErrorCode::NotYetValid,
        Check::ValidityWindow,
    );
}

#[test]
fn issued_in_the_future_beyond_skew() {
    rejects(
        &with_payload(|p| drop(p.insert("iat".into(), json!(NOW + 61)))),
        ErrorCode::IssuedInFuture,
        Check::ValidityWindow,
    );
}

// ---- holder binding -------------------------------------------------------------

#[test]
fn kb_missing_when_required() {
    let v = valid(&fx());
    let without_kb = &v[..=v.rfind('~').unwrap()];
    rejects(without_kb, ErrorCode::KbMissing, Check::HolderBinding);
    // ... and accepted when the policy does not require it.
    let f = fx();
    let report = verify(without_kb, &Policy::without_holder_binding(NOW), &f.keys);
    assert!(report.is_accepted());
    let hb = report
        .checks
        .iter()
        .find(|c| c.check == Check::HolderBinding)
        .unwrap();
    assert!(matches!(hb.outcome, Outcome::Skipped { .. }));
}

#[test]
fn kb_present_but_not_required_is_still_checked() {
    let input = with_kb_edit(
        |_| {},
        |p| drop(p.insert("sd_hash".into(), json!(sha256_b64("x")))),
    );
    rejects_with(
        &input,
        &Policy::without_holder_binding(NOW),
        ErrorCode::KbSdHashMismatch,
        Check::HolderBinding,
    );
}

#[test]
fn cnf_missing_or_invalid() {
    rejects(
        &with_payload(|p| drop(p.remove("cnf"))),
        ErrorCode::CnfMissing,
        Check::HolderBinding,
    );
    rejects(
        &with_payload(|p| drop(p.insert("cnf".into(), json!({"jwk": {"kty": "RSA", "crv": "x"}})))),
        ErrorCode::CnfInvalid,
        Check::HolderBinding,
    );
    rejects(
        &with_payload(|p| drop(p.insert("cnf".into(), json!({"kid": "holder-1"})))),
        ErrorCode::CnfInvalid,
        Check::HolderBinding,
    );
}

#[test]
fn kb_typ_wrong() {
    rejects(
        &with_kb_edit(|h| h["typ"] = json!("JWT"), |_| {}),
        ErrorCode::KbTypInvalid,
        Check::HolderBinding,
    );
    rejects(
        &with_kb_edit(|h| drop(h.as_object_mut().unwrap().remove("typ")), |_| {}),
        ErrorCode::KbTypInvalid,
        Check::HolderBinding,
    );
}

#[test]
fn kb_header_policy_applies_too() {
    rejects(
        &with_kb_edit(|h| h["alg"] = json!("none"), |_| {}),
        ErrorCode::AlgUnsupported,
        Check::HolderBinding,
    );
    rejects(
        &with_kb_edit(|h| h["jku"] = json!("https://x"), |_| {}),
        ErrorCode::HeaderKeyInjection,
        Check::HolderBinding,
    );
    // x5c names an issuer's certificate; a KB-JWT may not carry one.
    rejects(
        &with_kb_edit(|h| h["x5c"] = json!(["MIIB"]), |_| {}),
        ErrorCode::HeaderKeyInjection,
        Check::HolderBinding,
    );
}

#[test]
fn kb_sd_hash_wrong() {
    rejects(
        &with_kb_edit(
            |_| {},
            |p| drop(p.insert("sd_hash".into(), json!(sha256_b64("other")))),
        ),
        ErrorCode::KbSdHashMismatch,
        Check::HolderBinding,
    );
}

#[test]
fn kb_sd_hash_covers_the_disclosures_chosen() {
    // Dropping a disclosure after the holder signed breaks sd_hash.
    let v = valid(&fx());
    let parts: Vec<&str> = v.split('~').collect();
    let dropped = format!("{}~{}~{}", parts[0], parts[1], parts[3]);
    rejects(&dropped, ErrorCode::KbSdHashMismatch, Check::HolderBinding);
}

#[test]
fn kb_claims_missing() {
    for claim in ["iat", "aud", "nonce", "sd_hash"] {
        rejects(
            &with_kb_edit(|_| {}, |p| drop(p.remove(claim))),
            ErrorCode::KbClaimMissing,
            Check::HolderBinding,
        );
    }
}

#[test]
fn kb_iat_outside_its_window() {
    rejects(
        &with_kb_edit(|_| {}, |p| drop(p.insert("iat".into(), json!(NOW + 61)))),
        ErrorCode::KbIatInvalid,
        Check::HolderBinding,
    );
    rejects(
        &with_kb_edit(|_| {}, |p| drop(p.insert("iat".into(), json!(NOW - 361)))),
        ErrorCode::KbIatInvalid,
        Check::HolderBinding,
    );
}

#[test]
fn kb_signed_by_a_key_other_than_cnf() {
    let f = fx();
    let a = d("company_name", json!("x"));
    let sd = sd_jwt(&f, &header(), &payload(&f, &[&a]), &[&a]);
    let thief = Ed25519Signer::from_seed(&[77; 32], None);
    let kb = jwt(&thief, &kb_header(), &Value::Object(kb_payload(&sd)));
    rejects(
        &format!("{sd}{kb}"),
        ErrorCode::KbSignatureInvalid,
        Check::HolderBinding,
    );
    // An ES256 KB-JWT cannot come from an Ed25519 cnf key.
    let p256 = P256Signer::from_bytes(&[5; 32], None).unwrap();
    let kb = jwt(
        &p256,
        &json!({"alg": "ES256", "typ": "kb+jwt"}),
        &Value::Object(kb_payload(&sd)),
    );
    rejects(
        &format!("{sd}{kb}"),
        ErrorCode::KbSignatureInvalid,
        Check::HolderBinding,
    );
}

// ---- nonce and audience ----------------------------------------------------------

#[test]
fn kb_aud_wrong() {
    rejects(
        &with_kb_edit(
            |_| {},
            |p| drop(p.insert("aud".into(), json!("https://other.example"))),
        ),
        ErrorCode::KbAudMismatch,
        Check::NonceAudience,
    );
}

#[test]
fn kb_nonce_wrong() {
    rejects(
        &with_kb_edit(|_| {}, |p| drop(p.insert("nonce".into(), json!("n-9999")))),
        ErrorCode::KbNonceMismatch,
        Check::NonceAudience,
    );
}

// ---- ordering, batch, robustness ---------------------------------------------------

#[test]
fn an_earlier_failed_signature_wins_over_a_later_failure() {
    // Expired AND signed by another key: the report names the signature.
    let f = fx();
    let mallory = Ed25519Signer::from_seed(&[66; 32], Some("k1".into()));
    let mut p = payload(&f, &[]);
    p.insert("exp".into(), json!(NOW - 1000));
    let sd = format!("{}~", jwt(&mallory, &header(), &Value::Object(p)));
    rejects(
        &with_kb(&f, &sd, &kb_header(), &kb_payload(&sd)),
        ErrorCode::SignatureInvalid,
        Check::Signature,
    );
}

#[test]
fn batch_matches_single_verification() {
    let f = fx();
    let good = valid(&f);
    let bad_sig = {
        let (jwt, rest) = good.split_once('~').unwrap();
        let (head, _) = jwt.rsplit_once('.').unwrap();
        format!("{head}.{}~{rest}", b64_encode([7u8; 64]))
    };
    let bad_kb = with_kb_edit(|_| {}, |p| drop(p.insert("nonce".into(), json!("x"))));
    let inputs: Vec<&[u8]> = vec![
        good.as_bytes(),
        bad_sig.as_bytes(),
        good.as_bytes(),
        bad_kb.as_bytes(),
        b"junk",
    ];
    let batch = verify_batch(&inputs, &policy(), &f.keys);
    for (i, input) in inputs.iter().enumerate() {
        assert_eq!(
            batch[i],
            verify_bytes(input, &policy(), &f.keys),
            "input {i}"
        );
    }
    assert!(batch[0].is_accepted() && batch[2].is_accepted());
    assert_eq!(batch[1].code(), Some(ErrorCode::SignatureInvalid));
}

#[test]
fn no_input_panics_truncations_and_byte_flips() {
    let f = fx();
    let v = valid(&f).into_bytes();
    for cut in 0..v.len() {
        let _ = verify_bytes(&v[..cut], &policy(), &f.keys);
    }
    // Deterministic pseudo-random byte flips.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut m = v.clone();
        let at = (state as usize) % m.len();
        m[at] = (state >> 32) as u8;
        let r = verify_bytes(&m, &policy(), &f.keys);
        if m != v {
            // Any change to a signed or hashed byte must be rejected.
            assert!(
                !r.is_accepted() || m[at].is_ascii_whitespace(),
                "flip at {at} accepted"
            );
        }
    }
    // Concatenations.
    let twice = [v.clone(), v.clone()].concat();
    assert!(!verify_bytes(&twice, &policy(), &f.keys).is_accepted());
}

#[test]
fn every_code_has_a_rule_test() {
    // Keep this list in step with ErrorCode: a new code needs a test above.
    let tested = [
        "input_too_large",
        "invalid_utf8",
        "sd_jwt_malformed",
        "jws_malformed",
        "base64_invalid",
        "json_invalid",
        "json_too_deep",
        "json_duplicate_key",
        "too_many_disclosures",
        "alg_unsupported",
        "alg_key_mismatch",
        "header_key_injection",
        "crit_unsupported",
        "typ_missing",
        "typ_invalid",
        "issuer_unknown",
        "key_unknown",
        "signature_invalid",
        "sd_alg_unsupported",
        "sd_alg_misplaced",
        "sd_invalid",
        "disclosure_malformed",
        "disclosure_duplicate",
        "disclosure_unreferenced",
        "digest_duplicate",
        "disclosure_name_reserved",
        "disclosure_name_collision",
        "disclosure_kind_mismatch",
        "claim_not_disclosable",
        "claims_schema_violation",
        "iss_missing",
        "vct_missing",
        "claim_type_invalid",
        "expired",
        "not_yet_valid",
        "issued_in_future",
        "cnf_missing",
        "cnf_invalid",
        "kb_missing",
        "kb_typ_invalid",
        "kb_claim_missing",
        "kb_sd_hash_mismatch",
        "kb_iat_invalid",
        "kb_signature_invalid",
        "kb_aud_mismatch",
        "kb_nonce_mismatch",
    ];
    // Tested in trust_and_status.rs, with the trust list and bundle.
    let tested_with_trust = [
        "vct_not_authorised",
        "key_not_valid_at_issuance",
        "key_revoked",
        "iat_missing",
        "status_list_missing",
        "status_missing",
        "status_list_issuer_mismatch",
        "status_index_out_of_range",
        "status_revoked",
        "status_suspended",
        "status_unknown",
        "status_stale",
        "trust_list_malformed",
        "trust_list_anchor_unknown",
        "trust_list_signature_invalid",
        "trust_list_rollback",
        // The threshold and the root chain: trust_root.rs.
        "trust_list_threshold_not_met",
        "trust_anchor_removed",
        "trust_root_chain_broken",
        "trust_root_rollback",
        "status_list_malformed",
        "status_list_signature_invalid",
        "status_list_issuer_unknown",
        "bundle_manifest_invalid",
        "bundle_file_missing",
        "bundle_file_tampered",
        "bundle_incomplete",
    ];
    // Tested in qr_transport.rs.
    let tested_in_transport = [
        "transport_prefix_unknown",
        "transport_base45_invalid",
        "transport_malformed",
        "transport_too_large",
        "transport_non_canonical",
        "transport_part_missing",
        "transport_part_mixed",
        "transport_part_duplicate",
        "transport_digest_mismatch",
        "transport_certificate_unknown",
    ];
    // Tested in request.rs (the presentation request's own unit test) and
    // relying_party.rs (the registered requesters).
    let tested_in_request = [
        "request_invalid",
        "request_signature_invalid",
        "requester_unknown",
        "requester_key_revoked",
        "requester_registration_expired",
        "service_item_unregistered",
        "claims_not_registered",
    ];
    // Tested in x5c.rs (X.509 key resolution against a version 5 list).
    let tested_in_x5c = [
        "x5c_malformed",
        "x5c_algorithm_unsupported",
        "x5c_includes_anchor",
        "x5c_self_signed",
        "x5c_chain_broken",
        "x5c_signature_invalid",
        "x5c_anchor_unreached",
        "x5c_certificate_expired",
        "x5c_basic_constraints_invalid",
        "x5c_key_usage_invalid",
        "x5c_critical_extension_unknown",
        "x5c_issuer_mismatch",
        "x5c_key_not_listed",
    ];
    let mut all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
    let mut listed: Vec<&str> = tested
        .iter()
        .chain(&tested_in_x5c)
        .chain(&tested_with_trust)
        .chain(&tested_in_transport)
        .chain(&tested_in_request)
        .copied()
        .collect();
    all.sort_unstable();
    listed.sort_unstable();
    assert_eq!(all, listed);
}

#[test]
fn json_invalid_payload() {
    let f = fx();
    let mut jwt = format!(
        "{}.{}",
        b64_encode(to_compact_json(&header())),
        b64_encode("[1,2]")
    );
    let sig = f.issuer.sign(jwt.as_bytes()).unwrap();
    jwt = format!("{jwt}.{}~", b64_encode(sig));
    rejects(&jwt, ErrorCode::JsonInvalid, Check::Structure);
}
