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
/// echo (the issuer's description of it shown once).
#[derive(Default)]
pub struct Terminal {
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
