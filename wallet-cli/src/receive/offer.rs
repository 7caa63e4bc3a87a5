//! The credential offer (OpenID4VCI 1.0 §4.1): by value or by reference,
//! the pre-authorized code grant and what it says about the PIN.

use serde_json::Value;

use tongban_protocol::oid4vci::{
    self, CredentialOffer, InputMode, OFFER_PARAM, OFFER_SCHEME, OFFER_URI_PARAM,
};

use super::{ReceiveError, printable};

/// What the offer says about the PIN (`tx_code`, §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxCode {
    /// `numeric` (digits only) or `text`.
    pub numeric: bool,
    /// The announced length, if any.
    pub length: Option<usize>,
    /// The issuer's description (printable), if any.
    pub description: Option<String>,
}

impl TxCode {
    fn from_protocol(t: &oid4vci::TxCode) -> Result<TxCode, ReceiveError> {
        let bad = |d: &str| ReceiveError::OfferInvalid(format!("tx_code: {d}"));
        let length = match t.length {
            None => None,
            Some(l) => Some(
                usize::try_from(l)
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| bad("length is not a small positive integer"))?,
            ),
        };
        let description = t
            .description
            .as_deref()
            .map(printable)
            .filter(|d| !d.is_empty());
        Ok(TxCode {
            numeric: t.input_mode() == InputMode::Numeric,
            length,
            description,
        })
    }

    /// "6 digits", "digits", "8 characters", …
    pub fn hint(&self) -> String {
        match (self.numeric, self.length) {
            (true, Some(n)) => format!("{n} digits / {n}位数字"),
            (true, None) => "digits / 数字".into(),
            (false, Some(n)) => format!("{n} characters / {n}个字符"),
            (false, None) => "text / 文字".into(),
        }
    }

    /// Whether `pin` has the announced form; the sentence says why not.
    pub fn check(&self, pin: &str) -> Result<(), String> {
        if pin.is_empty() {
            return Err("the PIN is empty".into());
        }
        if self.numeric && !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the offer expects {}", self.hint()));
        }
        if let Some(n) = self.length
            && pin.chars().count() != n
        {
            return Err(format!(
                "the offer expects {}, not {}",
                self.hint(),
                pin.chars().count()
            ));
        }
        Ok(())
    }
}

/// A credential offer (§4.1.1) this wallet can take up: with the
/// pre-authorized code grant, or with the authorization code grant (or no
/// grant, which leaves the wallet to the authorization server's).
#[derive(Clone, PartialEq, Eq)]
pub struct Offer {
    /// The credential issuer identifier.
    pub credential_issuer: String,
    /// The offered configuration ids (keys of the issuer's
    /// `credential_configurations_supported`).
    pub credential_configuration_ids: Vec<String>,
    /// The pre-authorized code (a secret: never printed); `None` for the
    /// authorization code flow.
    pub pre_authorized_code: Option<String>,
    /// The PIN the offer requires, if any.
    pub tx_code: Option<TxCode>,
    /// `issuer_state` of the authorization code grant, to send back.
    pub issuer_state: Option<String>,
    /// The authorization server to use, when the grant names one.
    pub authorization_server: Option<String>,
}

impl std::fmt::Debug for Offer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offer")
            .field("credential_issuer", &self.credential_issuer)
            .field(
                "credential_configuration_ids",
                &self.credential_configuration_ids,
            )
            .field("pre_authorized", &self.pre_authorized_code.is_some())
            .field("tx_code", &self.tx_code)
            .field("authorization_server", &self.authorization_server)
            .finish_non_exhaustive()
    }
}

impl Offer {
    /// Reads a credential offer object.
    pub fn from_json(v: &Value) -> Result<Offer, ReceiveError> {
        let offer: CredentialOffer = serde_json::from_value(v.clone())
            .map_err(|e| ReceiveError::OfferInvalid(format!("not a credential offer ({e})")))?;
        Offer::from_protocol(offer)
    }

    /// What a wallet-initiated request amounts to: the authorization code
    /// flow for `configuration_id` of `credential_issuer`, no offer.
    pub fn wallet_initiated(credential_issuer: &str, configuration_id: &str) -> Offer {
        Offer {
            credential_issuer: credential_issuer.to_owned(),
            credential_configuration_ids: vec![configuration_id.to_owned()],
            pre_authorized_code: None,
            tx_code: None,
            issuer_state: None,
            authorization_server: None,
        }
    }

    /// Checks a parsed credential offer is one this wallet can take up.
    /// With both grants the pre-authorized code is used (no login).
    pub fn from_protocol(offer: CredentialOffer) -> Result<Offer, ReceiveError> {
        let bad = |d: &str| ReceiveError::OfferInvalid(d.into());
        if offer.credential_issuer.is_empty() {
            return Err(bad("credential_issuer is missing"));
        }
        if offer.credential_configuration_ids.is_empty() {
            return Err(bad("credential_configuration_ids is empty"));
        }
        let Some(grant) = offer.pre_authorized_grant() else {
            let code_grant = offer
                .grants
                .as_ref()
                .and_then(|g| g.authorization_code.as_ref());
            let has_grants = offer.grants.is_some();
            if has_grants && code_grant.is_none() {
                return Err(ReceiveError::OfferUnsupported(
                    "this offer has neither a pre-authorized code nor an authorization code grant"
                        .into(),
                ));
            }
            return Ok(Offer {
                pre_authorized_code: None,
                tx_code: None,
                issuer_state: code_grant.and_then(|g| g.issuer_state.clone()),
                authorization_server: code_grant.and_then(|g| g.authorization_server.clone()),
                credential_issuer: offer.credential_issuer,
                credential_configuration_ids: offer.credential_configuration_ids,
            });
        };
        if grant.pre_authorized_code.is_empty() {
            return Err(bad("pre-authorized_code is missing"));
        }
        let tx_code = grant
            .tx_code
            .as_ref()
            .map(TxCode::from_protocol)
            .transpose()?;
        Ok(Offer {
            pre_authorized_code: Some(grant.pre_authorized_code.clone()),
            authorization_server: grant.authorization_server.clone(),
            tx_code,
            issuer_state: None,
            credential_issuer: offer.credential_issuer,
            credential_configuration_ids: offer.credential_configuration_ids,
        })
    }
}

