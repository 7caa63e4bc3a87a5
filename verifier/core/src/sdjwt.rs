//! SD-JWT (RFC 9901): the `~` serialization, disclosures, digests, and the
//! processing of disclosures into claims with every rule of section 7.1.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::encoding::{Digest32B64, b64_decode, b64_encode, to_compact_json};
use crate::error::{ErrorCode, Rejection};
use crate::json_tree::{self, Node, Obj};

/// The `_sd_alg` of SHA-256 (RFC 9901 §4.1.1; the default when absent).
pub const SD_ALG_SHA256: &str = "sha-256";
/// The `_sd_alg` of SM3 (GB/T 32905), Tongban's name for it
/// (`specs/credential-format.md` §9.3).
pub const SD_ALG_SM3: &str = "sm3";

/// A digest algorithm for disclosures and `sd_hash` (`_sd_alg`). A closed
/// set: any other `_sd_alg` is `sd_alg_unsupported`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SdAlg {
    /// `sha-256`, the default.
    #[default]
    Sha256,
    /// `sm3` (GB/T 32905), an issuer's option.
    #[cfg(feature = "sm")]
    Sm3,
}

impl SdAlg {
    /// Parses an `_sd_alg` value; anything not accepted is `None`.
    pub fn from_name(name: &str) -> Option<SdAlg> {
        match name {
            SD_ALG_SHA256 => Some(SdAlg::Sha256),
            #[cfg(feature = "sm")]
            SD_ALG_SM3 => Some(SdAlg::Sm3),
            _ => None,
        }
    }

    /// The `_sd_alg` value.
    pub const fn name(self) -> &'static str {
        match self {
            SdAlg::Sha256 => SD_ALG_SHA256,
            #[cfg(feature = "sm")]
            SdAlg::Sm3 => SD_ALG_SM3,
        }
    }

    /// [`SdAlg::digest_b64`] kept inline (both algorithms give 32 bytes).
    pub(crate) fn digest_inline(self, text: &str) -> Digest32B64 {
        match self {
            SdAlg::Sha256 => Digest32B64::new(&Sha256::digest(text.as_bytes()).into()),
            #[cfg(feature = "sm")]
            SdAlg::Sm3 => {
                Digest32B64::new(&<sm3::Sm3 as sm3::Digest>::digest(text.as_bytes()).into())
            }
        }
    }

    /// `base64url(H(ascii(text)))`: a disclosure's digest or an `sd_hash`.
    pub fn digest_b64(self, text: &str) -> String {
        match self {
            SdAlg::Sha256 => sha256_b64(text),
            #[cfg(feature = "sm")]
            SdAlg::Sm3 => b64_encode(<sm3::Sm3 as sm3::Digest>::digest(text.as_bytes())),
        }
    }
}

/// How deeply disclosed values may nest inside each other while processing.
pub const MAX_PROCESSING_DEPTH: usize = 64;

/// `base64url(SHA-256(ascii(text)))`, the digest of a disclosure and the
/// `sd_hash` of a presentation.
pub fn sha256_b64(text: &str) -> String {
    b64_encode(Sha256::digest(text.as_bytes()))
}

/// The parts of an SD-JWT or SD-JWT+KB (RFC 9901 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdJwtParts<'a> {
    /// The issuer-signed JWT.
    pub issuer_jwt: &'a str,
    /// The encoded disclosures, in presentation order.
    pub disclosures: Vec<&'a str>,
    /// The Key Binding JWT, when present.
    pub kb_jwt: Option<&'a str>,
    /// Everything up to and including the last `~`: the `sd_hash` input.
    pub sd_hash_input: &'a str,
}

