//! # tongban-issuer
//!
//! The issuing agencies' service (`tongban-issuer serve`) and the trust-list
//! operator's tooling. It signs credentials with the format and types of
//! [`tongban_verifier`]; the service itself is built under its own issue
//! (see the README's roadmap), so this crate only re-exports the format it
//! will issue.
#![forbid(unsafe_code)]

pub use tongban_verifier::{CredentialBuilder, Ed25519Signer, IssuedCredential, Signer};
