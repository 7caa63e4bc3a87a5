//! Presenting a credential: reading the counter's request, choosing the
//! claims, and building the presentation with its key binding and the
//! transport text (and parts) its QR codes carry.

use tongban_cli_support::qr;
use tongban_verifier::request::{PresentationRequest, REQUEST_PREFIX, ReceivedRequest};
use tongban_verifier::{ClaimPath, HeldCredential, KeyBinding, Signer, transport};

/// The most alphanumeric characters one QR code holds (version 40, ECC
/// level M); longer transport text is split over several codes.
pub const QR_CAPACITY: usize = 3391;

/// Why a presentation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresentError {
    /// The request's QR image could not be decoded.
    #[error("{arg}: {detail}")]
    RequestImage {
        /// The argument (a file name).
        arg: String,
        /// Why.
        detail: String,
    },
    /// The image holds no request QR code.
    #[error("{0}: no request QR code in the image")]
    NoRequestInImage(String),
    /// The request text is not a request.
    #[error("{0}")]
    RequestInvalid(String),
    /// A `--disclose` entry is not a claim path.
    #[error("{0:?} is not a claim path")]
    NotAClaimPath(String),
    /// The presentation could not be made (an unknown claim, a signing
    /// failure).
    #[error("{0}")]
    Presentation(String),
    /// The transport text could not be made.
    #[error("{0}")]
    Transport(String),
}

/// Reads a presentation request (signed or not) given as text, a file, or
/// a QR image.
pub fn read_request(arg: &str) -> Result<ReceivedRequest, PresentError> {
    let bytes = std::fs::read(arg).unwrap_or_else(|_| arg.as_bytes().to_vec());
    let text = if qr::is_image(&bytes) {
        let texts = qr::decode_image(&bytes).map_err(|e| PresentError::RequestImage {
            arg: arg.to_owned(),
            detail: format!("{e:?}"),
        })?;
        texts
            .into_iter()
            .find(|t| t.starts_with(REQUEST_PREFIX))
            .ok_or_else(|| PresentError::NoRequestInImage(arg.to_owned()))?
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    ReceivedRequest::parse(&text).map_err(|r| {
        PresentError::RequestInvalid(format!("{} ({})", r.code.message_en(), r.detail))
    })
}

/// Why the counter's request cannot be answered with the chosen credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestMismatch {
    /// The request expired; the counter must make a new one.
    #[error("the counter's request expired at {exp}")]
    Expired {
        /// When it expired (Unix seconds).
        exp: i64,
    },
    /// The request asks for another licence type.
    #[error("the counter asks for {asked}, but the credential is a {held}")]
    OtherType {
        /// The `vct` asked for.
        asked: String,
        /// The credential's `vct`.
        held: String,
    },
}

