//! # tongban-issuer
//!
//! What issuing agencies and the trust-list operator run. Today this crate
//! holds the trust-list operator's tooling ([`trust_list`], driven by
//! `tongban-issuer trust-list …`): create the anchor key, keep a draft list
//! of issuing agencies with their keys, regions and licence types, and sign
//! it. The issuing service (`tongban-issuer serve`) is built on the same
//! crate under its own issue.
#![forbid(unsafe_code)]

pub mod files;
pub mod trust_list;
