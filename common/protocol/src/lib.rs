//! # tongban-protocol
//!
//! The messages Tongban's issuer, wallet and (later) the receiving agency's
//! service exchange, as serde types in one place, so that nobody builds a
//! message with `json!` on one side and picks it apart by hand on the
//! other.
//!
//! Like [`tongban_verifier`], this crate does no I/O, reads no clock and
//! holds no HTTP client: callers fetch and send, pass the current time in,
//! and hand the bodies to these types. It builds for `wasm32`.
//!
//! - [`oid4vci`]: OpenID for Verifiable Credential Issuance 1.0 — the
//!   credential offer, the credential issuer's and the authorization
//!   server's metadata, the token, nonce and credential requests and
//!   responses, OAuth error bodies, and the key proof
//!   (`openid4vci-proof+jwt`): [`oid4vci::sign_proof`] for wallets,
//!   [`oid4vci::check_proof`] for issuers.
//!
//! - [`oid4vp`]: OpenID for Verifiable Presentations 1.0 with DCQL — the
//!   invocation link, client identifiers, the request object, the query
//!   language with the wallet's selection and the verifier's checks, the
//!   response, and [`oid4vp::verify_vp_token`], the whole check of an
//!   answer through `tongban-verifier`.
//!
//! - [`oauth`]: the OAuth 2.0 extensions of the authorization code flow
//!   HAIP 1.0 requires — PKCE `S256`, pushed authorization requests
//!   (RFC 9126) with `authorization_details`, and DPoP (RFC 9449).
//!
//! Parsing is as strict as the spec is: members the spec requires are
//! required, and unknown members are tolerated (metadata and messages are
//! extensible). Checks that go beyond the shape — that an offer's PIN length
//! is sensible, that metadata names the expected issuer — are the caller's.
#![forbid(unsafe_code)]

pub mod oauth;
pub mod oid4vci;
pub mod oid4vp;
