//! `tongban-wallet`: the citizen's wallet. Keeps licences encrypted and
//! presents only the fields a counter asks for, as a QR code.
//!
//! Exit status: 0 done, 1 refused (a credential that does not verify, an
//! offer the issuer refuses — wrong PIN, locked, expired —, a presentation
//! not consented to), 2 usage, wallet, network or protocol error.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use age::secrecy::SecretString;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use tongban_cli_support::qr;
use tongban_cli_support::qr_arg::{QrForm, QrOutput, QrOutputParser};
use tongban_cli_support::time::{format_cst, now};
use tongban_protocol::oid4vci::OFFER_SCHEME;
use tongban_verifier::catalogue::Catalogue;
use tongban_verifier::{HeldCredential, InMemoryKeys, KeyWithId, Signer as _};
use tongban_wallet::present::{
    self, PresentError, Presented, claim_paths, read_request, wallet_nonce,
};
use tongban_wallet::receive::{self as oid4vci, Expected, Interaction, ReceiveError, TxCode};
use tongban_wallet::status::{StatusError, StatusReference};
use tongban_wallet::store::{self, StoredCredential, Wallet, WalletError};

/// The citizen's Tongban (通办) wallet.
///
/// The wallet is one encrypted file; its passphrase comes from a prompt, or
/// from TONGBAN_WALLET_PASSPHRASE for scripts.
#[derive(Debug, Parser)]
#[command(name = "tongban-wallet", version)]
struct Cli {
    /// The wallet directory.
    #[arg(long, global = true, env = "TONGBAN_WALLET", value_name = "DIR")]
    wallet: Option<PathBuf>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a wallet with a new holder key.
    Init,
    /// Receive a credential from an issuer's offer (OpenID4VCI), or import
    /// one from a file; either way it is verified before it is stored.
    ///
    ///   tongban-wallet receive 'openid-credential-offer://?credential_offer=…'
    ///   tongban-wallet receive offer.png            (a photo or screenshot of the QR code)
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
    /// Present chosen claims of a credential to a counter, as a QR code.
    ///
    ///   tongban-wallet present c1 --disclose company_name,legal_representative \
    ///       --aud https://counter.qingpu.example --nonce qp-0001 --qr png:licence.png
    #[command(verbatim_doc_comment)]
    Present(PresentArgs),
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

#[derive(Debug, Args)]
struct ReceiveArgs {
    /// The credential offer: an openid-credential-offer:// URI, a file
    /// holding one, or a PNG/JPEG of its QR code. The wallet runs the
    /// OpenID4VCI pre-authorized code flow with the issuer it names, and
    /// checks the credential with the keys that issuer publishes.
    #[arg(
        value_name = "OFFER",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    offer: Option<String>,
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
    tx_code: Option<String>,
    /// Do not ask for an encrypted credential response even though the
    /// issuer supports it (then only the connection protects it); refused
    /// when the issuer requires encryption.
    #[arg(long = "no-encryption", conflicts_with = "file")]
    no_encryption: bool,
    /// Accept an issuer on plain http off this machine (test set-ups only;
    /// http://127.0.0.1 and localhost are always accepted).
    #[arg(long = "allow-http", conflicts_with = "file")]
    allow_http: bool,
    /// Import a credential file (the issued SD-JWT) instead of an offer.
    #[arg(long, value_name = "FILE", requires = "issuer_key")]
    file: Option<PathBuf>,
    /// With --file: the issuer's public key (JWK or JWKS file) to verify it
    /// with.
    #[arg(long = "issuer-key", value_name = "FILE", requires = "file")]
    issuer_key: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct PresentArgs {
    /// The credential id (see `list`).
    id: String,
    /// The counter's request (from `tongban-verify request`): its TBR1:
    /// text, a file holding it, or a PNG of its QR code. It sets the claims,
    /// the audience and the nonce.
    #[arg(long, value_name = "TEXT|FILE|PNG", conflicts_with_all = ["disclose", "aud", "nonce"])]
    request: Option<String>,
    /// The claims to disclose, comma-separated (e.g. company_name,address).
    #[arg(long, value_delimiter = ',', required_unless_present = "request")]
    disclose: Vec<String>,
    /// The counter (audience) the presentation is for.
    #[arg(long, required_unless_present = "request")]
    aud: Option<String>,
    /// The counter's nonce (it may start with `-`). Without one the wallet
    /// makes one, and says so: the counter must then accept a wallet-chosen
    /// nonce.
    #[arg(long, allow_hyphen_values = true)]
    nonce: Option<String>,
    /// Where to show it: `terminal` (a QR code in Unicode blocks that scans
    /// from the screen), `png:FILE` or `svg:FILE` (a QR image; several codes
    /// side by side when one is not enough), `text` (the QR transport text)
    /// or `plain` (the SD-JWT).
    #[arg(long, value_name = "FORM", default_value = "text", value_parser = QrOutputParser::new(PRESENT_QR_FORMS))]
    qr: QrOutput,
    /// Present without asking for consent (scripts).
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    #[error("{0}")]
    Usage(String),
    #[error("the credential does not verify: {0}")]
    Refused(String),
    #[error("{0}")]
    Declined(String),
}

impl From<PresentError> for CliError {
    fn from(e: PresentError) -> Self {
        CliError::Usage(e.to_string())
    }
}

impl From<StatusError> for CliError {
    fn from(e: StatusError) -> Self {
        if e.is_refusal() {
            CliError::Refused(e.to_string())
        } else {
            CliError::Usage(e.to_string())
        }
    }
}

impl CliError {
    fn code(&self) -> &'static str {
        match self {
            CliError::Wallet(w) => w.code(),
            CliError::Receive(r) => r.code(),
            CliError::Usage(_) => "usage",
            CliError::Refused(_) => "credential_refused",
            CliError::Declined(_) => "declined",
        }
    }
    fn exit(&self) -> u8 {
        match self {
            CliError::Refused(_) | CliError::Declined(_) => 1,
            CliError::Receive(r) if r.is_refusal() => 1,
            _ => 2,
        }
    }
}

/// The forms `present --qr` offers.
const PRESENT_QR_FORMS: &[QrForm] = &[
    QrForm::Text,
    QrForm::Plain,
    QrForm::Terminal,
    QrForm::Png,
    QrForm::Svg,
];

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                let mut error = json!({"code": e.code(), "message": e.to_string()});
                if let CliError::Receive(r) = &e
                    && let Some(reason) = r.reason()
                {
                    error["reason"] = json!(reason);
                }
                println!("{}", json!({ "error": error }));
            } else {
                eprintln!("tongban-wallet: error[{}]: {e}", e.code());
            }
            ExitCode::from(e.exit())
        }
    }
}