impl<'a> SdJwtParts<'a> {
    /// Splits `<JWT>~<D1>~…~<Dn>~[<KB-JWT>]`.
    pub fn split(input: &'a str, max_disclosures: usize) -> Result<SdJwtParts<'a>, Rejection> {
        let Some(last_tilde) = input.rfind('~') else {
            return Err(Rejection::new(
                ErrorCode::SdJwtMalformed,
                "no '~' separator: a bare JWT is not an SD-JWT (it must end in '~' or a KB-JWT)",
            ));
        };
        let sd_hash_input = &input[..=last_tilde];
        let tail = &input[last_tilde + 1..];
        let mut parts = input[..last_tilde].split('~');
        let issuer_jwt = parts.next().unwrap_or_default();
        if issuer_jwt.is_empty() {
            return Err(Rejection::new(
                ErrorCode::SdJwtMalformed,
                "the issuer-signed JWT before the first '~' is empty",
            ));
        }
        let mut disclosures = Vec::new();
        for d in parts {
            if d.is_empty() {
                return Err(Rejection::new(
                    ErrorCode::SdJwtMalformed,
                    "an empty disclosure between two '~'",
                ));
            }
            if disclosures.len() == max_disclosures {
                return Err(Rejection::new(
                    ErrorCode::TooManyDisclosures,
                    format!("more than {max_disclosures} disclosures"),
                ));
            }
            disclosures.push(d);
        }
        Ok(SdJwtParts {
            issuer_jwt,
            disclosures,
            kb_jwt: (!tail.is_empty()).then_some(tail),
            sd_hash_input,
        })
    }
}

/// Converts the JWS JSON Serialization of an SD-JWT (RFC 9901 §8, flattened
/// or general) into the compact form, which is what the signature covers and
/// what `sd_hash` is computed over (§8.1). The disclosures and `kb_jwt` come
/// from the unprotected `header`; in the general form only the first
/// signature is used, as §8.1 prescribes for `sd_hash`.
pub fn compact_from_json_serialization(json: &Value) -> Result<String, Rejection> {
    let bad = |why: &str| {
        Rejection::new(
            ErrorCode::SdJwtMalformed,
            format!("JSON serialization: {why}"),
        )
    };
    let obj = json.as_object().ok_or_else(|| bad("not a JSON object"))?;
    let payload = obj
        .get("payload")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no string payload"))?;
    let sig_obj = match obj.get("signatures") {
        Some(Value::Array(sigs)) => {
            if obj.contains_key("signature")
                || obj.contains_key("protected")
                || obj.contains_key("header")
            {
                return Err(bad("mixes the general and flattened forms"));
            }
            sigs.first()
                .and_then(Value::as_object)
                .ok_or_else(|| bad("signatures is empty"))?
        }
        Some(_) => return Err(bad("signatures is not an array")),
        None => obj,
    };
    let protected = sig_obj
        .get("protected")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no protected header"))?;
    let signature = sig_obj
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no signature"))?;
    let header = match sig_obj.get("header") {
        None => None,
        Some(Value::Object(h)) => Some(h),
        Some(_) => return Err(bad("header is not an object")),
    };
    let mut out = format!("{protected}.{payload}.{signature}~");
    if let Some(ds) = header.and_then(|h| h.get("disclosures")) {
        let ds = ds
            .as_array()
            .ok_or_else(|| bad("disclosures is not an array"))?;
        for d in ds {
            let d = d
                .as_str()
                .filter(|d| !d.is_empty() && !d.contains('~'))
                .ok_or_else(|| bad("a disclosure is not a non-empty string"))?;
            out.push_str(d);
            out.push('~');
        }
    }
    if let Some(kb) = header.and_then(|h| h.get("kb_jwt")) {
        let kb = kb
            .as_str()
            .filter(|k| !k.contains('~'))
            .ok_or_else(|| bad("kb_jwt is not a string"))?;
        out.push_str(kb);
    }
    Ok(out)
}

/// One disclosure (RFC 9901 §4.2): `[salt, name, value]` for an object
/// property or `[salt, value]` for an array element.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// The base64url text exactly as it appears in the SD-JWT.
    pub encoded: String,
    /// Its digest, `base64url(SHA-256(encoded))`.
    pub digest: String,
    /// The salt.
    pub salt: String,
    /// The claim name; `None` for an array element.
    pub name: Option<String>,
    /// The claim value (may itself hold digests).
    pub value: Value,
}

impl Disclosure {
    /// Decodes and checks one disclosure, with its SHA-256 digest.
    pub fn parse(encoded: &str) -> Result<Disclosure, Rejection> {
        Disclosure::parse_with(encoded, SdAlg::Sha256)
    }

