//! OpenID4VCI offers: what an admin's `offer` request makes — the
//! pre-authorized code, the PIN, the offer URI and its QR code.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use serde_json::Value;
use tongban_protocol::oid4vci::{
    AuthorizationCodeGrant, CredentialOffer, Grants, InputMode, OFFER_PARAM, OFFER_URI_PREFIX,
    PreAuthorizedCodeGrant, TxCode,
};
use tongban_verifier::catalogue::LicenceType;

use super::ServiceError;
use crate::store::{OfferGrant, OfferRecord, OfferState};
use crate::tokens::{hash_secret, random_b64};

use super::issuing::IssueRequest;
use super::{AgencyRuntime, Service, internal};

/// Options of an OpenID4VCI offer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferOptions {
    /// Whether the wallet must enter a PIN sent separately (default true
    /// for the pre-authorized code; the authorization code grant has none).
    #[serde(default)]
    pub tx_code: Option<bool>,
    /// The grant the wallet redeems the offer through: `pre-authorized_code`
    /// (default) or `authorization_code` (the citizen logs in at the
    /// agency's login; the offer carries `issuer_state`).
    #[serde(default)]
    pub grant: Option<String>,
    /// For `authorization_code`: the subject the agency's login names the
    /// citizen by; only that citizen may redeem the offer.
    #[serde(default)]
    pub subject: Option<String>,
}

impl OfferOptions {
    /// The options a record is checked with (an offer, no PIN).
    pub(crate) fn for_record() -> OfferOptions {
        OfferOptions {
            tx_code: Some(false),
            grant: None,
            subject: None,
        }
    }
}

/// The grant an admin asked an offer for.
enum AskedGrant {
    PreAuthorized { tx_code: bool },
    AuthorizationCode { subject: String },
}

impl OfferOptions {
    fn grant(&self) -> Result<AskedGrant, ServiceError> {
        match self.grant.as_deref() {
            None | Some("pre-authorized_code") => Ok(AskedGrant::PreAuthorized {
                tx_code: self.tx_code.unwrap_or(true),
            }),
            Some("authorization_code") => {
                if self.tx_code == Some(true) {
                    return Err(ServiceError::InvalidRequest(
                        "offer.tx_code belongs to the pre-authorized code grant; the authorization code grant logs the citizen in instead".into(),
                    ));
                }
                let subject = self.subject.clone().ok_or_else(|| {
                    ServiceError::InvalidRequest(
                        "offer.subject is required with the authorization_code grant: the citizen's subject at the agency's login".into(),
                    )
                })?;
                if !super::records::subject_is_valid(&subject) {
                    return Err(ServiceError::InvalidRequest(
                        "offer.subject must be 1 to 255 characters without control characters"
                            .into(),
                    ));
                }
                Ok(AskedGrant::AuthorizationCode { subject })
            }
            Some(other) => Err(ServiceError::InvalidRequest(format!(
                "offer.grant {other:?} is not pre-authorized_code or authorization_code"
            ))),
        }
    }
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
        let asked = opts.grant()?;
        if let AskedGrant::AuthorizationCode { .. } = asked
            && !self.login.serves(&rt.agency.id)
        {
            return Err(ServiceError::InvalidRequest(
                "this agency has no citizen login configured; offer the pre-authorized code grant"
                    .into(),
            ));
        }
        let code = random_b64(32);
        let tx_code = matches!(asked, AskedGrant::PreAuthorized { tx_code: true })
            .then(|| random_digits(self.config.tx_code_length));
        let (grant, subject, issuer_state) = match &asked {
            AskedGrant::PreAuthorized { .. } => (OfferGrant::PreAuthorized, None, None),
            AskedGrant::AuthorizationCode { subject } => (
                OfferGrant::IssuerInitiatedCode,
                Some(subject.clone()),
                Some(random_b64(32)),
            ),
        };
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
            grant,
            subject,
            issuer_state_hash: issuer_state.as_deref().map(hash_secret),
            dpop_jkt: None,
        };
        self.store.create_offer(&record).await?;
        let offer = match issuer_state {
            Some(issuer_state) => CredentialOffer {
                credential_issuer: rt.agency.iss.clone(),
                credential_configuration_ids: vec![lt.slug.to_owned()],
                grants: Some(Grants {
                    pre_authorized_code: None,
                    authorization_code: Some(AuthorizationCodeGrant {
                        issuer_state: Some(issuer_state),
                        authorization_server: None,
                    }),
                }),
            },
            None => self.pre_authorized_offer(rt, lt, code, tx_code.as_deref()),
        };
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

    fn pre_authorized_offer(
        &self,
        rt: &AgencyRuntime,
        lt: &LicenceType,
        code: String,
        tx_code: Option<&str>,
    ) -> CredentialOffer {
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
        CredentialOffer::pre_authorized(&rt.agency.iss, lt.slug, grant)
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
