//! QR transport: a compact, lossless encoding of a presentation for QR
//! codes (specified in `specs/qr-transport.md`).
//!
//! The presentation becomes a binary body, written in base45 (RFC 9285) so
//! a QR code can use alphanumeric mode. The round trip is exact: decoding
//! rebuilds every segment in canonical base64url, and input that is not
//! canonical is refused when encoding rather than altered, so every
//! signature and digest still verifies. Two versions of the body exist; the
//! decoder reads both, [`encode`] writes version 2:
//!
//! * version 1 ([`encode_v1`]): every base64url segment as its raw bytes,
//!   the whole compressed with raw DEFLATE;
//! * version 2 ([`encode`]): the JSON text compressed with raw DEFLATE
//!   against a preset dictionary, the random bytes (signatures, digests,
//!   salts, keys) moved out of the text and carried raw after it, and the
//!   digests the decoder can recompute (those of the disclosed claims, the
//!   KB-JWT's `sd_hash`) left out. Its first byte could not start a
//!   DEFLATE stream, which is how a decoder tells the versions apart.
//!
//! Text forms:
//! * single code: `TB1:` + base45(body)
//! * part *i* of *n*: `TB1M:` *i* `/` *n* `:` *ID* `:` chunk, where the
//!   chunks, in order, concatenate to the single-code base45 text and *ID*
//!   is the first 8 bytes of its SHA-256 in upper-case hex: it ties the parts
//!   together and is checked against the assembled whole.

#[cfg(feature = "encode")]
mod deflate;
mod v2;

use sha2::{Digest as _, Sha256};

#[cfg(feature = "encode")]
use crate::encoding::b64_decode;
use crate::encoding::b64_encode;
use crate::error::{ErrorCode, Rejection};
#[cfg(feature = "encode")]
use crate::sdjwt::SdJwtParts;

/// The certificates a verifier holds, for the version-3 body's
/// references (`specs/qr-transport.md` §2.7): a trust list or bundle.
pub trait CertificateStore {
    /// The DER of the one certificate held whose SHA-256 starts with
    /// `prefix` (none, or several, is `None`).
    fn certificate_der(&self, prefix: &[u8]) -> Option<Vec<u8>>;
}

/// A verifier that holds no certificate: a version-3 body is refused
/// (`transport_certificate_unknown`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCertificates;

impl CertificateStore for NoCertificates {
    fn certificate_der(&self, _: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

impl CertificateStore for crate::trust::VerifiedTrustList {
    fn certificate_der(&self, prefix: &[u8]) -> Option<Vec<u8>> {
        self.certificate_by_digest(prefix).map(|c| c.der().to_vec())
    }
}

impl CertificateStore for crate::bundle::TrustBundle {
    fn certificate_der(&self, prefix: &[u8]) -> Option<Vec<u8>> {
        self.trust_list().certificate_der(prefix)
    }
}

/// Prefix of a single-code transport text (either body version).
pub const PREFIX: &str = "TB1:";
/// Prefix of one part of a multi-part transport text.
pub const PART_PREFIX: &str = "TB1M:";
/// The largest decompressed body accepted (bounds zlib bombs).
pub const MAX_BODY: usize = 256 * 1024;
/// The largest presentation a version-2 body may decode to (and that
/// [`encode`] accepts).
pub const MAX_PRESENTATION: usize = 512 * 1024;
/// First byte of a version-2 body.
pub const V2_TAG: u8 = v2::TAG;
/// First byte of a version-3 body (version 2 with certificates by reference).
pub const V3_TAG: u8 = v2::TAG_V3;
/// The preset DEFLATE dictionary of version 2, the exact bytes of
/// `specs/qr-transport-dictionary-2.bin`.
pub const V2_DICTIONARY: &[u8] = v2::DICTIONARY;
/// The most parts a presentation may be split into.
pub const MAX_PARTS: usize = 16;
/// The most characters one QR code can carry: version 40 at the lowest
/// error correction (L) in alphanumeric mode. A transport text or part
/// longer than this was not read from a QR code.
pub const MAX_CODE_CHARS: usize = 4296;
/// The longest single `TB1:` text accepted: what [`MAX_PARTS`] codes of
/// [`MAX_CODE_CHARS`] can carry together. Longer texts are refused
/// (`transport_too_large`) before any base45 decoding.
pub const MAX_TEXT_CHARS: usize = MAX_PARTS * MAX_CODE_CHARS;

const B45: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

fn reject(code: ErrorCode, detail: impl Into<String>) -> Rejection {
    Rejection::new(code, detail)
}

/// Encodes bytes in base45 (RFC 9285).
pub fn base45_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3 / 2 + 2);
    for chunk in bytes.chunks(2) {
        let mut n = match *chunk {
            [a, b] => usize::from(a) * 256 + usize::from(b),
            [a] => usize::from(a),
            _ => 0,
        };
        let digits = if chunk.len() == 2 { 3 } else { 2 };
        for _ in 0..digits {
            out.push(B45[n % 45] as char);
            n /= 45;
        }
    }
    out
}