/// A parsed offer URI: the offer itself, or where to fetch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferRef {
    /// `credential_offer=` (by value).
    Value(Offer),
    /// `credential_offer_uri=` (by reference).
    Uri(String),
}

/// Parses an `openid-credential-offer://?credential_offer=…` (or
/// `…?credential_offer_uri=…`) URI (§4.1.3, §4.1.2).
pub fn parse_offer_uri(text: &str) -> Result<OfferRef, ReceiveError> {
    let text = text.trim();
    let url = url::Url::parse(text)
        .map_err(|e| ReceiveError::OfferInvalid(format!("not a URI ({e})")))?;
    if url.scheme() != OFFER_SCHEME {
        return Err(ReceiveError::OfferInvalid(format!(
            "the URI scheme is {:?}, not {OFFER_SCHEME}://",
            url.scheme()
        )));
    }
    let mut by_value = None;
    let mut by_reference = None;
    for (k, v) in url.query_pairs() {
        let slot = match k.as_ref() {
            OFFER_PARAM => &mut by_value,
            OFFER_URI_PARAM => &mut by_reference,
            _ => continue,
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(ReceiveError::OfferInvalid(format!("{k} is repeated")));
        }
    }
    match (by_value, by_reference) {
        (Some(json), None) => {
            let v: Value = serde_json::from_str(&json).map_err(|e| {
                ReceiveError::OfferInvalid(format!("credential_offer is not JSON ({e})"))
            })?;
            Ok(OfferRef::Value(Offer::from_json(&v)?))
        }
        (None, Some(uri)) => Ok(OfferRef::Uri(uri)),
        (Some(_), Some(_)) => Err(ReceiveError::OfferInvalid(
            "it carries both credential_offer and credential_offer_uri".into(),
        )),
        (None, None) => Err(ReceiveError::OfferInvalid(
            "it carries neither credential_offer nor credential_offer_uri".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;
    use tongban_protocol::oid4vci::PRE_AUTH_GRANT;

    fn offer_uri(offer: &Value) -> String {
        format!(
            "openid-credential-offer://?credential_offer={}",
            url::form_urlencoded::byte_serialize(offer.to_string().as_bytes()).collect::<String>()
        )
    }

    #[test]
    fn an_offer_by_value_with_a_pin_is_read() {
        let offer = json!({
            "credential_issuer": "https://issuer.example/agencies/wj",
            "credential_configuration_ids": ["business-licence"],
            "grants": {PRE_AUTH_GRANT: {
                "pre-authorized_code": "code-1",
                "tx_code": {"input_mode": "numeric", "length": 6, "description": "PIN\u{1b}[31m"},
            }},
        });
        let OfferRef::Value(o) = parse_offer_uri(&offer_uri(&offer)).unwrap() else {
            panic!("by value")
        };
        assert_eq!(o.credential_issuer, "https://issuer.example/agencies/wj");
        assert_eq!(o.pre_authorized_code.as_deref(), Some("code-1"));
        let tx = o.tx_code.unwrap();
        assert!(tx.numeric);
        assert_eq!(tx.length, Some(6));
        assert_eq!(
            tx.description.as_deref(),
            Some("PIN[31m"),
            "no terminal escapes"
        );
        assert!(tx.check("123456").is_ok());
        assert!(tx.check("12345").is_err());
        assert!(tx.check("12345a").is_err());
        // The code never shows in Debug output.
        let offer = Offer::from_json(&json!({
            "credential_issuer": "https://i.example",
            "credential_configuration_ids": ["x"],
            "grants": {PRE_AUTH_GRANT: {"pre-authorized_code": "secret-code"}},
        }))
        .unwrap();
        assert!(!format!("{offer:?}").contains("secret-code"));
    }

    #[test]
    fn offers_the_wallet_cannot_use_are_refused_with_a_reason() {
        let code = |text: &str| parse_offer_uri(text).unwrap_err().code();
        assert_eq!(
            code("https://example.com/?credential_offer=%7B%7D"),
            "offer_invalid"
        );
        assert_eq!(code("openid-credential-offer://?x=1"), "offer_invalid");
        assert_eq!(
            code("openid-credential-offer://?credential_offer=not-json"),
            "offer_invalid"
        );
        let auth_code = json!({
            "credential_issuer": "https://i.example",
            "credential_configuration_ids": ["x"],
            "grants": {"authorization_code": {"issuer_state": "is-1"}},
        });
        let OfferRef::Value(o) = parse_offer_uri(&offer_uri(&auth_code)).unwrap() else {
            panic!("by value")
        };
        assert_eq!(
            (o.pre_authorized_code, o.issuer_state.as_deref()),
            (None, Some("is-1"))
        );
        let other_grant = json!({
            "credential_issuer": "https://i.example",
            "credential_configuration_ids": ["x"],
            "grants": {"urn:example:other": {}},
        });
        assert_eq!(code(&offer_uri(&other_grant)), "offer_unsupported");
        assert_eq!(
            parse_offer_uri(
                "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fi.example%2Fo%2F1"
            )
            .unwrap(),
            OfferRef::Uri("https://i.example/o/1".into())
        );
    }
}
