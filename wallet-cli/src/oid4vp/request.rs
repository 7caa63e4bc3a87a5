//! Checking a signed request object before anything in it is believed:
//! the JWS header (`typ`, `alg`, `x5c`), the client identifier bound to the
//! leaf certificate (`x509_hash` or `x509_san_dns`), the leaf's signature,
//! the chain to a verifier CA the wallet trusts (HAIP: the leaf is not
//! self-signed, the trust anchor is the wallet's, not the request's), the
//! validity periods at the time passed in, and then the claims. Pure: no
//! I/O, no clock.

use base64::Engine as _;
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Verifier as _;
use serde_json::{Map, Value};
use tongban_verifier::encoding::b64_decode;

use super::error::{AnswerError, RequestFault};
use tongban_protocol::oid4vp::request::{
    RESPONSE_MODE_DIRECT_POST, RESPONSE_MODE_DIRECT_POST_JWT, RESPONSE_TYPE_VP_TOKEN,
};
use tongban_protocol::oid4vp::{ClientId, RequestObject};

use super::x509::Cert;
use tongban_protocol::oid4vp::request::{REQUEST_OBJECT_TYP, SELF_ISSUED_AUD};

/// The most certificates an `x5c` may hold.
const MAX_CHAIN: usize = 5;

/// What the request must match besides its own signature.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The `client_id` of the link.
    pub client_id: &'a str,
    /// The `wallet_nonce` the wallet sent (POST), which must be echoed.
    pub wallet_nonce: Option<&'a str>,
    /// Whether plain `direct_post` (an unencrypted response) is accepted.
    pub allow_unencrypted: bool,
}

/// How the response is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseProtection {
    /// `direct_post.jwt`: a JWE to `jwk` (its `kid` copied) with `enc`.
    Encrypted {
        /// The verifier's P-256 ECDH-ES public key.
        jwk: Map<String, Value>,
        /// `A256GCM` when listed, else `A128GCM`.
        enc: String,
    },
    /// `direct_post` (only with [`Expected::allow_unencrypted`]).
    Plain,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct CheckedRequest {
    /// Its claims.
    pub object: RequestObject,
    /// The leaf certificate's subject.
    pub subject: String,
    /// The leaf certificate's DNS names.
    pub dns_names: Vec<String>,
    /// The subject of the trusted CA it chains to.
    pub ca_subject: String,
    /// Where the response goes.
    pub response_uri: String,
    /// How.
    pub protection: ResponseProtection,
}

fn refuse(fault: RequestFault, detail: impl Into<String>) -> AnswerError {
    AnswerError::refused(fault, detail)
}

