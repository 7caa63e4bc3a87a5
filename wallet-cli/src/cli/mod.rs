//! The binary's own parts: what the library leaves to a program run by a
//! citizen at a terminal. [`args`] is the command line, [`prompt`] asks
//! (passphrase, PIN, consent), [`input`] reads the files and texts the
//! arguments name, [`render`] prints, [`commands`] calls the library for
//! each subcommand and [`error`] is what a run can end in.

pub mod args;
pub mod commands;
pub mod error;
pub mod input;
pub mod prompt;
pub mod render;
