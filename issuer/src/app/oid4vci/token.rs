//! The token endpoint (§6): the form-encoded token request, its DPoP
//! proof checked, the grant dispatched — the pre-authorized code (and PIN)
//! here, the authorization code in [`super::authorize`] — the answer a
//! [`TokenResponse`] or an OAuth error; and the nonce endpoint (§7).

use tongban_protocol::oid4vci::{
    ErrorResponse, NonceResponse, PRE_AUTH_GRANT, TokenRequest, TokenResponse,
};

use super::super::{AgencyRuntime, Service, ServiceError};
use super::authorize::GRANT;
use super::dpop::DpopAt;
use super::{CodeExchange, Oid4vciError, refused};

impl Service {
    /// A token request (§6.1) of the agency, its
    /// `application/x-www-form-urlencoded` body as sent and its `DPoP`
    /// header's proof: a pre-authorized code (and PIN), or an
    /// authorization code (and PKCE verifier), exchanged for an access
    /// token — bound to the proof's key when there is a proof
    /// (`token_type` `DPoP`), else a bearer token.
    pub async fn token_request(
        &self,
        rt: &AgencyRuntime,
        form: &[u8],
        dpop_proof: Option<&str>,
    ) -> Result<TokenResponse, Oid4vciError> {
        let agency_id = rt.agency.id.as_str();
        let pairs = form_urlencoded_pairs(form);
        // The proof first: a missing nonce costs the wallet a retry, never
        // its code.
        let jkt = self.check_dpop_proof(
            agency_id,
            &format!("{}/token", rt.agency.iss),
            dpop_proof,
            DpopAt::AuthorizationServer,
        )?;
        if jkt.is_none() && self.config.authorization.dpop_required {
            return Err(self.dpop_missing(agency_id, DpopAt::AuthorizationServer));
        }
        if grant_type(&pairs)? == GRANT {
            return self.authorization_code_token(rt, &pairs, jkt).await;
        }
        let request = parse_token_request(&pairs)?;
        let exchange = self
            .exchange_code(
                agency_id,
                &request.pre_authorized_code,
                request.tx_code.as_deref(),
                jkt.as_deref(),
            )
            .await?;
        match exchange {
            CodeExchange::Granted {
                access_token,
                expires_in,
            } => Ok(TokenResponse {
                access_token,
                token_type: if jkt.is_some() { "DPoP" } else { "Bearer" }.to_owned(),
                expires_in: u64::try_from(expires_in).ok(),
                authorization_details: None,
            }),
            CodeExchange::InvalidCode => Err(refused(
                "invalid_grant",
                "the pre-authorized code is unknown, expired or already used",
            )),
            CodeExchange::TxCodeMissing => Err(refused(
                "invalid_request",
                "this offer requires tx_code (the PIN sent separately)",
            )),
            CodeExchange::WrongTxCode { remaining } => Err(Oid4vciError::Refused(ErrorResponse {
                tx_code_attempts_remaining: u32::try_from(remaining).ok(),
                ..ErrorResponse::new(
                    "invalid_grant",
                    format!("the tx_code is wrong; {remaining} attempt(s) left"),
                )
            })),
            CodeExchange::Locked => Err(Oid4vciError::Refused(ErrorResponse {
                tx_code_attempts_remaining: Some(0),
                ..ErrorResponse::new(
                    "invalid_grant",
                    "too many wrong tx_code attempts; the offer is locked, ask the agency for a new one",
                )
            })),
        }
    }

    /// A nonce request (§7): a fresh single-use `c_nonce` of the agency.
    pub async fn nonce_request(&self, agency_id: &str) -> Result<NonceResponse, ServiceError> {
        Ok(NonceResponse {
            c_nonce: self.new_nonce(agency_id).await?,
        })
    }
}

/// The `grant_type`: present once, one of the two grants.
fn grant_type(pairs: &[(String, String)]) -> Result<&str, Oid4vciError> {
    let mut found = pairs.iter().filter(|(k, _)| k == "grant_type");
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(refused(
            "invalid_request",
            "parameter grant_type is repeated",
        ));
    }
    match first {
        Some(g @ (PRE_AUTH_GRANT | GRANT)) => Ok(g),
        Some(g) => Err(refused(
            "unsupported_grant_type",
            format!("grant_type {g:?} is not supported; use {PRE_AUTH_GRANT} or {GRANT}"),
        )),
        None => Err(refused("invalid_request", "grant_type is missing")),
    }
}

/// Reads a pre-authorized code token request: no parameter twice, a
/// non-empty code; an empty `tx_code` counts as none.
fn parse_token_request(pairs: &[(String, String)]) -> Result<TokenRequest, Oid4vciError> {
    let mut params: Vec<(&str, &str)> = Vec::new();
    for (k, v) in pairs {
        if params.iter().any(|(n, _)| n == k) {
            return Err(refused(
                "invalid_request",
                format!("parameter {k} is repeated"),
            ));
        }
        params.push((k, v));
    }
    let get = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let code = get("pre-authorized_code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| refused("invalid_request", "pre-authorized_code is missing"))?;
    let tx_code = get("tx_code").filter(|t| !t.is_empty());
    Ok(TokenRequest::pre_authorized(
        code,
        tx_code.map(str::to_owned),
    ))
}

/// Decodes `application/x-www-form-urlencoded` pairs.
pub(super) fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let plus: Vec<u8> = s
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8_lossy()
            .into_owned()
    }
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}