/// Checks the request object `jws` against `expected`, trusting the CAs
/// `trusted` at `now` (Unix seconds).
pub fn check_request_object(
    jws: &str,
    expected: &Expected<'_>,
    trusted: &[Cert],
    now: i64,
) -> Result<CheckedRequest, AnswerError> {
    let parts: Vec<&str> = jws.trim().split('.').collect();
    let [h64, p64, s64] = parts[..] else {
        return Err(refuse(
            RequestFault::NotSigned,
            format!(
                "the request object has {} parts, not the 3 of a compact JWS",
                parts.len()
            ),
        ));
    };
    let header = decode_object(h64, "the JWS header", RequestFault::NotSigned)?;
    let typ = header.get("typ").and_then(Value::as_str);
    if typ != Some(REQUEST_OBJECT_TYP) {
        return Err(refuse(
            RequestFault::TypInvalid,
            format!("typ is {typ:?}, not {REQUEST_OBJECT_TYP:?}"),
        ));
    }
    let alg = header.get("alg").and_then(Value::as_str);
    if alg != Some("ES256") {
        return Err(refuse(
            RequestFault::AlgUnsupported,
            format!("alg is {alg:?}, not \"ES256\""),
        ));
    }
    let chain = x5c(&header)?;
    let leaf = &chain[0];

    // The client identifier names the leaf certificate.
    let client_id = expected.client_id;
    let san_dns = match ClientId::parse(client_id) {
        ClientId::X509Hash(original) => {
            let hash = leaf.sha256_b64();
            if hash != original {
                return Err(refuse(
                    RequestFault::ClientIdHashMismatch,
                    format!(
                        "the leaf certificate's SHA-256 is {hash}, the client id names {original}"
                    ),
                ));
            }
            None
        }
        ClientId::X509SanDns(original) => {
            if !leaf
                .dns_names()
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&original))
            {
                return Err(refuse(
                    RequestFault::ClientIdSanMismatch,
                    format!(
                        "{original} is not a DNS name of the leaf certificate ({:?})",
                        leaf.dns_names()
                    ),
                ));
            }
            Some(original)
        }
        _ => {
            return Err(refuse(
                RequestFault::ClientIdPrefixUnsupported,
                format!(
                    "{client_id:?}: only x509_hash: and x509_san_dns: client identifiers are accepted"
                ),
            ));
        }
    };

    // The signature, under the leaf's key.
    let key = leaf
        .p256_key()
        .map_err(|e| refuse(RequestFault::CertificateInvalid, e))?;
    let sig = b64_decode(s64, "the signature")
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| {
            refuse(
                RequestFault::SignatureInvalid,
                "the signature is not a P-256 signature",
            )
        })?;
    key.verify(format!("{h64}.{p64}").as_bytes(), &sig)
        .map_err(|_| {
            refuse(
                RequestFault::SignatureInvalid,
                "the signature does not verify under the leaf certificate's key",
            )
        })?;

    // The chain, to a CA of the wallet's.
    let ca = check_chain(&chain, trusted, now)?;

    let payload = decode_object(p64, "the JWS payload", RequestFault::Malformed)?;
    let object: RequestObject = serde_json::from_value(Value::Object(payload))
        .map_err(|e| refuse(RequestFault::Malformed, format!("the request object: {e}")))?;
    let (response_uri, protection) = check_claims(&object, expected, san_dns.as_deref(), now)?;
    Ok(CheckedRequest {
        subject: leaf.subject(),
        dns_names: leaf.dns_names(),
        ca_subject: ca.subject(),
        object,
        response_uri,
        protection,
    })
}

fn decode_object(
    b64: &str,
    what: &str,
    fault: RequestFault,
) -> Result<Map<String, Value>, AnswerError> {
    let bytes = b64_decode(b64, what).map_err(|r| refuse(fault, r.detail))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(refuse(fault, format!("{what} is not a JSON object"))),
    }
}

/// The `x5c` certificates (standard base64 DER, leaf first).
fn x5c(header: &Map<String, Value>) -> Result<Vec<Cert>, AnswerError> {
    let list = header
        .get("x5c")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            refuse(
                RequestFault::X5cMissing,
                "the header has no x5c certificate chain",
            )
        })?;
    if list.len() > MAX_CHAIN {
        return Err(refuse(
            RequestFault::CertificateInvalid,
            format!("x5c holds {} certificates; at most {MAX_CHAIN}", list.len()),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let der = v
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| {
                    refuse(
                        RequestFault::CertificateInvalid,
                        format!("x5c[{i}] is not base64"),
                    )
                })?;
            Cert::from_der(&der)
                .map_err(|e| refuse(RequestFault::CertificateInvalid, format!("x5c[{i}]: {e}")))
        })
        .collect()
}

