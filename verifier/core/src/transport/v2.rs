//! Version 2 of the transport body (`specs/qr-transport.md` §2): the
//! presentation's JSON as one text stream compressed against a preset
//! dictionary, with every piece of base64url that is really random bytes
//! (signatures, digests, salts, key coordinates) moved out of the text and
//! carried as raw bytes after the compressed stream, and every digest the
//! decoder can recompute (a disclosed claim's digest, the KB-JWT's
//! `sd_hash`) left out altogether.
//!
//! The mapping is a bijection onto its image: [`body`] is a function of the
//! presentation, and [`decode`] accepts a body only if [`body`] of what it
//! decodes to gives back exactly that body.
//!
//! Version 3 ([`TAG_V3`], §2.7) is version 2 with one more marker: an
//! `x5c` certificate of the issuer JWT's header the verifier already holds
//! travels as the first 8 bytes of its SHA-256, and the decoder puts back
//! its standard base64 from the verifier's [`CertificateStore`].

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
use sha2::{Digest as _, Sha256};

use super::{CertificateStore, MAX_BODY, MAX_PRESENTATION, Reader, push_varint, reject};
use crate::encoding::{b64_decode, b64_encode};
use crate::error::{ErrorCode, Rejection};
use crate::sdjwt::SdJwtParts;

/// First byte of a version-2 body. Bits 1–2 set: as the first byte of a
/// DEFLATE stream this would be block type 11, which RFC 1951 reserves, so
/// no version-1 body can start with it.
pub const TAG: u8 = 0x06;

/// First byte of a version-3 body: version 2 with certificates by
/// reference (also a reserved DEFLATE block type).
pub const TAG_V3: u8 = 0x07;

/// Bytes of a certificate reference: the first 8 of its DER's SHA-256.
pub const CERT_REF_LEN: usize = 8;

/// The preset dictionary (`specs/qr-transport-dictionary-2.bin`).
pub const DICTIONARY: &[u8] = include_bytes!("../../../../specs/qr-transport-dictionary-2.bin");

/// Separates the `~`-separated parts of the presentation.
const TILDE: u8 = 0x1E;
/// Separates the `.`-separated parts of a JWS.
const DOT: u8 = 0x1F;
/// A segment carried as raw bytes (it is not text): varint length.
const RAW_SEGMENT: u8 = 0x1D;
/// The KB-JWT's `sd_hash`, recomputed.
const SD_HASH: u8 = 0x1C;
/// The SHA-256 digest of disclosure *k* (varint), recomputed.
const DISCLOSURE_DIGEST: u8 = 0x19;
/// 32 raw bytes, written as 43 characters of base64url.
const B64_32: u8 = 0x18;
/// 16 raw bytes, written as 22 characters of base64url.
const B64_16: u8 = 0x17;
/// Raw bytes (varint length: 48 or 64), written in base64url.
const B64_N: u8 = 0x16;
/// Version 3: a certificate the verifier holds, by the first
/// [`CERT_REF_LEN`] bytes of its SHA-256 (in the raw bytes), written as the
/// standard base64 of its DER.
const CERT_REF: u8 = 0x15;
/// The fewest DER bytes a certificate by reference has (shorter base64
/// strings are never looked at).
const MIN_CERT_BYTES: usize = 100;
/// Bytes that never occur in a segment carried as text.
const RESERVED: std::ops::RangeInclusive<u8> = 0x10..=0x1F;

/// Lengths of base64url text carried as raw bytes: 16, 32, 48 and 64 bytes
/// (salts; SHA-256 digests and P-256/Ed25519 coordinates; SHA-384 digests
/// and P-384 coordinates; SHA-512 digests).
const B64_LENGTHS: [usize; 4] = [22, 43, 64, 86];

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

fn sha256_b64(text: &str) -> String {
    b64_encode(Sha256::digest(text.as_bytes()))
}

/// The two streams of a body: the text (compressed) and the raw bytes.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Body {
    pub text: Vec<u8>,
    pub raw: Vec<u8>,
    /// Whether a certificate went by reference (a version 3 body).
    pub refs: bool,
}

/// What a text segment's base64url runs can be replaced with.
struct Known {
    /// Digest (base64url text) → index of the disclosure it is the digest of.
    digests: HashMap<String, usize>,
    /// The `sd_hash` the KB-JWT must carry, if there is a KB-JWT.
    sd_hash: Option<String>,
}