/// Decodes base45 strictly: only the 45 characters, no group above its
/// range, no dangling single character. Works group by group: the only
/// allocation is the output (two thirds of the text's length).
pub fn base45_decode(text: &str) -> Result<Vec<u8>, Rejection> {
    let bad = |why: &str| reject(ErrorCode::TransportBase45Invalid, why.to_owned());
    let value = |c: &u8| {
        B45.iter()
            .position(|x| x == c)
            .ok_or_else(|| bad("a character outside the base45 alphabet"))
    };
    if text.len() % 3 == 1 {
        return Err(bad("the length leaves a single dangling character"));
    }
    let mut out = Vec::with_capacity(text.len() * 2 / 3 + 1);
    for chars in text.as_bytes().chunks(3) {
        let group = chars.iter().map(value).collect::<Result<Vec<usize>, _>>()?;
        match *group.as_slice() {
            [c, d, e] => {
                let n = c + d * 45 + e * 45 * 45;
                if n > 0xffff {
                    return Err(bad("a 3-character group exceeds 65535"));
                }
                out.extend_from_slice(&[(n >> 8) as u8, (n & 0xff) as u8]);
            }
            [c, d] => {
                let n = c + d * 45;
                if n > 0xff {
                    return Err(bad("the final 2-character group exceeds 255"));
                }
                out.push(n as u8);
            }
            _ => return Err(bad("internal: group of one")),
        }
    }
    Ok(out)
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(feature = "encode")]
fn push_segment(out: &mut Vec<u8>, b64: &str, what: &str) -> Result<(), Rejection> {
    let raw =
        b64_decode(b64, what).map_err(|r| reject(ErrorCode::TransportNonCanonical, r.detail))?;
    push_varint(out, raw.len());
    out.extend_from_slice(&raw);
    Ok(())
}

#[cfg(feature = "encode")]
fn push_jws(out: &mut Vec<u8>, jws: &str, what: &str) -> Result<(), Rejection> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(reject(
            ErrorCode::TransportNonCanonical,
            format!("{what} is not a compact JWS"),
        ));
    };
    push_segment(out, h, what)?;
    push_segment(out, p, what)?;
    push_segment(out, s, what)
}

#[cfg(feature = "encode")]
/// The version-1 binary body of a presentation (before compression).
fn body_v1(presentation: &str) -> Result<Vec<u8>, Rejection> {
    let parts = SdJwtParts::split(presentation, usize::MAX)
        .map_err(|r| reject(ErrorCode::TransportNonCanonical, r.detail))?;
    let mut out = Vec::with_capacity(presentation.len());
    out.push(u8::from(parts.kb_jwt.is_some()));
    push_varint(&mut out, parts.disclosures.len());
    push_jws(&mut out, parts.issuer_jwt, "the credential")?;
    for d in &parts.disclosures {
        push_segment(&mut out, d, "a disclosure")?;
    }
    if let Some(kb) = parts.kb_jwt {
        push_jws(&mut out, kb, "the KB-JWT")?;
    }
    Ok(out)
}

