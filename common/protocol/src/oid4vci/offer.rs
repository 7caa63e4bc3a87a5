//! The credential offer (§4.1): what the issuer puts in the QR code.

use serde::{Deserialize, Serialize};

/// A credential offer (§4.1.1).
///
/// ```json
/// {"credential_issuer": "https://issuer.example/agencies/wj",
///  "credential_configuration_ids": ["business-licence"],
///  "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
///     "pre-authorized_code": "…",
///     "tx_code": {"input_mode": "numeric", "length": 6, "description": "…"}}}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialOffer {
    /// The credential issuer identifier (a URL).
    pub credential_issuer: String,
    /// The offered configurations: keys of the issuer's
    /// `credential_configurations_supported`.
    pub credential_configuration_ids: Vec<String>,
    /// The grants the wallet may use; absent means the wallet finds them in
    /// the authorization server's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Grants>,
}

impl CredentialOffer {
    /// An offer of `configuration_id` with the pre-authorized code grant.
    pub fn pre_authorized(
        credential_issuer: impl Into<String>,
        configuration_id: impl Into<String>,
        grant: PreAuthorizedCodeGrant,
    ) -> CredentialOffer {
        CredentialOffer {
            credential_issuer: credential_issuer.into(),
            credential_configuration_ids: vec![configuration_id.into()],
            grants: Some(Grants {
                pre_authorized_code: Some(grant),
                authorization_code: None,
            }),
        }
    }

    /// The pre-authorized code grant, if the offer has one.
    pub fn pre_authorized_grant(&self) -> Option<&PreAuthorizedCodeGrant> {
        self.grants.as_ref()?.pre_authorized_code.as_ref()
    }
}

/// The `grants` of an offer (§4.1.1); grant types other than these two are
/// ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// The pre-authorized code grant (key [`PRE_AUTH_GRANT`](super::PRE_AUTH_GRANT)).
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
    /// The authorization code grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeGrant>,
}

/// The pre-authorized code grant of an offer (§4.1.1). Its `Debug` output
/// never shows the code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    /// The code (a secret: whoever holds it may redeem the offer).
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// The PIN the token request must carry, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCode>,
    /// The authorization server to redeem the code at, when the issuer
    /// lists several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

impl std::fmt::Debug for PreAuthorizedCodeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreAuthorizedCodeGrant")
            .field("pre_authorized_code", &"<redacted>")
            .field("tx_code", &self.tx_code)
            .field("authorization_server", &self.authorization_server)
            .finish()
    }
}

/// The authorization code grant of an offer (§4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCodeGrant {
    /// Binds the authorization request to this offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_state: Option<String>,
    /// The authorization server to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

/// What an offer says about the PIN (`tx_code`, §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxCode {
    /// The characters the PIN is made of; absent means `numeric`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<InputMode>,
    /// The number of characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Where the PIN comes from, for the user (at most 300 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl TxCode {
    /// The input mode, `numeric` when the offer does not say.
    pub fn input_mode(&self) -> InputMode {
        self.input_mode.unwrap_or(InputMode::Numeric)
    }
}

/// `tx_code.input_mode` (§4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// Digits only.
    Numeric,
    /// Any characters.
    Text,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::super::PRE_AUTH_GRANT;
    use super::*;
    use serde_json::{Value, json};

    /// The offer as the issuer builds it (`issuer/src/app/offers.rs`).
    fn issuer_offer() -> Value {
        json!({
            "credential_issuer": "https://issuer.example/agencies/wj",
            "credential_configuration_ids": ["business-licence"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "code-1",
                "tx_code": {
                    "input_mode": "numeric",
                    "length": 6,
                    "description": "请输入发证机构另行发送给您的数字码 / Enter the PIN the issuing agency sent you separately",
                },
            }},
        })
    }

    #[test]
    fn the_issuers_offer_round_trips() {
        let v = issuer_offer();
        let o: CredentialOffer = serde_json::from_value(v.clone()).unwrap();
        let g = o.pre_authorized_grant().unwrap();
        assert_eq!(g.pre_authorized_code, "code-1");
        let tx = g.tx_code.as_ref().unwrap();
        assert_eq!(tx.input_mode(), InputMode::Numeric);
        assert_eq!(tx.length, Some(6));
        assert_eq!(serde_json::to_value(&o).unwrap(), v);
        // Built with the constructor, the same JSON.
        let built = CredentialOffer::pre_authorized(
            "https://issuer.example/agencies/wj",
            "business-licence",
            g.clone(),
        );
        assert_eq!(serde_json::to_value(&built).unwrap(), v);
        // Without a PIN, no tx_code member.
        let no_pin = PreAuthorizedCodeGrant {
            pre_authorized_code: "c".into(),
            tx_code: None,
            authorization_server: None,
        };
        assert_eq!(
            serde_json::to_value(&no_pin).unwrap(),
            json!({"pre-authorized_code": "c"})
        );
    }

    #[test]
    fn the_grant_key_is_the_grant_type() {
        let grants = Grants {
            pre_authorized_code: Some(PreAuthorizedCodeGrant {
                pre_authorized_code: "c".into(),
                tx_code: None,
                authorization_server: None,
            }),
            authorization_code: None,
        };
        let v = serde_json::to_value(&grants).unwrap();
        assert!(v.get(PRE_AUTH_GRANT).is_some(), "{v}");
    }

    #[test]
    fn other_grants_and_members_are_tolerated_and_the_code_never_shows() {
        let o: CredentialOffer = serde_json::from_value(json!({
            "credential_issuer": "https://i.example",
            "credential_configuration_ids": ["x"],
            "grants": {"authorization_code": {"issuer_state": "s"}, "urn:example:other": {}},
            "extension": 1,
        }))
        .unwrap();
        assert!(o.pre_authorized_grant().is_none());
        assert_eq!(
            o.grants
                .unwrap()
                .authorization_code
                .unwrap()
                .issuer_state
                .as_deref(),
            Some("s")
        );
        let v = issuer_offer();
        let o: CredentialOffer = serde_json::from_value(v).unwrap();
        assert!(!format!("{o:?}").contains("code-1"));
    }

    #[test]
    fn required_members_and_known_input_modes_are_required() {
        let mut v = issuer_offer();
        v.as_object_mut().unwrap().remove("credential_issuer");
        assert!(serde_json::from_value::<CredentialOffer>(v).is_err());
        let mut v = issuer_offer();
        v["grants"][PRE_AUTH_GRANT]["tx_code"]["input_mode"] = json!("emoji");
        assert!(serde_json::from_value::<CredentialOffer>(v).is_err());
        let mut v = issuer_offer();
        v["grants"][PRE_AUTH_GRANT]
            .as_object_mut()
            .unwrap()
            .remove("pre-authorized_code");
        assert!(serde_json::from_value::<CredentialOffer>(v).is_err());
        let mut v = issuer_offer();
        v["grants"][PRE_AUTH_GRANT]["tx_code"]
            .as_object_mut()
            .unwrap()
            .remove("input_mode");
        let o: CredentialOffer = serde_json::from_value(v).unwrap();
        let tx = o.pre_authorized_grant().unwrap().tx_code.clone().unwrap();
        assert_eq!(tx.input_mode(), InputMode::Numeric, "numeric by default");
    }
}
