//! # tongban-issuer
//!
//! What issuing agencies and the trust-list operator run.
//!
//! Three layers, dependencies pointing down:
//!
//! - HTTP ([`api`]): the issuing service (`tongban-issuer serve`): agencies
//!   mint, revoke, suspend and reinstate SD-JWT VC credentials, publish
//!   their keys, type metadata and status lists, and hand credentials to
//!   any standard wallet over OpenID4VCI 1.0 (pre-authorized code flow).
//!   Handlers parse, call the service layer and map its error to a stable
//!   code and HTTP status ([`api::ApiError`]); nothing below knows HTTP.
//! - The service layer ([`app`]): one method per use case (agencies and
//!   their keys, admin tokens, issuing, offers, OpenID4VCI redemption,
//!   status changes, status lists, audit, purging), one error
//!   ([`app::ServiceError`]), and an injected
//!   [`Clock`](tongban_service_kit::Clock): nothing in it reads the system
//!   time, so every expiry has a test with a fixed clock. The API, the
//!   operator commands and [`bootstrap`] go through it only.
//! - Storage (private to the service layer): one trait, SQLite (embedded
//!   default) and PostgreSQL (replicas), the same SQL; every state change
//!   is one transaction with its entry in a hash-chained audit log
//!   ([`audit`]).
//!
//! Beside them: signing keys sealed under a master key ([`keys`]); admin
//! tokens ([`tokens`]) stored as hashes, scoped per agency and action; and
//! the trust-list operator's tooling ([`trust_list`], driven by
//! `tongban-issuer trust-list …`).
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod attestation_policy;
pub mod audit;
pub mod bootstrap;
pub mod config;

pub mod files;
pub mod keys;
pub use tongban_service_kit::metrics;
pub mod status_index;
pub(crate) mod store;
pub mod tokens;
pub mod trust_list;