#[cfg(feature = "encode")]
/// Encodes a compact presentation as a single transport text (`TB1:…`)
/// with a version-2 body. Non-canonical base64url anywhere is refused
/// (`transport_non_canonical`), and so is a presentation larger than
/// [`MAX_PRESENTATION`] (`transport_too_large`).
pub fn encode(presentation: &str) -> Result<String, Rejection> {
    encode_referencing(presentation, &[])
}

#[cfg(feature = "encode")]
/// [`encode`], with every certificate of the issuer JWT's `x5c` whose
/// SHA-256 is in `held` (certificates the verifier's trust bundle holds:
/// those of the trust list) sent by reference, in a version-3 body
/// (`specs/qr-transport.md` §2.7). Without such a certificate the body is
/// version 2, exactly what [`encode`] writes.
pub fn encode_referencing(presentation: &str, held: &[[u8; 32]]) -> Result<String, Rejection> {
    let held = held.iter().copied().collect();
    Ok(format!(
        "{PREFIX}{}",
        base45_encode(&v2::encode(presentation, &held)?)
    ))
}

/// The two streams of a presentation's version-2 body before compression
/// (`specs/qr-transport.md` §2.2): the text stream and the raw bytes. For
/// test vectors, and for checking another implementation step by step.
pub fn v2_streams(presentation: &str) -> Result<(Vec<u8>, Vec<u8>), Rejection> {
    let b = v2::body(presentation, &Default::default())?;
    Ok((b.text, b.raw))
}

#[cfg(feature = "encode")]
/// Encodes a compact presentation with a version-1 body, for a verifier
/// that predates version 2 (and for the version-1 test vectors).
pub fn encode_v1(presentation: &str) -> Result<String, Rejection> {
    let body = body_v1(presentation)?;
    let compressed = miniz_oxide::deflate::compress_to_vec(&body, 10);
    Ok(format!("{PREFIX}{}", base45_encode(&compressed)))
}

/// Reads the body back.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn malformed(why: &str) -> Rejection {
        reject(ErrorCode::TransportMalformed, why.to_owned())
    }

    fn varint(&mut self) -> Result<usize, Rejection> {
        let mut n: usize = 0;
        for shift in (0..35).step_by(7) {
            let b = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| Self::malformed("truncated length"))?;
            self.at += 1;
            n |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 {
                    return Err(Self::malformed("a length is not minimally encoded"));
                }
                return Ok(n);
            }
        }
        Err(Self::malformed("a length is too long"))
    }

    fn segment(&mut self) -> Result<String, Rejection> {
        let len = self.varint()?;
        let end = self
            .at
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| Self::malformed("truncated segment"))?;
        let s = b64_encode(&self.bytes[self.at..end]);
        self.at = end;
        Ok(s)
    }

    fn jws(&mut self) -> Result<String, Rejection> {
        Ok(format!(
            "{}.{}.{}",
            self.segment()?,
            self.segment()?,
            self.segment()?
        ))
    }
}

/// Decodes a single transport text (`TB1:…`, versions 1 and 2) back to
/// the exact compact presentation; a version-3 text needs the verifier's
/// certificates ([`decode_with`]).
pub fn decode(text: &str) -> Result<String, Rejection> {
    decode_with(text, &NoCertificates)
}

/// Decodes a single transport text (`TB1:…`, any body version) back to the
/// exact compact presentation, putting back the certificates a version-3
/// body names by reference from `certs` (`transport_certificate_unknown`
/// when one is not held).
pub fn decode_with(text: &str, certs: &dyn CertificateStore) -> Result<String, Rejection> {
    let Some(b45) = text.strip_prefix(PREFIX) else {
        return Err(reject(
            ErrorCode::TransportPrefixUnknown,
            "the text does not start with TB1:",
        ));
    };
    if text.len() > MAX_TEXT_CHARS {
        return Err(reject(
            ErrorCode::TransportTooLarge,
            format!(
                "{} characters, more than {MAX_PARTS} QR codes can carry ({MAX_TEXT_CHARS})",
                text.len()
            ),
        ));
    }
    let bytes = base45_decode(b45)?;
    match bytes.first() {
        Some(&v2::TAG) => v2::decode(&bytes[1..], None),
        Some(&v2::TAG_V3) => v2::decode(&bytes[1..], Some(certs)),
        // Block type 11 is reserved in DEFLATE: a later version's tag.
        Some(&b) if b & 0x06 == 0x06 => Err(reject(
            ErrorCode::TransportPrefixUnknown,
            format!("transport body version tag {b:#04x} is not known to this verifier"),
        )),
        _ => decode_v1(&bytes),
    }
}

