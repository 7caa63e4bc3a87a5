//! # tongban-wallet
//!
//! The citizen's wallet: an encrypted store of credentials with the
//! holder's Ed25519 key ([`store`]), from which presentations disclosing only
//! chosen claims are made with [`tongban_verifier`] and shown as a QR code.
//! [`receive`] is the OpenID4VCI 1.0 client (pre-authorized code flow, with
//! encrypted credential responses) that takes credentials from an issuer,
//! and holds the checks every credential passes before it is stored.
//! [`status`] checks a stored credential against its issuer's status list,
//! and [`present`] makes the presentation a counter scans. [`oid4vp`]
//! answers a receiving agency's online request (OpenID4VP 1.0): it checks
//! the signed request against the verifier CAs the citizen trusts, matches
//! its DCQL query, and posts the encrypted presentation. [`trust`] keeps
//! the zone's trust list in the wallet, and [`requester`] judges every
//! request against the receiving agencies it registers.
//!
//! [`attestation`] keeps the wallet attestation (and key attester) an
//! issuer may require, and signs what it shows with them.
//!
//! The `tongban-wallet` binary parses arguments, asks (passphrase, PIN,
//! consent) and prints; everything else is here.
#![forbid(unsafe_code)]

pub mod attestation;
mod net;
pub mod oid4vp;
pub mod present;
pub mod receive;
pub mod requester;
pub mod status;
pub mod store;
pub mod trust;
