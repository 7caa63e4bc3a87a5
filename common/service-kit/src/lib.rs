//! # tongban-service-kit
//!
//! What Tongban's network services (the issuer, and the receiving agency's
//! online service) share below their HTTP layer.
//!
//! * [`api_codes`] — the [`api_codes!`] table each service declares its
//!   stable API error codes with (code, HTTP status, English and Chinese
//!   sentences);
//! * [`audit`] — the hash-chained audit log without its storage: the
//!   canonical form an entry is hashed in, linking an entry after its
//!   chain's head, and verifying a chain page by page against that head;
//! * [`clock`] — time is an argument: a service takes a [`Clock`] when it is
//!   built and never reads the system time deep inside, so every expiry path
//!   (offer codes, access tokens, nonces, purges) is testable with a
//!   [`ManualClock`];
//! * [`server`] — the accept loop every service runs: header, body and
//!   request timeouts, connection limits in all and per address, and a hard
//!   shutdown deadline ([`ServerLimits`]);
//! * [`config`] — loading a configuration the same way in every service
//!   (defaults, TOML file, `<PREFIX><KEY>` environment variables, flags) and
//!   the checks of the keys every service has;
//! * [`db`] — opening the SQLite file (pragmas as parameters, one writer,
//!   a read-only pool) or a PostgreSQL pool, with the service's migrations;
//! * [`master_key`] — the master key (parsed from base64url or hex, read
//!   from or written to a 0600 file, never stored in the database) and the
//!   XChaCha20-Poly1305 sealing of private keys at rest, bound to associated
//!   data each service spells ([`master_key::SealedFor`]);
//! * [`pki`] — the operator CAs' certificates (`rcgen`): a CA's
//!   self-signed certificate, and leaves it signs for keys it was given;
//! * [`startup`] — the private data directory, loading (or on first start
//!   making) the master key, the log, and serving until Ctrl-C or SIGTERM;
//! * [`static_page`] — a page of embedded static files under one path
//!   (the counter page at `/counter/` in both services);
//! * [`tokens`] — bearer tokens of an administrative API: a service's
//!   prefix and 32 random bytes, shown once, stored as a hex SHA-256 hash,
//!   read from `Authorization: Bearer`;
//! * [`metrics`] — the Prometheus registry a service keeps in its state,
//!   its text rendering, and the HTTP layer that counts and times every
//!   request by route pattern.
#![forbid(unsafe_code)]

pub mod api_codes;
pub mod audit;
pub mod clock;
pub mod config;
pub mod db;
pub mod master_key;
pub mod metrics;
pub mod pki;
pub mod server;
pub mod startup;
pub mod static_page;
pub mod tokens;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use server::{ServeReport, ServerLimits, serve, shutdown_signal};
