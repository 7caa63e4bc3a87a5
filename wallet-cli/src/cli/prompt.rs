//! Asking the citizen: the passphrase and the PIN without echo, consent as
//! y/N. Scripts set TONGBAN_WALLET_PASSPHRASE (and `--tx-code` or
//! TONGBAN_TX_CODE, read by the argument parser); without a terminal
//! nothing is asked.

use std::io::{IsTerminal as _, Write as _};

use age::secrecy::SecretString;
use tongban_wallet::receive::{Interaction, TxCode};

use super::error::CliError;

/// The passphrase: TONGBAN_WALLET_PASSPHRASE, or a prompt on the terminal
/// (twice, and at least 8 characters, when `confirm`).
pub fn passphrase(confirm: bool) -> Result<SecretString, CliError> {
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

/// Asks a yes/no `question` on the terminal; no terminal, or anything but
/// yes, is no.
pub fn ask(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes" | "是")
}

/// The citizen at a terminal: progress on stderr, the PIN asked without
/// echo (the issuer's description of it shown once), the issuer's login
/// opened with `browser` (the system's opener when `None`, nothing but the
/// printed URL for `none`).
#[derive(Default)]
pub struct Terminal {
    described: bool,
    /// The program that opens a login URL.
    pub browser: Option<String>,
}

impl Terminal {
    /// A terminal opening logins with `browser` (see [`Terminal`]).
    pub fn with_browser(browser: Option<String>) -> Terminal {
        Terminal {
            described: false,
            browser,
        }
    }
}

/// The system's way to open a URL.
fn system_opener() -> &'static str {
    if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    }
}

impl Interaction for Terminal {
    fn progress(&mut self, message: &str) {
        eprintln!("{message}");
    }

    fn open_in_browser(&mut self, url: &str) {
        // Always printed: the browser may be on another machine, or none.
        eprintln!("请在浏览器中登录发证机构 / Log in at the issuer in your browser:\n  {url}");
        let program = self.browser.as_deref().unwrap_or(system_opener());
        if program == "none" {
            return;
        }
        // Not waited for: the wallet waits for the browser's return instead.
        if let Err(e) = std::process::Command::new(program)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
        {
            eprintln!(
                "(could not start {program}: {e}; open the URL above yourself 请手动打开上述网址)"
            );
        }
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