    /// Decodes and checks one disclosure, with its digest under `alg` (the
    /// credential's `_sd_alg`).
    pub fn parse_with(encoded: &str, alg: SdAlg) -> Result<Disclosure, Rejection> {
        let bytes = b64_decode(encoded, "a disclosure")?;
        let (salt, name, value) = shape(json_tree::parse(&bytes, &"a disclosure")?)?;
        Ok(Disclosure {
            digest: alg.digest_b64(encoded),
            encoded: encoded.to_owned(),
            salt: salt.into_owned(),
            name: name.map(Cow::into_owned),
            value: value.to_value(),
        })
    }

    /// Makes a new disclosure with compact, raw-UTF-8 JSON (SHA-256 digest).
    pub fn create(salt: String, name: Option<String>, value: Value) -> Disclosure {
        Disclosure::create_with(salt, name, value, SdAlg::Sha256)
    }

    /// Makes a new disclosure whose digest is under `alg`.
    pub fn create_with(salt: String, name: Option<String>, value: Value, alg: SdAlg) -> Disclosure {
        // A tuple is written as a JSON array: the same text as a
        // `Value::Array` of the three, without copying them into one.
        let json = match &name {
            Some(n) => to_compact_json(&(&salt, n, &value)),
            None => to_compact_json(&(&salt, &value)),
        };
        let encoded = b64_encode(json);
        Disclosure {
            digest: alg.digest_b64(&encoded),
            encoded,
            salt,
            name,
            value,
        }
    }
}

/// A disclosure's `[salt, name, value]` or `[salt, value]`, checked for
/// shape (RFC 9901 §4.2).
#[allow(clippy::type_complexity)]
fn shape(node: Node<'_>) -> Result<(Cow<'_, str>, Option<Cow<'_, str>>, Node<'_>), Rejection> {
    let Node::Array(mut items) = node else {
        return Err(Rejection::new(
            ErrorCode::DisclosureMalformed,
            "a disclosure is not a JSON array",
        ));
    };
    let malformed = |why: &str| Rejection::new(ErrorCode::DisclosureMalformed, why.to_owned());
    let (salt, name, value) = match items.len() {
        2 => {
            let value = items.pop().unwrap_or(Node::Null);
            (items.pop().unwrap_or(Node::Null), None, value)
        }
        3 => {
            let value = items.pop().unwrap_or(Node::Null);
            let Some(Node::Str(name)) = items.pop() else {
                return Err(malformed("a disclosure's claim name is not a string"));
            };
            (items.pop().unwrap_or(Node::Null), Some(name), value)
        }
        n => {
            return Err(malformed(&format!(
                "a disclosure has {n} elements, not 2 or 3"
            )));
        }
    };
    let Node::Str(salt) = salt else {
        return Err(malformed("a disclosure's salt is not a string"));
    };
    Ok((salt, name, value))
}

/// A disclosure as the verification path reads it: borrowed from the
/// presentation and from its decoded bytes, the salt checked and dropped.
#[derive(Debug, Clone)]
pub(crate) struct DisclosureRef<'a> {
    /// The base64url text as presented.
    pub(crate) encoded: &'a str,
    /// Its digest under the credential's `_sd_alg`.
    pub(crate) digest: DigestText<'a>,
    /// The claim name; `None` for an array element.
    pub(crate) name: Option<Cow<'a, str>>,
    /// The claim value.
    pub(crate) value: Node<'a>,
}

impl<'a> DisclosureRef<'a> {
    /// Checks one disclosure whose base64url `encoded` decoded to `bytes`,
    /// with [`Disclosure::parse_with`]'s rules and its digest under `alg`.
    pub(crate) fn parse(
        encoded: &'a str,
        bytes: &'a [u8],
        alg: SdAlg,
    ) -> Result<DisclosureRef<'a>, Rejection> {
        let (_salt, name, value) = shape(json_tree::parse(bytes, &"a disclosure")?)?;
        Ok(DisclosureRef {
            encoded,
            digest: DigestText::Computed(alg.digest_inline(encoded)),
            name,
            value,
        })
    }

    fn borrow(d: &'a Disclosure) -> DisclosureRef<'a> {
        DisclosureRef {
            encoded: &d.encoded,
            digest: DigestText::Borrowed(&d.digest),
            name: d.name.as_deref().map(Cow::Borrowed),
            value: Node::borrow_value(&d.value),
        }
    }
}