fn non_canonical(why: impl Into<String>) -> Rejection {
    reject(ErrorCode::TransportNonCanonical, why)
}

/// The body of a compact presentation. Refuses what version 1 refuses: a
/// presentation that is not `<JWS>~<D>~…~[<JWS>]`, or a segment that is not
/// canonical base64url.
pub(super) fn body(presentation: &str, refs: &HashSet<[u8; 32]>) -> Result<Body, Rejection> {
    let parts = SdJwtParts::split(presentation, usize::MAX).map_err(|r| non_canonical(r.detail))?;
    let jws_ok = |jws: &str| jws.split('.').count() == 3;
    if !jws_ok(parts.issuer_jwt) {
        return Err(non_canonical("the credential is not a compact JWS"));
    }
    if parts.kb_jwt.is_some_and(|kb| !jws_ok(kb)) {
        return Err(non_canonical("the KB-JWT is not a compact JWS"));
    }
    if parts.disclosures.iter().any(|d| d.contains('.')) {
        return Err(non_canonical("a disclosure is not base64url"));
    }
    let mut digests = HashMap::new();
    for (k, d) in parts.disclosures.iter().enumerate() {
        digests.entry(sha256_b64(d)).or_insert(k);
    }
    let known = Known {
        digests,
        sd_hash: parts.kb_jwt.map(|_| sha256_b64(parts.sd_hash_input)),
    };
    let components: Vec<&str> = presentation.split('~').collect();
    let last = components.len() - 1;
    let mut out = Body {
        text: Vec::with_capacity(presentation.len()),
        raw: Vec::new(),
        refs: false,
    };
    for (ci, component) in components.iter().enumerate() {
        if ci > 0 {
            out.text.push(TILDE);
        }
        let in_kb_jwt = ci == last && parts.kb_jwt.is_some();
        for (si, segment) in component.split('.').enumerate() {
            if si > 0 {
                out.text.push(DOT);
            }
            let bytes = b64_decode(segment, "a segment").map_err(|r| non_canonical(r.detail))?;
            match std::str::from_utf8(&bytes) {
                Ok(text) if !bytes.iter().any(|b| RESERVED.contains(b)) => {
                    // Certificates by reference: the issuer JWT's header only.
                    let refs = (ci == 0 && si == 0 && !refs.is_empty()).then_some(refs);
                    push_text(&mut out, text.as_bytes(), &known, in_kb_jwt, refs);
                }
                _ => {
                    out.text.push(RAW_SEGMENT);
                    push_varint(&mut out.text, bytes.len());
                    out.raw.extend_from_slice(&bytes);
                }
            }
        }
    }
    Ok(out)
}

/// Writes a text segment, replacing every base64url run of a carried length
/// that stands alone between two `"`.
fn push_text(
    out: &mut Body,
    s: &[u8],
    known: &Known,
    in_kb_jwt: bool,
    refs: Option<&HashSet<[u8; 32]>>,
) {
    let mut i = 0;
    while i < s.len() {
        if let Some(refs) = refs
            && let Some((end, digest)) = certificate_at(s, i, refs)
        {
            out.text.push(CERT_REF);
            out.raw.extend_from_slice(&digest[..CERT_REF_LEN]);
            out.refs = true;
            i = end;
            continue;
        }
        if !is_b64(s[i]) {
            out.text.push(s[i]);
            i += 1;
            continue;
        }
        let j = i + s[i..].iter().take_while(|&&c| is_b64(c)).count();
        let quoted = i > 0 && s[i - 1] == b'"' && s.get(j) == Some(&b'"');
        // The run is ASCII, so this never fails.
        let run = std::str::from_utf8(&s[i..j]).unwrap_or_default();
        let bytes = if quoted && B64_LENGTHS.contains(&run.len()) {
            b64_decode(run, "").ok()
        } else {
            None
        };
        match bytes {
            None => out.text.extend_from_slice(&s[i..j]),
            Some(_) if in_kb_jwt && known.sd_hash.as_deref() == Some(run) => {
                out.text.push(SD_HASH);
            }
            Some(_) if known.digests.contains_key(run) => {
                out.text.push(DISCLOSURE_DIGEST);
                push_varint(&mut out.text, known.digests[run]);
            }
            Some(bytes) => {
                match bytes.len() {
                    32 => out.text.push(B64_32),
                    16 => out.text.push(B64_16),
                    n => {
                        out.text.push(B64_N);
                        push_varint(&mut out.text, n);
                    }
                }
                out.raw.extend_from_slice(&bytes);
            }
        }
        i = j;
    }
}

