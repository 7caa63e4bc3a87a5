//! What the verifier expects: the time of checking, the accepted clock skew,
//! whether holder binding is required (and for which audience and nonce),
//! the credential profile, and input bounds.
//!
//! Holder binding is always a policy decision, never inferred from whether a
//! Key Binding JWT happens to be present.

/// The largest presentation accepted by default (bytes). A QR code holds at
/// most about 3 KB; multi-part and file inputs stay far below this.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 256 * 1024;
/// The most disclosures accepted in one presentation by default.
pub const DEFAULT_MAX_DISCLOSURES: usize = 512;
/// Default accepted clock skew between issuer, holder and verifier clocks.
pub const DEFAULT_CLOCK_SKEW_SECS: u32 = 60;
/// Default age beyond which a Key Binding JWT is refused as stale.
pub const DEFAULT_KB_MAX_AGE_SECS: u32 = 300;
/// Default oldest status list a counter relies on, from the token's `iat`:
/// one day. A counter that syncs each morning keeps working all day, and a
/// revocation reaches every counter that syncs daily within a day; a longer
/// default (a week) would let a revoked licence pass for days at a counter
/// that has stopped syncing.
pub const DEFAULT_STATUS_MAX_AGE_SECS: u32 = 86_400;

/// Whether a presentation must prove possession of the holder key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolderBinding {
    /// A KB-JWT must be present, signed by the key in `cnf`, with exactly
    /// this `aud` and `nonce`.
    Required {
        /// The verifier's identifier, compared with the KB-JWT `aud`.
        audience: String,
        /// The nonce this verifier issued, compared with the KB-JWT `nonce`.
        nonce: String,
    },
    /// No KB-JWT is required. One that is present is still checked in full
    /// (typ, signature by `cnf`, `sd_hash`, `iat`) except `aud` and `nonce`,
    /// which this policy does not know.
    NotRequired,
}

/// Which rules the issuer-signed JWT follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    /// SD-JWT VC (`typ` `dc+sd-jwt`, `iss` and `vct` required, registered
    /// claims never selectively disclosed): every Tongban credential.
    SdJwtVc,
    /// Plain SD-JWT (RFC 9901) with an optional expected `typ`; used for the
    /// RFC's own examples and for interoperability tests.
    PlainSdJwt {
        /// The expected `typ`, if the application defines one.
        typ: Option<String>,
    },
}

/// What a stale status list (or trust list past `next_update`) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StalePolicy {
    /// Reject with `status_stale` (the default: fail closed).
    Reject,
    /// Accept, with `status_stale` as a warning in the report.
    Warn,
}

/// Bounds on the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest presentation in bytes.
    pub max_input_bytes: usize,
    /// The most disclosures.
    pub max_disclosures: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_disclosures: DEFAULT_MAX_DISCLOSURES,
        }
    }
}

/// The verification policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The time of checking, in seconds since the Unix epoch. The library
    /// never reads a clock; the caller decides what "now" is.
    pub now: i64,
    /// Accepted clock skew in seconds for `exp`, `nbf`, `iat` and the KB-JWT `iat`.
    pub clock_skew_secs: u32,
    /// The oldest KB-JWT accepted, in seconds before `now`.
    pub kb_max_age_secs: u32,
    /// Whether holder binding is required.
    pub holder_binding: HolderBinding,
    /// Which rules the issuer-signed JWT follows.
    pub profile: Profile,
    /// Bounds on the input.
    pub limits: Limits,
    /// What a stale status list or trust list means.
    pub stale: StalePolicy,
    /// The oldest status list relied on, in seconds from its `iat` (set by
    /// the counter; default [`DEFAULT_STATUS_MAX_AGE_SECS`]). A list is
    /// fresh while it is not past its `exp` (when it has one) and no older
    /// than this; its `ttl` only says when to fetch a new copy.
    pub max_status_age_secs: u32,
    /// Check disclosed claims against the catalogue's schema for their `vct`
    /// (types not in the catalogue are skipped and the report says so).
    pub check_schema: bool,
}

impl Policy {
    /// The usual policy of a receiving counter: SD-JWT VC, holder binding
    /// required for `audience` and `nonce`, default skew and bounds.
    pub fn counter(now: i64, audience: impl Into<String>, nonce: impl Into<String>) -> Policy {
        Policy {
            now,
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            kb_max_age_secs: DEFAULT_KB_MAX_AGE_SECS,
            holder_binding: HolderBinding::Required {
                audience: audience.into(),
                nonce: nonce.into(),
            },
            profile: Profile::SdJwtVc,
            limits: Limits::default(),
            stale: StalePolicy::Reject,
            max_status_age_secs: DEFAULT_STATUS_MAX_AGE_SECS,
            check_schema: true,
        }
    }

    /// An SD-JWT VC policy that does not require holder binding.
    pub fn without_holder_binding(now: i64) -> Policy {
        Policy {
            holder_binding: HolderBinding::NotRequired,
            ..Policy::counter(now, "", "")
        }
    }
}