/// A disclosure's digest text: computed on the verification path (inline,
/// no allocation), or borrowed from a parsed [`Disclosure`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum DigestText<'a> {
    /// Computed from the disclosure as presented.
    Computed(Digest32B64),
    /// A parsed disclosure's own.
    Borrowed(&'a str),
}

impl DigestText<'_> {
    /// The base64url text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            DigestText::Computed(d) => d.as_str(),
            DigestText::Borrowed(s) => s,
        }
    }
}

/// One step of a path into the claims.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSegment {
    /// An object member.
    Key(String),
    /// An array position (in the issued array).
    Index(usize),
}

/// A path to a claim, written `address.locality` or `nationalities.0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ClaimPath(pub Vec<PathSegment>);

impl ClaimPath {
    /// Parses a dotted path; all-digit segments are array positions.
    pub fn parse(text: &str) -> Option<ClaimPath> {
        if text.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for seg in text.split('.') {
            if seg.is_empty() {
                return None;
            }
            out.push(match seg.parse::<usize>() {
                Ok(i) if seg.bytes().all(|b| b.is_ascii_digit()) => PathSegment::Index(i),
                _ => PathSegment::Key(seg.to_owned()),
            });
        }
        Some(ClaimPath(out))
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn is_prefix_of(&self, other: &ClaimPath) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl core::fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match seg {
                PathSegment::Key(k) => f.write_str(k)?,
                PathSegment::Index(n) => write!(f, "{n}")?,
            }
        }
        Ok(())
    }
}

/// The result of processing: the claims a verifier may use, and where each
/// disclosure landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The payload with every disclosed claim in place and `_sd`, `_sd_alg`
    /// and undisclosed array placeholders removed (RFC 9901 §7.1 step 3).
    pub claims: Map<String, Value>,
    /// For each disclosure (same order as given), the path it disclosed.
    pub paths: Vec<ClaimPath>,
}

/// Checks `_sd_alg` at the top level of an issuer payload and returns the
/// digest algorithm of its disclosures and `sd_hash` (SHA-256 when absent).
pub fn check_sd_alg(payload: &Map<String, Value>) -> Result<SdAlg, Rejection> {
    check_sd_alg_tree(&Obj::borrow_map(payload))
}

/// [`check_sd_alg`] on a borrowed payload.
pub(crate) fn check_sd_alg_tree(payload: &Obj<'_>) -> Result<SdAlg, Rejection> {
    let unsupported = |what: &Node<'_>| {
        Rejection::new(
            ErrorCode::SdAlgUnsupported,
            format!(
                "_sd_alg {} is not supported (\"sha-256\" or \"sm3\")",
                what.to_value()
            ),
        )
    };
    match payload.get("_sd_alg") {
        None => Ok(SdAlg::Sha256),
        Some(v @ Node::Str(a)) => SdAlg::from_name(a).ok_or_else(|| unsupported(v)),
        Some(other) => Err(unsupported(other)),
    }
}

/// Processes `disclosures` against an issuer-signed payload, enforcing
/// every rule of RFC 9901 §7.1 step 3 (and step 4: no unreferenced
/// disclosure).
pub fn process(
    payload: &Map<String, Value>,
    disclosures: &[Disclosure],
) -> Result<Processed, Rejection> {
    let payload = Obj::borrow_map(payload);
    let disclosures: Vec<DisclosureRef<'_>> =
        disclosures.iter().map(DisclosureRef::borrow).collect();
    let (claims, paths) = process_tree(&payload, &disclosures)?;
    let paths = paths
        .iter()
        .map(|p| {
            ClaimPath(
                p.iter()
                    .map(|s| match *s {
                        Step::Key(k) => PathSegment::Key(k.to_owned()),
                        Step::Index(n) => PathSegment::Index(n),
                    })
                    .collect(),
            )
        })
        .collect();
    Ok(Processed { claims, paths })
}