/// A certificate by reference at `s[i..]`: a standard base64 string
/// between two `"` (`i` just after the first), canonical, of at least
/// [`MIN_CERT_BYTES`] bytes whose SHA-256 is in `refs`. Returns where the
/// string ends (the closing `"`) and the digest.
fn certificate_at(s: &[u8], i: usize, refs: &HashSet<[u8; 32]>) -> Option<(usize, [u8; 32])> {
    if i == 0 || s[i - 1] != b'"' {
        return None;
    }
    let body = s[i..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'+' || **c == b'/')
        .count();
    let pad = s[i + body..]
        .iter()
        .take(2)
        .take_while(|c| **c == b'=')
        .count();
    let end = i + body + pad;
    if s.get(end) != Some(&b'"') || !(end - i).is_multiple_of(4) || end - i < MIN_CERT_BYTES * 4 / 3
    {
        return None;
    }
    let text = std::str::from_utf8(&s[i..end]).ok()?;
    let der = STANDARD.decode(text).ok()?;
    if STANDARD.encode(&der) != text {
        return None;
    }
    let digest: [u8; 32] = Sha256::digest(&der).into();
    refs.contains(&digest).then_some((end, digest))
}

#[cfg(feature = "encode")]
/// The compressed form of a presentation: [`TAG`], the DEFLATE stream of
/// the text (preset dictionary [`DICTIONARY`]), then the raw bytes.
pub(super) fn encode(presentation: &str, refs: &HashSet<[u8; 32]>) -> Result<Vec<u8>, Rejection> {
    if presentation.len() > MAX_PRESENTATION {
        return Err(reject(
            ErrorCode::TransportTooLarge,
            format!("the presentation is larger than {MAX_PRESENTATION} bytes"),
        ));
    }
    let body = body(presentation, refs)?;
    if body.text.len() > MAX_BODY {
        return Err(reject(
            ErrorCode::TransportTooLarge,
            format!("the text of the presentation is larger than {MAX_BODY} bytes"),
        ));
    }
    let mut out = vec![if body.refs { TAG_V3 } else { TAG }];
    out.extend(super::deflate::compress(DICTIONARY, &body.text));
    out.extend_from_slice(&body.raw);
    Ok(out)
}

/// Inflates a raw DEFLATE stream whose history starts with `dict`, to at
/// most `limit` bytes. Returns the output and how many input bytes the
/// stream took (the rest is not part of it).
fn inflate(input: &[u8], dict: &[u8], limit: usize) -> Result<(Vec<u8>, usize), Rejection> {
    let mut out = dict.to_vec();
    out.resize(
        dict.len() + limit.min(input.len().saturating_mul(4).max(1024)),
        0,
    );
    let mut r = Box::<DecompressorOxide>::default();
    let (mut in_pos, mut out_pos) = (0, dict.len());
    loop {
        let (status, used, written) = decompress(
            &mut r,
            input.get(in_pos..).unwrap_or_default(),
            &mut out,
            out_pos,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        in_pos += used;
        out_pos += written;
        match status {
            TINFLStatus::Done => {
                out.truncate(out_pos);
                out.drain(..dict.len());
                return Ok((out, in_pos));
            }
            TINFLStatus::HasMoreOutput if out.len() < dict.len() + limit => {
                let grown = (out.len() * 2).min(dict.len() + limit);
                out.resize(grown, 0);
            }
            TINFLStatus::HasMoreOutput => {
                return Err(reject(
                    ErrorCode::TransportTooLarge,
                    format!("the content inflates beyond {limit} bytes"),
                ));
            }
            other => {
                return Err(reject(
                    ErrorCode::TransportMalformed,
                    format!("the compressed content is damaged: {other:?}"),
                ));
            }
        }
    }
}

/// One piece of a segment in the text stream.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// Text bytes `start..end` of the stream.
    Text(usize, usize),
    /// Raw bytes `start..end` of the raw part, written in base64url inside
    /// the segment's text.
    B64(usize, usize),
    /// Raw bytes `start..end`: the segment's own bytes.
    Raw(usize, usize),
    /// The digest of disclosure *k*.
    Digest(usize),
    /// The KB-JWT's `sd_hash`.
    SdHash,
    /// A certificate by reference: index into the resolved certificates.
    Cert(usize),
}