/// Walks from the leaf up the `x5c` chain until a trusted CA signed the
/// certificate in hand; every certificate on the way, and the CA, must be
/// valid at `now`. The leaf must not be self-signed.
fn check_chain<'t>(chain: &[Cert], trusted: &'t [Cert], now: i64) -> Result<&'t Cert, AnswerError> {
    let leaf = &chain[0];
    if leaf.is_self_signed() {
        return Err(refuse(
            RequestFault::LeafSelfSigned,
            format!("the leaf certificate {} is self-signed", leaf.subject()),
        ));
    }
    let not_valid = |c: &Cert| {
        let (from, until) = c.validity();
        refuse(
            RequestFault::CertificateNotValidNow,
            format!(
                "{} is valid from {from} until {until}, not at {now}",
                c.subject()
            ),
        )
    };
    let mut current = leaf;
    let mut next = 1;
    loop {
        if !current.valid_at(now) {
            return Err(not_valid(current));
        }
        if let Some(ca) = trusted
            .iter()
            .find(|ca| matches!(current.signed_by(ca), Ok(true)))
        {
            if !ca.valid_at(now) {
                return Err(not_valid(ca));
            }
            return Ok(ca);
        }
        let Some(issuer) = chain.get(next) else {
            return Err(refuse(
                RequestFault::VerifierCaUntrusted,
                format!(
                    "{} is issued by {}, which is not a verifier CA this wallet trusts (tongban-wallet verifier-ca add, or --verifier-ca)",
                    current.subject(),
                    current.issuer()
                ),
            ));
        };
        if !issuer.is_ca() || !matches!(current.signed_by(issuer), Ok(true)) {
            return Err(refuse(
                RequestFault::ChainInvalid,
                format!(
                    "x5c[{next}] ({}) did not issue x5c[{}]",
                    issuer.subject(),
                    next - 1
                ),
            ));
        }
        current = issuer;
        next += 1;
    }
}

/// The claims' checks; returns the response URI and how to protect the
/// response.
fn check_claims(
    object: &RequestObject,
    expected: &Expected<'_>,
    san_dns: Option<&str>,
    now: i64,
) -> Result<(String, ResponseProtection), AnswerError> {
    if object.client_id != expected.client_id {
        return Err(refuse(
            RequestFault::ClientIdMismatch,
            format!(
                "the request object names {:?}, the link {:?}",
                object.client_id, expected.client_id
            ),
        ));
    }
    if let Some(sent) = expected.wallet_nonce
        && object.wallet_nonce.as_deref() != Some(sent)
    {
        return Err(refuse(
            RequestFault::WalletNonceMismatch,
            "the request object does not echo the wallet_nonce this wallet sent",
        ));
    }
    if let Some(exp) = object.exp
        && exp <= now
    {
        return Err(refuse(
            RequestFault::Expired,
            format!("exp {exp} has passed ({now})"),
        ));
    }
    if object.response_type != RESPONSE_TYPE_VP_TOKEN {
        return Err(refuse(
            RequestFault::ResponseTypeUnsupported,
            format!(
                "response_type {:?} is not \"vp_token\"",
                object.response_type
            ),
        ));
    }
    if let Some(aud) = &object.aud
        && aud != SELF_ISSUED_AUD
    {
        return Err(refuse(
            RequestFault::AudInvalid,
            format!("aud {aud:?} is not {SELF_ISSUED_AUD:?}"),
        ));
    }
    if object.nonce.is_empty() {
        return Err(refuse(RequestFault::Malformed, "the nonce is empty"));
    }
    object
        .dcql_query
        .validate()
        .map_err(|e| refuse(RequestFault::Malformed, format!("the DCQL query: {e}")))?;
    let response_uri = object.response_uri.clone();
    let parsed = tongban_cli_support::net::check_url(&response_uri)
        .map_err(|e| refuse(RequestFault::ResponseUriInvalid, e.to_string()))?;
    if let Some(dns) = san_dns
        && !parsed
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(dns))
    {
        return Err(refuse(
            RequestFault::ResponseUriHostMismatch,
            format!("response_uri {response_uri} is not on {dns}"),
        ));
    }
    let protection = match object.response_mode.as_str() {
        RESPONSE_MODE_DIRECT_POST_JWT => encryption(object)?,
        RESPONSE_MODE_DIRECT_POST if expected.allow_unencrypted => ResponseProtection::Plain,
        RESPONSE_MODE_DIRECT_POST => {
            return Err(refuse(
                RequestFault::ResponseModeUnsupported,
                "the verifier asks for an unencrypted response (direct_post); refused without --allow-unencrypted",
            ));
        }
        other => {
            return Err(refuse(
                RequestFault::ResponseModeUnsupported,
                format!("response_mode {other:?} is not {RESPONSE_MODE_DIRECT_POST_JWT}"),
            ));
        }
    };
    Ok((response_uri, protection))
}

