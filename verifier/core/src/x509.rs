//! X.509 key resolution (HAIP 1.0 §"Issuer identification and key
//! resolution"): the issuer's signing certificate and its chain in the
//! `x5c` JOSE header, validated to an anchor certificate the trust list
//! holds.
//!
//! Certificates are parsed with `x509-cert` (pure Rust, builds for
//! wasm32) and their signatures checked with the crypto crates the rest of
//! the library uses: Ed25519 (`ed25519-dalek`) and ECDSA P-256 with SHA-256
//! (`p256`). Nothing else is accepted (`x5c_algorithm_unsupported`): SM2
//! certificates (GM/T 0015) are not supported, so an SM2 agency stays on
//! the `kid` path.
//!
//! [`validate_chain`] is the path validation of RFC 5280 §6 narrowed to
//! what a Tongban chain needs, each failure with its own code:
//!
//! - `x5c` is 1 to [`MAX_CHAIN`] standard-base64 DER certificates, each in
//!   canonical DER (`x5c_malformed`);
//! - no element is an anchor certificate of the list, or self-signed
//!   (`x5c_includes_anchor`, `x5c_self_signed`: HAIP forbids both);
//! - each certificate's issuer name is the next one's subject and its
//!   signature verifies under the next one's key (`x5c_chain_broken`,
//!   `x5c_signature_invalid`); the last is issued by an anchor
//!   (`x5c_anchor_unreached`);
//! - every certificate, the anchor's included, is within its validity at
//!   the time given (`x5c_certificate_expired`);
//! - the leaf is not a CA and may sign (`digitalSignature`); every issuer
//!   is a CA allowed to sign certificates (`keyCertSign`) within its path
//!   length (`x5c_basic_constraints_invalid`, `x5c_key_usage_invalid`);
//! - no critical extension the validation does not process
//!   (`x5c_critical_extension_unknown`);
//! - the leaf names the expected identity as a `uniformResourceIdentifier`
//!   subject alternative name (`x5c_issuer_mismatch`).
//!
//! What is not done: revocation of certificates (CRL, OCSP): an agency key
//! is withdrawn in the trust list, whose rules the caller applies to the
//! leaf's key ([`crate::trust`]); name constraints and certificate
//! policies (a certificate marking them critical is refused).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode as _, Header, Reader as _, SliceReader, Tag, TagNumber};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::error::{ErrorCode, Rejection};
use crate::keys::{Algorithm, PublicKey};

/// The most certificates an `x5c` may carry (the leaf and up to three
/// intermediates).
pub const MAX_CHAIN: usize = 4;
/// The largest certificate accepted, DER bytes.
pub const MAX_CERTIFICATE_BYTES: usize = 8 * 1024;

/// `id-Ed25519` (RFC 8410): the key and the signature algorithm.
const ED25519: &str = "1.3.101.112";
/// `ecdsa-with-SHA256` (RFC 5758).
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
/// `id-ecPublicKey` (RFC 5480).
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// `secp256r1` (RFC 5480).
const P256_CURVE: &str = "1.2.840.10045.3.1.7";
/// The extensions the validation processes, which may be critical:
/// basicConstraints, keyUsage, subjectAltName, and the key identifiers
/// and extended key usage (read, not relied on).
const KNOWN_EXTENSIONS: &[&str] = &[
    "2.5.29.19", // basicConstraints
    "2.5.29.15", // keyUsage
    "2.5.29.17", // subjectAltName
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.37", // extKeyUsage
];

/// The byte range of a certificate's first element (`tbsCertificate`, with
/// its tag and length) inside the outer `SEQUENCE`.
fn tbs_range(der: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut r = SliceReader::new(der).ok()?;
    Header::decode(&mut r).ok()?;
    let start = usize::try_from(r.position()).ok()?;
    let tbs = r.tlv_bytes().ok()?;
    Some(start..start + tbs.len())
}

/// `subjectAltName` (RFC 5280 §4.2.1.6).
const SUBJECT_ALT_NAME: &str = "2.5.29.17";

