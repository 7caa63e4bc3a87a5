//! What Tongban's tests share, written once: the verifier's integration
//! tests (`verifier/core/tests/`), the end-to-end tests (`tongban-e2e`)
//! and the tools that regenerate committed test data (`tongban-xtask`)
//! build their inputs from here.
//!
//! - [`keys`]: signers from fixed seeds, and their public JWKs with `kid`.
//! - [`jws`]: a raw JWS signer — any header, any payload bytes — so a test
//!   can break exactly one rule and still carry a valid signature.
//! - [`sdjwt`]: the pieces of a hand-built SD-JWT presentation (issuer
//!   header, payload with `_sd` digests, disclosures, KB-JWT).
//! - [`present`]: a holder's presentation of an issued credential, with a
//!   KB-JWT, through the verifier's own [`tongban_verifier::HeldCredential`].
//! - [`sample`]: the README's reproducible sample and realistic credentials
//!   of every catalogue type.
//! - [`counter_zone`]: a one-agency zone for the counter's browser page,
//!   at real times.
//! - [`zone`]: the demonstration zone's trust anchor and three agencies
//!   (Qingpu 310118, Wujiang 320509, Jiashan 330421) for trust lists,
//!   status lists and trust bundles.
//! - [`oid4vci`]: the OpenID4VCI key proof a wallet sends.
//! - [`attestation`]: a test CA of wallet providers, and the wallet and
//!   key attestations they sign.
//! - [`percent`]: percent-encoding of a URI component.
//! - [`pki`]: a test certificate authority for the `x5c` tests.
//! - [`openapi`]: checks that a service's OpenAPI document describes
//!   exactly its routes and error codes.
//! - [`clock`]: the fixed "now" of the tests and the service kit's
//!   [`clock::ManualClock`].
//! - `postgres` (feature `postgres`): a PostgreSQL database of its own for
//!   one test, on the server `TONGBAN_TEST_DATABASE_URL` names.
//!
//! Nothing here is for production: the keys are public by construction.
#![forbid(unsafe_code)]

pub mod attestation;
pub mod clock;
pub mod counter_zone;
pub mod jws;
pub mod keys;
pub mod oid4vci;
pub mod openapi;
pub mod percent;
pub mod pki;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod present;
pub mod sample;
pub mod sdjwt;
pub mod zone;

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or_default()
}
