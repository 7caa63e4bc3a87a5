//! A holder's presentation of an issued credential, with a KB-JWT, built
//! by the verifier's own holder code.

use tongban_verifier::{ClaimPath, HeldCredential, KeyBinding, Signer};

/// Who a presentation is for and when it is made: the KB-JWT's `aud`,
/// `nonce` and `iat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audience<'a> {
    /// The counter (`aud`).
    pub aud: &'a str,
    /// The counter's nonce.
    pub nonce: &'a str,
    /// When the presentation is made (`iat`).
    pub iat: i64,
}

/// Presents the claims named in `disclose` of the issued credential
/// `sd_jwt`, with a KB-JWT signed by `holder` for `to`.
pub fn present(
    sd_jwt: &str,
    disclose: &[&str],
    holder: &dyn Signer,
    to: Audience<'_>,
) -> Result<String, Box<dyn std::error::Error>> {
    let held = HeldCredential::parse(sd_jwt)?;
    let paths: Vec<ClaimPath> = disclose
        .iter()
        .filter_map(|p| ClaimPath::parse(p))
        .collect();
    let kb = KeyBinding {
        signer: holder,
        audience: to.aud.into(),
        nonce: to.nonce.into(),
        iat: to.iat,
        transaction_data_hashes: Vec::new(),
    };
    Ok(held.present(&paths, Some(&kb))?)
}
