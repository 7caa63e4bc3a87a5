//! The command line: every flag with its help text, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tongban_cli_support::qr_arg::{QrForm, QrOutput, QrOutputParser};

/// The citizen's Tongban (通办) wallet.
///
/// The wallet is one encrypted file; its passphrase comes from a prompt, or
/// from TONGBAN_WALLET_PASSPHRASE for scripts.
#[derive(Debug, Parser)]
#[command(name = "tongban-wallet", version)]
pub struct Cli {
    /// The wallet directory.
    #[arg(long, global = true, env = "TONGBAN_WALLET", value_name = "DIR")]
    pub wallet: Option<PathBuf>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The wallet directory: `--wallet` (or TONGBAN_WALLET), else
    /// `~/.local/share/tongban/wallet`.
    pub fn wallet_dir(&self) -> PathBuf {
        self.wallet.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".local/share/tongban/wallet")
        })
    }
}

// The doc comments below are the subcommands' help texts.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a wallet with a new holder key.
    ///
    ///   tongban-wallet init                  (an Ed25519 holder key)
    ///   tongban-wallet init --key-alg sm2    (an SM2 holder key: proofs and presentations signed SM2SM3)
    #[command(verbatim_doc_comment)]
    Init {
        /// The holder key's algorithm: ed25519 or sm2 (SM2 with SM3).
        #[arg(long, value_enum, default_value_t = tongban_wallet::store::HolderKeyAlg::Ed25519)]
        key_alg: tongban_wallet::store::HolderKeyAlg,
    },
    /// Receive a credential from an issuer's offer (OpenID4VCI), or import
    /// one from a file; either way it is verified before it is stored.
    ///
    ///   tongban-wallet receive 'openid-credential-offer://?credential_offer=…'
    ///   tongban-wallet receive offer.png            (a photo or screenshot of the QR code)
    ///   tongban-wallet receive --issuer https://licences.wujiang.example/agencies/wujiang-amr --type business-licence
    ///   tongban-wallet receive --file licence.sdjwt --issuer-key wujiang-amr.jwk.json
    #[command(verbatim_doc_comment)]
    Receive(ReceiveArgs),
    /// List the credentials.
    List,
    /// Show every claim of a credential.
    Show {
        /// The credential id (see `list`).
        id: String,
    },
    /// Present chosen claims of a credential to a counter, as a QR code; or
    /// answer an agency's online request (OpenID4VP), given as its
    /// openid4vp:// link, a file holding it, or a PNG of its QR code.
    ///
    ///   tongban-wallet present c1 --disclose company_name,legal_representative \
    ///       --aud https://counter.qingpu.example --nonce qp-0001 --qr png:licence.png
    ///   tongban-wallet present 'openid4vp://?client_id=x509_hash%3A…&request_uri=…&request_uri_method=post'
    ///   tongban-wallet present request.png --credential c1 --yes
    #[command(verbatim_doc_comment)]
    Present(PresentArgs),
    /// The CAs the wallet trusts to identify receiving agencies online
    /// (OpenID4VP requests are signed by certificates these CAs issued).
    /// They are kept inside the encrypted wallet file.
    ///
    ///   tongban-wallet verifier-ca add yrd-verifier-ca.pem
    ///   tongban-wallet verifier-ca list
    ///   tongban-wallet verifier-ca remove ca1
    #[command(verbatim_doc_comment, name = "verifier-ca")]
    VerifierCa {
        #[command(subcommand)]
        command: VerifierCaCommand,
    },
    /// The zone's trust list, kept in the wallet: who may issue, and which
    /// receiving agencies may ask for what (their registered service
    /// items). Every request is checked against it.
    ///
    ///   tongban-wallet trust-list sync --url https://trust.yrd.example/trust-list.json --anchor-key root-1.json
    ///   tongban-wallet trust-list import --file trust-list.json [--root root-2.json] [--anchor-key root-1.json]
    ///   tongban-wallet trust-list show
    #[command(verbatim_doc_comment, name = "trust-list")]
    TrustList {
        #[command(subcommand)]
        command: TrustListCommand,
    },
    /// What was disclosed (or refused) to whom and when, kept encrypted in
    /// the wallet.
    History,
    /// Delete a credential (asks first).
    Delete {
        /// The credential id.
        id: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Write an encrypted backup of the wallet.
    Export {
        /// The backup file.
        file: PathBuf,
    },
    /// Restore a wallet from an encrypted backup (into an empty directory).
    Import {
        /// The backup file.
        file: PathBuf,
    },
    /// Print the holder's public key (what an issuer binds credentials to).
    HolderKey,
    /// Check a credential against its issuer's status list (online) and
    /// record the result.
    ///
    ///   tongban-wallet status c1 --issuer-key wujiang-amr.jwk.json
    #[command(verbatim_doc_comment)]
    Status {
        /// The credential id.
        id: String,
        /// The issuer's public key (JWK or JWKS file) that signs its status lists.
        #[arg(long = "issuer-key", value_name = "FILE", required = true)]
        issuer_key: Vec<PathBuf>,
    },
}