/// Decodes a version-1 body (a raw DEFLATE stream).
fn decode_v1(compressed: &[u8]) -> Result<String, Rejection> {
    let body =
        miniz_oxide::inflate::decompress_to_vec_with_limit(compressed, MAX_BODY).map_err(|e| {
            if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
                reject(
                    ErrorCode::TransportTooLarge,
                    format!("the content inflates beyond {MAX_BODY} bytes"),
                )
            } else {
                reject(
                    ErrorCode::TransportMalformed,
                    format!("the compressed content is damaged: {e}"),
                )
            }
        })?;
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    let flags = *body
        .first()
        .ok_or_else(|| Reader::malformed("empty body"))?;
    r.at = 1;
    if flags > 1 {
        return Err(Reader::malformed("unknown flags"));
    }
    let n = r.varint()?;
    if n > body.len() {
        return Err(Reader::malformed("more disclosures than bytes"));
    }
    let mut out = r.jws()?;
    out.push('~');
    for _ in 0..n {
        out.push_str(&r.segment()?);
        out.push('~');
    }
    if flags == 1 {
        out.push_str(&r.jws()?);
    }
    if r.at != body.len() {
        return Err(Reader::malformed("trailing bytes after the presentation"));
    }
    Ok(out)
}

/// The shared id of the parts of `single` (a `TB1:` text).
fn part_id(single: &str) -> String {
    Sha256::digest(single.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Splits a single transport text into parts of at most `max_chars`
/// characters each (prefix and header included). Returns the single text
/// itself when it fits.
pub fn split(single: &str, max_chars: usize) -> Result<Vec<String>, Rejection> {
    if single.len() <= max_chars {
        return Ok(vec![single.to_owned()]);
    }
    let payload = single
        .strip_prefix(PREFIX)
        .ok_or_else(|| reject(ErrorCode::TransportPrefixUnknown, "not a TB1: text"))?;
    let id = part_id(single);
    // "TB1M:" + "ii/nn:" + id + ":" is at most 5 + 6 + 16 + 1 characters.
    let room = max_chars.saturating_sub(PART_PREFIX.len() + 6 + id.len() + 1);
    if room < 16 {
        return Err(reject(
            ErrorCode::TransportMalformed,
            "parts this small cannot carry data",
        ));
    }
    let n = payload.len().div_ceil(room);
    if n > MAX_PARTS {
        return Err(reject(
            ErrorCode::TransportTooLarge,
            format!("{n} parts needed, at most {MAX_PARTS}"),
        ));
    }
    let chunks = payload.as_bytes().chunks(room);
    Ok(chunks
        .enumerate()
        .map(|(i, c)| {
            format!(
                "{PART_PREFIX}{}/{n}:{id}:{}",
                i + 1,
                String::from_utf8_lossy(c)
            )
        })
        .collect())
}

/// Assembles parts given in any order into the single `TB1:` text,
/// refusing missing, duplicate or mixed parts and a whole that does not
/// match its id.
pub fn assemble(parts: &[&str]) -> Result<String, Rejection> {
    let mut n_all = None;
    let mut id_all: Option<&str> = None;
    let mut slots: Vec<Option<&str>> = Vec::new();
    if parts.len() > MAX_PARTS {
        return Err(reject(
            ErrorCode::TransportTooLarge,
            format!("{} parts, at most {MAX_PARTS}", parts.len()),
        ));
    }
    if let Some(long) = parts.iter().find(|p| p.len() > MAX_CODE_CHARS) {
        return Err(reject(
            ErrorCode::TransportTooLarge,
            format!(
                "a part of {} characters, more than one QR code carries ({MAX_CODE_CHARS})",
                long.len()
            ),
        ));
    }
    for part in parts {
        let rest = part.strip_prefix(PART_PREFIX).ok_or_else(|| {
            reject(
                ErrorCode::TransportPrefixUnknown,
                "a part does not start with TB1M:",
            )
        })?;
        let mut fields = rest.splitn(3, ':');
        let (Some(pos), Some(id), Some(chunk)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(reject(
                ErrorCode::TransportMalformed,
                "a part header is malformed",
            ));
        };
        let (i, n) = pos
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|&(i, n)| (1..=n).contains(&i) && (2..=MAX_PARTS).contains(&n))
            .ok_or_else(|| {
                reject(
                    ErrorCode::TransportMalformed,
                    format!("part position {pos:?} is invalid"),
                )
            })?;
        if n_all.is_some_and(|m| m != n) || id_all.is_some_and(|x| x != id) {
            return Err(reject(
                ErrorCode::TransportPartMixed,
                "the parts come from different presentations",
            ));
        }
        n_all = Some(n);
        id_all = Some(id);
        slots.resize(n, None);
        if slots[i - 1].replace(chunk).is_some() {
            return Err(reject(
                ErrorCode::TransportPartDuplicate,
                format!("part {i} of {n} was given twice"),
            ));
        }
    }
    let (Some(_), Some(id)) = (n_all, id_all) else {
        return Err(reject(ErrorCode::TransportPartMissing, "no parts"));
    };
    let missing: Vec<String> = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(reject(
            ErrorCode::TransportPartMissing,
            format!("part(s) {} of {} missing", missing.join(", "), slots.len()),
        ));
    }
    let single = format!(
        "{PREFIX}{}",
        slots.into_iter().flatten().collect::<String>()
    );
    if part_id(&single) != id {
        return Err(reject(
            ErrorCode::TransportDigestMismatch,
            "the assembled parts do not match their id",
        ));
    }
    Ok(single)
}