/// [`process`] on a borrowed payload and disclosures: the claims, built
/// owned in one pass, and for each disclosure the path where it landed.
#[allow(clippy::type_complexity)]
pub(crate) fn process_tree<'a>(
    payload: &'a Obj<'a>,
    disclosures: &'a [DisclosureRef<'a>],
) -> Result<(Map<String, Value>, Vec<Vec<Step<'a>>>), Rejection> {
    // Every digest met so far, and the disclosures not yet met: one hash
    // lookup per digest. `Some(i)` is disclosure `i`; `None` a digest that
    // references no disclosure (a decoy, or a claim not disclosed).
    let top_sd = match payload.get("_sd") {
        Some(Node::Array(a)) => a.len(),
        _ => 0,
    };
    let mut digests = HashMap::with_capacity(disclosures.len() + top_sd);
    for (i, d) in disclosures.iter().enumerate() {
        if digests.insert(d.digest.as_str(), Some(i)).is_some() {
            return Err(Rejection::new(
                ErrorCode::DisclosureDuplicate,
                format!("disclosure {} is presented twice", d.encoded),
            ));
        }
    }
    let mut ctx = Ctx {
        disclosures,
        digests,
        paths: vec![None; disclosures.len()],
    };
    let mut path = Vec::new();
    let claims = ctx.object(payload, &mut path, 0)?;
    let mut paths = Vec::with_capacity(disclosures.len());
    for (d, p) in disclosures.iter().zip(ctx.paths) {
        match p {
            Some(p) => paths.push(p),
            None => {
                return Err(Rejection::new(
                    ErrorCode::DisclosureUnreferenced,
                    format!(
                        "disclosure {} (digest {}) is not referenced",
                        d.encoded,
                        d.digest.as_str()
                    ),
                ));
            }
        }
    }
    Ok((claims, paths))
}

/// One step of the path being walked, borrowed from the payload or a
/// disclosure; a [`ClaimPath`] is built only when a caller asks for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    /// An object member.
    Key(&'a str),
    /// An array position.
    Index(usize),
}

struct Ctx<'a> {
    disclosures: &'a [DisclosureRef<'a>],
    /// Digests met so far and disclosures not yet referenced (see `process`).
    digests: HashMap<&'a str, Option<usize>>,
    /// Where each disclosure landed; `Some` once it is referenced.
    paths: Vec<Option<Vec<Step<'a>>>>,
}

impl<'a> Ctx<'a> {
    /// Notes a digest (each may appear once in the whole payload) and
    /// returns the index of the disclosure it references, if any.
    fn note_digest(&mut self, digest: &'a str) -> Result<Option<usize>, Rejection> {
        match self.digests.entry(digest) {
            Entry::Vacant(v) => {
                v.insert(None);
                Ok(None)
            }
            // A disclosure met for the first time: from now on its digest
            // counts as seen like any other.
            Entry::Occupied(mut o) => o.get_mut().take().map(Some).ok_or_else(|| {
                Rejection::new(
                    ErrorCode::DigestDuplicate,
                    format!("digest {digest} appears more than once"),
                )
            }),
        }
    }

