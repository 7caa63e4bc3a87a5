//! The command line: every flag with its help text, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
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

/// The `alg` name of an Ed25519 holder key's signatures (`init
/// --jws-alg-name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwsAlgName {
    /// `EdDSA` (RFC 8037).
    Eddsa,
    /// `Ed25519` (RFC 9864, fully specified).
    Ed25519,
}

// The doc comments below are the subcommands' help texts.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a wallet with a new holder key.
    ///
    ///   tongban-wallet init                  (an Ed25519 holder key)
    ///   tongban-wallet init --key-alg es256  (a P-256 holder key: proofs and presentations signed ES256)
    ///   tongban-wallet init --key-alg sm2    (an SM2 holder key: proofs and presentations signed SM2SM3)
    ///   tongban-wallet init --jws-alg-name ed25519   (Ed25519, signing under the RFC 9864 name Ed25519)
    #[command(verbatim_doc_comment)]
    Init {
        /// The holder key's algorithm: ed25519, es256 (ECDSA P-256) or sm2
        /// (SM2 with SM3).
        #[arg(long, value_enum, default_value_t = tongban_wallet::store::HolderKeyAlg::Ed25519)]
        key_alg: tongban_wallet::store::HolderKeyAlg,
        /// The `alg` an Ed25519 holder key's proofs and presentations say:
        /// eddsa (`EdDSA`, the default) or ed25519 (the fully specified
        /// `Ed25519` of RFC 9864, which some verifiers refuse). Ed25519
        /// keys only.
        #[arg(long, value_enum, default_value_t = JwsAlgName::Eddsa)]
        jws_alg_name: JwsAlgName,
    },
    /// Receive a credential from an issuer's offer (OpenID4VCI), or import
    /// one from a file; either way it is verified before it is stored.
    ///
    ///   tongban-wallet receive 'openid-credential-offer://?credential_offer=…'
    ///   tongban-wallet receive offer.png            (a photo or screenshot of the QR code)
    ///   tongban-wallet receive --issuer https://licences.wujiang.example/agencies/wujiang-amr --type business-licence
    ///   tongban-wallet receive --file licence.sdjwt --issuer-key wujiang-amr.jwk.json
    ///   tongban-wallet receive --batch 3 'openid-credential-offer://?…'   (three copies, three keys)
    ///
    /// When the issuer offers batch issuance, the wallet asks for several
    /// copies of the licence (its batch_size, at most 10; --batch to choose),
    /// each bound to a fresh key of its own, stored as one credential. Each
    /// presentation uses a copy not presented before, so two receiving
    /// agencies cannot link their presentations by what they carry; when
    /// every copy was presented, the least presented one is used again with
    /// a warning (receive the licence again for fresh copies).
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
    /// The wallet attestation an issuer may require (HAIP): issued by the
    /// wallet provider for this wallet's instance key, shown with every
    /// token request; and optionally a key attester (a key of the wallet's
    /// key storage, certified by the provider) that attests the holder key
    /// in every key proof. Kept inside the encrypted wallet file.
    ///
    ///   tongban-wallet attestation import --wallet-attestation wa.jwt --instance-key instance.jwk.json \
    ///       [--key-attester-key storage.jwk.json --key-attester-chain storage-chain.pem --key-storage iso_18045_high]
    ///   tongban-wallet attestation show
    ///   tongban-wallet attestation remove
    #[command(verbatim_doc_comment)]
    Attestation {
        #[command(subcommand)]
        command: AttestationCommand,
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

/// `attestation` subcommands.
#[derive(Debug, Subcommand)]
pub enum AttestationCommand {
    /// Keep a wallet attestation (replacing any before) with its instance
    /// key, and optionally a key attester.
    Import {
        /// The wallet attestation JWT the wallet provider issued.
        #[arg(long, value_name = "FILE")]
        wallet_attestation: PathBuf,
        /// The instance key: a private JWK whose public part is the
        /// attestation's cnf.jwk.
        #[arg(long, value_name = "FILE")]
        instance_key: PathBuf,
        /// The key attester's private JWK.
        #[arg(long, value_name = "FILE", requires = "key_attester_chain")]
        key_attester_key: Option<PathBuf>,
        /// The key attester's certificate and intermediates, PEM (not the
        /// root).
        #[arg(long, value_name = "FILE", requires = "key_attester_key")]
        key_attester_chain: Option<PathBuf>,
        /// A key_storage level the key attester states (repeatable), e.g.
        /// iso_18045_high.
        #[arg(long, value_name = "LEVEL", requires = "key_attester_key")]
        key_storage: Vec<String>,
        /// A user_authentication level it states (repeatable).
        #[arg(long, value_name = "LEVEL", requires = "key_attester_key")]
        user_authentication: Vec<String>,
    },
    /// Show the wallet attestation kept (client_id, provider, expiry).
    Show,
    /// Forget the wallet attestation.
    Remove,
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
    /// How many copies to ask for, each bound to a fresh key (1..=10; 1:
    /// one credential bound to the wallet's holder key). Default: the
    /// issuer's batch_size, at most 10, or 1 when it offers no batches.
    #[arg(long, value_name = "N", conflicts_with = "file",
          value_parser = clap::value_parser!(u8).range(1..=10))]
    pub batch: Option<u8>,
    /// Do not fetch the zone's trust list that the issuer's metadata names
    /// (`tongban_trust_list_uri`). Otherwise it is fetched and kept when it
    /// verifies under the root this wallet has pinned (never without one)
    /// and is newer than the list held.
    #[arg(long = "no-trust-list", conflicts_with = "file")]
    pub no_trust_list: bool,
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
