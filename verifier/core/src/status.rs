//! IETF Token Status List (draft-ietf-oauth-status-list): the compressed
//! bit array (`status_list {bits, lst}`) and the status list token
//! (`typ` `statuslist+jwt`) an issuer publishes.
//!
//! Entry `i` of a list with `bits` bits per entry sits in byte
//! `i * bits / 8`, at bit offset `(i * bits) % 8` counted from the least
//! significant bit. The byte array is compressed with DEFLATE in the ZLIB
//! format and carried as unpadded base64url.

use serde_json::{Map, Value, json};

use crate::encoding::{b64_decode, b64_encode};
use crate::error::{ErrorCode, Rejection};
use crate::jws::{CompactJws, sign_compact};
use crate::keys::{Algorithm, PublicKey, SignError, Signer};

/// The `typ` of a status list token.
pub const TYP_STATUS_LIST_JWT: &str = "statuslist+jwt";

/// The largest decompressed status list accepted (16 MiB: 16 million
/// entries at 8 bits, 128 million at 1 bit). Bounds zlib bombs.
pub const MAX_STATUS_LIST_BYTES: usize = 16 * 1024 * 1024;

/// A status value (draft-ietf-oauth-status-list §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `0x00`: the credential is valid.
    Valid,
    /// `0x01`: revoked, permanently invalid.
    Invalid,
    /// `0x02`: temporarily suspended.
    Suspended,
    /// Any other value (`0x03` is application-specific, the rest reserved).
    Other(u8),
}

impl Status {
    /// From the raw value.
    pub const fn from_value(v: u8) -> Status {
        match v {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            other => Status::Other(other),
        }
    }

    /// The raw value.
    pub const fn value(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Other(v) => v,
        }
    }
}

/// Bits per entry: 1, 2, 4 or 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bits(u8);

impl Bits {
    /// `Some` for 1, 2, 4 or 8.
    pub const fn new(bits: u8) -> Option<Bits> {
        match bits {
            1 | 2 | 4 | 8 => Some(Bits(bits)),
            _ => None,
        }
    }

    /// The number of bits.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A decoded status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Bits,
    bytes: Vec<u8>,
}

impl StatusList {
    /// An all-valid list with room for at least `len` entries.
    pub fn new(bits: Bits, len: usize) -> StatusList {
        let bytes = (len * usize::from(bits.0)).div_ceil(8);
        StatusList {
            bits,
            bytes: vec![0; bytes],
        }
    }

    /// A list over raw bytes.
    pub fn from_bytes(bits: Bits, bytes: Vec<u8>) -> StatusList {
        StatusList { bits, bytes }
    }

    /// Bits per entry.
    pub fn bits(&self) -> Bits {
        self.bits
    }

    /// The raw (uncompressed) bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many entries the list holds.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / usize::from(self.bits.0)
    }

    /// Whether the list holds no entry.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn locate(&self, idx: usize) -> Option<(usize, u32, u8)> {
        let bits = usize::from(self.bits.0);
        let bit = idx.checked_mul(bits)?;
        let byte = bit / 8;
        if byte >= self.bytes.len() {
            return None;
        }
        let mask = if bits == 8 { 0xff } else { (1u8 << bits) - 1 };
        Some((byte, (bit % 8) as u32, mask))
    }

    /// The status at `idx`, or `None` when out of range.
    pub fn get(&self, idx: usize) -> Option<u8> {
        let (byte, shift, mask) = self.locate(idx)?;
        Some((self.bytes[byte] >> shift) & mask)
    }

    /// Sets the status at `idx`; `false` when out of range or the value
    /// does not fit in `bits`.
    pub fn set(&mut self, idx: usize, value: u8) -> bool {
        let Some((byte, shift, mask)) = self.locate(idx) else {
            return false;
        };
        if value & !mask != 0 {
            return false;
        }
        self.bytes[byte] = (self.bytes[byte] & !(mask << shift)) | (value << shift);
        true
    }

    /// `{"bits": n, "lst": base64url(zlib(bytes))}`.
    pub fn to_json(&self) -> Value {
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&self.bytes, 9);
        json!({"bits": self.bits.0, "lst": b64_encode(compressed)})
    }

    /// Parses `{"bits", "lst"}`, decompressing at most `max_bytes`.
    pub fn from_json(value: &Value, max_bytes: usize) -> Result<StatusList, Rejection> {
        let bad = |why: String| Rejection::new(ErrorCode::StatusListMalformed, why);
        let obj = value
            .as_object()
            .ok_or_else(|| bad("status_list is not an object".into()))?;
        let bits = obj
            .get("bits")
            .and_then(Value::as_u64)
            .and_then(|b| u8::try_from(b).ok())
            .and_then(Bits::new)
            .ok_or_else(|| bad("bits is not 1, 2, 4 or 8".into()))?;
        let lst = obj
            .get("lst")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("lst is missing or not a string".into()))?;
        let compressed = b64_decode(lst, "lst").map_err(|r| bad(r.detail))?;
        let bytes = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, max_bytes)
            .map_err(|e| {
                if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
                    bad(format!("lst inflates to more than {max_bytes} bytes"))
                } else {
                    bad(format!("lst is not valid zlib data: {e}"))
                }
            })?;
        Ok(StatusList { bits, bytes })
    }
}

