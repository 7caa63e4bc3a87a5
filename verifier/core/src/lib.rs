//! # tongban-verifier
//!
//! The credential format of Tongban (通办) and every offline check on it.
//!
//! Tongban credentials are IETF SD-JWT VCs (`typ` `dc+sd-jwt`, RFC 9901 and
//! draft-ietf-oauth-sd-jwt-vc) signed with Ed25519. This crate owns their
//! exact bytes, in both directions, with one set of types:
//!
//! * **issuing** — [`CredentialBuilder`] makes and signs a credential through
//!   a [`Signer`] (a software key today, a hardware module later);
//! * **presenting** — [`HeldCredential::present`] discloses only chosen claim
//!   paths and signs a Key Binding JWT over the verifier's nonce and audience;
//! * **verifying** — [`verify()`] (and [`verify_batch`] for a day's scans)
//!   runs every check under a [`Policy`] with keys from a [`KeyResolver`] and
//!   returns a [`Report`], never a bare boolean.
//!
//! ## Design
//!
//! * The library does no I/O and reads no clock: the time of checking is part
//!   of the [`Policy`], and keys come from a resolver. It builds for
//!   `wasm32-unknown-unknown` with `--no-default-features`.
//! * Strict decoding everywhere ([`encoding`]): canonical base64url only,
//!   JSON without duplicate member names and with bounded nesting, bounded
//!   input size and disclosure count. Nothing is normalised; what is not
//!   exactly right is refused.
//! * Closed algorithm set ([`Algorithm`]): `EdDSA`/`Ed25519` (checked with
//!   one cofactored equation for single and batch checks, [`ed25519`]), `ES256`, and with the default `sm` feature `SM2SM3`
//!   (SM2 with SM3, GB/T 32918/32905). `none`, HMAC and anything else cannot be
//!   expressed. Headers may not carry keys (`jwk`, `jku`, `x5u`, `x5c`) or
//!   `crit` extensions.
//! * Every rejection is an [`ErrorCode`] with a stable machine code and a
//!   sentence in English and Chinese; the report says which [`Check`] failed.
//!
//! The format is specified in `specs/credential-format.md`.
//!
//! ```
//! use tongban_verifier::*;
//! use serde_json::json;
//!
//! let issuer = Ed25519Signer::from_seed(&[1; 32], Some("k1".into()));
//! let holder = Ed25519Signer::from_seed(&[2; 32], None);
//! let mut rng = rand_core::OsRng;
//! let issued = CredentialBuilder::new("https://issuer.example", "urn:example:licence", 1_700_000_000)
//!     .expires_at(1_900_000_000)
//!     .holder_key(holder.public_key())
//!     .claim("name", json!("张三"))
//!     .claim("licence_no", json!("A-001"))
//!     .issue(&issuer, &mut rng)?;
//!
//! let held = HeldCredential::parse(&issued.sd_jwt)?;
//! let kb = KeyBinding { signer: &holder, audience: "counter-1".into(), nonce: "n-42".into(), iat: 1_800_000_000, transaction_data_hashes: vec![] };
//! let presentation = held.present(&[ClaimPath::parse("name").unwrap()], Some(&kb))?;
//!
//! let mut keys = InMemoryKeys::new();
//! keys.add_issuer_key("https://issuer.example", KeyWithId { key: issuer.public_key(), kid: Some("k1".into()) });
//! let report = verify(&presentation, &Policy::counter(1_800_000_010, "counter-1", "n-42"), &keys);
//! assert!(report.is_accepted());
//! assert_eq!(report.claims.unwrap()["name"], json!("张三"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod bundle;
pub mod catalogue;
pub mod ed25519;
pub mod encoding;
pub mod error;
pub mod issue;
pub mod jws;
pub mod jws_json;
pub mod keys;
pub mod policy;
pub mod present;
pub mod relying_party;
pub mod report;
pub mod request;
pub mod resolver;
pub mod root;
pub mod sdjwt;
pub mod status;
pub mod transport;
pub mod trust;
pub mod verify;

pub use bundle::TrustBundle;
pub use error::{ErrorCode, Rejection};
pub use issue::{CredentialBuilder, Decoys, IssueError, IssuedCredential};
#[cfg(feature = "sm")]
pub use keys::Sm2Signer;
pub use keys::{
    Algorithm, AnySigner, Ed25519Signer, JwkError, KeyWithId, P256Signer, PublicKey, SignError,
    Signer,
};
pub use policy::{HolderBinding, Limits, Policy, Profile, StalePolicy};
pub use present::{HeldCredential, KeyBinding, PresentError};
pub use report::{Check, CheckResult, CredentialInfo, Outcome, Report, Verdict};
pub use resolver::{InMemoryKeys, KeyQuery, KeyResolver, StatusAnswer, StatusQuery};
pub use root::TrustAnchors;
pub use sdjwt::{ClaimPath, Disclosure, PathSegment, SdAlg};
pub use status::{Status, StatusList, StatusListToken};
pub use trust::{TrustList, TrustedIssuer, TrustedKey, VerifiedTrustList};
pub use verify::{verify, verify_batch, verify_bytes};
