//! # tongban-service-kit
//!
//! What Tongban's network services (the issuer, and the receiving agency's
//! online service to come) share below their HTTP layer.
//!
//! * [`clock`] — time is an argument: a service takes a [`Clock`] when it is
//!   built and never reads the system time deep inside, so every expiry path
//!   (offer codes, access tokens, nonces, purges) is testable with a
//!   [`ManualClock`].
#![forbid(unsafe_code)]

pub mod clock;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
