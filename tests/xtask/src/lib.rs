//! Tongban's developer tools, kept out of the libraries and the test
//! crates: each binary regenerates committed test data or measures
//! something, and prints what it did.
//!
//! - `make-corpus`: the hostile-input corpus of `verifier/core/tests/corpus/`
//!   ([`corpus`]).
//! - `make-sample`: the README's sample in `specs/vectors/sample/`.
//! - `qr-sizes`: the QR size table of `docs/performance.md`.
//! - `dump-presentation`: a realistic presentation of one licence type.
//! - `issue-load`: a load run against a running issuer ([`issuer_load`],
//!   over the lean client of [`http1`]).
//! - `verify-load`: a load run against a running verifier service
//!   ([`verifier_load`]).
//!
//! Run one with `cargo run -p tongban-xtask --bin NAME`. The end-to-end
//! tests use [`corpus`] (the committed files must be what it writes) and
//! [`issuer_load`] (a crash-recovery test drives the same load).
#![forbid(unsafe_code)]

pub mod corpus;
pub mod http1;
pub mod issuer_load;
pub mod verifier_load;
