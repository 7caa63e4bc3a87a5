//! Keeping a trust bundle fresh, by exactly one set of rules for every
//! receiving-side program (the counter's `tongban-verify sync` and the
//! receiving agency's online service):
//!
//! 1. fetch the trust list ([`fetch::Fetcher`]: https only, or plain http to
//!    this machine; redirects within the same origin; a 32 MiB bound);
//! 2. follow the chain of roots of trust from the pinned one to the root
//!    the list was signed under (fetching `root-<n>.json` beside the list,
//!    at most [`MAX_ROOT_STEPS`](tongban_verifier::root::MAX_ROOT_STEPS)
//!    per sync), and verify the list under it (a threshold of distinct
//!    anchor keys), refusing a rollback of the root or the list below what
//!    is held, *before* following any URL it names;
//! 3. fetch every status list it names;
//! 4. assemble and verify the bundle ([`TrustBundle::assemble`]) at the
//!    time the caller passes in;
//! 5. store it crash-safely in a directory ([`bundle_dir`]).
//!
//! The verifier library itself does no I/O; this crate is where the
//! receiving side's fetching and bundle files live.

pub mod bundle_dir;
mod error;
pub mod fetch;
mod sync;

pub use error::SyncError;
pub use sync::{Progress, root_url, sync, sync_into, sync_into_under, sync_under};

pub use tongban_verifier::TrustBundle;