    fn record(&mut self, i: usize, path: &[Step<'a>]) {
        self.paths[i] = Some(path.to_vec());
    }

    fn too_deep(depth: usize) -> Result<(), Rejection> {
        if depth > MAX_PROCESSING_DEPTH {
            return Err(Rejection::new(
                ErrorCode::JsonTooDeep,
                format!("disclosed claims nest deeper than {MAX_PROCESSING_DEPTH}"),
            ));
        }
        Ok(())
    }

    fn object(
        &mut self,
        obj: &'a Obj<'a>,
        path: &mut Vec<Step<'a>>,
        depth: usize,
    ) -> Result<Map<String, Value>, Rejection> {
        Self::too_deep(depth)?;
        let sd = obj.get("_sd");
        let sd_len = match sd {
            Some(Node::Array(a)) => a.len().min(self.disclosures.len()),
            _ => 0,
        };
        let mut out = Map::with_capacity(obj.len() + sd_len);
        for (k, v) in obj.iter() {
            match k.as_ref() {
                "_sd" => continue,
                "_sd_alg" if depth == 0 => continue,
                "_sd_alg" => {
                    return Err(Rejection::new(
                        ErrorCode::SdAlgMisplaced,
                        "_sd_alg appears below the top level",
                    ));
                }
                _ => {}
            }
            path.push(Step::Key(k));
            let value = self.value(v, path, depth + 1)?;
            path.pop();
            out.insert(k.as_ref().to_owned(), value);
        }
        let Some(sd) = sd else {
            return Ok(out);
        };
        let Node::Array(digests) = sd else {
            return Err(Rejection::new(ErrorCode::SdInvalid, "_sd is not an array"));
        };
        for digest in digests {
            let Node::Str(digest) = digest else {
                return Err(Rejection::new(
                    ErrorCode::SdInvalid,
                    "_sd holds a non-string digest",
                ));
            };
            let Some(i) = self.note_digest(digest)? else {
                continue; // a decoy, or a claim not disclosed
            };
            let d = &self.disclosures[i];
            let Some(name) = &d.name else {
                return Err(Rejection::new(
                    ErrorCode::DisclosureKindMismatch,
                    format!(
                        "array-element disclosure {} is referenced from _sd",
                        d.encoded
                    ),
                ));
            };
            if name == "_sd" || name == "..." {
                return Err(Rejection::new(
                    ErrorCode::DisclosureNameReserved,
                    format!("a disclosure names a claim {:?}", name.as_ref()),
                ));
            }
            // Every member of `obj` other than `_sd` and a top-level
            // `_sd_alg` is already in `out`, so this is "in `out` or in `obj`".
            if out.contains_key(name.as_ref()) || (name == "_sd_alg" && obj.contains_key(name)) {
                return Err(Rejection::new(
                    ErrorCode::DisclosureNameCollision,
                    format!(
                        "disclosed claim {:?} already exists at this level",
                        name.as_ref()
                    ),
                ));
            }
            path.push(Step::Key(name));
            self.record(i, path);
            let value = self.value(&d.value, path, depth + 1)?;
            path.pop();
            out.insert(name.as_ref().to_owned(), value);
        }
        Ok(out)
    }

    fn value(
        &mut self,
        v: &'a Node<'a>,
        path: &mut Vec<Step<'a>>,
        depth: usize,
    ) -> Result<Value, Rejection> {
        match v {
            Node::Object(o) => Ok(Value::Object(self.object(o, path, depth)?)),
            Node::Array(a) => self.array(a, path, depth),
            other => Ok(other.to_value()),
        }
    }

    fn array(
        &mut self,
        items: &'a [Node<'a>],
        path: &mut Vec<Step<'a>>,
        depth: usize,
    ) -> Result<Value, Rejection> {
        Self::too_deep(depth)?;
        let mut out = Vec::with_capacity(items.len());
        for (idx, item) in items.iter().enumerate() {
            path.push(Step::Index(idx));
            if let Some(placeholder) = array_placeholder(item) {
                let Node::Str(digest) = placeholder else {
                    return Err(Rejection::new(
                        ErrorCode::SdInvalid,
                        "an array element's \"...\" is not a string",
                    ));
                };
                if let Some(i) = self.note_digest(digest)? {
                    let d = &self.disclosures[i];
                    if d.name.is_some() {
                        return Err(Rejection::new(
                            ErrorCode::DisclosureKindMismatch,
                            format!(
                                "object-property disclosure {} is referenced from \"...\"",
                                d.encoded
                            ),
                        ));
                    }
                    self.record(i, path);
                    out.push(self.value(&d.value, path, depth + 1)?);
                }
            } else {
                out.push(self.value(item, path, depth + 1)?);
            }
            path.pop();
        }
        Ok(Value::Array(out))
    }
}

