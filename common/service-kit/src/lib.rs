//! # tongban-service-kit
//!
//! What Tongban's network services (the issuer, and the receiving agency's
//! online service) share below their HTTP layer.
//!
//! * [`audit`] — the hash-chained audit log without its storage: the
//!   canonical form an entry is hashed in, linking an entry after its
//!   chain's head, and verifying a chain page by page against that head;
//! * [`clock`] — time is an argument: a service takes a [`Clock`] when it is
//!   built and never reads the system time deep inside, so every expiry path
//!   (offer codes, access tokens, nonces, purges) is testable with a
//!   [`ManualClock`];
//! * [`server`] — the accept loop every service runs: header, body and
//!   request timeouts, connection limits in all and per address, and a hard
//!   shutdown deadline ([`ServerLimits`]).
#![forbid(unsafe_code)]

pub mod audit;
pub mod clock;
pub mod server;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use server::{ServeReport, ServerLimits, serve, shutdown_signal};