/// Checks that `request` can be answered at `now` with a credential of
/// type `vct`: it has not expired, and the type it asks for, if any, is
/// `vct`.
pub fn check_request(
    request: &PresentationRequest,
    vct: &str,
    now: i64,
) -> Result<(), RequestMismatch> {
    if request.is_expired(now) {
        return Err(RequestMismatch::Expired { exp: request.exp });
    }
    match &request.vct {
        Some(asked) if asked != vct => Err(RequestMismatch::OtherType {
            asked: asked.clone(),
            held: vct.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The claim paths of `--disclose` entries (`company_name`, `address.city`).
pub fn claim_paths(disclose: &[String]) -> Result<Vec<ClaimPath>, PresentError> {
    disclose
        .iter()
        .map(|p| ClaimPath::parse(p.trim()).ok_or_else(|| PresentError::NotAClaimPath(p.clone())))
        .collect()
}

/// A nonce chosen by the wallet when the counter gave none: `w-` and 12
/// random bytes.
pub fn wallet_nonce() -> String {
    let mut bytes = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("w-{}", tongban_verifier::encoding::b64_encode(bytes))
}

/// A presentation and the forms it is shown in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The SD-JWT with the chosen disclosures and the key binding JWT.
    pub presentation: String,
    /// Its transport text (`TB1:…`), what one QR code carries.
    pub text: String,
    /// The transport text in parts of at most [`QR_CAPACITY`] characters,
    /// one per QR code.
    pub parts: Vec<String>,
}

/// Presents `paths` of `held` to `aud` with `nonce`, bound to `holder` at
/// `iat`. The issuer's certificates (`x5c`) whose SHA-256 is in
/// `certificates` (those of the trust list the wallet holds, which the
/// counter's bundle holds too) go by reference in the QR code
/// (`specs/qr-transport.md` §2.7).
pub fn present(
    held: &HeldCredential,
    paths: &[ClaimPath],
    holder: &dyn Signer,
    aud: String,
    nonce: String,
    iat: i64,
    certificates: &[[u8; 32]],
) -> Result<Presented, PresentError> {
    let kb = KeyBinding {
        signer: holder,
        audience: aud,
        nonce,
        iat,
        transaction_data_hashes: Vec::new(),
    };
    let presentation = held
        .present(paths, Some(&kb))
        .map_err(|e| PresentError::Presentation(e.to_string()))?;
    let text = transport::encode_referencing(&presentation, certificates)
        .map_err(|r| PresentError::Transport(r.to_string()))?;
    let parts =
        transport::split(&text, QR_CAPACITY).map_err(|r| PresentError::Transport(r.to_string()))?;
    Ok(Presented {
        presentation,
        text,
        parts,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;
    use tongban_verifier::{CredentialBuilder, Ed25519Signer};

    #[test]
    fn claim_paths_are_parsed_and_bad_ones_named() {
        assert_eq!(
            claim_paths(&["company_name".into(), " address ".into()])
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            claim_paths(&["".into()]).unwrap_err(),
            PresentError::NotAClaimPath(String::new())
        );
    }

    #[test]
    fn wallet_nonces_are_marked_and_fresh() {
        let (a, b) = (wallet_nonce(), wallet_nonce());
        assert!(a.starts_with("w-") && a.len() == 18, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_presentation_discloses_the_chosen_claims_in_transport_text() {
        let issuer = Ed25519Signer::from_seed(&[1; 32], None);
        let holder = Ed25519Signer::from_seed(&[2; 32], None);
        let issued = CredentialBuilder::new("https://i.example", "urn:example:x", 1_800_000_000)
            .holder_key(holder.public_key())
            .claim("name", json!("张三"))
            .claim("address", json!("上海"))
            .issue(&issuer, &mut rand::rngs::OsRng)
            .unwrap();
        let held = HeldCredential::parse(&issued.sd_jwt).unwrap();
        let p = present(
            &held,
            &claim_paths(&["name".into()]).unwrap(),
            &holder,
            "https://counter.example".into(),
            "n-1".into(),
            1_800_000_010,
            &[],
        )
        .unwrap();
        assert!(p.text.starts_with("TB1:"), "{}", p.text);
        assert_eq!(p.parts.len(), 1, "one code is enough");
        assert_eq!(p.parts[0], p.text);
        assert_eq!(transport::decode(&p.text).unwrap(), p.presentation);
        let disclosures = p.presentation.split('~').count() - 2;
        assert_eq!(disclosures, 1, "only the chosen claim");
        assert!(matches!(
            present(
                &held,
                &claim_paths(&["nope".into()]).unwrap(),
                &holder,
                "a".into(),
                "n".into(),
                0,
                &[]
            ),
            Err(PresentError::Presentation(_))
        ));
        assert!(matches!(
            read_request("TBR1:not-a-request"),
            Err(PresentError::RequestInvalid(_))
        ));
    }

    #[test]
    fn a_request_is_answered_only_before_it_expires_and_for_its_type() {
        let request = |vct: Option<&str>| PresentationRequest {
            version: 1,
            aud: "https://counter.example".into(),
            nonce: "n-1".into(),
            vct: vct.map(str::to_owned),
            claims: vec!["name".into()],
            iat: 100,
            exp: 200,
            verifier: None,
            service_item: None,
        };
        assert_eq!(check_request(&request(None), "urn:x", 199), Ok(()));
        assert_eq!(check_request(&request(Some("urn:x")), "urn:x", 150), Ok(()));
        assert_eq!(
            check_request(&request(Some("urn:x")), "urn:x", 200),
            Err(RequestMismatch::Expired { exp: 200 }),
            "expiry is checked first, and exp itself is too late"
        );
        assert_eq!(
            check_request(&request(Some("urn:y")), "urn:x", 150),
            Err(RequestMismatch::OtherType {
                asked: "urn:y".into(),
                held: "urn:x".into()
            })
        );
    }
}
