//! OpenID4VCI offers: what an admin's `offer` request makes — the
//! pre-authorized code, the PIN, the offer URI and its QR code.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use serde_json::Value;
use tongban_protocol::oid4vci::{
    CredentialOffer, InputMode, OFFER_PARAM, OFFER_URI_PREFIX, PreAuthorizedCodeGrant, TxCode,
};
use tongban_verifier::catalogue::LicenceType;

use super::ServiceError;
use crate::store::{OfferRecord, OfferState};
use crate::tokens::{hash_secret, random_b64};

use super::issuing::IssueRequest;
use super::{AgencyRuntime, Service, internal};

/// Options of an OpenID4VCI offer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferOptions {
    /// Whether the wallet must enter a PIN sent separately (default true).
    #[serde(default = "yes")]
    pub tx_code: bool,
}

fn yes() -> bool {
    true
}

/// An offer made for a wallet.
#[derive(Debug, Clone)]
pub struct IssuedOffer {
    /// Offer id.
    pub offer_id: String,
    /// `openid-credential-offer://?credential_offer=…`
    pub uri: String,
    /// The credential offer.
    pub offer: CredentialOffer,
    /// The PIN to send to the citizen separately.
    pub tx_code: Option<String>,
    /// When the pre-authorized code expires.
    pub expires_at: i64,
    /// The offer URI as a QR code, PNG.
    pub qr_png: Vec<u8>,
}

impl Service {
    pub(super) async fn create_offer(
        &self,
        rt: &AgencyRuntime,
        lt: &LicenceType,
        actor: &str,
        req: &IssueRequest,
        opts: &OfferOptions,
    ) -> Result<IssuedOffer, ServiceError> {
        let code = random_b64(32);
        let tx_code = opts
            .tx_code
            .then(|| random_digits(self.config.tx_code_length));
        let at = self.now();
        let expires_at = at + self.config.offer_ttl_secs;
        let offer_id = format!("offer_{}", random_b64(12));
        let record = OfferRecord {
            id: offer_id.clone(),
            agency_id: rt.agency.id.clone(),
            vct: lt.vct.clone(),
            claims: Value::Object(req.claims.clone()).to_string(),
            expires_credential_at: req.expires_at,
            not_before_credential: req.not_before,
            code_hash: hash_secret(&code),
            tx_code_hash: tx_code.as_deref().map(hash_secret),
            tx_code_length: tx_code
                .as_ref()
                .map(|t| i64::try_from(t.len()).unwrap_or(0)),
            tx_attempts: 0,
            code_expires_at: expires_at,
            state: OfferState::Pending,
            access_token_hash: None,
            token_expires_at: None,
            credential_id: None,
            actor: actor.to_owned(),
            created_at: at,
        };
        self.store.create_offer(&record).await?;
        let grant = PreAuthorizedCodeGrant {
            pre_authorized_code: code,
            tx_code: tx_code.as_ref().map(|t| TxCode {
                input_mode: Some(InputMode::Numeric),
                length: u64::try_from(t.len()).ok(),
                description: Some(
                    "请输入发证机构另行发送给您的数字码 / Enter the PIN the issuing agency sent you separately"
                        .to_owned(),
                ),
            }),
            authorization_server: None,
        };
        let offer = CredentialOffer::pre_authorized(&rt.agency.iss, lt.slug, grant);
        let uri = offer_uri(&offer)?;
        let qr_png = qr_png(&uri)?;
        self.metrics.add(
            "tongban_offers_created_total",
            &[("agency", &rt.agency.id)],
            1,
        );
        Ok(IssuedOffer {
            offer_id,
            uri,
            offer,
            tx_code,
            expires_at,
            qr_png,
        })
    }
}

/// `n` random decimal digits.
pub fn random_digits(n: usize) -> String {
    (0..n)
        .map(|_| {
            // Rejection sampling keeps the digits uniform.
            loop {
                let mut b = [0u8; 1];
                OsRng.fill_bytes(&mut b);
                if b[0] < 250 {
                    return char::from(b'0' + b[0] % 10);
                }
            }
        })
        .collect()
}

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const OFFER_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `openid-credential-offer://?credential_offer=<percent-encoded JSON>`.
pub fn offer_uri(offer: &CredentialOffer) -> Result<String, ServiceError> {
    let json = serde_json::to_string(offer).map_err(internal)?;
    Ok(format!(
        "{OFFER_URI_PREFIX}?{OFFER_PARAM}={}",
        percent_encoding::utf8_percent_encode(&json, OFFER_ENCODE)
    ))
}

pub(crate) fn qr_png(text: &str) -> Result<Vec<u8>, ServiceError> {
    tongban_cli_support::qr::png(&[text.to_owned()]).map_err(internal)
}

/// Base64 (standard) of PNG bytes, for JSON.
pub fn png_base64(png: &[u8]) -> String {
    STANDARD.encode(png)
}