fn b64_len(n: usize) -> usize {
    n / 3 * 4 + [0, 2, 3][n % 3]
}

fn malformed(why: &str) -> Rejection {
    reject(ErrorCode::TransportMalformed, why.to_owned())
}

/// Splits the text stream into components (`~`), segments (`.`) and pieces,
/// assigning the raw bytes in order.
fn tokenize(
    text: &[u8],
    raw: &[u8],
    certs: Option<&dyn CertificateStore>,
    resolved: &mut Vec<Vec<u8>>,
) -> Result<Vec<Vec<Vec<Piece>>>, Rejection> {
    let raw_len = raw.len();
    let mut components = vec![vec![Vec::new()]];
    let mut r = Reader { bytes: text, at: 0 };
    let mut raw_at = 0usize;
    let mut take_raw = |n: usize| {
        let start = raw_at;
        raw_at = raw_at
            .checked_add(n)
            .filter(|&e| e <= raw_len)
            .ok_or_else(|| malformed("the raw bytes end too early"))?;
        Ok::<_, Rejection>((start, raw_at))
    };
    while r.at < text.len() {
        let c = text[r.at];
        r.at += 1;
        let piece = match c {
            TILDE => {
                components.push(vec![Vec::new()]);
                continue;
            }
            DOT => {
                if let Some(comp) = components.last_mut() {
                    comp.push(Vec::new());
                }
                continue;
            }
            RAW_SEGMENT => {
                let n = r.varint()?;
                let (s, e) = take_raw(n)?;
                Piece::Raw(s, e)
            }
            SD_HASH => Piece::SdHash,
            DISCLOSURE_DIGEST => Piece::Digest(r.varint()?),
            B64_32 => {
                let (s, e) = take_raw(32)?;
                Piece::B64(s, e)
            }
            B64_16 => {
                let (s, e) = take_raw(16)?;
                Piece::B64(s, e)
            }
            B64_N => {
                let n = r.varint()?;
                let (s, e) = take_raw(n)?;
                Piece::B64(s, e)
            }
            CERT_REF if certs.is_some() => {
                if components.len() != 1 || components[0].len() != 1 {
                    return Err(malformed(
                        "a certificate reference outside the credential's header",
                    ));
                }
                let (s, e) = take_raw(CERT_REF_LEN)?;
                let prefix = &raw[s..e];
                let der = certs
                    .and_then(|c| c.certificate_der(prefix))
                    .ok_or_else(|| {
                        reject(
                            ErrorCode::TransportCertificateUnknown,
                            format!(
                                "the code names the issuer's certificate {} by reference, and this verifier's trust bundle does not hold it",
                                prefix.iter().map(|b| format!("{b:02x}")).collect::<String>()
                            ),
                        )
                    })?;
                resolved.push(der);
                Piece::Cert(resolved.len() - 1)
            }
            c if RESERVED.contains(&c) => return Err(malformed("a reserved byte in the text")),
            _ => {
                let start = r.at - 1;
                let len = text[start..]
                    .iter()
                    .take_while(|b| !RESERVED.contains(b))
                    .count();
                r.at = start + len;
                Piece::Text(start, start + len)
            }
        };
        if let Some(seg) = components.last_mut().and_then(|c| c.last_mut()) {
            seg.push(piece);
        }
    }
    if raw_at != raw_len {
        return Err(malformed("raw bytes left over after the presentation"));
    }
    Ok(components)
}