/// `trust-list` subcommands.
#[derive(Debug, Subcommand)]
pub enum TrustListCommand {
    /// Fetch the trust list (https only) and the roots a rotation added,
    /// verify them, and keep them; an older list than the one held is
    /// refused.
    Sync {
        /// The trust list's URL (default: the one last synced from).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// The zone's root of trust (root-<n>.json) or anchor public key(s),
        /// pinned the first time (default: the pin held).
        #[arg(long, value_name = "FILE")]
        anchor_key: Option<PathBuf>,
        /// The request timeout, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 30)]
        timeout: u64,
    },
    /// Verify and keep a trust list from a file (delivered with an offer,
    /// or carried on a stick).
    Import {
        /// The signed trust list.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// A root of trust a rotation added (repeatable, in order).
        #[arg(long = "root", value_name = "FILE")]
        roots: Vec<PathBuf>,
        /// The zone's root of trust or anchor public key(s), pinned the
        /// first time (default: the pin held).
        #[arg(long, value_name = "FILE")]
        anchor_key: Option<PathBuf>,
    },
    /// Show the trust list held: its sequence and the receiving agencies
    /// with their registered service items.
    Show,
}

/// `verifier-ca` subcommands.
#[derive(Debug, Subcommand)]
pub enum VerifierCaCommand {
    /// Trust the CA certificate(s) in a PEM file.
    Add {
        /// The PEM file (one or more CERTIFICATE blocks).
        file: PathBuf,
    },
    /// List the trusted verifier CAs.
    List,
    /// Stop trusting a verifier CA.
    Remove {
        /// Its id (see `list`) or SHA-256.
        id: String,
    },
}

// `receive`'s arguments (the help text is the `Receive` variant's).
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// The credential offer: an openid-credential-offer:// URI, a file
    /// holding one, or a PNG/JPEG of its QR code. The wallet runs the
    /// OpenID4VCI pre-authorized code flow — or, for an offer with the
    /// authorization code grant, opens the issuer's login in the browser and
    /// waits for it on a loopback port — with the issuer it names, and
    /// checks the credential with the keys that issuer publishes.
    #[arg(
        value_name = "OFFER",
        required_unless_present_any = ["file", "issuer"],
        conflicts_with_all = ["file", "issuer"]
    )]
    pub offer: Option<String>,
    /// Without an offer: ask this credential issuer (its identifier, a URL)
    /// for a credential with the authorization code flow; the citizen logs
    /// in at the issuer in the browser. Needs --type.
    #[arg(
        long,
        value_name = "URL",
        requires = "configuration",
        conflicts_with = "file"
    )]
    pub issuer: Option<String>,
    /// With --issuer: the credential configuration to ask for (e.g.
    /// business-licence).
    #[arg(long = "type", value_name = "CONFIGURATION", requires = "issuer")]
    pub configuration: Option<String>,
    /// The program that opens the issuer's login page (authorization code
    /// flow), given the URL; "none" only prints the URL. Default: the
    /// system's (xdg-open, open, or start).
    #[arg(
        long,
        env = "TONGBAN_WALLET_BROWSER",
        value_name = "PROGRAM",
        conflicts_with = "file"
    )]
    pub browser: Option<String>,
    /// How long to wait for the browser to come back from the issuer's
    /// login, seconds.
    #[arg(
        long = "login-timeout",
        value_name = "SECONDS",
        default_value_t = 300,
        conflicts_with = "file"
    )]
    pub login_timeout: u64,
    /// The PIN (tx_code) the agency sent separately, for scripts; without
    /// it the wallet asks on the terminal, again after a wrong PIN while
    /// attempts are left.
    #[arg(
        long = "tx-code",
        env = "TONGBAN_TX_CODE",
        value_name = "PIN",
        hide_env_values = true,
        conflicts_with = "file"
    )]
    pub tx_code: Option<String>,
    /// Do not ask for an encrypted credential response even though the
    /// issuer supports it (then only the connection protects it); refused
    /// when the issuer requires encryption.
    #[arg(long = "no-encryption", conflicts_with = "file")]
    pub no_encryption: bool,
    /// Accept an issuer on plain http off this machine (test set-ups only;
    /// http://127.0.0.1 and localhost are always accepted).
    #[arg(long = "allow-http", conflicts_with = "file")]
    pub allow_http: bool,
    /// Import a credential file (the issued SD-JWT) instead of an offer.
    #[arg(long, value_name = "FILE", requires = "issuer_key")]
    pub file: Option<PathBuf>,
    /// With --file: the issuer's public key (JWK or JWKS file) to verify it
    /// with.
    #[arg(long = "issuer-key", value_name = "FILE", requires = "file")]
    pub issuer_key: Vec<PathBuf>,
}

