//! The checks every received credential passes before the wallet stores
//! it, whether it came through OpenID4VCI or from a file.

use tongban_verifier::{CredentialInfo, KeyResolver, Policy, PublicKey, verify};

use super::ReceiveError;

/// What a received credential must be.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// Its `iss` (the offer's credential issuer), when known.
    pub iss: Option<&'a str>,
    /// Its `vct` (the offered configuration's), when known.
    pub vct: Option<&'a str>,
    /// The key it must be bound to (`cnf.jwk`): this wallet's.
    pub holder: &'a PublicKey,
}

/// Verifies a credential as issued (every disclosure, no key binding JWT)
/// with `keys` and checks it is what was expected: the wallet stores
/// nothing that fails here.
pub fn check_credential(
    sd_jwt: &str,
    keys: &dyn KeyResolver,
    expected: &Expected<'_>,
    now: i64,
) -> Result<CredentialInfo, ReceiveError> {
    let report = verify(sd_jwt, &Policy::without_holder_binding(now), keys);
    if let Some(r) = &report.rejection {
        return Err(ReceiveError::refused(
            r.code.code(),
            format!("{} ({})", r.code.message_en(), r.detail),
        ));
    }
    let c = report.credential;
    if let Some(iss) = expected.iss
        && c.iss.as_deref() != Some(iss)
    {
        return Err(ReceiveError::refused(
            "issuer_mismatch",
            format!("it was issued by {:?}, not by {iss:?}", c.iss),
        ));
    }
    if let Some(vct) = expected.vct
        && c.vct.as_deref() != Some(vct)
    {
        return Err(ReceiveError::refused(
            "vct_mismatch",
            format!("it is a {:?}, not the offered {vct:?}", c.vct),
        ));
    }
    let cnf = report
        .claims
        .as_ref()
        .and_then(|c| c.get("cnf"))
        .and_then(|c| c.get("jwk"))
        .map(PublicKey::from_jwk);
    match cnf {
        Some(Ok(k)) if k == *expected.holder => Ok(c),
        _ => Err(ReceiveError::refused(
            "holder_key_mismatch",
            "the credential is bound to another holder key, not this wallet's",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;
    use tongban_verifier::encoding::b64_encode;
    use tongban_verifier::{
        CredentialBuilder, Ed25519Signer, InMemoryKeys, KeyWithId, Signer as _,
    };

    #[test]
    fn a_received_credential_must_be_the_offered_one_for_this_holder() {
        let issuer = Ed25519Signer::from_seed(&[1; 32], Some("k1".into()));
        let holder = Ed25519Signer::from_seed(&[2; 32], None);
        let now = 1_800_000_000;
        let issued = CredentialBuilder::new("https://i.example/a", "urn:example:licence", now - 10)
            .holder_key(holder.public_key())
            .claim("name", json!("张三"))
            .issue(&issuer, &mut rand::rngs::OsRng)
            .unwrap();
        let mut keys = InMemoryKeys::new();
        keys.add_issuer_key(
            "https://i.example/a",
            KeyWithId {
                key: issuer.public_key(),
                kid: Some("k1".into()),
            },
        );
        // The same key is trusted for another issuer too (see issuer_mismatch).
        keys.add_issuer_key(
            "https://other.example",
            KeyWithId {
                key: issuer.public_key(),
                kid: Some("k1".into()),
            },
        );
        let hk = holder.public_key();
        let expected = Expected {
            iss: Some("https://i.example/a"),
            vct: Some("urn:example:licence"),
            holder: &hk,
        };
        check_credential(&issued.sd_jwt, &keys, &expected, now).unwrap();
        let reason = |sd_jwt: &str, e: &Expected<'_>| {
            check_credential(sd_jwt, &keys, e, now)
                .unwrap_err()
                .reason()
                .map(str::to_owned)
                .unwrap()
        };
        assert_eq!(
            reason(
                &issued.sd_jwt,
                &Expected {
                    vct: Some("urn:example:other"),
                    ..expected
                }
            ),
            "vct_mismatch"
        );
        let other = Ed25519Signer::from_seed(&[3; 32], None).public_key();
        assert_eq!(
            reason(
                &issued.sd_jwt,
                &Expected {
                    holder: &other,
                    ..expected
                }
            ),
            "holder_key_mismatch"
        );
        // Trusted keys alone are not enough: it must come from the offer's issuer.
        assert_eq!(
            reason(
                &issued.sd_jwt,
                &Expected {
                    iss: Some("https://other.example"),
                    ..expected
                }
            ),
            "issuer_mismatch"
        );
        // A disclosure changed on the way is refused by the verifier.
        let mut parts: Vec<String> = issued.sd_jwt.split('~').map(str::to_owned).collect();
        parts[1] = b64_encode(r#"["c2FsdA","name","李四"]"#);
        assert_eq!(
            reason(&parts.join("~"), &expected),
            "disclosure_unreferenced"
        );
    }
}