fn wallet_dir(cli: &Cli) -> PathBuf {
    cli.wallet.clone().unwrap_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(".local/share/tongban/wallet")
    })
}

/// The passphrase: TONGBAN_WALLET_PASSPHRASE, or a prompt on the terminal.
fn passphrase(confirm: bool) -> Result<SecretString, CliError> {
    if let Ok(p) = std::env::var("TONGBAN_WALLET_PASSPHRASE") {
        return Ok(SecretString::from(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "no terminal to ask for the passphrase: set TONGBAN_WALLET_PASSPHRASE".into(),
        ));
    }
    let p = rpassword::prompt_password("Wallet passphrase 钱包口令: ")
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if confirm {
        let again = rpassword::prompt_password("Again 再次输入: ")
            .map_err(|e| CliError::Usage(e.to_string()))?;
        if again != p {
            return Err(CliError::Usage("the two passphrases differ".into()));
        }
        if p.chars().count() < 8 {
            return Err(CliError::Usage(
                "choose a passphrase of at least 8 characters".into(),
            ));
        }
    }
    Ok(SecretString::from(p))
}

fn ask(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes" | "是")
}

fn type_name(vct: &str) -> String {
    Catalogue::builtin()
        .ok()
        .and_then(|c| c.by_vct(vct))
        .map_or_else(
            || vct.to_owned(),
            |t| format!("{} {}", t.name_zh, t.name_en),
        )
}

fn label(vct: &str, claim: &str) -> String {
    Catalogue::builtin()
        .ok()
        .and_then(|c| {
            c.by_vct(vct)?
                .claim(claim)
                .map(|c| format!("{} {}", c.label_zh, c.label_en))
        })
        .unwrap_or_else(|| claim.to_owned())
}

fn read_keys(files: &[PathBuf]) -> Result<InMemoryKeys, CliError> {
    let mut keys = InMemoryKeys::new();
    for k in read_key_list(files)? {
        keys.pin_for_any_issuer(k);
    }
    Ok(keys)
}

fn read_key_list(files: &[PathBuf]) -> Result<Vec<KeyWithId>, CliError> {
    let mut keys = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?;
        keys.extend(
            KeyWithId::from_jwk_or_set(&v)
                .map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?,
        );
    }
    Ok(keys)
}

