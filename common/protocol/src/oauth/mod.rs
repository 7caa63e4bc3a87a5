//! The OAuth 2.0 extensions HAIP 1.0 requires of an OpenID4VCI issuer and
//! wallet (its §4, through the FAPI 2.0 security profile), as types and
//! checks with no I/O:
//!
//! - [`pkce`]: Proof Key for Code Exchange (RFC 7636), `S256` only.
//! - [`par`]: the pushed authorization request (RFC 9126) and its
//!   response, the `authorization_details` of OpenID4VCI §5.1.1, and the
//!   authorization code token request (RFC 6749 §4.1.3).
//! - [`dpop`]: Demonstrating Proof of Possession (RFC 9449): the proof JWT
//!   signed by wallets and checked by issuers, and `ath`.
//!
//! The issuer (`tongban-issuer`) and the wallet (`tongban-wallet`) both
//! use these; neither builds one of these messages by hand.

pub mod dpop;
pub mod par;
pub mod pkce;

/// The authorization code grant type (RFC 6749 §4.1.3).
pub const AUTHORIZATION_CODE: &str = "authorization_code";
/// The only PKCE method accepted (RFC 7636 §4.2; HAIP 1.0 §4 via FAPI 2.0).
pub const PKCE_S256: &str = "S256";
/// What a pushed request's `request_uri` starts with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_TYP: &str = "dpop+jwt";
/// The HTTP header carrying a DPoP proof (RFC 9449 §4.1).
pub const DPOP_HEADER: &str = "DPoP";
/// The HTTP header carrying a server-provided DPoP nonce (RFC 9449 §8).
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";
/// The OAuth error asking the client to retry with the nonce in
/// [`DPOP_NONCE_HEADER`] (RFC 9449 §8, §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";
/// The OAuth error of a refused DPoP proof (RFC 9449 §5, §7.1).
pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";
/// The `authorization_details` type of OpenID4VCI (§5.1.1).
pub const OPENID_CREDENTIAL: &str = "openid_credential";
