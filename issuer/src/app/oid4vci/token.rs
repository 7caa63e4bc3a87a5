//! The token endpoint (§6): the form-encoded token request read into a
//! [`TokenRequest`], the code (and PIN) exchanged, the answer a
//! [`TokenResponse`] or an OAuth error; and the nonce endpoint (§7).

use tongban_protocol::oid4vci::{
    ErrorResponse, NonceResponse, PRE_AUTH_GRANT, TokenRequest, TokenResponse,
};

use super::super::{Service, ServiceError};
use super::{CodeExchange, Oid4vciError, refused};

impl Service {
    /// A token request (§6.1) of the agency, its
    /// `application/x-www-form-urlencoded` body as sent: a pre-authorized
    /// code (and PIN) exchanged for a bearer access token.
    pub async fn token_request(
        &self,
        agency_id: &str,
        form: &[u8],
    ) -> Result<TokenResponse, Oid4vciError> {
        let request = parse_token_request(form)?;
        let exchange = self
            .exchange_code(
                agency_id,
                &request.pre_authorized_code,
                request.tx_code.as_deref(),
            )
            .await?;
        match exchange {
            CodeExchange::Granted {
                access_token,
                expires_in,
            } => Ok(TokenResponse {
                access_token,
                token_type: "Bearer".to_owned(),
                expires_in: u64::try_from(expires_in).ok(),
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

/// Reads a token request: no parameter twice, the pre-authorized code
/// grant, a non-empty code; an empty `tx_code` counts as none.
fn parse_token_request(form: &[u8]) -> Result<TokenRequest, Oid4vciError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded_pairs(form) {
        if params.iter().any(|(n, _)| *n == k) {
            return Err(refused(
                "invalid_request",
                format!("parameter {k} is repeated"),
            ));
        }
        params.push((k, v));
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match get("grant_type") {
        Some(PRE_AUTH_GRANT) => {}
        Some(g) => {
            return Err(refused(
                "unsupported_grant_type",
                format!("grant_type {g:?} is not supported; use {PRE_AUTH_GRANT}"),
            ));
        }
        None => return Err(refused("invalid_request", "grant_type is missing")),
    }
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
