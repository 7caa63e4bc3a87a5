//! # tongban-issuer
//!
//! What issuing agencies and the trust-list operator run.
//!
//! - The issuing service (`tongban-issuer serve`, [`api`]): agencies mint,
//!   revoke, suspend and reinstate SD-JWT VC credentials, publish their keys,
//!   type metadata and status lists, and hand credentials to any standard
//!   wallet over OpenID4VCI 1.0 (pre-authorized code flow).
//! - Storage ([`store`]): one trait, SQLite (embedded default) and PostgreSQL
//!   (replicas), the same SQL; every state change is one transaction with
//!   its entry in a hash-chained audit log ([`audit`]).
//! - Keys ([`keys`]): signing keys sealed under a master key; admin tokens
//!   ([`tokens`]) stored as hashes, scoped per agency and action.
//! - The trust-list operator's tooling ([`trust_list`], driven by
//!   `tongban-issuer trust-list …`).
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod audit;
pub mod bootstrap;
pub mod config;

pub mod files;
pub mod keys;
pub mod metrics;
pub mod status_index;
pub(crate) mod store;
pub mod tokens;
pub mod trust_list;
