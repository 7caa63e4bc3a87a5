//! The hostile-input corpus of `verifier/core/tests/corpus/`: malformed and
//! malicious presentations, trust lists, status lists and QR payloads, each
//! with the error code it must produce. Generated deterministically (fixed
//! keys and salts) by `cargo run -p tongban-xtask --bin make-corpus`; the
//! verifier's test `corpus` replays every entry.

use serde_json::{Map, Value, json};
use tongban_test_support::jws::sign_raw;
use tongban_test_support::keys::{FixedKeys, public_jwk};
use tongban_test_support::sdjwt::{
    credential_payload, issuer_header, kb_header, kb_payload, with_disclosures,
};
use tongban_test_support::zone::trusted_key;
use tongban_verifier::encoding::{b64_encode, to_compact_json};
use tongban_verifier::sdjwt::sha256_b64;
use tongban_verifier::status::Bits;
use tongban_verifier::trust::Anchor;
use tongban_verifier::*;

/// When the corpus is checked (2026-11-25T10:00:00+08:00).
pub const NOW: i64 = tongban_test_support::clock::NOW;
/// The audience of the corpus's KB-JWTs.
pub const AUD: &str = "https://counter.qingpu.example";
/// The nonce of the corpus's KB-JWTs.
pub const NONCE: &str = "corpus-nonce-1";
const ISS: &str = "https://amr.wujiang.example";
const VCT: &str = "urn:tongban:business-licence:1";
const STATUS_URI: &str = "https://amr.wujiang.example/status/1";

/// One corpus entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// File name (without directory).
    pub file: String,
    /// `presentation`, `trust_list`, `status_list` or `transport`.
    pub kind: &'static str,
    /// The code it must produce.
    pub expect: ErrorCode,
    /// What it is.
    pub what: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The corpus's fixed keys: issuer kid `wj-1`, anchor kid `anchor-1`.
pub fn keys() -> FixedKeys {
    FixedKeys::corpus()
}

/// The trust list the corpus's bundle-level entries are checked against.
pub fn trust_list(k: &FixedKeys) -> TrustList {
    TrustList {
        version: 1,
        anchor: Anchor {
            id: "https://trust.example".into(),
            name_zh: "示范区".into(),
            name_en: "Zone".into(),
        },
        sequence: 5,
        issued_at: NOW - 86_400,
        next_update: NOW + 86_400,
        root_sequence: None,
        verifiers: None,
        issuers: vec![TrustedIssuer {
            id: ISS.into(),
            name_zh: "吴江".into(),
            name_en: "Wujiang".into(),
            region: "320509".into(),
            vcts: vec![VCT.into()],
            keys: vec![trusted_key(&k.issuer, 0, None, None)],
            status_lists: vec![STATUS_URI.into()],
        }],
        x509_anchors: None,
    }
}

/// A JWS over `payload_text` exactly as given (see [`sign_raw`]).
fn jwt(signer: &dyn Signer, header: &Value, payload_text: &str) -> String {
    sign_raw(signer, header, payload_text).unwrap_or_default()
}

fn header() -> Value {
    issuer_header("wj-1")
}

fn disclosure(name: &str, value: Value) -> Disclosure {
    Disclosure::create(format!("corpus-salt-{name}"), Some(name.into()), value)
}

fn base_payload(k: &FixedKeys, digests: &[&str]) -> Map<String, Value> {
    let digests = digests.iter().map(ToString::to_string).collect();
    credential_payload(ISS, VCT, NOW, k.holder.public_key().to_jwk(), digests)
}

/// An edit of a KB-JWT's payload and header.
type KbEdit<'a> = dyn Fn(&mut Map<String, Value>, &mut Value) + 'a;

/// A presentation from a header, payload text and disclosures, with a valid
/// KB-JWT over it (or a KB payload edited by `kb_edit`).
fn present(
    k: &FixedKeys,
    header: &Value,
    payload: &str,
    ds: &[&str],
    kb: Option<&KbEdit>,
) -> String {
    let sd = with_disclosures(&jwt(&k.issuer, header, payload), ds);
    let mut p = kb_payload(NOW - 5, AUD, NONCE, &sd);
    let mut h = kb_header();
    if let Some(edit) = kb {
        edit(&mut p, &mut h);
    }
    let kbjwt = jwt(&k.holder, &h, &to_compact_json(&Value::Object(p)));
    format!("{sd}{kbjwt}")
}