/// Turns whatever was scanned or pasted into the compact presentation:
/// one `TB1:` text, a set of `TB1M:` parts (any order), or a plain SD-JWT
/// (compact, starting `eyJ`, or JSON serialization, starting `{`; returned
/// as is for the verifier to check). Anything else — another version's
/// prefix, someone else's QR code — is `transport_prefix_unknown`.
pub fn from_texts(texts: &[&str]) -> Result<String, Rejection> {
    from_texts_with(texts, &NoCertificates)
}

/// [`from_texts`] for a verifier holding `certs` (its trust bundle), which
/// a version-3 body's certificate references are resolved against.
pub fn from_texts_with(texts: &[&str], certs: &dyn CertificateStore) -> Result<String, Rejection> {
    match texts {
        [] => Err(reject(
            ErrorCode::TransportPartMissing,
            "nothing was scanned",
        )),
        [one] if one.starts_with(PREFIX) => decode_with(one, certs),
        [one] if one.starts_with("eyJ") || one.starts_with('{') => Ok((*one).to_owned()),
        [one] if !one.starts_with(PART_PREFIX) => Err(reject(
            ErrorCode::TransportPrefixUnknown,
            "the code is neither a Tongban transport text (TB1:) nor an SD-JWT",
        )),
        many if many.iter().all(|t| t.starts_with(PART_PREFIX)) => {
            decode_with(&assemble(many)?, certs)
        }
        _ => Err(reject(
            ErrorCode::TransportPartMixed,
            "several codes that are not parts of one presentation",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base45_rfc9285_examples() {
        assert_eq!(base45_encode(b"AB"), "BB8");
        assert_eq!(base45_encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(base45_encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(base45_decode("QED8WEX0").unwrap(), b"ietf!");
        for bad in ["GGW", "A", "abc", "ZZZZ"] {
            assert_eq!(
                base45_decode(bad).unwrap_err().code,
                ErrorCode::TransportBase45Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn varints_are_minimal() {
        let mut r = Reader {
            bytes: &[0x80, 0x00],
            at: 0,
        };
        assert_eq!(r.varint().unwrap_err().code, ErrorCode::TransportMalformed);
        let mut v = Vec::new();
        push_varint(&mut v, 300);
        assert_eq!(Reader { bytes: &v, at: 0 }.varint().unwrap(), 300);
    }
}
