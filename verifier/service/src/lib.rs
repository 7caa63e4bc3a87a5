//! # tongban-verifier-service
//!
//! The receiving agency's online service: a back office (the Shanghai
//! 一网通办 platform, a district's service hall system) asks it for a
//! citizen's licence, the citizen's wallet answers over OpenID for
//! Verifiable Presentations 1.0 (DCQL, `request_uri` by POST, signed
//! request objects with `x509_hash` or `x509_san_dns` client identifiers,
//! `direct_post.jwt` responses encrypted with ECDH-ES), and the service
//! verifies the answer with the `tongban-verifier` library against a trust
//! bundle it keeps fresh itself.
//!
//! Three layers, dependencies pointing down, as in the issuer:
//!
//! - HTTP ([`api`]): the back-office API under `/api/v1` (bearer tokens,
//!   hashed at rest, scoped to one receiving agency, or the operator's
//!   admin token), the OpenID4VP endpoints the wallet calls
//!   (`/oid4vp/request/{id}`, `/oid4vp/response/{id}`), and
//!   `/healthz` `/readyz` `/metrics` `/openapi.json`.
//! - The service layer ([`app`]): tenants (receiving agencies) and their
//!   signing identities, tokens, presentation transactions, the
//!   wallet's responses, maintenance (expiry, erasing disclosed claims);
//!   one [`app::ServiceError`], an injected
//!   [`Clock`](tongban_service_kit::Clock).
//! - Storage (private to the service layer): one trait, SQLite (embedded
//!   default) and PostgreSQL (replicas), the same SQL; every state change
//!   is one transaction with its entry in a hash-chained audit log
//!   ([`audit`]) that records who asked what (types, claim paths, service
//!   item) and the verdict codes, never a claim value.
//!
//! Beside them: the service's master key and sealed private keys
//! ([`keys`]), the operator CA and the tenants' certificates ([`pki`]),
//! the JOSE work ([`jose`]: signing request objects, opening encrypted
//! responses), the trust bundle and its scheduled refresh ([`trust`]),
//! and the per-transaction wake-ups long-polls and event streams wait on
//! ([`notify`]).
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod audit;
pub mod bootstrap;
pub mod config;
pub mod jose;
pub mod keys;
pub use tongban_service_kit::metrics;
pub mod notify;
pub mod pki;
pub(crate) mod store;
pub mod tokens;
pub mod trust;