/// Builds the whole corpus.
pub fn build() -> Vec<Entry> {
    let k = keys();
    let mut out: Vec<Entry> = Vec::new();
    let mut add = |kind: &'static str, expect: ErrorCode, what: &'static str, bytes: Vec<u8>| {
        let n = out.len() + 1;
        let ext = match kind {
            "presentation" => "sdjwt",
            "trust_list" => "tl.jwt",
            "status_list" => "sl.jwt",
            _ => "tb1",
        };
        out.push(Entry {
            file: format!("{n:03}-{}.{ext}", expect.code()),
            kind,
            expect,
            what,
            bytes,
        });
    };
    let name = disclosure("company_name", json!("吴江示范公司"));
    let good_payload = to_compact_json(&Value::Object(base_payload(&k, &[&name.digest])));
    let good = present(&k, &header(), &good_payload, &[&name.encoded], None);
    let p = |h: &Value, payload: &Map<String, Value>, ds: &[&str]| {
        present(
            &k,
            h,
            &to_compact_json(&Value::Object(payload.clone())),
            ds,
            None,
        )
    };
    let with = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut pl = base_payload(&k, &[&name.digest]);
        edit(&mut pl);
        p(&header(), &pl, &[&name.encoded])
    };
    let with_header = |h: Value| p(&h, &base_payload(&k, &[&name.digest]), &[&name.encoded]);
    let kb = |edit: &dyn Fn(&mut Map<String, Value>, &mut Value)| {
        present(&k, &header(), &good_payload, &[&name.encoded], Some(edit))
    };

    // ---- JWT attack classes -------------------------------------------------
    let unsigned = format!(
        "{}.{}.~",
        b64_encode(r#"{"alg":"none","typ":"dc+sd-jwt"}"#),
        b64_encode(&good_payload)
    );
    add(
        "presentation",
        ErrorCode::AlgUnsupported,
        "alg none, empty signature",
        unsigned.into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::AlgUnsupported,
        "alg None (case)",
        with_header(json!({"alg": "None", "typ": "dc+sd-jwt", "kid": "wj-1"})).into_bytes(),
    );
    // HMAC with the issuer's public key as the secret (the classic confusion).
    {
        use sha2::Digest as _;
        let h = b64_encode(r#"{"alg":"HS256","typ":"dc+sd-jwt","kid":"wj-1"}"#);
        let input = format!("{h}.{}", b64_encode(&good_payload));
        let key = k.issuer.public_key().to_jwk().to_string();
        // HMAC-SHA256 by hand (RFC 2104), block size 64.
        let mut kb = if key.len() > 64 {
            sha2::Sha256::digest(key.as_bytes()).to_vec()
        } else {
            key.into_bytes()
        };
        kb.resize(64, 0);
        let ipad: Vec<u8> = kb.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = kb.iter().map(|b| b ^ 0x5c).collect();
        let inner = sha2::Sha256::digest([ipad.as_slice(), input.as_bytes()].concat());
        let mac = sha2::Sha256::digest([&opad[..], &inner[..]].concat());
        add(
            "presentation",
            ErrorCode::AlgUnsupported,
            "HS256 with the issuer's public key as the HMAC secret",
            format!("{input}.{}~", b64_encode(mac)).into_bytes(),
        );
    }
    for alg in [
        "HS512", "RS256", "PS256", "ES384", "ES256K", "EdDSA ", "eddsa",
    ] {
        add(
            "presentation",
            ErrorCode::AlgUnsupported,
            "an algorithm outside the allow-list",
            with_header(json!({"alg": alg, "typ": "dc+sd-jwt", "kid": "wj-1"})).into_bytes(),
        );
    }
    let mallory = Ed25519Signer::from_seed(&[0x66; 32], Some("wj-1".into()));
    {
        let mut h = header();
        h["jwk"] = mallory.public_key().to_jwk();
        let mut sd = jwt(&mallory, &h, &good_payload);
        sd.push_str(&format!("~{}~", name.encoded));
        add(
            "presentation",
            ErrorCode::HeaderKeyInjection,
            "embedded jwk of the attacker's own key, signed with it",
            sd.into_bytes(),
        );
    }
    for (param, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
    ] {
        let mut h = header();
        h[param] = value;
        add(
            "presentation",
            ErrorCode::HeaderKeyInjection,
            "a header that tries to choose the verification key",
            with_header(h).into_bytes(),
        );
    }
    {
        let mut h = header();
        h["x5c"] = json!(["MIIBkTCB+wIJ"]);
        add(
            "presentation",
            ErrorCode::X5cMalformed,
            "an x5c header that is not a certificate chain",
            with_header(h).into_bytes(),
        );
    }
    for kid in ["../../../../etc/passwd", "wj-1' OR '1'='1", "wj-2"] {
        add(
            "presentation",
            ErrorCode::KeyUnknown,
            "kid injection / unknown kid",
            with_header(json!({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": kid})).into_bytes(),
        );
    }
    {
        let mut h = header();
        h["crit"] = json!(["exp"]);
        add(
            "presentation",
            ErrorCode::CritUnsupported,
            "crit naming a registered claim",
            with_header(h).into_bytes(),
        );
        let mut h = header();
        h["crit"] = json!(["b64"]);
        h["b64"] = json!(false);
        add(
            "presentation",
            ErrorCode::CritUnsupported,
            "crit b64=false (unencoded payload)",
            with_header(h).into_bytes(),
        );
    }
    add(
        "presentation",
        ErrorCode::TypMissing,
        "no typ",
        with_header(json!({"alg": "EdDSA", "kid": "wj-1"})).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::TypInvalid,
        "typ JWT",
        with_header(json!({"alg": "EdDSA", "typ": "JWT", "kid": "wj-1"})).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::TypInvalid,
        "legacy typ vc+sd-jwt",
        with_header(json!({"alg": "EdDSA", "typ": "vc+sd-jwt", "kid": "wj-1"})).into_bytes(),
    );
    {
        let mut sd = jwt(&mallory, &header(), &good_payload);
        sd.push_str(&format!("~{}~", name.encoded));
        add(
            "presentation",
            ErrorCode::SignatureInvalid,
            "signed by an attacker's key with the issuer's kid",
            sd.into_bytes(),
        );
    }

    // ---- RFC 9901 section 7 -------------------------------------------------
    let stray = disclosure("stray", json!(1));
    add(
        "presentation",
        ErrorCode::DisclosureUnreferenced,
        "a disclosure not referenced",
        p(
            &header(),
            &base_payload(&k, &[&name.digest]),
            &[&name.encoded, &stray.encoded],
        )
        .into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::DigestDuplicate,
        "a digest appearing twice",
        p(
            &header(),
            &base_payload(&k, &[&name.digest, &name.digest]),
            &[&name.encoded],
        )
        .into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::DisclosureDuplicate,
        "the same disclosure twice",
        p(
            &header(),
            &base_payload(&k, &[&name.digest]),
            &[&name.encoded, &name.encoded],
        )
        .into_bytes(),
    );
    for n in ["_sd", "..."] {
        let d = disclosure(n, json!("x"));
        add(
            "presentation",
            ErrorCode::DisclosureNameReserved,
            "a claim named _sd or ...",
            p(&header(), &base_payload(&k, &[&d.digest]), &[&d.encoded]).into_bytes(),
        );
    }
    {
        let mut pl = base_payload(&k, &[&name.digest]);
        pl.insert("company_name".into(), json!("plain"));
        add(
            "presentation",
            ErrorCode::DisclosureNameCollision,
            "a disclosed name colliding with a plaintext claim",
            p(&header(), &pl, &[&name.encoded]).into_bytes(),
        );
        let iss_d = disclosure("iss", json!("https://evil.example"));
        add(
            "presentation",
            ErrorCode::DisclosureNameCollision,
            "a disclosure overriding iss",
            p(
                &header(),
                &base_payload(&k, &[&iss_d.digest]),
                &[&iss_d.encoded],
            )
            .into_bytes(),
        );
    }
    {
        let el = Disclosure::create("corpus-salt-el".into(), None, json!("x"));
        add(
            "presentation",
            ErrorCode::DisclosureKindMismatch,
            "a 2-element disclosure referenced from _sd",
            p(&header(), &base_payload(&k, &[&el.digest]), &[&el.encoded]).into_bytes(),
        );
        let mut pl = base_payload(&k, &[]);
        pl.insert("list".into(), json!([{"...": name.digest}]));
        add(
            "presentation",
            ErrorCode::DisclosureKindMismatch,
            "a 3-element disclosure referenced from ...",
            p(&header(), &pl, &[&name.encoded]).into_bytes(),
        );
    }
    add(
        "presentation",
        ErrorCode::SdAlgMisplaced,
        "_sd_alg below the top level",
        with(&|pl| drop(pl.insert("nested".into(), json!({"_sd_alg": "sha-256"})))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::SdAlgUnsupported,
        "_sd_alg sha-1",
        with(&|pl| drop(pl.insert("_sd_alg".into(), json!("sha-1")))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::SdAlgUnsupported,
        "_sd_alg SHA-256 (case)",
        with(&|pl| drop(pl.insert("_sd_alg".into(), json!("SHA-256")))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::SdInvalid,
        "_sd is a string",
        with(&|pl| drop(pl.insert("_sd".into(), json!("x")))).into_bytes(),
    );
    {
        let bad = b64_encode(r#"["salt","name"]"#);
        let d = sha256_b64(&bad);
        add(
            "presentation",
            ErrorCode::DisclosureKindMismatch,
            "a 2-element disclosure whose value looks like a name",
            p(&header(), &base_payload(&k, &[&d]), &[&bad]).into_bytes(),
        );
        let bad = b64_encode(r#"["salt","a","b","c"]"#);
        let d = sha256_b64(&bad);
        add(
            "presentation",
            ErrorCode::DisclosureMalformed,
            "a 4-element disclosure",
            p(&header(), &base_payload(&k, &[&d]), &[&bad]).into_bytes(),
        );
        let bad = b64_encode(r#"{"salt":"s"}"#);
        let d = sha256_b64(&bad);
        add(
            "presentation",
            ErrorCode::DisclosureMalformed,
            "a disclosure that is an object",
            p(&header(), &base_payload(&k, &[&d]), &[&bad]).into_bytes(),
        );
    }
    for n in ["cnf", "status", "exp"] {
        let d = disclosure(n, json!({"x": 1}));
        let mut pl = base_payload(&k, &[&d.digest]);
        pl.remove(n);
        add(
            "presentation",
            ErrorCode::ClaimNotDisclosable,
            "a registered claim made selectively disclosable",
            p(&header(), &pl, &[&d.encoded]).into_bytes(),
        );
    }

    // ---- claims, validity, holder binding ----------------------------------------
    add(
        "presentation",
        ErrorCode::VctMissing,
        "no vct",
        with(&|pl| drop(pl.remove("vct"))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::IssMissing,
        "no iss",
        with(&|pl| drop(pl.remove("iss"))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::ClaimTypeInvalid,
        "exp as a string",
        with(&|pl| drop(pl.insert("exp".into(), json!("2099-01-01")))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::Expired,
        "expired",
        with(&|pl| drop(pl.insert("exp".into(), json!(NOW - 3600)))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::NotYetValid,
        "not yet valid",
        with(&|pl| drop(pl.insert("nbf".into(), json!(NOW + 3600)))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::IssuedInFuture,
        "issued tomorrow",
        with(&|pl| drop(pl.insert("iat".into(), json!(NOW + 86_400)))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::KbMissing,
        "no KB-JWT",
        format!("{}~", good.rsplit_once('~').map_or("", |x| x.0)).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::KbTypInvalid,
        "KB typ JWT",
        kb(&|_, h| h["typ"] = json!("JWT")).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::KbSdHashMismatch,
        "KB sd_hash of another presentation",
        kb(&|p, _| drop(p.insert("sd_hash".into(), json!(sha256_b64("x"))))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::KbAudMismatch,
        "KB for another counter",
        kb(&|p, _| drop(p.insert("aud".into(), json!("https://other.example")))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::KbNonceMismatch,
        "KB replayed (old nonce)",
        kb(&|p, _| drop(p.insert("nonce".into(), json!("old-nonce")))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::KbIatInvalid,
        "KB from yesterday",
        kb(&|p, _| drop(p.insert("iat".into(), json!(NOW - 86_400)))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::KbClaimMissing,
        "KB without nonce",
        kb(&|p, _| drop(p.remove("nonce"))).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::AlgUnsupported,
        "KB alg none",
        kb(&|_, h| h["alg"] = json!("none")).into_bytes(),
    );
    {
        let (sd, _) = good.rsplit_once('~').unwrap_or_default();
        let sd = format!("{sd}~");
        let thief = Ed25519Signer::from_seed(&[0x77; 32], None);
        let kbp = kb_payload(NOW - 5, AUD, NONCE, &sd);
        add(
            "presentation",
            ErrorCode::KbSignatureInvalid,
            "someone else's credential, KB signed by the presenter",
            format!("{sd}{}", jwt(&thief, &kb_header(), &to_compact_json(&kbp))).into_bytes(),
        );
    }

    // ---- encodings and sizes -------------------------------------------------------
    add(
        "presentation",
        ErrorCode::InputTooLarge,
        "300 KB of tildes",
        vec![b'~'; 300 * 1024],
    );
    add(
        "presentation",
        ErrorCode::InvalidUtf8,
        "invalid UTF-8 bytes",
        [good.as_bytes(), b"\xff\xfe"].concat(),
    );
    add(
        "presentation",
        ErrorCode::SdJwtMalformed,
        "empty input",
        Vec::new(),
    );
    add(
        "presentation",
        ErrorCode::SdJwtMalformed,
        "only tildes",
        b"~~~~".to_vec(),
    );
    add(
        "presentation",
        ErrorCode::SdJwtMalformed,
        "a bare JWT",
        good.split('~')
            .next()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
    );
    add(
        "presentation",
        ErrorCode::SdJwtMalformed,
        "an empty disclosure",
        good.replacen('~', "~~", 1).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::JwsMalformed,
        "a JWS with four parts",
        good.replacen('~', ".x~", 1).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::Base64Invalid,
        "a padded segment",
        good.replacen('.', "==.", 1).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::Base64Invalid,
        "standard-alphabet characters",
        good.replacen('-', "+", 1)
            .replacen('_', "/", 1)
            .into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::Base64Invalid,
        "a line break inside a segment",
        good.replacen('.', ".\n", 1).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::Base64Invalid,
        "a NUL byte",
        good.replacen('.', ".\0", 1).into_bytes(),
    );
    {
        let deep = format!("{}{}", "[".repeat(64), "]".repeat(64));
        let text = good_payload.replacen('{', &format!("{{\"deep\":{deep},"), 1);
        add(
            "presentation",
            ErrorCode::JsonTooDeep,
            "payload nested 64 deep",
            present(&k, &header(), &text, &[&name.encoded], None).into_bytes(),
        );
        let d = b64_encode(format!(
            "[\"s\",\"n\",{}]",
            "{\"a\":".repeat(40) + "1" + &"}".repeat(40)
        ));
        let dd = sha256_b64(&d);
        add(
            "presentation",
            ErrorCode::JsonTooDeep,
            "a disclosure nested 40 deep",
            p(&header(), &base_payload(&k, &[&dd]), &[&d]).into_bytes(),
        );
        let dup = good_payload.replacen('{', "{\"iss\":\"https://evil.example\",", 1);
        add(
            "presentation",
            ErrorCode::JsonDuplicateKey,
            "iss given twice (parser differential)",
            present(&k, &header(), &dup, &[&name.encoded], None).into_bytes(),
        );
        add(
            "presentation",
            ErrorCode::JsonInvalid,
            "payload not JSON",
            present(&k, &header(), "{not json", &[&name.encoded], None).into_bytes(),
        );
        add(
            "presentation",
            ErrorCode::JsonInvalid,
            "payload a JSON array",
            present(&k, &header(), "[1,2,3]", &[&name.encoded], None).into_bytes(),
        );
        add(
            "presentation",
            ErrorCode::InvalidUtf8,
            "payload with invalid UTF-8",
            {
                let jws = sign_raw(&k.issuer, &header(), b"{\"iss\":\"\xff\"}");
                format!("{}~", jws.unwrap_or_default()).into_bytes()
            },
        );
    }
    add(
        "presentation",
        ErrorCode::SignatureInvalid,
        "truncated signature",
        {
            let (jwt, rest) = good.split_once('~').unwrap_or_default();
            // 84 of 86 characters: canonical base64url of 63 bytes.
            format!("{}~{rest}", &jwt[..jwt.len() - 2]).into_bytes()
        },
    );
    add(
        "presentation",
        ErrorCode::Base64Invalid,
        "two presentations concatenated (the KB-JWT runs into a JWT)",
        {
            let (jwt, _) = good.split_once('~').unwrap_or_default();
            format!("{good}{jwt}~").into_bytes()
        },
    );

    // ---- trust lists -------------------------------------------------------------------
    let tl = trust_list(&k);
    let tl_payload = serde_json::to_value(&tl).unwrap_or_default();
    let sign_tl = |signer: &dyn Signer, h: Value, body: &str| jwt(signer, &h, body);
    let tl_header = json!({"alg": "EdDSA", "typ": "tongban-trust-list+jwt", "kid": "anchor-1"});
    add(
        "trust_list",
        ErrorCode::TrustListSignatureInvalid,
        "signed by another key under the anchor's kid",
        sign_tl(
            &Ed25519Signer::from_seed(&[0x99; 32], Some("anchor-1".into())),
            tl_header.clone(),
            &tl_payload.to_string(),
        )
        .into_bytes(),
    );
    add(
        "trust_list",
        ErrorCode::TrustListAnchorUnknown,
        "an unknown anchor kid",
        sign_tl(
            &k.anchor,
            json!({"alg": "EdDSA", "typ": "tongban-trust-list+jwt", "kid": "anchor-9"}),
            &tl_payload.to_string(),
        )
        .into_bytes(),
    );
    add(
        "trust_list",
        ErrorCode::TrustListMalformed,
        "typ JWT",
        sign_tl(
            &k.anchor,
            json!({"alg": "EdDSA", "typ": "JWT", "kid": "anchor-1"}),
            &tl_payload.to_string(),
        )
        .into_bytes(),
    );
    add(
        "trust_list",
        ErrorCode::TrustListMalformed,
        "alg none",
        format!(
            "{}.{}.",
            b64_encode(r#"{"alg":"none","typ":"tongban-trust-list+jwt"}"#),
            b64_encode(tl_payload.to_string())
        )
        .into_bytes(),
    );
    add(
        "trust_list",
        ErrorCode::TrustListMalformed,
        "an unknown member",
        {
            let mut v = tl_payload.clone();
            v["extra"] = json!(true);
            sign_tl(&k.anchor, tl_header.clone(), &v.to_string()).into_bytes()
        },
    );
    add(
        "trust_list",
        ErrorCode::TrustListMalformed,
        "a 5-digit region",
        {
            let mut v = tl_payload.clone();
            v["issuers"][0]["region"] = json!("32050");
            sign_tl(&k.anchor, tl_header.clone(), &v.to_string()).into_bytes()
        },
    );
    add(
        "trust_list",
        ErrorCode::TrustListMalformed,
        "an issuer key with private material",
        {
            let mut v = tl_payload.clone();
            v["issuers"][0]["keys"][0]["jwk"] = k.issuer.to_private_jwk();
            sign_tl(&k.anchor, tl_header.clone(), &v.to_string()).into_bytes()
        },
    );
    add(
        "trust_list",
        ErrorCode::TrustListMalformed,
        "duplicate sequence member",
        {
            let text = tl_payload.to_string().replacen(
                "\"sequence\":5",
                "\"sequence\":5,\"sequence\":99",
                1,
            );
            sign_tl(&k.anchor, tl_header.clone(), &text).into_bytes()
        },
    );
    add(
        "trust_list",
        ErrorCode::TrustListMalformed,
        "not a JWS",
        b"hello".to_vec(),
    );
    add(
        "trust_list",
        ErrorCode::TrustListRollback,
        "an older sequence than the held one (held: 6)",
        sign_tl(&k.anchor, tl_header.clone(), &tl_payload.to_string()).into_bytes(),
    );

    // ---- status lists ------------------------------------------------------------------
    let sl_header = json!({"alg": "EdDSA", "typ": "statuslist+jwt", "kid": "wj-1"});
    let Some(bits) = Bits::new(2) else {
        return out;
    };
    let list = StatusList::new(bits, 1024);
    let sl_payload = |lst: Value| {
        json!({"iss": ISS, "sub": STATUS_URI, "iat": NOW - 60, "exp": NOW + 3600, "status_list": lst}).to_string()
    };
    let bomb = b64_encode(miniz_oxide::deflate::compress_to_vec_zlib(
        &vec![0u8; 64 * 1024 * 1024],
        10,
    ));
    add(
        "status_list",
        ErrorCode::StatusListMalformed,
        "a zlib bomb (64 MiB of zeros)",
        jwt(
            &k.issuer,
            &sl_header,
            &sl_payload(json!({"bits": 2, "lst": bomb})),
        )
        .into_bytes(),
    );
    add(
        "status_list",
        ErrorCode::StatusListMalformed,
        "bits 3",
        jwt(
            &k.issuer,
            &sl_header,
            &sl_payload(json!({"bits": 3, "lst": list.to_json()["lst"]})),
        )
        .into_bytes(),
    );
    add(
        "status_list",
        ErrorCode::StatusListMalformed,
        "lst not zlib",
        jwt(
            &k.issuer,
            &sl_header,
            &sl_payload(json!({"bits": 2, "lst": "AAAAAAAA"})),
        )
        .into_bytes(),
    );
    add(
        "status_list",
        ErrorCode::StatusListMalformed,
        "typ JWT",
        jwt(
            &k.issuer,
            &json!({"alg": "EdDSA", "typ": "JWT", "kid": "wj-1"}),
            &sl_payload(list.to_json()),
        )
        .into_bytes(),
    );
    add(
        "status_list",
        ErrorCode::StatusListMalformed,
        "no sub",
        jwt(
            &k.issuer,
            &sl_header,
            &json!({"iat": NOW, "status_list": list.to_json()}).to_string(),
        )
        .into_bytes(),
    );
    add(
        "status_list",
        ErrorCode::StatusListSignatureInvalid,
        "signed by an attacker under the issuer's kid",
        jwt(&mallory, &sl_header, &sl_payload(list.to_json())).into_bytes(),
    );
    add(
        "status_list",
        ErrorCode::StatusListIssuerUnknown,
        "a URI no listed issuer publishes",
        jwt(
            &k.issuer,
            &sl_header,
            &json!({"sub": "https://evil.example/s", "iat": NOW, "status_list": list.to_json()})
                .to_string(),
        )
        .into_bytes(),
    );
    add("status_list", ErrorCode::StatusListIssuerUnknown, "iss of another issuer",
        jwt(&k.issuer, &sl_header, &json!({"iss": "https://evil.example", "sub": STATUS_URI, "iat": NOW, "status_list": list.to_json()}).to_string()).into_bytes());

    // ---- QR transport -------------------------------------------------------------------
    let t = transport::encode(&good).unwrap_or_default();
    add(
        "transport",
        ErrorCode::TransportPrefixUnknown,
        "version 2 prefix",
        t.replacen("TB1:", "TB2:", 1).into_bytes(),
    );
    add(
        "transport",
        ErrorCode::TransportPrefixUnknown,
        "a URL QR code",
        b"HTTPS://PAY.EXAMPLE/123".to_vec(),
    );
    add(
        "transport",
        ErrorCode::TransportBase45Invalid,
        "lower-case characters",
        format!("{}abc", &t[..t.len() - 3]).into_bytes(),
    );
    add(
        "transport",
        ErrorCode::TransportBase45Invalid,
        "a dangling character",
        t.as_bytes()[..t.len() - 1].to_vec(),
    );
    add(
        "transport",
        ErrorCode::TransportMalformed,
        "truncated by one group",
        // The last group has 2 characters when the body's length is odd.
        t.as_bytes()[..t.len() - if (t.len() - 4) % 3 == 2 { 2 } else { 3 }].to_vec(),
    );
    let bomb45 = transport::base45_encode(&miniz_oxide::deflate::compress_to_vec(
        &vec![0u8; 8 * 1024 * 1024],
        10,
    ));
    add(
        "transport",
        ErrorCode::TransportTooLarge,
        "a deflate bomb (8 MiB)",
        format!("TB1:{bomb45}").into_bytes(),
    );
    add(
        "transport",
        ErrorCode::TransportMalformed,
        "flags 0xff",
        format!(
            "TB1:{}",
            transport::base45_encode(&miniz_oxide::deflate::compress_to_vec(&[0xff, 0], 10))
        )
        .into_bytes(),
    );
    let parts = transport::split(&t, 400).unwrap_or_default();
    add(
        "transport",
        ErrorCode::TransportPartMissing,
        "first part missing",
        parts[1..].join("\n").into_bytes(),
    );
    add(
        "transport",
        ErrorCode::TransportPartDuplicate,
        "a part twice",
        format!("{}\n{}", parts.join("\n"), parts[0]).into_bytes(),
    );
    add(
        "transport",
        ErrorCode::TransportPartMixed,
        "parts with different counts",
        {
            let mut v = parts.clone();
            v[0] = v[0].replacen(
                &format!("/{}:", parts.len()),
                &format!("/{}:", parts.len() + 1),
                1,
            );
            v.join("\n").into_bytes()
        },
    );
    add(
        "transport",
        ErrorCode::TransportDigestMismatch,
        "a chunk altered",
        {
            let mut v = parts.clone();
            let last = v[1].pop().unwrap_or('0');
            v[1].push(if last == '0' { '1' } else { '0' });
            v.join("\n").into_bytes()
        },
    );
    // ---- the SM2SM3 suite: the algorithm cases again, for SM2 ---------------------------
    let sm2 = sm2_issuer();
    let sm2_header = |alg: &str, kid: &str| json!({"alg": alg, "typ": "dc+sd-jwt", "kid": kid});
    let sm2_present = |signer: &dyn Signer, h: &Value, payload: &str, raw_sig: Option<Vec<u8>>| {
        let mut issuer_jwt = jwt(signer, h, payload);
        if let Some(sig) = raw_sig {
            let cut = issuer_jwt.rfind('.').map_or(0, |i| i + 1);
            issuer_jwt.truncate(cut);
            issuer_jwt.push_str(&b64_encode(sig));
        }
        let sd = with_disclosures(&issuer_jwt, &[&name.encoded]);
        let p = kb_payload(NOW - 5, AUD, NONCE, &sd);
        let kbjwt = jwt(&k.holder, &kb_header(), &to_compact_json(&Value::Object(p)));
        format!("{sd}{kbjwt}")
    };
    add(
        "presentation",
        ErrorCode::AlgKeyMismatch,
        "SM2 key's credential relabelled ES256 (wrong curve for the alg)",
        sm2_present(&sm2, &sm2_header("ES256", "wj-sm2"), &good_payload, None).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::AlgKeyMismatch,
        "SM2 key's credential relabelled EdDSA",
        sm2_present(&sm2, &sm2_header("EdDSA", "wj-sm2"), &good_payload, None).into_bytes(),
    );
    add(
        "presentation",
        ErrorCode::AlgKeyMismatch,
        "an Ed25519 key's credential labelled SM2SM3",
        sm2_present(
            &k.issuer,
            &sm2_header("SM2SM3", "wj-1"),
            &good_payload,
            None,
        )
        .into_bytes(),
    );
    {
        let p256 = P256Signer::from_bytes(&[0xc5; 32], Some("wj-sm2".into()))
            .unwrap_or_else(|_| unreachable!("a fixed valid P-256 scalar"));
        add(
            "presentation",
            ErrorCode::SignatureInvalid,
            "an ES256 signature under the SM2 kid, labelled SM2SM3 (alg confusion)",
            sm2_present(&p256, &sm2_header("SM2SM3", "wj-sm2"), &good_payload, None).into_bytes(),
        );
    }
    for alg in ["SM2", "sm2sm3", "SM3withSM2", "SM2-SM3", "SM2SM3 "] {
        add(
            "presentation",
            ErrorCode::AlgUnsupported,
            "an SM2 spelling outside the allow-list",
            sm2_present(&sm2, &sm2_header(alg, "wj-sm2"), &good_payload, None).into_bytes(),
        );
    }
    {
        // Out-of-range, zero and non-canonical r, s (GB/T 32918.2 B1, B2, B5).
        let genuine = jwt(&sm2, &sm2_header("SM2SM3", "wj-sm2"), &good_payload);
        let sig = genuine
            .rsplit('.')
            .next()
            .and_then(|s| tongban_verifier::encoding::b64_decode(s, "sig").ok())
            .unwrap_or_default();
        let (r, sv) = sig.split_at(32.min(sig.len()));
        let n = SM2_ORDER;
        let mut n_minus_r = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(n[i]) - i16::from(r.get(i).copied().unwrap_or(0)) - borrow;
            n_minus_r[i] = d.rem_euclid(256) as u8;
            borrow = i16::from(d < 0);
        }
        let cat = |a: &[u8], b: &[u8]| [a, b].concat();
        let mut der = vec![0x30, 0x44, 0x02, 0x20];
        der.extend_from_slice(r);
        der.extend_from_slice(&[0x02, 0x20]);
        der.extend_from_slice(sv);
        for (what, bad) in [
            ("SM2 signature r = 0", cat(&[0; 32], sv)),
            ("SM2 signature s = 0", cat(r, &[0; 32])),
            ("SM2 signature r = n", cat(&n, sv)),
            ("SM2 signature s = n", cat(r, &n)),
            ("SM2 signature r > n", cat(&[0xff; 32], sv)),
            ("SM2 signature s > n", cat(r, &[0xff; 32])),
            ("SM2 signature with r + s = n", cat(r, &n_minus_r)),
            (
                "SM2 signature of 63 bytes",
                sig[..63.min(sig.len())].to_vec(),
            ),
            ("SM2 signature of 65 bytes", cat(&sig, &[0])),
            ("SM2 signature in DER, not r||s", der.clone()),
            ("SM2 signature with r and s swapped", cat(sv, r)),
        ] {
            add(
                "presentation",
                ErrorCode::SignatureInvalid,
                what,
                sm2_present(
                    &sm2,
                    &sm2_header("SM2SM3", "wj-sm2"),
                    &good_payload,
                    Some(bad),
                )
                .into_bytes(),
            );
        }
    }
    {
        let mut pl = base_payload(&k, &[&name.digest]);
        pl.insert("_sd_alg".into(), json!("SM3"));
        let text = to_compact_json(&Value::Object(pl));
        add(
            "presentation",
            ErrorCode::SdAlgUnsupported,
            "_sd_alg SM3 (case)",
            sm2_present(&sm2, &sm2_header("SM2SM3", "wj-sm2"), &text, None).into_bytes(),
        );
        let mut pl = base_payload(&k, &[&name.digest]);
        pl.insert("_sd_alg".into(), json!("sm3"));
        let text = to_compact_json(&Value::Object(pl));
        add(
            "presentation",
            ErrorCode::DisclosureUnreferenced,
            "_sd_alg sm3 over SHA-256 digests",
            sm2_present(&sm2, &sm2_header("SM2SM3", "wj-sm2"), &text, None).into_bytes(),
        );
    }
    add(
        "presentation",
        ErrorCode::KbSignatureInvalid,
        "KB-JWT labelled SM2SM3 for an Ed25519 cnf key",
        kb(&|_, h| h["alg"] = json!("SM2SM3")).into_bytes(),
    );
    out
}

/// The order n of the SM2 recommended curve (GB/T 32918.5).
const SM2_ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x23,
];

/// The corpus's SM2 issuer key (kid `wj-sm2`), listed beside `wj-1`.
pub fn sm2_issuer() -> Sm2Signer {
    Sm2Signer::from_bytes(&[0xc4; 32], Some("wj-sm2".into()))
        .unwrap_or_else(|_| unreachable!("a fixed valid SM2 scalar"))
}

/// The SM2 issuer's public JWK with its kid and its `SM2SM3` pin.
pub fn sm2_issuer_jwk() -> Value {
    let mut jwk = sm2_issuer().public_key().to_jwk();
    jwk["kid"] = json!("wj-sm2");
    jwk["alg"] = json!("SM2SM3");
    jwk
}

/// Writes the corpus files and `index.json` into `dir`.
pub fn write(dir: &std::path::Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    for e in std::fs::read_dir(dir)?.flatten() {
        std::fs::remove_file(e.path())?;
    }
    let k = keys();
    let entries = build();
    let mut index = Vec::new();
    for e in &entries {
        std::fs::write(dir.join(&e.file), &e.bytes)?;
        index.push(
            json!({"file": e.file, "kind": e.kind, "expect": e.expect.code(), "what": e.what}),
        );
    }
    let issuer_jwk = public_jwk(&k.issuer);
    let anchor_jwk = public_jwk(&k.anchor);
    let doc = json!({
        "now": NOW, "aud": AUD, "nonce": NONCE, "issuer": ISS, "issuer_jwk": issuer_jwk, "anchor_jwk": anchor_jwk,
        "sm2_issuer_jwk": sm2_issuer_jwk(),
        "held_trust_list_sequence": 6,
        "trust_list": trust_list(&k).sign(&k.anchor).unwrap_or_default(),
        "entries": index,
    });
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
    )?;
    Ok(entries.len())
}