/// The `uniformResourceIdentifier` (`[6] IA5String`) entries of a DER
/// `GeneralNames` sequence; `None` when it is not well formed.
fn uris_in_general_names(der: &[u8]) -> Option<Vec<String>> {
    let mut r = SliceReader::new(der).ok()?;
    let outer = Header::decode(&mut r).ok()?;
    if outer.tag != Tag::Sequence {
        return None;
    }
    let body = r.read_slice(outer.length).ok()?;
    if !r.is_finished() {
        return None;
    }
    let mut names = SliceReader::new(body).ok()?;
    let mut out = Vec::new();
    while !names.is_finished() {
        let h = Header::decode(&mut names).ok()?;
        let value = names.read_slice(h.length).ok()?;
        if h.tag
            == (Tag::ContextSpecific {
                constructed: false,
                number: TagNumber::N6,
            })
        {
            out.push(
                std::str::from_utf8(value)
                    .ok()
                    .filter(|u| u.is_ascii())?
                    .to_owned(),
            );
        }
    }
    Some(out)
}

/// `commonName` (X.520).
const COMMON_NAME: &str = "2.5.4.3";

/// A name's common names (else all its values), `CN=…` joined by `, `.
fn name_text(name: &x509_cert::name::Name) -> String {
    let value = |v: &x509_cert::der::Any| {
        v.decode_as::<String>()
            .or_else(|_| {
                v.decode_as::<x509_cert::der::asn1::PrintableStringRef<'_>>()
                    .map(|p| p.as_str().to_owned())
            })
            .unwrap_or_else(|_| "?".to_owned())
    };
    let attrs: Vec<&x509_cert::attr::AttributeTypeAndValue> =
        name.0.iter().flat_map(|rdn| rdn.0.iter()).collect();
    let cns: Vec<String> = attrs
        .iter()
        .filter(|a| a.oid.to_string() == COMMON_NAME)
        .map(|a| format!("CN={}", value(&a.value)))
        .collect();
    if cns.is_empty() {
        attrs
            .iter()
            .map(|a| format!("{}={}", a.oid, value(&a.value)))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        cns.join(", ")
    }
}

fn reject(code: ErrorCode, detail: impl Into<String>) -> Rejection {
    Rejection::new(code, detail)
}