/// The verifier's encryption key (P-256, `alg` ECDH-ES, `use` absent or
/// `enc`) and the `enc` (A256GCM when listed, else A128GCM).
fn encryption(object: &RequestObject) -> Result<ResponseProtection, AnswerError> {
    let missing = |d: &str| refuse(RequestFault::EncryptionKeyMissing, d.to_owned());
    let meta = object
        .client_metadata
        .as_ref()
        .ok_or_else(|| missing("no client_metadata"))?;
    let jwk = meta
        .encryption_key()
        .and_then(Value::as_object)
        .filter(|k| !k.contains_key("d"))
        .ok_or_else(|| missing("no P-256 ECDH-ES encryption key in client_metadata.jwks"))?;
    let listed = meta.enc_values();
    let enc = if listed.iter().any(|e| e == "A256GCM") {
        "A256GCM"
    } else if listed.iter().any(|e| e == "A128GCM") {
        "A128GCM"
    } else {
        return Err(missing(&format!(
            "none of the listed enc values {listed:?} is A128GCM or A256GCM"
        )));
    };
    Ok(ResponseProtection::Encrypted {
        jwk: jwk.clone(),
        enc: enc.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::oid4vp::fixtures;

    const NOW: i64 = 1_800_000_000;
    const DNS: &str = "verifier.qingpu.example";
    const URI: &str = "https://verifier.qingpu.example/oid4vp/response/t1";

    struct Case {
        pki: fixtures::Pki,
        ca: Vec<Cert>,
        client_id: String,
        payload: Value,
    }

    fn case() -> Case {
        let pki = fixtures::pki("Test Verifier CA", DNS);
        let ca = Cert::from_pem_chain(pki.ca_pem.as_bytes()).unwrap();
        let client_id = fixtures::x509_hash(&pki.leaf_der);
        let (_, jwk) = fixtures::encryption_key("enc-1");
        let payload = fixtures::request_payload(
            &client_id,
            URI,
            "n-1",
            Some("wn-1"),
            &jwk,
            "urn:x",
            &["name"],
        );
        Case {
            pki,
            ca,
            client_id,
            payload,
        }
    }

    fn expected(client_id: &str) -> Expected<'_> {
        Expected {
            client_id,
            wallet_nonce: Some("wn-1"),
            allow_unencrypted: false,
        }
    }

    impl Case {
        fn jws(&self) -> String {
            fixtures::sign(
                &self.payload,
                REQUEST_OBJECT_TYP,
                &[&self.pki.leaf_der],
                &self.pki.leaf_key,
            )
        }

        fn check(&self, jws: &str) -> Result<CheckedRequest, AnswerError> {
            check_request_object(jws, &expected(&self.client_id), &self.ca, NOW)
        }
    }

    fn code(r: Result<CheckedRequest, AnswerError>) -> &'static str {
        r.map(|_| ()).unwrap_err().code()
    }

    #[test]
    fn a_well_formed_request_passes_and_says_how_to_answer() {
        let c = case();
        let checked = c.check(&c.jws()).unwrap();
        assert_eq!(checked.object.nonce, "n-1");
        assert_eq!(checked.response_uri, URI);
        assert_eq!(checked.dns_names, [DNS]);
        assert!(checked.ca_subject.contains("Test Verifier CA"));
        match checked.protection {
            ResponseProtection::Encrypted { jwk, enc } => {
                assert_eq!(enc, "A256GCM", "A256GCM is preferred when listed");
                assert_eq!(jwk["kid"], "enc-1");
            }
            ResponseProtection::Plain => panic!("must be encrypted"),
        }
        // x509_san_dns names the same certificate by its DNS name.
        let mut c = case();
        c.client_id = format!("x509_san_dns:{DNS}");
        c.payload["client_id"] = json!(c.client_id);
        assert!(c.check(&c.jws()).is_ok());
    }

    #[test]
    fn the_header_must_be_a_signed_request_object_with_x5c() {
        let c = case();
        let wrong_typ = fixtures::sign(&c.payload, "JWT", &[&c.pki.leaf_der], &c.pki.leaf_key);
        assert_eq!(code(c.check(&wrong_typ)), "request_typ_invalid");
        assert_eq!(code(c.check("a.b")), "request_not_signed");
        assert_eq!(code(c.check("a.b.c.d.e")), "request_not_signed");
        let no_x5c = fixtures::sign(&c.payload, REQUEST_OBJECT_TYP, &[], &c.pki.leaf_key);
        assert_eq!(code(c.check(&no_x5c)), "request_x5c_missing");
    }

    #[test]
    fn the_client_id_must_name_the_leaf() {
        let c = case();
        let other = fixtures::pki("Test Verifier CA", DNS);
        let wrong_hash = check_request_object(
            &c.jws(),
            &expected(&fixtures::x509_hash(&other.leaf_der)),
            &c.ca,
            NOW,
        );
        assert_eq!(code(wrong_hash), "client_id_hash_mismatch");
        let wrong_dns =
            check_request_object(&c.jws(), &expected("x509_san_dns:evil.example"), &c.ca, NOW);
        assert_eq!(code(wrong_dns), "client_id_san_mismatch");
        let prefix =
            check_request_object(&c.jws(), &expected("redirect_uri:https://x"), &c.ca, NOW);
        assert_eq!(code(prefix), "client_id_prefix_unsupported");
        // x509_san_dns: the response URI must be on that name.
        let mut c = case();
        c.client_id = format!("x509_san_dns:{DNS}");
        c.payload["client_id"] = json!(c.client_id);
        c.payload["response_uri"] = json!("https://elsewhere.example/post");
        assert_eq!(code(c.check(&c.jws())), "response_uri_host_mismatch");
    }

    #[test]
    fn a_bad_signature_is_refused() {
        let c = case();
        let other = fixtures::pki("Test Verifier CA", DNS);
        // Signed by another key under the right certificate.
        let forged = fixtures::sign(
            &c.payload,
            REQUEST_OBJECT_TYP,
            &[&c.pki.leaf_der],
            &other.leaf_key,
        );
        assert_eq!(code(c.check(&forged)), "request_signature_invalid");
        // A payload changed after signing.
        let jws = c.jws();
        let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
        let mut p = c.payload.clone();
        p["response_uri"] = json!("https://verifier.qingpu.example/steal");
        parts[1] = tongban_verifier::encoding::b64_encode(p.to_string());
        assert_eq!(code(c.check(&parts.join("."))), "request_signature_invalid");
    }

    #[test]
    fn the_leaf_must_chain_to_a_trusted_ca_and_not_sign_itself() {
        let c = case();
        // A CA of the same name that the wallet does not trust.
        let stranger = fixtures::pki("Test Verifier CA", DNS);
        let stranger_ca = Cert::from_pem_chain(stranger.ca_pem.as_bytes()).unwrap();
        let r = check_request_object(&c.jws(), &expected(&c.client_id), &stranger_ca, NOW);
        assert_eq!(code(r), "verifier_ca_untrusted");
        // No CA at all: fail closed.
        let r = check_request_object(&c.jws(), &expected(&c.client_id), &[], NOW);
        assert_eq!(code(r), "verifier_ca_untrusted");
        // A self-signed leaf, even if the wallet "trusted" it.
        let (der, key) = fixtures::self_signed(DNS);
        let client_id = fixtures::x509_hash(&der);
        let mut payload = c.payload.clone();
        payload["client_id"] = json!(client_id);
        let jws = fixtures::sign(&payload, REQUEST_OBJECT_TYP, &[&der], &key);
        let itself = vec![Cert::from_der(&der).unwrap()];
        let r = check_request_object(&jws, &expected(&client_id), &itself, NOW);
        assert_eq!(code(r), "verifier_certificate_self_signed");
    }

    #[test]
    fn an_expired_leaf_is_refused_at_the_time_given() {
        let pki = fixtures::pki_until("Test Verifier CA", DNS, Some(NOW - 10));
        let ca = Cert::from_pem_chain(pki.ca_pem.as_bytes()).unwrap();
        let client_id = fixtures::x509_hash(&pki.leaf_der);
        let (_, jwk) = fixtures::encryption_key("k");
        let payload =
            fixtures::request_payload(&client_id, URI, "n", Some("wn-1"), &jwk, "urn:x", &["a"]);
        let jws = fixtures::sign(
            &payload,
            REQUEST_OBJECT_TYP,
            &[&pki.leaf_der],
            &pki.leaf_key,
        );
        let r = check_request_object(&jws, &expected(&client_id), &ca, NOW);
        assert_eq!(code(r), "verifier_certificate_expired");
        assert!(check_request_object(&jws, &expected(&client_id), &ca, NOW - 20).is_ok());
    }

    #[test]
    fn the_claims_must_match_the_link_and_the_wallet() {
        let refused = |edit: &dyn Fn(&mut Value)| {
            let mut c = case();
            edit(&mut c.payload);
            code(c.check(&c.jws()))
        };
        assert_eq!(
            refused(&|p| p["client_id"] = json!("x509_hash:other")),
            "client_id_mismatch"
        );
        assert_eq!(
            refused(&|p| p["wallet_nonce"] = json!("replayed")),
            "wallet_nonce_mismatch"
        );
        assert_eq!(
            refused(&|p| {
                p.as_object_mut().unwrap().remove("wallet_nonce");
            }),
            "wallet_nonce_mismatch"
        );
        assert_eq!(
            refused(&|p| p["response_type"] = json!("code")),
            "response_type_unsupported"
        );
        assert_eq!(
            refused(&|p| p["response_mode"] = json!("direct_post")),
            "response_mode_unsupported"
        );
        assert_eq!(
            refused(&|p| p["response_mode"] = json!("fragment")),
            "response_mode_unsupported"
        );
        assert_eq!(
            refused(&|p| p["response_uri"] = json!("http://verifier.example/x")),
            "response_uri_invalid"
        );
        assert_eq!(
            refused(&|p| p["aud"] = json!("https://other.example")),
            "request_aud_invalid"
        );
        assert_eq!(refused(&|p| p["exp"] = json!(NOW)), "request_expired");
        assert_eq!(
            refused(&|p| p["client_metadata"]["jwks"]["keys"][0]["use"] = json!("sig")),
            "response_encryption_unsupported"
        );
        assert_eq!(
            refused(
                &|p| p["client_metadata"]["encrypted_response_enc_values_supported"] =
                    json!(["A128CBC-HS256"])
            ),
            "response_encryption_unsupported"
        );
        assert_eq!(
            refused(&|p| p["dcql_query"] = json!({"credentials": []})),
            "request_malformed"
        );
        // Plain direct_post only when allowed.
        let mut c = case();
        c.payload["response_mode"] = json!("direct_post");
        let allow = Expected {
            allow_unencrypted: true,
            ..expected(&c.client_id)
        };
        let checked = check_request_object(&c.jws(), &allow, &c.ca, NOW).unwrap();
        assert_eq!(checked.protection, ResponseProtection::Plain);
        // Only A128GCM listed: A128GCM.
        let mut c = case();
        c.payload["client_metadata"]["encrypted_response_enc_values_supported"] =
            json!(["A128GCM"]);
        match c.check(&c.jws()).unwrap().protection {
            ResponseProtection::Encrypted { enc, .. } => assert_eq!(enc, "A128GCM"),
            ResponseProtection::Plain => panic!(),
        }
    }
}
