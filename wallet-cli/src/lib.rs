//! # tongban-wallet
//!
//! The citizen's wallet. It derives presentations with the types of
//! [`tongban_verifier`]; the wallet itself is built under its own issue
//! (see the README's roadmap), so this crate only re-exports the
//! presentation API it will use.
#![forbid(unsafe_code)]

pub use tongban_verifier::{HeldCredential, KeyBinding};
