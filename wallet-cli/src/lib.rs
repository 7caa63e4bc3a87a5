//! # tongban-wallet
//!
//! The citizen's wallet: an encrypted store of credentials with the
//! holder's Ed25519 key ([`store`]), from which presentations disclosing only
//! chosen claims are made with [`tongban_verifier`] and shown as a QR code.
//! Receiving through OpenID4VCI comes with the issuer service.
#![forbid(unsafe_code)]

pub mod store;
