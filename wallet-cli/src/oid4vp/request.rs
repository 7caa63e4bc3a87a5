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
use super::proto::{REQUEST_OBJECT_TYP, RequestObject, SELF_ISSUED_AUD};
use super::x509::Cert;

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
    let (prefix, original) = client_id.split_once(':').unwrap_or(("", client_id));
    let san_dns = match prefix {
        "x509_hash" => {
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
        "x509_san_dns" => {
            if !leaf
                .dns_names()
                .iter()
                .any(|d| d.eq_ignore_ascii_case(original))
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
    let (response_uri, protection) = check_claims(&object, expected, san_dns, now)?;
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
    if object.response_type != "vp_token" {
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
    let response_uri = object
        .response_uri
        .clone()
        .ok_or_else(|| refuse(RequestFault::ResponseUriInvalid, "no response_uri"))?;
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
    let protection = match object.response_mode.as_deref() {
        Some("direct_post.jwt") => encryption(object)?,
        Some("direct_post") if expected.allow_unencrypted => ResponseProtection::Plain,
        Some("direct_post") => {
            return Err(refuse(
                RequestFault::ResponseModeUnsupported,
                "the verifier asks for an unencrypted response (direct_post); refused without --allow-unencrypted",
            ));
        }
        other => {
            return Err(refuse(
                RequestFault::ResponseModeUnsupported,
                format!("response_mode {other:?} is not direct_post.jwt"),
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
    let keys = meta
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .ok_or_else(|| missing("no client_metadata.jwks keys"))?;
    let jwk = keys
        .iter()
        .filter_map(Value::as_object)
        .find(|k| {
            let s = |n: &str| k.get(n).and_then(Value::as_str);
            s("kty") == Some("EC")
                && s("crv") == Some("P-256")
                && s("alg") == Some("ECDH-ES")
                && matches!(s("use"), None | Some("enc"))
                && !k.contains_key("d")
        })
        .ok_or_else(|| missing("no P-256 ECDH-ES encryption key in client_metadata.jwks"))?;
    let enc = match &meta.encrypted_response_enc_values_supported {
        None => "A128GCM",
        Some(l) if l.iter().any(|e| e == "A256GCM") => "A256GCM",
        Some(l) if l.iter().any(|e| e == "A128GCM") => "A128GCM",
        Some(l) => {
            return Err(missing(&format!(
                "none of the listed enc values {l:?} is A128GCM or A256GCM"
            )));
        }
    };
    Ok(ResponseProtection::Encrypted {
        jwk: jwk.clone(),
        enc: enc.into(),
    })
}