/// A status list token whose signature has been checked by the caller's
/// trust source ([`crate::trust`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListToken {
    /// `sub`: the URI credentials name in `status.status_list.uri`.
    pub uri: String,
    /// `iss`, when the token names its issuer.
    pub iss: Option<String>,
    /// `iat`.
    pub iat: i64,
    /// `exp`, if any.
    pub exp: Option<i64>,
    /// `ttl` in seconds, if any.
    pub ttl: Option<u64>,
    /// The list.
    pub list: StatusList,
}

/// A status list token as read, with the algorithm its header policy
/// allowed; its signature is not checked yet.
#[derive(Debug, Clone)]
pub struct SignedStatusList<'a> {
    /// The parsed JWS.
    pub jws: CompactJws<'a>,
    /// The header's `alg`, already on the allow-list.
    pub alg: Algorithm,
    /// The token's claims.
    pub token: StatusListToken,
}

impl SignedStatusList<'_> {
    /// Whether one of `keys` signed the token.
    pub fn signed_by_any(&self, keys: &[PublicKey]) -> bool {
        keys.iter().any(|k| {
            k.verify(
                self.alg,
                self.jws.signing_input.as_bytes(),
                &self.jws.signature,
            )
        })
    }
}

impl StatusListToken {
    /// Reads the claims of an already parsed token (typ and signature are
    /// the caller's to check).
    pub fn from_claims(p: &Map<String, Value>) -> Result<StatusListToken, Rejection> {
        let bad = |why: &str| Rejection::new(ErrorCode::StatusListMalformed, why.to_owned());
        let uri = p
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("sub is missing"))?;
        let iat = p
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("iat is missing"))?;
        let exp = match p.get("exp") {
            None => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| bad("exp is not an integer"))?),
        };
        let ttl = match p.get("ttl") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| bad("ttl is not a positive integer"))?,
            ),
        };
        let iss = match p.get("iss") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .ok_or_else(|| bad("iss is not a string"))?
                    .to_owned(),
            ),
        };
        let list = StatusList::from_json(
            p.get("status_list")
                .ok_or_else(|| bad("status_list is missing"))?,
            MAX_STATUS_LIST_BYTES,
        )?;
        Ok(StatusListToken {
            uri: uri.to_owned(),
            iss,
            iat,
            exp,
            ttl,
            list,
        })
    }

    /// Parses a compact token and applies the header policy (with `typ`
    /// `statuslist+jwt`); the signature is the caller's to check, with
    /// [`SignedStatusList::signed_by_any`] and the keys it trusts.
    pub fn parse(jwt: &str) -> Result<SignedStatusList<'_>, Rejection> {
        let jws = CompactJws::parse(jwt, "the status list token")
            .map_err(|r| Rejection::new(ErrorCode::StatusListMalformed, r.detail))?;
        let alg = jws.check_header_allowing_x5c(
            "the status list token",
            Some(TYP_STATUS_LIST_JWT),
            ErrorCode::StatusListMalformed,
            ErrorCode::StatusListMalformed,
        )?;
        let token = StatusListToken::from_claims(&jws.payload)?;
        Ok(SignedStatusList { jws, alg, token })
    }

    /// When this copy stops being relied on, for a verifier whose oldest
    /// acceptable list is `max_age_secs` from `iat`: the earlier of `exp`
    /// (if set) and `iat + max_age_secs`. The `ttl` plays no part: it is
    /// the time to fetch a newer copy (draft-ietf-oauth-status-list,
    /// "Status List Update Interval and Caching"), while `exp` is when this
    /// one "MUST NOT be relied upon any longer".
    pub fn fresh_until(&self, max_age_secs: u32) -> i64 {
        let by_age = self.iat.saturating_add(i64::from(max_age_secs));
        self.exp.map_or(by_age, |exp| exp.min(by_age))
    }

    /// When a newer copy should be fetched (`iat + ttl`), if the token has a
    /// `ttl`: what `sync` reports as "refetch due"; never a reason to refuse.
    pub fn refetch_at(&self) -> Option<i64> {
        self.ttl.map(|t| {
            self.iat
                .saturating_add(i64::try_from(t).unwrap_or(i64::MAX))
        })
    }

    /// Signs a status list token (for issuers).
    pub fn sign(
        signer: &dyn Signer,
        iss: &str,
        uri: &str,
        iat: i64,
        exp: Option<i64>,
        ttl: Option<u64>,
        list: &StatusList,
    ) -> Result<String, SignError> {
        let mut p = Map::new();
        p.insert("iss".into(), Value::String(iss.into()));
        p.insert("sub".into(), Value::String(uri.into()));
        p.insert("iat".into(), Value::from(iat));
        if let Some(exp) = exp {
            p.insert("exp".into(), Value::from(exp));
        }
        if let Some(ttl) = ttl {
            p.insert("ttl".into(), Value::from(ttl));
        }
        p.insert("status_list".into(), list.to_json());
        sign_compact(signer, TYP_STATUS_LIST_JWT, &Value::Object(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_set_least_significant_bits_first() {
        // draft-ietf-oauth-status-list §4.1: 1-bit example.
        let l = StatusList::from_bytes(Bits(1), vec![0xb9, 0xa3]);
        let got: Vec<u8> = (0..16).map(|i| l.get(i).unwrap()).collect();
        assert_eq!(got, [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);
        assert_eq!(l.get(16), None);
        // 2-bit example.
        let l = StatusList::from_bytes(Bits(2), vec![0xc9, 0x44, 0xf9]);
        let got: Vec<u8> = (0..12).map(|i| l.get(i).unwrap()).collect();
        assert_eq!(got, [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
        let mut m = StatusList::new(Bits(2), 12);
        for (i, v) in got.iter().enumerate() {
            assert!(m.set(i, *v));
        }
        assert_eq!(m.as_bytes(), [0xc9, 0x44, 0xf9]);
        assert!(!m.set(0, 4), "a value wider than bits is refused");
        assert!(!m.set(12, 1), "out of range is refused");
    }

    #[test]
    fn round_trip_every_width() {
        for bits in [1u8, 2, 4, 8] {
            let b = Bits::new(bits).unwrap();
            let mut l = StatusList::new(b, 1000);
            for i in (0..1000).step_by(7) {
                l.set(
                    i,
                    (i % (1 << bits.min(7))) as u8 & if bits == 8 { 0xff } else { (1 << bits) - 1 },
                );
            }
            let back = StatusList::from_json(&l.to_json(), 1 << 20).unwrap();
            assert_eq!(back, l);
        }
    }

    #[test]
    fn bombs_and_garbage_are_rejected() {
        let big = StatusList::new(Bits(8), 1 << 20);
        let json = big.to_json();
        assert_eq!(
            StatusList::from_json(&json, 1000).unwrap_err().code,
            ErrorCode::StatusListMalformed
        );
        for bad in [
            json!({"bits": 3, "lst": "eNrbuRgAAhcBXQ"}),
            json!({"bits": 1, "lst": "AAAA"}),
            json!({"bits": 1}),
        ] {
            assert_eq!(
                StatusList::from_json(&bad, 1 << 20).unwrap_err().code,
                ErrorCode::StatusListMalformed
            );
        }
    }
}
