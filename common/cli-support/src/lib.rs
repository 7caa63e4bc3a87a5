//! # tongban-cli-support
//!
//! What Tongban's three command-line programs (`tongban-issuer`,
//! `tongban-verify`, `tongban-wallet`) share, so each is written once:
//!
//! * [`qr`] — QR codes: rendering as PNG, SVG or terminal text, and reading
//!   them back from a scanned PNG or JPEG;
//! * [`fs`] — the one atomic file write (temporary file, fsync, rename,
//!   directory fsync) and secret files readable by their owner only;
//! * [`time`] — reading times as people write them and showing them in
//!   China Standard Time, and the wall clock the programs start from;
//! * [`qr_arg`] — the typed `--qr` value, refused by the argument parser
//!   before a program asks for a passphrase or signs anything;
//! * [`net`] — fetching a document: `https://` only (plain HTTP to this
//!   machine alone), redirects only within the same origin, bounded;
//! * [`exit`] — the exit-status conventions and the one way errors are
//!   printed (a sentence on standard error, or a JSON document with
//!   `--json`).
//!
//! The verifier library (`tongban-verifier`) never depends on this crate: it
//! stays free of I/O and of the wall clock, and builds for wasm32.
#![forbid(unsafe_code)]

pub mod exit;
pub mod fs;
pub mod net;
pub mod qr;
pub mod qr_arg;
pub mod time;
