//! `trust-list ca init|certify`: the zone's certificate authority, which
//! certifies the agencies' listed signing keys (HAIP 1.0 `x5c`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tongban_cli_support::time::{format_cst, now};
use tongban_issuer::files;
use tongban_issuer::trust_list::ca::{self, CA_VALIDITY_DAYS, CaFile, LEAF_VALIDITY_DAYS};
use tongban_service_kit::pki::{self, KeyAlg};
use tongban_verifier::x509::Certificate;

use super::{CliError, Common, load_draft, save_draft};

/// The CA's key algorithm on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CaAlg {
    /// Ed25519.
    Ed25519,
    /// ECDSA P-256 with SHA-256 (ES256).
    Es256,
}

impl From<CaAlg> for KeyAlg {
    fn from(a: CaAlg) -> KeyAlg {
        match a {
            CaAlg::Ed25519 => KeyAlg::Ed25519,
            CaAlg::Es256 => KeyAlg::Es256,
        }
    }
}

/// `tongban-issuer trust-list ca …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CaCommand {
    /// Create the zone's CA: its private file (mode 0600, never
    /// overwritten) and its certificate, which the draft's x509_anchors
    /// then holds (the draft becomes version 5).
    Init(CaInitArgs),
    /// Certify a listed key of an agency: the certificate the agency puts
    /// in x5c, recorded with the key in the draft (and written as PEM for
    /// the agency).
    Certify(CaCertifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CaInitArgs {
    /// Where to create the CA's private file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the CA certificate here (PEM).
    #[arg(long, value_name = "FILE")]
    cert_out: Option<PathBuf>,
    /// The draft list whose x509_anchors gets the certificate.
    #[arg(long, value_name = "FILE", env = "TONGBAN_TRUST_LIST_DRAFT")]
    list: Option<PathBuf>,
    /// The certificate's common name (e.g. "YRD zone CA 2026").
    #[arg(long)]
    common_name: String,
    /// The CA key's algorithm.
    #[arg(long, value_enum, default_value_t = CaAlg::Ed25519)]
    alg: CaAlg,
    /// How long the CA certificate is valid, days.
    #[arg(long, default_value_t = CA_VALIDITY_DAYS)]
    validity_days: i64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct CaCertifyArgs {
    /// The CA's private file.
    #[arg(long, value_name = "FILE")]
    ca: PathBuf,
    /// The draft list holding the agency and its key.
    #[arg(long, value_name = "FILE", env = "TONGBAN_TRUST_LIST_DRAFT")]
    list: PathBuf,
    /// The agency (issuer id).
    #[arg(long)]
    id: String,
    /// The listed key to certify (a kid may start with `-`: a JWK
    /// thumbprint is base64url).
    #[arg(long, allow_hyphen_values = true)]
    kid: String,
    /// How long the certificate is valid, days.
    #[arg(long, default_value_t = LEAF_VALIDITY_DAYS)]
    validity_days: i64,
    /// Also write the chain here (PEM), for the agency's
    /// `tongban-issuer key certificate`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

impl CaCommand {
    /// Whether `--json` was asked for.
    pub(super) fn json(&self) -> bool {
        match self {
            CaCommand::Init(a) => a.common.json,
            CaCommand::Certify(a) => a.common.json,
        }
    }
}

fn read_ca(path: &std::path::Path) -> Result<CaFile, CliError> {
    let v = files::read_json(path)?;
    serde_json::from_value(v).map_err(|e| {
        CliError::File(files::FileError {
            path: path.to_path_buf(),
            reason: format!("not a CA file: {e}"),
        })
    })
}

fn describe(cert: &Certificate) -> String {
    let (from, until) = cert.validity();
    format!(
        "{} (valid {} to {}, SHA-256 {})",
        cert.subject(),
        format_cst(from),
        format_cst(until),
        hex(cert.sha256())
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `trust-list ca …`.
pub(super) fn run(c: CaCommand) -> Result<(String, Value), CliError> {
    match c {
        CaCommand::Init(a) => {
            let mut draft = a.list.as_deref().map(load_draft).transpose()?;
            let ca = ca::new_ca(&a.common_name, a.alg.into(), now(), a.validity_days)?;
            let cert = ca.certificate()?;
            if let Some(d) = draft.as_mut() {
                ca::add_anchor(d, &ca)?;
            }
            let mut bytes =
                serde_json::to_vec_pretty(&ca).map_err(|e| CliError::Usage(e.to_string()))?;
            bytes.push(b'\n');
            files::create_secret(&a.out, &bytes)?;
            if let Some(p) = &a.cert_out {
                files::write_atomic(p, pki::pem(cert.der()).as_bytes())?;
            }
            if let (Some(d), Some(path)) = (&draft, &a.list) {
                save_draft(path, d)?;
            }
            Ok((
                format!(
                    "CA created in {} (keep it offline; mode 0600): {}{}",
                    a.out.display(),
                    describe(&cert),
                    if draft.is_some() {
                        "\nits certificate is in the draft's x509_anchors (sign the list to publish it)"
                    } else {
                        ""
                    }
                ),
                json!({"ca_file": a.out, "certificate": ca.certificate, "sha256": hex(cert.sha256())}),
            ))
        }
        CaCommand::Certify(a) => {
            let ca_file = read_ca(&a.ca)?;
            let mut d = load_draft(&a.list)?;
            let chain = ca::certify_key(&mut d, &ca_file, &a.id, &a.kid, now(), a.validity_days)?;
            let mut pem = String::new();
            let mut certs = Vec::new();
            for text in &chain {
                let cert =
                    Certificate::from_b64(text).map_err(|r| CliError::Usage(r.detail.clone()))?;
                pem.push_str(&pki::pem(cert.der()));
                certs.push(describe(&cert));
            }
            save_draft(&a.list, &d)?;
            if let Some(p) = &a.out {
                files::write_atomic(p, pem.as_bytes())?;
            }
            Ok((
                format!(
                    "key {} of {} certified: {}\nrecorded in the draft (sign the list to publish it){}",
                    a.kid,
                    a.id,
                    certs.join("; "),
                    a.out
                        .as_ref()
                        .map(|p| format!(
                            "; the agency installs {} with `tongban-issuer key certificate`",
                            p.display()
                        ))
                        .unwrap_or_default()
                ),
                json!({"issuer": a.id, "kid": a.kid, "x5c": chain}),
            ))
        }
    }
}
