//! Each agency's rules for wallet and key attestations, from the
//! configuration file's `[attestation.<agency>]` tables:
//!
//! ```toml
//! [attestation.wujiang-amr]
//! wallet_attestation = "required"        # required | accepted | off (default)
//! key_attestation = "accepted"           # required | accepted | off (default)
//! trusted_wallet_providers = ["/etc/tongban/wallet-providers/acme-root.pem"]
//! key_storage = ["iso_18045_high", "iso_18045_moderate"]   # optional
//! user_authentication = ["iso_18045_high"]                 # optional
//! ```
//!
//! `off` is the behaviour before attestations: a wallet's attestation
//! headers are not looked at, and only plain `jwt` key proofs are taken.
//! `accepted` checks an attestation when the wallet sends one (and refuses
//! a bad one) but lets a wallet without one through; `required` refuses a
//! wallet without one. The roots (PEM files, one or more certificates
//! each) are the wallet providers' trust anchors, for both kinds of
//! attestation; `key_storage` and `user_authentication`, when given, are
//! the levels (OpenID4VCI 1.0 Appendix D.2) a key attestation must state
//! one of. The files are read once, at start-up: a change takes a restart.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;
use tongban_service_kit::config::ConfigError;

/// Whether an attestation is required, checked when sent, or ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttestationPolicy {
    /// Not looked at (the default).
    #[default]
    Off,
    /// Checked when present; a wallet without one is served.
    Accepted,
    /// A wallet without one is refused.
    Required,
}

impl AttestationPolicy {
    /// The word in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationPolicy::Off => "off",
            AttestationPolicy::Accepted => "accepted",
            AttestationPolicy::Required => "required",
        }
    }
}

/// One `[attestation.<agency>]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationFile {
    /// The wallet attestation policy.
    pub wallet_attestation: Option<AttestationPolicy>,
    /// The key attestation policy.
    pub key_attestation: Option<AttestationPolicy>,
    /// PEM files of the wallet providers' root certificates.
    #[serde(default)]
    pub trusted_wallet_providers: Vec<PathBuf>,
    /// Accepted `key_storage` levels.
    pub key_storage: Option<Vec<String>>,
    /// Accepted `user_authentication` levels.
    pub user_authentication: Option<Vec<String>>,
}

/// An agency's effective attestation rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgencyAttestation {
    /// The wallet attestation policy (token and PAR endpoints).
    pub wallet_attestation: AttestationPolicy,
    /// The key attestation policy (credential endpoint).
    pub key_attestation: AttestationPolicy,
    /// The wallet providers' root certificates (DER).
    pub roots: Vec<CertificateDer<'static>>,
    /// Accepted `key_storage` levels; `None` accepts any.
    pub key_storage: Option<Vec<String>>,
    /// Accepted `user_authentication` levels; `None` accepts any.
    pub user_authentication: Option<Vec<String>>,
}

/// Every agency's rules; an agency not named is `off` for both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttestationRules(BTreeMap<String, AgencyAttestation>);

static OFF: AgencyAttestation = AgencyAttestation {
    wallet_attestation: AttestationPolicy::Off,
    key_attestation: AttestationPolicy::Off,
    roots: Vec::new(),
    key_storage: None,
    user_authentication: None,
};

impl AttestationRules {
    /// The rules of `agency` (`off` for both when it is not configured).
    pub fn of(&self, agency: &str) -> &AgencyAttestation {
        self.0.get(agency).unwrap_or(&OFF)
    }

    /// Rules for one agency (for tests and tools).
    pub fn with(mut self, agency: &str, rules: AgencyAttestation) -> Self {
        self.0.insert(agency.to_owned(), rules);
        self
    }

    /// Reads the file's tables: every root file parsed, at least one root
    /// where a policy is not `off`, and the levels non-empty when given.
    pub fn resolve(tables: BTreeMap<String, AttestationFile>) -> Result<Self, ConfigError> {
        let bad = |agency: &str, message: String| ConfigError::Invalid {
            key: "attestation",
            message: format!("[attestation.{agency}]: {message}"),
        };
        let mut out = BTreeMap::new();
        for (agency, t) in tables {
            let mut roots = Vec::new();
            for path in &t.trusted_wallet_providers {
                let before = roots.len();
                for cert in CertificateDer::pem_file_iter(path)
                    .map_err(|e| bad(&agency, format!("{}: {e}", path.display())))?
                {
                    let cert =
                        cert.map_err(|e| bad(&agency, format!("{}: {e}", path.display())))?;
                    webpki::anchor_from_trusted_cert(&cert).map_err(|e| {
                        bad(
                            &agency,
                            format!("{}: not a usable root certificate: {e:?}", path.display()),
                        )
                    })?;
                    roots.push(cert);
                }
                if roots.len() == before {
                    return Err(bad(
                        &agency,
                        format!("{} holds no certificate", path.display()),
                    ));
                }
            }
            let rules = AgencyAttestation {
                wallet_attestation: t.wallet_attestation.unwrap_or_default(),
                key_attestation: t.key_attestation.unwrap_or_default(),
                roots,
                key_storage: t.key_storage,
                user_authentication: t.user_authentication,
            };
            let on = rules.wallet_attestation != AttestationPolicy::Off
                || rules.key_attestation != AttestationPolicy::Off;
            if on && rules.roots.is_empty() {
                return Err(bad(
                    &agency,
                    "an attestation policy other than off needs trusted_wallet_providers".into(),
                ));
            }
            for (name, levels) in [
                ("key_storage", &rules.key_storage),
                ("user_authentication", &rules.user_authentication),
            ] {
                if levels.as_ref().is_some_and(Vec::is_empty) {
                    return Err(bad(&agency, format!("{name} must not be empty")));
                }
            }
            out.insert(agency, rules);
        }
        Ok(AttestationRules(out))
    }
}