// `present`'s arguments (the help text is the `Present` variant's).
#[derive(Debug, Args)]
pub struct PresentArgs {
    /// The credential id (see `list`) — or an agency's online request: its
    /// openid4vp:// (or haip-vp://) link, a file holding it, or a PNG/JPEG
    /// of its QR code. The wallet then fetches the signed request, checks
    /// it against the trusted verifier CAs, finds the credentials that
    /// answer it, shows who asks for what, and after consent sends the
    /// encrypted presentation.
    #[arg(value_name = "ID|LINK|FILE|PNG")]
    pub id: String,
    /// The counter's request (from `tongban-verify request`): its TBR1:
    /// text, a file holding it, or a PNG of its QR code. It sets the claims,
    /// the audience and the nonce.
    #[arg(long, value_name = "TEXT|FILE|PNG", conflicts_with_all = ["disclose", "aud", "nonce"])]
    pub request: Option<String>,
    /// The claims to disclose, comma-separated (e.g. company_name,address).
    /// (Required for a counter's QR presentation without --request.)
    #[arg(long, value_delimiter = ',')]
    pub disclose: Vec<String>,
    /// The counter (audience) the presentation is for. (Required for a
    /// counter's QR presentation without --request.)
    #[arg(long)]
    pub aud: Option<String>,
    /// The counter's nonce (it may start with `-`). Without one the wallet
    /// makes one, and says so: the counter must then accept a wallet-chosen
    /// nonce.
    #[arg(long, allow_hyphen_values = true)]
    pub nonce: Option<String>,
    /// Where to show it: `terminal` (a QR code in Unicode blocks that scans
    /// from the screen), `png:FILE` or `svg:FILE` (a QR image; several codes
    /// side by side when one is not enough), `text` (the QR transport text)
    /// or `plain` (the SD-JWT).
    #[arg(long, value_name = "FORM", default_value = "text", value_parser = QrOutputParser::new(PRESENT_QR_FORMS))]
    pub qr: QrOutput,
    /// Present without asking for consent (scripts).
    #[arg(long, conflicts_with = "decline")]
    pub yes: bool,
    /// Online request: decline it; the agency is told `access_denied`.
    #[arg(long)]
    pub decline: bool,
    /// Online request: the credential to present when several answer it
    /// (repeat for a request asking for several credentials); without it
    /// the wallet asks.
    #[arg(long = "credential", value_name = "ID")]
    pub credential: Vec<String>,
    /// Online request: also trust this verifier CA (PEM file; repeatable),
    /// besides those stored with `verifier-ca add`.
    #[arg(long = "verifier-ca", value_name = "FILE")]
    pub verifier_ca: Vec<PathBuf>,
    /// Online request: answer a request for an unencrypted response
    /// (response_mode direct_post); refused without this flag.
    #[arg(long = "allow-unencrypted")]
    pub allow_unencrypted: bool,
    /// Online request: when no credential answers it, tell the agency
    /// (`access_denied`) without asking.
    #[arg(long = "tell-if-none")]
    pub tell_if_none: bool,
    /// Answer even though the request asks for claims beyond the agency's
    /// registered service item (refused by default, with the excess
    /// listed). Recorded in the history.
    #[arg(long = "allow-unregistered")]
    pub allow_unregistered: bool,
    /// Online request: each HTTP request's timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
}

/// The forms `present --qr` offers.
const PRESENT_QR_FORMS: &[QrForm] = &[
    QrForm::Text,
    QrForm::Plain,
    QrForm::Terminal,
    QrForm::Png,
    QrForm::Svg,
];
