//! The command-line front end of `tongban-issuer` (binary-only modules).

pub(crate) mod service;
pub(crate) mod trust_list;