/// `{"...": digest}`, the placeholder of a selectively disclosable array
/// element (an object with exactly that one member).
fn array_placeholder<'n, 'a>(item: &'n Node<'a>) -> Option<&'n Node<'a>> {
    match item {
        Node::Object(o) if o.len() == 1 => o.get("..."),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn disc(salt: &str, name: Option<&str>, value: Value) -> Disclosure {
        Disclosure::create(salt.into(), name.map(Into::into), value)
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn code(r: Result<Processed, Rejection>) -> ErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn rfc9901_disclosure_digest() {
        // RFC 9901 §4.2.1/§4.2.3: the given_name disclosure of the examples.
        let d =
            Disclosure::parse("WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd")
                .unwrap();
        assert_eq!(d.digest, "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4");
        assert_eq!(d.name.as_deref(), Some("given_name"));
        assert_eq!(d.value, json!("John"));
    }

    #[test]
    fn a_created_disclosure_is_its_compact_json_array() {
        let decoded = |d: &Disclosure| {
            String::from_utf8(crate::encoding::b64_decode(&d.encoded, "d").unwrap()).unwrap()
        };
        let named = disc(
            "c2FsdA",
            Some("地址"),
            json!({"city": "苏州", "n": [1, "a\"b", null]}),
        );
        assert_eq!(
            decoded(&named),
            r#"["c2FsdA","地址",{"city":"苏州","n":[1,"a\"b",null]}]"#
        );
        assert_eq!(named.digest, sha256_b64(&named.encoded));
        let element = disc("s", None, json!("x"));
        assert_eq!(decoded(&element), r#"["s","x"]"#);
        // What it makes, it parses back to the same parts.
        let back = Disclosure::parse(&named.encoded).unwrap();
        assert_eq!(
            (back.salt, back.name, back.value),
            (named.salt, named.name, named.value)
        );
    }

    #[test]
    fn split_forms() {
        let p = SdJwtParts::split("a.b.c~d1~d2~", 10).unwrap();
        assert_eq!(p.disclosures, vec!["d1", "d2"]);
        assert_eq!(p.kb_jwt, None);
        let p = SdJwtParts::split("a.b.c~d1~k.b.j", 10).unwrap();
        assert_eq!(p.kb_jwt, Some("k.b.j"));
        assert_eq!(p.sd_hash_input, "a.b.c~d1~");
        let p = SdJwtParts::split("a.b.c~", 10).unwrap();
        assert!(p.disclosures.is_empty());
        for bad in ["a.b.c", "~d~", "a.b.c~~d~", "a.b.c~d~~"] {
            assert_eq!(
                SdJwtParts::split(bad, 10).unwrap_err().code,
                ErrorCode::SdJwtMalformed,
                "{bad}"
            );
        }
        assert_eq!(
            SdJwtParts::split("a~1~2~3~", 2).unwrap_err().code,
            ErrorCode::TooManyDisclosures
        );
    }

    #[test]
    fn disclosure_shapes() {
        use crate::encoding::b64_encode as e;
        for bad in [
            r#"["s"]"#,
            r#"["s","n","v","x"]"#,
            r#"[1,"n","v"]"#,
            r#"["s",2,"v"]"#,
            r#"{"a":1}"#,
        ] {
            assert_eq!(
                Disclosure::parse(&e(bad)).unwrap_err().code,
                ErrorCode::DisclosureMalformed,
                "{bad}"
            );
        }
        assert_eq!(
            Disclosure::parse(&e("[")).unwrap_err().code,
            ErrorCode::JsonInvalid
        );
    }

    #[test]
    fn processes_nested_and_array_disclosures() {
        let street = disc("s1", Some("street"), json!("淮海中路"));
        let addr = disc(
            "s2",
            Some("address"),
            json!({"_sd": [street.digest], "city": "上海"}),
        );
        let el = disc("s3", None, json!("CN"));
        let payload = obj(json!({
            "iss": "x", "_sd_alg": "sha-256",
            "_sd": [addr.digest, "decoy-digest"],
            "nat": [{"...": el.digest}, {"...": "undisclosed"}, "plain"]
        }));
        let p = process(&payload, &[street.clone(), addr.clone(), el.clone()]).unwrap();
        assert_eq!(
            Value::Object(p.claims),
            json!({"iss":"x","nat":["CN","plain"],"address":{"city":"上海","street":"淮海中路"}})
        );
        assert_eq!(p.paths[0].to_string(), "address.street");
        assert_eq!(p.paths[1].to_string(), "address");
        assert_eq!(p.paths[2].to_string(), "nat.0");
    }

    #[test]
    fn section_7_rules() {
        let a = disc("s", Some("a"), json!(1));
        let el = disc("s", None, json!(1));
        // unreferenced
        assert_eq!(
            code(process(&obj(json!({"_sd": []})), std::slice::from_ref(&a))),
            ErrorCode::DisclosureUnreferenced
        );
        // the same digest twice
        assert_eq!(
            code(process(
                &obj(json!({"_sd": [a.digest, a.digest]})),
                std::slice::from_ref(&a)
            )),
            ErrorCode::DigestDuplicate
        );
        assert_eq!(
            code(process(
                &obj(json!({"_sd": [a.digest], "o": {"_sd": [a.digest]}})),
                std::slice::from_ref(&a)
            )),
            ErrorCode::DigestDuplicate
        );
        // the same disclosure twice
        assert_eq!(
            code(process(
                &obj(json!({"_sd": [a.digest]})),
                &[a.clone(), a.clone()]
            )),
            ErrorCode::DisclosureDuplicate
        );
        // reserved names
        for name in ["_sd", "..."] {
            let r = disc("s", Some(name), json!(1));
            assert_eq!(
                code(process(
                    &obj(json!({"_sd": [r.digest]})),
                    std::slice::from_ref(&r)
                )),
                ErrorCode::DisclosureNameReserved
            );
        }
        // collision with a plaintext claim
        assert_eq!(
            code(process(
                &obj(json!({"_sd": [a.digest], "a": 2})),
                std::slice::from_ref(&a)
            )),
            ErrorCode::DisclosureNameCollision
        );
        // collision between two disclosures of the same name
        let a2 = disc("t", Some("a"), json!(2));
        assert_eq!(
            code(process(
                &obj(json!({"_sd": [a.digest, a2.digest]})),
                &[a.clone(), a2.clone()]
            )),
            ErrorCode::DisclosureNameCollision
        );
        // 2-element disclosure from _sd; 3-element from "..."
        assert_eq!(
            code(process(
                &obj(json!({"_sd": [el.digest]})),
                std::slice::from_ref(&el)
            )),
            ErrorCode::DisclosureKindMismatch
        );
        assert_eq!(
            code(process(
                &obj(json!({"x": [{"...": a.digest}]})),
                std::slice::from_ref(&a)
            )),
            ErrorCode::DisclosureKindMismatch
        );
        // _sd_alg below the top level, also inside a disclosed value
        assert_eq!(
            code(process(&obj(json!({"o": {"_sd_alg": "sha-256"}})), &[])),
            ErrorCode::SdAlgMisplaced
        );
        let hidden = disc("s", Some("o"), json!({"_sd_alg": "sha-256"}));
        assert_eq!(
            code(process(
                &obj(json!({"_sd": [hidden.digest]})),
                std::slice::from_ref(&hidden)
            )),
            ErrorCode::SdAlgMisplaced
        );
        // malformed _sd
        assert_eq!(
            code(process(&obj(json!({"_sd": "x"})), &[])),
            ErrorCode::SdInvalid
        );
        assert_eq!(
            code(process(&obj(json!({"_sd": [1]})), &[])),
            ErrorCode::SdInvalid
        );
        assert_eq!(
            code(process(&obj(json!({"x": [{"...": 1}]})), &[])),
            ErrorCode::SdInvalid
        );
        // unsupported _sd_alg
        assert_eq!(
            check_sd_alg(&obj(json!({"_sd_alg": "sha-1"})))
                .unwrap_err()
                .code,
            ErrorCode::SdAlgUnsupported
        );
        assert_eq!(
            check_sd_alg(&obj(json!({"_sd_alg": 5}))).unwrap_err().code,
            ErrorCode::SdAlgUnsupported
        );
        assert!(check_sd_alg(&obj(json!({}))).is_ok());
    }

    #[test]
    fn chained_disclosures_are_depth_bounded() {
        let mut ds = vec![disc("s0", Some("c"), json!(0))];
        for i in 1..=(MAX_PROCESSING_DEPTH + 2) {
            let prev = ds[i - 1].digest.clone();
            ds.push(disc(&format!("s{i}"), Some("c"), json!({"_sd": [prev]})));
        }
        let top = ds.last().unwrap().digest.clone();
        assert_eq!(
            code(process(&obj(json!({"_sd": [top]})), &ds)),
            ErrorCode::JsonTooDeep
        );
    }

    #[test]
    fn claim_paths() {
        let p = ClaimPath::parse("address.0.street").unwrap();
        assert_eq!(p.0[1], PathSegment::Index(0));
        assert_eq!(p.to_string(), "address.0.street");
        assert!(ClaimPath::parse("address").unwrap().is_prefix_of(&p));
        assert!(ClaimPath::parse("a..b").is_none());
        assert!(ClaimPath::parse("").is_none());
    }
}
