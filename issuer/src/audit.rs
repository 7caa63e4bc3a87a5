//! The issuer's hash-chained audit log.
//!
//! Each agency has its own chain, named by the agency id. The canonical
//! form, linking and verification are the service kit's
//! ([`tongban_service_kit::audit`]); the issuer's entries are hashed under
//! [`SCHEME`] (`tongban-audit-v1`), which every stored log was written with
//! and which must therefore never change.

pub use tongban_service_kit::audit::{
    AuditEntry, ChainError, ChainVerifier, GENESIS, PendingEntry, Scheme,
};

/// The issuer's hashing scheme: tag `tongban-audit-v1`.
pub const SCHEME: Scheme = Scheme::new("tongban-audit-v1");

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry written before the audit code moved to the service kit,
    /// with the hash it was stored with: existing logs must still verify.
    #[test]
    fn a_stored_entry_keeps_its_hash() {
        let e = PendingEntry {
            actor: "tok_8f3a".into(),
            action: "credential.issue".into(),
            subject: "cred_01".into(),
            detail: r#"{"licence_id":"91310000MA1K000000","vct":"https://licences.tongban.example/business-licence"}"#.into(),
        }
        .link(SCHEME, "shanghai-amr", 1, 1_767_225_600, GENESIS);
        assert_eq!(
            e.hash,
            "29942a44e0e7ff1ca33f3b9290afe36039efbe92db4fd578beb0bb12ca95dd61"
        );
        let mut v = ChainVerifier::new(SCHEME, "shanghai-amr");
        v.push(&e).unwrap();
        assert_eq!(v.finish(1, &e.hash).unwrap(), 1);
    }
}
