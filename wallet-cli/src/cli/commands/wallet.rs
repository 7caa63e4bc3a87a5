//! The wallet itself: `init`, `holder-key`, `export`, `import`.

use std::path::Path;
use tongban_wallet::store::HolderKeyAlg;

use serde_json::json;
use tongban_wallet::store::{self, Wallet, WalletError};

use crate::cli::args::JwsAlgName;
use crate::cli::error::CliError;
use crate::cli::prompt::passphrase;

/// `init`: creates the wallet with a new holder key and prints the key.
pub fn init(
    dir: &Path,
    key_alg: HolderKeyAlg,
    name: JwsAlgName,
    json: bool,
) -> Result<(), CliError> {
    let fully_specified = name == JwsAlgName::Ed25519;
    if fully_specified && key_alg != HolderKeyAlg::Ed25519 {
        return Err(CliError::Usage(
            "--jws-alg-name ed25519 names Ed25519 keys only; leave it out for an es256 or sm2 key"
                .into(),
        ));
    }
    let w = Wallet::create_named(dir, passphrase(true)?, key_alg, fully_specified)?;
    let jwk = w.holder_jwk()?;
    if json {
        println!("{}", json!({"wallet": dir, "holder_jwk": jwk}));
    } else {
        println!(
            "wallet created in {} 钱包已创建\nholder key 持有人公钥: {jwk}",
            dir.display()
        );
    }
    Ok(())
}

/// `holder-key`: prints the holder's public JWK.
pub fn holder_key(dir: &Path) -> Result<(), CliError> {
    let w = Wallet::open(dir, passphrase(false)?)?;
    println!("{}", w.holder_jwk()?);
    Ok(())
}

/// `export`: copies the (freshly saved) encrypted wallet file to `file`.
pub fn export(dir: &Path, file: &Path) -> Result<(), CliError> {
    let w = Wallet::open(dir, passphrase(false)?)?;
    w.save()?;
    let bytes =
        std::fs::read(dir.join(store::WALLET_FILE)).map_err(|e| CliError::Usage(e.to_string()))?;
    store::write_atomic(file, &bytes)?;
    println!(
        "encrypted backup written to {} (same passphrase)",
        file.display()
    );
    Ok(())
}

/// `import`: restores a backup into a directory holding no wallet, once
/// the passphrase opens it.
pub fn import(dir: &Path, file: &Path) -> Result<(), CliError> {
    if dir.join(store::WALLET_FILE).exists() {
        return Err(WalletError::AlreadyExists(dir.to_path_buf()).into());
    }
    let bytes =
        std::fs::read(file).map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
    store::check_backup(&bytes, &passphrase(false)?)?;
    std::fs::create_dir_all(dir).map_err(|e| CliError::Usage(e.to_string()))?;
    store::write_atomic(&dir.join(store::WALLET_FILE), &bytes)?;
    println!("wallet restored into {}", dir.display());
    Ok(())
}