fn run(cli: Cli) -> Result<(), CliError> {
    let dir = wallet_dir(&cli);
    let json = cli.json;
    match cli.command {
        Command::Init => {
            let w = Wallet::create(&dir, passphrase(true)?)?;
            let jwk = w.holder_jwk()?;
            if json {
                println!("{}", json!({"wallet": dir, "holder_jwk": jwk}));
            } else {
                println!(
                    "wallet created in {} 钱包已创建\nholder key 持有人公钥: {jwk}",
                    dir.display()
                );
            }
        }
        Command::HolderKey => {
            let w = Wallet::open(&dir, passphrase(false)?)?;
            println!("{}", w.holder_jwk()?);
        }
        Command::Receive(a) => receive(&dir, a, json)?,
        Command::List => {
            let w = Wallet::open(&dir, passphrase(false)?)?;
            if json {
                let list: Vec<Value> = w
                    .credentials()
                    .iter()
                    .map(|c| {
                        let region = region_of(c).map(|r| json!({"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en}));
                        json!({"id": c.id, "iss": c.iss, "issuer_name": c.issuer_name, "region": region, "vct": c.vct, "type": type_name(&c.vct), "exp": c.exp, "received_at": c.received_at, "last_status": c.last_status})
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else if w.credentials().is_empty() {
                println!("the wallet holds no credential yet 钱包中尚无证照");
            } else {
                for c in w.credentials() {
                    let exp = c.exp.map_or_else(|| "no expiry".into(), format_cst);
                    let expired = c.exp.is_some_and(|e| e <= now());
                    let status = c.last_status.as_ref().map_or_else(
                        || "status not checked 未查询状态".to_owned(),
                        |s| format!("status {} (checked {})", s.status, format_cst(s.checked_at)),
                    );
                    let region = region_of(c).map_or_else(
                        || "region unknown 地区未知".to_owned(),
                        |r| format!("{} {} ({})", r.name_zh, r.name_en, r.code),
                    );
                    println!(
                        "{:<4} {}\n     issued by 发证机构: {}\n     region 地区: {region}\n     valid until 有效期至: {}{}\n     {status}",
                        c.id,
                        type_name(&c.vct),
                        c.issuer_name.as_deref().unwrap_or(&c.iss),
                        exp,
                        if expired { "  (expired 已过期)" } else { "" }
                    );
                }
            }
        }
        Command::Show { id } => {
            let w = Wallet::open(&dir, passphrase(false)?)?;
            let c = w.credential(&id)?;
            let held =
                HeldCredential::parse(&c.sd_jwt).map_err(|e| CliError::Refused(e.to_string()))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({"id": c.id, "claims": held.claims()}))
                        .unwrap_or_default()
                );
            } else {
                println!("{} — {}", type_name(&c.vct), c.iss);
                for (k, v) in held.claims() {
                    if !matches!(k.as_str(), "cnf" | "_sd_alg") {
                        println!(
                            "  {:<40} {}",
                            label(&c.vct, k),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                        );
                    }
                }
            }
        }
        Command::Present(a) => present(&dir, a, json)?,
        Command::Status { id, issuer_key } => status(&dir, &id, &issuer_key, json)?,
        Command::Delete { id, yes } => {
            let mut w = Wallet::open(&dir, passphrase(false)?)?;
            let c = w.credential(&id)?.clone();
            if !yes && !ask(&format!("Delete {id} ({})? 删除？", type_name(&c.vct))) {
                return Err(CliError::Declined("not deleted".into()));
            }
            w.remove(&id)?;
            w.save()?;
            println!("deleted {id}");
        }
        Command::Export { file } => {
            let w = Wallet::open(&dir, passphrase(false)?)?;
            w.save()?;
            let bytes = std::fs::read(dir.join(store::WALLET_FILE))
                .map_err(|e| CliError::Usage(e.to_string()))?;
            store::write_atomic(&file, &bytes)?;
            println!(
                "encrypted backup written to {} (same passphrase)",
                file.display()
            );
        }
        Command::Import { file } => {
            if dir.join(store::WALLET_FILE).exists() {
                return Err(WalletError::AlreadyExists(dir).into());
            }
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            store::check_backup(&bytes, &passphrase(false)?)?;
            std::fs::create_dir_all(&dir).map_err(|e| CliError::Usage(e.to_string()))?;
            store::write_atomic(&dir.join(store::WALLET_FILE), &bytes)?;
            println!("wallet restored into {}", dir.display());
        }
    }
    Ok(())
}

/// The citizen at a terminal: progress on stderr, the PIN asked without
/// echo (the issuer's description of it shown once).
#[derive(Default)]
struct Terminal {
    described: bool,
}

impl Interaction for Terminal {
    fn progress(&mut self, message: &str) {
        eprintln!("{message}");
    }

    fn ask_tx_code(&mut self, tx_code: &TxCode) -> Option<String> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        if let Some(d) = tx_code.description.as_ref().filter(|_| !self.described) {
            eprintln!("发证机构说明 / the issuer says: {d}");
            self.described = true;
        }
        rpassword::prompt_password(format!(
            "请输入发证机构另行发送的数字码 / Enter the PIN the issuing agency sent you separately ({}): ",
            tx_code.hint()
        ))
        .ok()
    }
}

/// Reads an offer given as a URI, a file holding one, or a QR image.
fn read_offer(arg: &str) -> Result<String, CliError> {
    if arg.trim_start().starts_with(OFFER_SCHEME) {
        return Ok(arg.trim().to_owned());
    }
    let bytes = std::fs::read(arg).map_err(|e| {
        CliError::Usage(format!(
            "{arg}: not an {}:// URI, and not a readable file ({e})",
            OFFER_SCHEME
        ))
    })?;
    if qr::is_image(&bytes) {
        let texts =
            qr::decode_image(&bytes).map_err(|e| CliError::Usage(format!("{arg}: {e:?}")))?;
        return texts
            .into_iter()
            .find(|t| t.starts_with(OFFER_SCHEME))
            .ok_or_else(|| {
                CliError::Usage(format!("{arg}: no credential offer QR code in the image"))
            });
    }
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}

/// `receive`: from an offer (OpenID4VCI) or a file; verified either way,
/// and the wallet is written only when the credential passes.
fn receive(dir: &Path, a: ReceiveArgs, json: bool) -> Result<(), CliError> {
    let offer = a.offer.as_deref().map(read_offer).transpose()?;
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let holder = w.holder()?;
    let (sd_jwt, info, via, issuer_name) = match (offer, &a.file) {
        (Some(offer), _) => {
            let mut opts = oid4vci::Options::new(now());
            opts.tx_code = a.tx_code.clone();
            opts.encrypt = !a.no_encryption;
            opts.allow_http = a.allow_http;
            let got = oid4vci::receive_offer(&offer, &holder, &mut Terminal::default(), &opts)?;
            let via = if got.encrypted {
                "openid4vci (encrypted response)"
            } else {
                "openid4vci"
            };
            (got.sd_jwt, got.info, via, got.issuer_name)
        }
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let sd_jwt = text.trim().to_owned();
            let keys = read_keys(&a.issuer_key)?;
            let info = oid4vci::check_credential(
                &sd_jwt,
                &keys,
                &Expected {
                    iss: None,
                    vct: None,
                    holder: &holder.public_key(),
                },
                now(),
            )?;
            (sd_jwt, info, "file", None)
        }
        (None, None) => {
            return Err(CliError::Usage(
                "give an offer, or --file with --issuer-key".into(),
            ));
        }
    };
    let iss = info.iss.clone().unwrap_or_default();
    let vct = info.vct.clone().unwrap_or_default();
    let id = w.add(StoredCredential {
        id: String::new(),
        sd_jwt,
        iss: iss.clone(),
        vct: vct.clone(),
        exp: info.exp,
        issuer_name,
        received_at: now(),
        last_status: None,
    });
    w.save()?;
    if json {
        println!(
            "{}",
            json!({"id": id, "iss": iss, "vct": vct, "type": type_name(&vct), "exp": info.exp, "via": via})
        );
    } else {
        println!("stored as {id} 已存入钱包: {} from {iss}", type_name(&vct));
    }
    Ok(())
}

/// Fetches the credential's status list token, verifies it with the issuer's
/// key, and records the status at the credential's index.
fn status(dir: &Path, id: &str, issuer_key: &[PathBuf], json: bool) -> Result<(), CliError> {
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let c = w.credential(id)?.clone();
    let held = HeldCredential::parse(&c.sd_jwt).map_err(|e| CliError::Refused(e.to_string()))?;
    let reference = StatusReference::of(&held, id)?;
    let jwt = reference.fetch(std::time::Duration::from_secs(20))?;
    let keys: Vec<_> = read_key_list(issuer_key)?
        .into_iter()
        .map(|k| k.key)
        .collect();
    let status = reference.check(&jwt, &keys)?;
    w.record_status(
        id,
        store::StatusCheck {
            status: status.as_str().into(),
            checked_at: now(),
        },
    )?;
    w.save()?;
    if json {
        println!("{}", json!({"id": id, "status": status.as_str()}));
    } else {
        println!("{id}: {} {}", status.as_str(), status.zh());
    }
    Ok(())
}

fn present(dir: &Path, mut a: PresentArgs, json: bool) -> Result<(), CliError> {
    let w = Wallet::open(dir, passphrase(false)?)?;
    let c = w.credential(&a.id)?.clone();
    if let Some(r) = &a.request {
        let req = read_request(r)?;
        if req.is_expired(now()) {
            return Err(CliError::Declined(format!(
                "the counter's request expired at {}; ask for a new one",
                format_cst(req.exp)
            )));
        }
        if let Some(vct) = &req.vct
            && *vct != c.vct
        {
            return Err(CliError::Usage(format!(
                "the counter asks for {}, but {} is a {}",
                type_name(vct),
                c.id,
                type_name(&c.vct)
            )));
        }
        a.disclose = req.claims;
        a.aud = Some(req.aud);
        a.nonce = Some(req.nonce);
    }
    let aud = a.aud.clone().unwrap_or_default();
    let held = HeldCredential::parse(&c.sd_jwt).map_err(|e| CliError::Refused(e.to_string()))?;
    let paths = claim_paths(&a.disclose)?;
    let (nonce, generated) = match a.nonce {
        Some(n) => (n, false),
        None => (wallet_nonce(), true),
    };
    if !json {
        eprintln!("To 出示给: {aud}");
        eprintln!("{} — {}", type_name(&c.vct), c.iss);
        for p in &a.disclose {
            eprintln!("  will disclose 将披露: {}", label(&c.vct, p));
        }
        if generated {
            eprintln!(
                "  nonce chosen by this wallet (no request was given) 本钱包生成的随机数: {nonce}"
            );
        }
    }
    if !a.yes && !ask("Present these fields? 同意出示？") {
        return Err(CliError::Declined("nothing was presented".into()));
    }
    let holder = w.holder()?;
    let Presented {
        presentation,
        text,
        parts,
    } = present::present(&held, &paths, &holder, aud, nonce.clone(), now())?;
    // A QR image is written whatever the output; what goes to standard
    // output is either the chosen form or, with --json, one JSON document.
    let qr_file = match &a.qr {
        QrOutput::Svg(file) => {
            let svg = qr::svg(&parts).map_err(CliError::Usage)?;
            store::write_atomic(file, svg.as_bytes())?;
            Some(file)
        }
        QrOutput::Png(file) => {
            qr::write_png(file, &parts).map_err(CliError::Usage)?;
            Some(file)
        }
        QrOutput::Text | QrOutput::Plain | QrOutput::Terminal => None,
    };
    if json {
        let mut out = json!({"nonce": nonce, "nonce_generated_by_wallet": generated, "transport": text, "presentation": presentation});
        if let Some(file) = qr_file {
            out["qr_file"] = json!(file);
            out["qr_codes"] = json!(parts.len());
        }
        println!("{out}");
        return Ok(());
    }
    match &a.qr {
        QrOutput::Text => println!("{text}"),
        QrOutput::Plain => println!("{presentation}"),
        QrOutput::Terminal => {
            for (i, part) in parts.iter().enumerate() {
                if parts.len() > 1 {
                    println!(
                        "code {} of {} / 第{}个码（共{}个）:",
                        i + 1,
                        parts.len(),
                        i + 1,
                        parts.len()
                    );
                }
                println!("{}", qr::terminal(part).map_err(CliError::Usage)?);
            }
        }
        QrOutput::Svg(file) | QrOutput::Png(file) => println!(
            "QR code written to {} ({} code(s)); show it to the counter",
            file.display(),
            parts.len()
        ),
    }
    Ok(())
}

/// The region a credential belongs to: the GB/T 2260 code that every
/// Tongban e-licence id starts with (`320509-BL-2026-000001`), when known.
fn region_of(c: &StoredCredential) -> Option<&'static tongban_verifier::catalogue::ids::Region> {
    let held = HeldCredential::parse(&c.sd_jwt).ok()?;
    let lid = held.claims().get("licence_id")?.as_str()?;
    tongban_verifier::catalogue::ids::region(lid.split('-').next()?)
}
