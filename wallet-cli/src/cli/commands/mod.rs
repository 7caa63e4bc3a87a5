//! One module per command group: each opens the wallet, calls the library
//! and hands the result to [`super::render`].

pub mod attestation;
pub mod credentials;
pub mod history;
pub mod online;
pub mod present;
pub mod receive;
pub mod status;
pub mod trust_list;
pub mod verifier_ca;
pub mod wallet;