/// One parsed certificate and its DER bytes.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    sha256: [u8; 32],
    /// Where the signed `tbsCertificate` lies in `der`.
    tbs: std::ops::Range<usize>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one certificate in canonical DER (`x5c_malformed` otherwise).
    pub fn from_der(der: &[u8]) -> Result<Certificate, Rejection> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(reject(
                ErrorCode::X5cMalformed,
                format!(
                    "a certificate of {} bytes is beyond the {MAX_CERTIFICATE_BYTES}-byte bound",
                    der.len()
                ),
            ));
        }
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| {
            reject(
                ErrorCode::X5cMalformed,
                format!("not an X.509 certificate: {e}"),
            )
        })?;
        // The signature covers the TBS bytes as sent: they are checked as
        // they are, never re-encoded from the parse (the `der` decoder
        // accepts DER only, so the parse is what they say).
        let tbs = tbs_range(der).ok_or_else(|| {
            reject(
                ErrorCode::X5cMalformed,
                "the certificate's signed part cannot be found",
            )
        })?;
        Ok(Certificate {
            sha256: Sha256::digest(der).into(),
            der: der.to_vec(),
            cert,
            tbs,
        })
    }

    /// Parses one `x5c` element: standard base64 (with padding, RFC 7515
    /// §4.1.6) of a DER certificate.
    pub fn from_b64(text: &str) -> Result<Certificate, Rejection> {
        let der = STANDARD.decode(text).map_err(|_| {
            reject(
                ErrorCode::X5cMalformed,
                "an x5c element is not standard base64",
            )
        })?;
        if STANDARD.encode(&der) != text {
            return Err(reject(
                ErrorCode::X5cMalformed,
                "an x5c element is not canonical base64",
            ));
        }
        Certificate::from_der(&der)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The `x5c` form: standard base64 of the DER.
    pub fn to_b64(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// SHA-256 of the DER (RFC 7515's `x5t#S256` before base64url).
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The subject, for messages: its common name(s), or its other
    /// attributes' values. (Written here rather than with `Name`'s RFC 4514
    /// `Display`, which brings the whole OID name table into the counter
    /// page's WebAssembly.)
    pub fn subject(&self) -> String {
        name_text(&self.cert.tbs_certificate.subject)
    }

    /// `notBefore` and `notAfter`, Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = &self.cert.tbs_certificate.validity;
        let secs = |t: x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        (secs(v.not_before), secs(v.not_after))
    }

    /// The `uniformResourceIdentifier` subject alternative names.
    ///
    /// Read from the extension's DER directly (each `GeneralName` is a
    /// context-tagged element; `[6]` is an IA5String URI) rather than by
    /// decoding every kind of name, which the counter page's WebAssembly
    /// would carry for nothing.
    pub fn san_uris(&self) -> Vec<String> {
        self.cert
            .tbs_certificate
            .extensions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|e| e.extn_id.to_string() == SUBJECT_ALT_NAME)
            .and_then(|e| uris_in_general_names(e.extn_value.as_bytes()))
            .unwrap_or_default()
    }

    /// The subject's public key: Ed25519 or P-256 (anything else is
    /// `x5c_algorithm_unsupported`; a weak Ed25519 key or a point off the
    /// curve is `x5c_malformed`).
    pub fn public_key(&self) -> Result<PublicKey, Rejection> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        let bits = spki.subject_public_key.as_bytes().ok_or_else(|| {
            reject(
                ErrorCode::X5cMalformed,
                format!("the key of {} is not whole bytes", self.subject()),
            )
        })?;
        let bad_key = || {
            reject(
                ErrorCode::X5cMalformed,
                format!("the key of {} is not a valid public key", self.subject()),
            )
        };
        match spki.algorithm.oid.to_string().as_str() {
            ED25519 if spki.algorithm.parameters.is_none() => {
                let bytes = <[u8; 32]>::try_from(bits).map_err(|_| bad_key())?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| bad_key())?;
                if key.is_weak() {
                    return Err(bad_key());
                }
                Ok(PublicKey::Ed25519(key))
            }
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .map(|c| c.to_string());
                if curve.as_deref() != Some(P256_CURVE) {
                    return Err(reject(
                        ErrorCode::X5cAlgorithmUnsupported,
                        format!(
                            "the key of {} is on a curve other than P-256",
                            self.subject()
                        ),
                    ));
                }
                let key =
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(bits).map_err(|_| bad_key())?;
                Ok(PublicKey::P256(key))
            }
            other => Err(reject(
                ErrorCode::X5cAlgorithmUnsupported,
                format!(
                    "the key of {} is of type {other} (Ed25519 and P-256 are accepted)",
                    self.subject()
                ),
            )),
        }
    }

    /// Whether `issuer` issued this certificate: the issuer name is its
    /// subject (`x5c_chain_broken` otherwise) and the signature verifies
    /// under its key (`x5c_signature_invalid`).
    fn check_issued_by(&self, issuer: &Certificate) -> Result<(), Rejection> {
        let tbs = &self.cert.tbs_certificate;
        if tbs.issuer != issuer.cert.tbs_certificate.subject {
            return Err(reject(
                ErrorCode::X5cChainBroken,
                format!(
                    "{} names its issuer {}, and the next certificate is {}",
                    self.subject(),
                    name_text(&tbs.issuer),
                    issuer.subject()
                ),
            ));
        }
        if self.verifies_under(issuer)? {
            Ok(())
        } else {
            Err(reject(
                ErrorCode::X5cSignatureInvalid,
                format!(
                    "the signature of {} does not verify under the key of {}",
                    self.subject(),
                    issuer.subject()
                ),
            ))
        }
    }

    /// Whether this certificate's signature verifies under `issuer`'s key
    /// (an algorithm outside Ed25519 and ECDSA P-256 SHA-256 is an error).
    fn verifies_under(&self, issuer: &Certificate) -> Result<bool, Rejection> {
        let alg = &self.cert.signature_algorithm;
        if alg.oid != self.cert.tbs_certificate.signature.oid {
            return Ok(false);
        }
        let key = issuer.public_key()?;
        let Some(signature) = self.cert.signature.as_bytes() else {
            return Ok(false);
        };
        let tbs = &self.der[self.tbs.clone()];
        match alg.oid.to_string().as_str() {
            ED25519 if alg.parameters.is_none() => Ok(key.verify(Algorithm::EdDsa, tbs, signature)),
            ECDSA_WITH_SHA256 if alg.parameters.is_none() => {
                let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else {
                    return Ok(false);
                };
                Ok(key.verify(Algorithm::Es256, tbs, &sig.to_bytes()))
            }
            other => Err(reject(
                ErrorCode::X5cAlgorithmUnsupported,
                format!(
                    "{} is signed with {other} (Ed25519 and ecdsa-with-SHA256 are accepted)",
                    self.subject()
                ),
            )),
        }
    }

    /// The same certificate, or one for the same subject and key (an
    /// anchor re-issued with other dates).
    fn same_entity(&self, other: &Certificate) -> bool {
        let (a, b) = (&self.cert.tbs_certificate, &other.cert.tbs_certificate);
        self.der == other.der
            || (a.subject == b.subject && a.subject_public_key_info == b.subject_public_key_info)
    }

    /// Issuer name = subject name (a self-signed certificate is one).
    pub fn is_self_issued(&self) -> bool {
        self.cert.tbs_certificate.issuer == self.cert.tbs_certificate.subject
    }

    /// Refuses an unknown critical extension, and an extension given twice.
    fn check_extensions(&self) -> Result<(), Rejection> {
        let exts = self
            .cert
            .tbs_certificate
            .extensions
            .as_deref()
            .unwrap_or_default();
        for (i, e) in exts.iter().enumerate() {
            let oid = e.extn_id.to_string();
            if exts[..i].iter().any(|o| o.extn_id == e.extn_id) {
                return Err(reject(
                    ErrorCode::X5cMalformed,
                    format!("{} carries extension {oid} twice", self.subject()),
                ));
            }
            if e.critical && !KNOWN_EXTENSIONS.contains(&oid.as_str()) {
                return Err(reject(
                    ErrorCode::X5cCriticalExtensionUnknown,
                    format!(
                        "{} marks extension {oid} critical, which this verifier does not process",
                        self.subject()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn basic_constraints(&self) -> Result<Option<BasicConstraints>, Rejection> {
        self.cert
            .tbs_certificate
            .get::<BasicConstraints>()
            .map(|o| o.map(|(_, bc)| bc))
            .map_err(|e| {
                reject(
                    ErrorCode::X5cMalformed,
                    format!("{}: basicConstraints: {e}", self.subject()),
                )
            })
    }

    fn key_usage(&self) -> Result<Option<KeyUsage>, Rejection> {
        self.cert
            .tbs_certificate
            .get::<KeyUsage>()
            .map(|o| o.map(|(_, ku)| ku))
            .map_err(|e| {
                reject(
                    ErrorCode::X5cMalformed,
                    format!("{}: keyUsage: {e}", self.subject()),
                )
            })
    }

    /// A CA allowed to sign certificates, with `below` CA certificates
    /// under it in the chain (its path length constraint must allow them).
    fn check_issuer_role(&self, below: usize) -> Result<(), Rejection> {
        self.check_extensions()?;
        match self.basic_constraints()? {
            Some(bc) if bc.ca => {
                if let Some(max) = bc.path_len_constraint
                    && below > usize::from(max)
                {
                    return Err(reject(
                        ErrorCode::X5cBasicConstraintsInvalid,
                        format!(
                            "{} allows {max} intermediate CA certificate(s) below it, and the chain has {below}",
                            self.subject()
                        ),
                    ));
                }
            }
            _ => {
                return Err(reject(
                    ErrorCode::X5cBasicConstraintsInvalid,
                    format!(
                        "{} signs a certificate, and its basicConstraints do not make it a CA",
                        self.subject()
                    ),
                ));
            }
        }
        // RFC 5280 §4.2.1.3: a CA's keyUsage, when present, must allow
        // keyCertSign; HAIP's chains always carry it.
        match self.key_usage()? {
            Some(ku) if ku.key_cert_sign() => Ok(()),
            Some(_) => Err(reject(
                ErrorCode::X5cKeyUsageInvalid,
                format!(
                    "{} signs a certificate, and its keyUsage lacks keyCertSign",
                    self.subject()
                ),
            )),
            None => Ok(()),
        }
    }

    /// An end-entity certificate allowed to sign JWS: not a CA, and its
    /// keyUsage (when present) includes digitalSignature.
    fn check_leaf_role(&self) -> Result<(), Rejection> {
        self.check_extensions()?;
        if self.basic_constraints()?.is_some_and(|bc| bc.ca) {
            return Err(reject(
                ErrorCode::X5cBasicConstraintsInvalid,
                format!(
                    "the signing certificate {} is a CA certificate",
                    self.subject()
                ),
            ));
        }
        match self.key_usage()? {
            Some(ku) if !ku.digital_signature() => Err(reject(
                ErrorCode::X5cKeyUsageInvalid,
                format!(
                    "the signing certificate {} does not allow digitalSignature",
                    self.subject()
                ),
            )),
            _ => Ok(()),
        }
    }

    fn check_time(&self, at: i64) -> Result<(), Rejection> {
        let (from, until) = self.validity();
        if at < from || at > until {
            return Err(reject(
                ErrorCode::X5cCertificateExpired,
                format!(
                    "{} is valid from {from} to {until}; the verification time is {at}",
                    self.subject()
                ),
            ));
        }
        Ok(())
    }
}

/// Checks that `cert` may be an anchor: self-issued, self-signed, a CA
/// allowed to sign certificates, only known critical extensions. What a
/// trust list requires of its `x509_anchors`.
pub fn check_anchor(cert: &Certificate) -> Result<(), Rejection> {
    if !cert.is_self_issued() || !cert.verifies_under(cert)? {
        return Err(reject(
            ErrorCode::X5cMalformed,
            format!(
                "the anchor certificate {} is not self-signed",
                cert.subject()
            ),
        ));
    }
    cert.check_issuer_role(0)
}

/// Parses the `x5c` header value: an array of 1 to [`MAX_CHAIN`]
/// certificates, the leaf first.
pub fn parse_x5c(value: &Value) -> Result<Vec<Certificate>, Rejection> {
    let items = value
        .as_array()
        .ok_or_else(|| reject(ErrorCode::X5cMalformed, "the x5c header is not an array"))?;
    if items.is_empty() || items.len() > MAX_CHAIN {
        return Err(reject(
            ErrorCode::X5cMalformed,
            format!(
                "the x5c header holds {} certificates (1 to {MAX_CHAIN} are accepted)",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| reject(ErrorCode::X5cMalformed, "an x5c element is not a string"))
                .and_then(Certificate::from_b64)
        })
        .collect()
}

/// Validates `chain` (the leaf first, then the certificates that issued
/// it in order, never the anchor) to one of `anchors` at time `at`, for a
/// leaf that must name `identity` as a URI subject alternative name.
/// Returns the leaf's public key.
pub fn validate_chain(
    chain: &[Certificate],
    anchors: &[Certificate],
    identity: &str,
    at: i64,
) -> Result<PublicKey, Rejection> {
    let leaf = chain
        .first()
        .ok_or_else(|| reject(ErrorCode::X5cMalformed, "the x5c header is empty"))?;
    if chain.len() > MAX_CHAIN {
        return Err(reject(
            ErrorCode::X5cMalformed,
            format!("the chain has more than {MAX_CHAIN} certificates"),
        ));
    }
    for c in chain {
        if anchors.iter().any(|a| a.same_entity(c)) {
            return Err(reject(
                ErrorCode::X5cIncludesAnchor,
                format!(
                    "the x5c header carries the anchor certificate {}; it must come from the trust list only",
                    c.subject()
                ),
            ));
        }
        if c.is_self_issued() {
            return Err(reject(
                ErrorCode::X5cSelfSigned,
                format!(
                    "{} in the x5c header is self-issued; the signing certificate and its chain must be issued by the zone's CA",
                    c.subject()
                ),
            ));
        }
    }
    leaf.check_leaf_role()?;
    for (i, pair) in chain.windows(2).enumerate() {
        let (child, issuer) = (&pair[0], &pair[1]);
        issuer.check_issuer_role(i)?;
        child.check_issued_by(issuer)?;
    }
    let last = chain.last().unwrap_or(leaf);
    let candidates: Vec<&Certificate> = anchors
        .iter()
        .filter(|a| a.cert.tbs_certificate.subject == last.cert.tbs_certificate.issuer)
        .collect();
    let mut anchor = None;
    for a in &candidates {
        if last.verifies_under(a)? {
            anchor = Some(*a);
            break;
        }
    }
    let anchor = anchor.ok_or_else(|| {
        reject(
            ErrorCode::X5cAnchorUnreached,
            if candidates.is_empty() {
                format!(
                    "{} is issued by {}, which is not an anchor certificate of the trust list",
                    last.subject(),
                    name_text(&last.cert.tbs_certificate.issuer)
                )
            } else {
                format!(
                    "the signature of {} does not verify under the anchor certificate of that name",
                    last.subject()
                )
            },
        )
    })?;
    anchor.check_issuer_role(chain.len() - 1)?;
    for c in chain.iter().chain(std::iter::once(anchor)) {
        c.check_time(at)?;
    }
    if !leaf.san_uris().iter().any(|u| u == identity) {
        return Err(reject(
            ErrorCode::X5cIssuerMismatch,
            format!(
                "the signing certificate {} does not name {identity} (its URI names: {:?})",
                leaf.subject(),
                leaf.san_uris()
            ),
        ));
    }
    leaf.public_key()
}
