//! Private keys at rest: sealed under the service's master key
//! ([`tongban_service_kit::master_key`]).
//!
//! Every private key the service keeps — the operator CA's, each tenant's
//! request-signing key, each transaction's response-decryption key — is
//! sealed with the key's purpose and owner as associated data, so a sealed
//! key copied into another row does not open.

pub use tongban_service_kit::master_key::{KeyError, MasterKey, SealedFor};

/// What a sealed key is for: part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The operator CA's signing key (owner: `ca`).
    CaKey,
    /// A tenant's request-object signing key (owner: the tenant id).
    RequestSigning,
    /// A transaction's response-decryption key (owner: the transaction id).
    ResponseDecryption,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::CaKey => "ca",
            Purpose::RequestSigning => "request-signing",
            Purpose::ResponseDecryption => "response-decryption",
        }
    }

    /// What `owner`'s key of this purpose is sealed for: the associated
    /// data `tongban-verifier-service-key-v1 NUL purpose NUL owner`.
    pub fn of(self, owner: &str) -> SealedFor {
        SealedFor::new(
            format!("tongban-verifier-service-key-v1\0{}\0{owner}", self.label()),
            format!("{} key of {owner}", self.label()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_for_its_purpose_and_owner() {
        let m = MasterKey::generate();
        let s = m
            .seal(&Purpose::RequestSigning.of("qingpu"), b"secret")
            .unwrap();
        assert_eq!(
            m.open(&Purpose::RequestSigning.of("qingpu"), &s)
                .unwrap()
                .as_slice(),
            b"secret"
        );
        assert!(m.open(&Purpose::RequestSigning.of("jiashan"), &s).is_err());
        assert!(
            m.open(&Purpose::ResponseDecryption.of("qingpu"), &s)
                .is_err()
        );
        assert!(
            MasterKey::generate()
                .open(&Purpose::RequestSigning.of("qingpu"), &s)
                .is_err()
        );
        let mut bad = s.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(m.open(&Purpose::RequestSigning.of("qingpu"), &bad).is_err());
        assert!(!s.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn a_key_sealed_before_the_master_key_moved_to_the_service_kit_still_opens() {
        // Sealed by this service's own keys.rs (before the fold): master key
        // 0xab × 32, nonce 0x06 × 24, request-signing key of `qingpu`,
        // secret `secret`.
        let sealed = hex::decode(
            "0106060606060606060606060606060606060606060606060662a22aaa639f140dd792f8d70ec74edb46138a739bec",
        )
        .unwrap();
        let m = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let to = Purpose::RequestSigning.of("qingpu");
        assert_eq!(m.open(&to, &sealed).unwrap().as_slice(), b"secret");
        assert!(m.open(&Purpose::CaKey.of("qingpu"), &sealed).is_err());
        assert_eq!(
            m.open(&Purpose::RequestSigning.of("jiashan"), &sealed)
                .unwrap_err()
                .to_string(),
            "the request-signing key of jiashan does not open with this master key (wrong master key, or the stored key was altered)"
        );
    }

    #[test]
    fn master_keys_parse_in_both_forms() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        assert!(MasterKey::parse(&"00".repeat(32)).is_ok());
        assert!(MasterKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse("short").is_err());
    }
}