/// Decodes a version-2 body (after [`TAG`]), or with `certs` a version-3
/// body (after [`TAG_V3`]), to the exact presentation.
pub(super) fn decode(
    bytes: &[u8],
    certs: Option<&dyn CertificateStore>,
) -> Result<String, Rejection> {
    let (text, used) = inflate(bytes, DICTIONARY, MAX_BODY)?;
    let raw = bytes.get(used..).unwrap_or_default();
    let mut resolved = Vec::new();
    let components = tokenize(&text, raw, certs, &mut resolved)?;
    let cert_b64: Vec<String> = resolved.iter().map(|d| STANDARD.encode(d)).collect();
    if certs.is_some() && resolved.is_empty() {
        return Err(malformed(
            "a version 3 body without a certificate reference",
        ));
    }
    let n_disclosures = components.len().saturating_sub(2);

    // Bound the output before building it.
    let piece_len = |p: &Piece| match *p {
        Piece::Text(s, e) | Piece::Raw(s, e) => e - s,
        Piece::B64(s, e) => b64_len(e - s),
        Piece::Digest(_) | Piece::SdHash => 43,
        Piece::Cert(k) => cert_b64[k].len(),
    };
    let mut total = components.len().saturating_sub(1);
    for comp in &components {
        total += comp.len() - 1;
        for seg in comp {
            total += b64_len(seg.iter().map(piece_len).sum());
        }
    }
    if total > MAX_PRESENTATION {
        return Err(reject(
            ErrorCode::TransportTooLarge,
            format!("the presentation would be larger than {MAX_PRESENTATION} bytes"),
        ));
    }

    // Disclosures first (a digest may refer to any of them, a disclosure's
    // digest only to others), in dependency order, without recursion.
    let last = components.len() - 1;
    let deps: Vec<Vec<usize>> = (1..=n_disclosures)
        .map(|ci| {
            components[ci]
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    Piece::Digest(k) if *k < n_disclosures => Some(*k),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let mut texts: Vec<Option<String>> = vec![None; components.len()];
    let mut digests: Vec<Option<String>> = vec![None; n_disclosures];
    let mut on_stack = vec![false; n_disclosures];
    let mut next_dep = vec![0usize; n_disclosures];
    let build = |ci: usize,
                 digests: &[Option<String>],
                 sd_hash: Option<&str>|
     -> Result<String, Rejection> {
        let mut segments = Vec::new();
        for seg in &components[ci] {
            let mut bytes = Vec::new();
            for p in seg {
                match *p {
                    Piece::Text(s, e) => bytes.extend_from_slice(&text[s..e]),
                    Piece::Raw(s, e) => bytes.extend_from_slice(&raw[s..e]),
                    Piece::B64(s, e) => bytes.extend_from_slice(b64_encode(&raw[s..e]).as_bytes()),
                    Piece::Digest(k) => bytes.extend_from_slice(
                        digests
                            .get(k)
                            .and_then(Option::as_deref)
                            .ok_or_else(|| malformed("a digest of a disclosure that is not there"))?
                            .as_bytes(),
                    ),
                    Piece::SdHash => bytes.extend_from_slice(
                        sd_hash
                            .ok_or_else(|| malformed("sd_hash outside the KB-JWT"))?
                            .as_bytes(),
                    ),
                    Piece::Cert(k) => bytes.extend_from_slice(cert_b64[k].as_bytes()),
                }
            }
            segments.push(b64_encode(&bytes));
        }
        Ok(segments.join("."))
    };
    for first in 0..n_disclosures {
        let mut stack = vec![first];
        while let Some(&k) = stack.last() {
            if digests[k].is_some() {
                stack.pop();
                continue;
            }
            on_stack[k] = true;
            let pending = deps[k][next_dep[k]..]
                .iter()
                .position(|&d| digests[d].is_none())
                .map(|i| {
                    next_dep[k] += i;
                    deps[k][next_dep[k]]
                });
            match pending {
                Some(d) if on_stack[d] => {
                    return Err(malformed("disclosures refer to each other in a cycle"));
                }
                Some(d) => stack.push(d),
                None => {
                    let t = build(k + 1, &digests, None)?;
                    digests[k] = Some(sha256_b64(&t));
                    texts[k + 1] = Some(t);
                    on_stack[k] = false;
                    stack.pop();
                }
            }
        }
    }
    if last > 0 {
        texts[0] = Some(build(0, &digests, None)?);
    }
    let mut out = String::with_capacity(total);
    for t in texts.iter().take(last).flatten() {
        out.push_str(t);
        out.push('~');
    }
    let sd_hash = (last > 0).then(|| sha256_b64(&out));
    if last == 0 {
        out = build(0, &digests, None)?;
    } else {
        out.push_str(&build(last, &digests, sd_hash.as_deref())?);
    }

    // Only the body this presentation encodes to is accepted.
    // (Version 3: with exactly the certificates this body referenced.)
    let refs: HashSet<[u8; 32]> = resolved.iter().map(|d| Sha256::digest(d).into()).collect();
    let again = body(&out, &refs).map_err(|r| reject(ErrorCode::TransportMalformed, r.detail))?;
    if again.text != text || again.raw != raw {
        return Err(malformed(
            "the content is not in the form this presentation encodes to",
        ));
    }
    Ok(out)
}
