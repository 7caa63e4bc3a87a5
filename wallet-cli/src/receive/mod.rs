//! Receiving a credential: the OpenID4VCI 1.0 pre-authorized code flow
//! (client side), and the checks every received credential passes before
//! the wallet stores it.
//!
//! The flow, in the order [`receive_offer`] runs it:
//!
//! 1. **Offer** (§4.1): an `openid-credential-offer://` URI carrying the
//!    offer by value (`credential_offer`) or by reference
//!    (`credential_offer_uri`). Only the pre-authorized code grant is
//!    supported, for one credential configuration.
//! 2. **Metadata**: the credential issuer's (§12.2.2, path insertion under
//!    `/.well-known/openid-credential-issuer`) and its authorization
//!    server's (RFC 8414 §3, `/.well-known/oauth-authorization-server`).
//!    Each must name itself exactly as the offer (or the issuer metadata)
//!    names it — §12.2.4 and RFC 8414 §3.3 — or the flow stops.
//! 3. **Token** (§6): the pre-authorized code and, when the offer asks for
//!    one, the `tx_code` (a PIN the agency sends the citizen by another
//!    channel). A PIN is checked against the offer's `input_mode` and
//!    `length` before it is sent, so a typing slip never costs one of the
//!    issuer's counted attempts.
//! 4. **Nonce** (§7) and **key proof** (Appendix F.1): an
//!    `openid4vci-proof+jwt` signed by the holder key, carrying the public
//!    key as `jwk`, `aud` = the credential issuer, `iat` and the nonce.
//! 5. **Credential** (§8): when the issuer publishes
//!    `credential_response_encryption`, the wallet asks for an encrypted
//!    response to a fresh P-256 key (ECDH-ES, §10) and — as §8.2 requires of
//!    such a request — encrypts the request itself to the issuer's key from
//!    `credential_request_encryption`. JWE is done by `josekit`, never by
//!    hand. Without encryption metadata, or with [`Options::encrypt`] off
//!    (refused when the issuer requires encryption), the request is plain
//!    JSON.
//! 6. **Checks** ([`check_credential`]): the credential is verified with
//!    [`tongban_verifier::verify`] against the keys the issuer publishes at
//!    `/.well-known/jwt-vc-issuer` (whose `issuer` must be the offer's
//!    credential issuer), its `iss` must be that issuer, its `vct` the
//!    offered configuration's, and its `cnf.jwk` this wallet's holder key.
//!    Anything else is refused and nothing is stored.
//!
//! Every URL the wallet contacts must be `https`, except on the loopback
//! interface (a demonstration issuer on the same machine) or when
//! [`Options::allow_http`] is set. Text from the issuer (error
//! descriptions, the PIN description) is stripped of control characters
//! before anyone prints it.

mod http;
mod jwe;
mod metadata;
mod offer;

use std::time::Duration;

use serde_json::Value;
use tongban_protocol::oid4vci::{
    AuthorizationServerMetadata, CredentialRequest, CredentialResponse, ErrorResponse,
    NonceResponse, PRE_AUTH_GRANT, ProofKeyForm, ResponseEncryptionRequest, TokenRequest,
    TokenResponse, WELL_KNOWN_AUTHORIZATION_SERVER, WELL_KNOWN_CREDENTIAL_ISSUER,
    WELL_KNOWN_JWT_VC_ISSUER, sign_proof,
};
use tongban_verifier::{
    CredentialInfo, InMemoryKeys, KeyResolver, KeyWithId, Policy, PublicKey, Signer, verify,
};

use http::{Client, Reply, oauth_error};
use jwe::{ResponseKey, encrypt_request};
pub use metadata::well_known_url;
use metadata::{RequestEncryption, configuration, parse_issuer_metadata};
pub use offer::{Offer, OfferRef, TxCode, parse_offer_uri};

/// Why a credential was not received. Each variant has a stable
/// [`code`](ReceiveError::code); [`is_refusal`](ReceiveError::is_refusal)
/// tells a refusal (by the issuer, or of the credential) from a usage,
/// network or protocol error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The text is not a credential offer, or the offer is malformed.
    #[error("not a usable credential offer: {0}")]
    OfferInvalid(String),
    /// A well-formed offer this wallet cannot take up.
    #[error("{0}")]
    OfferUnsupported(String),
    /// A URL that is neither https nor on this machine.
    #[error(
        "{0} is not https; refusing to send or trust anything over plain http (--allow-http for a test issuer)"
    )]
    InsecureUrl(String),
    /// The issuer could not be reached.
    #[error("cannot reach {url}: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The issuer's metadata is missing, malformed or inconsistent.
    #[error("the issuer's metadata is not usable: {0}")]
    MetadataInvalid(String),
    /// The offer needs a PIN and there is no terminal to ask for it.
    #[error(
        "this offer needs the PIN the agency sent separately: give it with --tx-code or TONGBAN_TX_CODE (no terminal to ask on)"
    )]
    TxCodeRequired,
    /// No PIN was entered at the prompt.
    #[error("no PIN entered; nothing was received")]
    TxCodeNotEntered,
    /// The PIN does not have the form the offer announces (not sent).
    #[error("the PIN was not sent: {0}")]
    TxCodeFormat(String),
    /// The issuer says the PIN is wrong, and how many attempts are left.
    #[error("the PIN is wrong; {remaining} attempt(s) left before the offer is locked")]
    TxCodeWrong {
        /// Attempts left.
        remaining: u32,
    },
    /// Too many wrong PINs: the issuer has locked the offer.
    #[error("too many wrong PINs: the issuer has locked this offer; ask the agency for a new one")]
    OfferLocked,
    /// The issuer refuses the offer's code (expired, used or unknown).
    #[error("the issuer no longer accepts this offer ({0}); ask the agency for a new one")]
    OfferRejected(String),
    /// The issuer answered an error not covered above.
    #[error("the issuer's {endpoint} endpoint refused the request: {error}: {description}")]
    IssuerError {
        /// `token`, `nonce` or `credential`.
        endpoint: &'static str,
        /// The OAuth `error` code (or `http_<status>`).
        error: String,
        /// The issuer's `error_description`.
        description: String,
    },
    /// The issuer's answer is malformed or not what the protocol says.
    #[error("the issuer's answer is not usable: {0}")]
    ResponseInvalid(String),
    /// Encrypting the request or decrypting the response failed.
    #[error("encryption: {0}")]
    Encryption(String),
    /// The holder key could not sign the proof.
    #[error("the holder key could not sign the key proof: {0}")]
    Signing(String),
    /// The received credential does not pass the checks.
    #[error("the credential does not verify: {reason} — {detail}")]
    Refused {
        /// A stable code: a verifier error code (`signature_invalid`,
        /// `disclosure_unreferenced`, …) or `issuer_mismatch`,
        /// `vct_mismatch`, `holder_key_mismatch`.
        reason: String,
        /// What exactly, in English.
        detail: String,
    },
}

impl ReceiveError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiveError::OfferInvalid(_) => "offer_invalid",
            ReceiveError::OfferUnsupported(_) => "offer_unsupported",
            ReceiveError::InsecureUrl(_) => "insecure_url",
            ReceiveError::Unreachable { .. } => "issuer_unreachable",
            ReceiveError::MetadataInvalid(_) => "issuer_metadata_invalid",
            ReceiveError::TxCodeRequired => "tx_code_required",
            ReceiveError::TxCodeNotEntered => "tx_code_not_entered",
            ReceiveError::TxCodeFormat(_) => "tx_code_format",
            ReceiveError::TxCodeWrong { .. } => "tx_code_wrong",
            ReceiveError::OfferLocked => "offer_locked",
            ReceiveError::OfferRejected(_) => "offer_rejected",
            ReceiveError::IssuerError { .. } => "issuer_error",
            ReceiveError::ResponseInvalid(_) => "issuer_response_invalid",
            ReceiveError::Encryption(_) => "encryption_failed",
            ReceiveError::Signing(_) => "signing_failed",
            ReceiveError::Refused { .. } => "credential_refused",
        }
    }

    /// Whether this is a refusal — of the credential by the wallet, or of
    /// the offer or PIN by the issuer — rather than a usage, network or
    /// protocol error.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ReceiveError::Refused { .. }
                | ReceiveError::TxCodeWrong { .. }
                | ReceiveError::TxCodeNotEntered
                | ReceiveError::OfferLocked
                | ReceiveError::OfferRejected(_)
        )
    }

    /// For a refused credential, the precise reason code.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ReceiveError::Refused { reason, .. } => Some(reason),
            _ => None,
        }
    }

    fn refused(reason: &str, detail: impl Into<String>) -> Self {
        ReceiveError::Refused {
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

/// Text from the network, made safe to print: no control characters (no
/// terminal escapes), at most 300 characters.
pub fn printable(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > 300 {
        clean.chars().take(300).collect::<String>() + "…"
    } else {
        clean
    }
}

/// How the wallet talks to the user while receiving.
pub trait Interaction {
    /// One step done or begun, in plain words.
    fn progress(&mut self, message: &str);
    /// Asks for the PIN the offer requires; `None` when there is no one to
    /// ask (no terminal). An empty answer means the user gave up.
    fn ask_tx_code(&mut self, tx_code: &TxCode) -> Option<String>;
}

/// Choices for [`receive_offer`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The PIN given in advance (`--tx-code`, `TONGBAN_TX_CODE`). When
    /// given, a wrong PIN ends the flow; when not, the user is asked, and
    /// asked again after a wrong PIN while the issuer allows attempts.
    pub tx_code: Option<String>,
    /// Ask for an encrypted response whenever the issuer supports it
    /// (default). Off: plain JSON, refused if the issuer requires
    /// encryption.
    pub encrypt: bool,
    /// Accept plain-http URLs off the loopback interface.
    pub allow_http: bool,
    /// The time of checking (Unix seconds).
    pub now: i64,
    /// HTTP timeout.
    pub timeout: Duration,
}

impl Options {
    /// Defaults: ask for the PIN, encrypt, https only, 20 s timeout.
    pub fn new(now: i64) -> Options {
        Options {
            tx_code: None,
            encrypt: true,
            allow_http: false,
            now,
            timeout: Duration::from_secs(20),
        }
    }
}

/// A received, verified credential, ready to store.
#[derive(Debug, Clone)]
pub struct Received {
    /// The issued SD-JWT with every disclosure.
    pub sd_jwt: String,
    /// What the credential says about itself (verified).
    pub info: CredentialInfo,
    /// The configuration id it was issued under.
    pub configuration_id: String,
    /// The issuer's display names (zh, en), when its metadata has them.
    pub issuer_name: Option<String>,
    /// Whether the credential response was encrypted.
    pub encrypted: bool,
}

/// The number of attempts left, from a description such as "the tx_code is
/// wrong; 4 attempt(s) left" (OAuth has no member for it).
fn attempts_left(description: &str) -> Option<u32> {
    let words: Vec<&str> = description.split_whitespace().collect();
    let at = words.iter().position(|w| w.starts_with("attempt"))?;
    words.get(at.checked_sub(1)?)?.parse().ok()
}

/// The key proof JWT (Appendix F.1): the public key in `jwk`, no `kid`.
pub fn key_proof(
    holder: &dyn Signer,
    audience: &str,
    nonce: Option<&str>,
    iat: i64,
) -> Result<String, ReceiveError> {
    sign_proof(holder, ProofKeyForm::Jwk, audience, nonce, iat)
        .map_err(|e| ReceiveError::Signing(e.to_string()))
}

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

/// Reads an offer given as text: the URI itself, or a file holding it.
/// (QR images are decoded by the caller.)
fn resolve_offer(client: &Client, text: &str) -> Result<Offer, ReceiveError> {
    match parse_offer_uri(text)? {
        OfferRef::Value(o) => Ok(o),
        OfferRef::Uri(uri) => {
            let v = client.get_json(&uri, |d| {
                ReceiveError::OfferInvalid(format!("fetching the offer by reference: {d}"))
            })?;
            Offer::from_json(&Value::Object(v))
        }
    }
}

/// Runs the pre-authorized code flow for the offer in `offer_text` with
/// `holder` as the key to bind the credential to, and returns the
/// credential once it has passed [`check_credential`].
pub fn receive_offer(
    offer_text: &str,
    holder: &dyn Signer,
    ui: &mut dyn Interaction,
    opts: &Options,
) -> Result<Received, ReceiveError> {
    let client = Client::new(opts);
    let offer = resolve_offer(&client, offer_text)?;
    let iss = offer.credential_issuer.clone();
    client.check_url(&iss)?;
    let [config_id] = offer.credential_configuration_ids.as_slice() else {
        return Err(ReceiveError::OfferUnsupported(format!(
            "the offer is for {} credentials at once; this wallet receives one offer per credential",
            offer.credential_configuration_ids.len()
        )));
    };

    // Metadata.
    ui.progress(&format!(
        "Fetching the issuer's metadata 获取发证机构信息: {iss}"
    ));
    let meta_url = well_known_url(&iss, WELL_KNOWN_CREDENTIAL_ISSUER)?;
    let meta = parse_issuer_metadata(
        &client.get_json(&meta_url, ReceiveError::MetadataInvalid)?,
        &iss,
    )?;
    let alg = holder.algorithm().as_str();
    let config = configuration(&meta, config_id, alg)?;
    let as_id = match (
        &offer.authorization_server,
        meta.authorization_servers.as_slice(),
    ) {
        (Some(a), list) if list.contains(a) => a.clone(),
        (Some(a), _) => {
            return Err(ReceiveError::OfferInvalid(format!(
                "the grant names the authorization server {a:?}, which the issuer's metadata does not list"
            )));
        }
        (None, [first, ..]) => first.clone(),
        (None, []) => iss.clone(),
    };
    client.check_url(&as_id)?;
    let as_meta: AuthorizationServerMetadata =
        serde_json::from_value(Value::Object(client.get_json(
            &well_known_url(&as_id, WELL_KNOWN_AUTHORIZATION_SERVER)?,
            ReceiveError::MetadataInvalid,
        )?))
        .map_err(|e| {
            ReceiveError::MetadataInvalid(format!(
                "the authorization server metadata is not usable ({e})"
            ))
        })?;
    if as_meta.issuer != as_id {
        return Err(ReceiveError::MetadataInvalid(format!(
            "the authorization server metadata names the issuer {:?}, not {as_id:?} (RFC 8414 §3.3)",
            as_meta.issuer
        )));
    }
    if !as_meta.supports_grant(PRE_AUTH_GRANT) {
        return Err(ReceiveError::OfferUnsupported(
            "the authorization server does not support the pre-authorized code grant".into(),
        ));
    }
    let token_endpoint = as_meta.token_endpoint.ok_or_else(|| {
        ReceiveError::MetadataInvalid(
            "the authorization server metadata has no token_endpoint".into(),
        )
    })?;
    ui.progress(&format!(
        "Offered 待领取: {} — from 发证机构 {}",
        config.name.as_deref().unwrap_or(&config.vct),
        meta.name.as_deref().unwrap_or(&iss)
    ));

    // Encryption choice, before anything is spent.
    let encryption = match (&meta.request_encryption, &meta.response_enc) {
        (Some(req), Some(enc)) if opts.encrypt => Some((req.clone(), enc.clone())),
        _ if meta.encryption_required && !opts.encrypt => {
            return Err(ReceiveError::OfferUnsupported(
                "the issuer requires an encrypted credential response; drop --no-encryption".into(),
            ));
        }
        _ if meta.encryption_required => {
            return Err(ReceiveError::MetadataInvalid(
                "the issuer requires encryption but publishes no key and algorithms this wallet can use (ECDH-ES on P-256, A128GCM or A256GCM)".into(),
            ));
        }
        _ => None,
    };

    // Token, with the PIN.
    let access_token = token(&client, &token_endpoint, &offer, ui, opts)?;

    // Nonce, key proof and the credential request; once more with a fresh
    // nonce if the issuer says the nonce is stale (§8.3.1.2).
    client.check_url(&meta.credential_endpoint)?;
    let mut retried = false;
    let (reply, response_key) = loop {
        let nonce = match &meta.nonce_endpoint {
            Some(url) => Some(fetch_nonce(&client, url)?),
            None => None,
        };
        let proof = key_proof(holder, &iss, nonce.as_deref(), opts.now)?;
        let request = CredentialRequest::with_jwt_proof(config.id.clone(), proof);
        let (reply, key) = request_credential(
            &client,
            &meta.credential_endpoint,
            &access_token,
            encryption.as_ref(),
            request,
            ui,
        )?;
        if !retried
            && nonce.is_some()
            && reply.status == 400
            && oauth_error(&reply).0 == "invalid_nonce"
        {
            ui.progress("The issuer asks for a fresh nonce; trying once more 重新申领");
            retried = true;
            continue;
        }
        break (reply, key);
    };
    let body = credential_response(&reply, response_key.as_ref())?;
    let sd_jwt = single_credential(&body)?;

    // Checks.
    ui.progress("Verifying the credential 正在核验证照");
    let keys = issuer_keys(&client, &iss)?;
    let info = check_credential(
        &sd_jwt,
        &keys,
        &Expected {
            iss: Some(&iss),
            vct: Some(&config.vct),
            holder: &holder.public_key(),
        },
        opts.now,
    )?;
    Ok(Received {
        sd_jwt,
        info,
        configuration_id: config.id,
        issuer_name: meta.name,
        encrypted: response_key.is_some(),
    })
}

/// Sends the credential request, encrypted to the issuer's key with a
/// fresh response key when `encryption` is set, plain JSON otherwise.
fn request_credential(
    client: &Client,
    endpoint: &str,
    access_token: &str,
    encryption: Option<&(RequestEncryption, String)>,
    mut request: CredentialRequest,
    ui: &mut dyn Interaction,
) -> Result<(Reply, Option<ResponseKey>), ReceiveError> {
    let post = client
        .agent
        .post(endpoint)
        .set("Authorization", &format!("Bearer {access_token}"));
    match encryption {
        Some((to, enc)) => {
            ui.progress("Requesting the credential, encrypted 正在加密申领证照");
            let key = ResponseKey::generate(enc)?;
            request.credential_response_encryption = Some(ResponseEncryptionRequest {
                jwk: key.public.clone(),
                enc: enc.clone(),
                zip: None,
            });
            let jwe = encrypt_request(to, request_json(&request)?.as_bytes())?;
            let reply = Client::finish(
                endpoint,
                post.set("Content-Type", "application/jwt")
                    .send_string(&jwe),
            )?;
            Ok((reply, Some(key)))
        }
        None => {
            ui.progress(
                "Requesting the credential (response not encrypted) 正在申领证照（响应未加密）",
            );
            let reply = Client::finish(
                endpoint,
                post.set("Content-Type", "application/json")
                    .send_string(&request_json(&request)?),
            )?;
            Ok((reply, None))
        }
    }
}

/// The credential request as JSON text.
fn request_json(request: &CredentialRequest) -> Result<String, ReceiveError> {
    serde_json::to_string(request).map_err(|e| {
        ReceiveError::ResponseInvalid(format!("the credential request cannot be written: {e}"))
    })
}

/// The token request, asking for the PIN (again) as the offer and the
/// issuer's answers require.
fn token(
    client: &Client,
    endpoint: &str,
    offer: &Offer,
    ui: &mut dyn Interaction,
    opts: &Options,
) -> Result<String, ReceiveError> {
    client.check_url(endpoint)?;
    let scripted = opts.tx_code.is_some();
    if offer.tx_code.is_none() && scripted {
        ui.progress("This offer needs no PIN; the given one is not used 此证照无需数字码");
    }
    // Typing slips (wrong form) are caught before sending and do not count;
    // give up after a few in a row.
    let mut slips = 0;
    loop {
        let pin = match &offer.tx_code {
            None => None,
            Some(spec) => {
                let pin = match &opts.tx_code {
                    Some(p) => p.trim().to_owned(),
                    None => ui
                        .ask_tx_code(spec)
                        .ok_or(ReceiveError::TxCodeRequired)?
                        .trim()
                        .to_owned(),
                };
                if pin.is_empty() && !scripted {
                    return Err(ReceiveError::TxCodeNotEntered);
                }
                if let Err(why) = spec.check(&pin) {
                    slips += 1;
                    if scripted || slips >= 3 {
                        return Err(ReceiveError::TxCodeFormat(why));
                    }
                    ui.progress(&format!("{why}; try again 格式不对，请重新输入"));
                    continue;
                }
                Some(pin)
            }
        };
        ui.progress("Redeeming the offer 正在兑换证照领取码");
        let request = TokenRequest::pre_authorized(offer.pre_authorized_code.clone(), pin.clone());
        let reply = Client::finish(
            endpoint,
            client.agent.post(endpoint).send_form(&request.form_pairs()),
        )?;
        if reply.status == 200 {
            let v: Value = serde_json::from_str(&reply.body).map_err(|_| {
                ReceiveError::ResponseInvalid("the token response is not JSON".into())
            })?;
            let t: TokenResponse = serde_json::from_value(v).map_err(|e| {
                ReceiveError::ResponseInvalid(format!(
                    "the token response has no usable access_token and token_type ({e})"
                ))
            })?;
            if !t.is_bearer() {
                return Err(ReceiveError::ResponseInvalid(format!(
                    "token_type {:?} is not Bearer (DPoP is not supported)",
                    printable(&t.token_type)
                )));
            }
            if t.access_token.is_empty() {
                return Err(ReceiveError::ResponseInvalid(
                    "the token response has no access_token".into(),
                ));
            }
            return Ok(t.access_token);
        }
        // OAuth has one error for all three (RFC 6749 §5.2 invalid_grant);
        // the description tells a wrong PIN (with the attempts left) and a
        // locked offer from a spent or expired code. An issuer that does
        // not say gets its description shown as is.
        let (error, description) = oauth_error(&reply);
        // Tongban issuers say how many attempts are left in an extension
        // member; other issuers may only say it in the description.
        let member = serde_json::from_str::<ErrorResponse>(&reply.body)
            .ok()
            .and_then(|e| e.tx_code_attempts_remaining);
        let left = member
            .or_else(|| attempts_left(&description))
            .filter(|_| pin.is_some());
        let e = match (error.as_str(), left) {
            ("invalid_grant", Some(0)) => ReceiveError::OfferLocked,
            ("invalid_grant", _) if description.contains("locked") => ReceiveError::OfferLocked,
            ("invalid_grant", Some(remaining)) => ReceiveError::TxCodeWrong { remaining },
            ("invalid_grant", None) => ReceiveError::OfferRejected(description),
            _ => ReceiveError::IssuerError {
                endpoint: "token",
                error,
                description,
            },
        };
        match e {
            ReceiveError::TxCodeWrong { remaining: n @ 1.. } if !scripted => {
                ui.progress(&format!(
                    "The PIN is wrong; {n} attempt(s) left 数字码错误，还可尝试{n}次"
                ));
                slips = 0;
            }
            e => return Err(e),
        }
    }
}

fn fetch_nonce(client: &Client, url: &str) -> Result<String, ReceiveError> {
    client.check_url(url)?;
    let reply = Client::finish(url, client.agent.post(url).call())?;
    if reply.status != 200 {
        let (error, description) = oauth_error(&reply);
        return Err(ReceiveError::IssuerError {
            endpoint: "nonce",
            error,
            description,
        });
    }
    serde_json::from_str::<NonceResponse>(&reply.body)
        .map(|n| n.c_nonce)
        .map_err(|_| ReceiveError::ResponseInvalid("the nonce response has no c_nonce".into()))
}

/// The credential response as JSON, decrypted when it was encrypted.
fn credential_response(
    reply: &Reply,
    key: Option<&ResponseKey>,
) -> Result<CredentialResponse, ReceiveError> {
    match reply.status {
        200 => {}
        202 => {
            return Err(ReceiveError::OfferUnsupported(
                "the issuer will issue this credential later (deferred issuance), which this wallet does not support yet".into(),
            ));
        }
        _ => {
            let (error, description) = oauth_error(reply);
            return Err(ReceiveError::IssuerError {
                endpoint: "credential",
                error,
                description,
            });
        }
    }
    let bytes = match key {
        Some(k) => {
            if reply.content_type != "application/jwt" {
                return Err(ReceiveError::Encryption(format!(
                    "an encrypted response was asked for, but the issuer answered {:?}",
                    reply.content_type
                )));
            }
            k.decrypt(&reply.body)?
        }
        None => reply.body.clone().into_bytes(),
    };
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|_| ReceiveError::ResponseInvalid("the credential response is not JSON".into()))?;
    serde_json::from_value(v).map_err(|e| {
        ReceiveError::ResponseInvalid(format!("the credential response is malformed ({e})"))
    })
}

fn single_credential(body: &CredentialResponse) -> Result<String, ReceiveError> {
    if body.transaction_id.is_some() {
        return Err(ReceiveError::OfferUnsupported(
            "the issuer will issue this credential later (deferred issuance), which this wallet does not support yet".into(),
        ));
    }
    let list = body.credentials.as_deref().ok_or_else(|| {
        ReceiveError::ResponseInvalid("the credential response has no credentials".into())
    })?;
    match list {
        [one] => one
            .credential
            .as_str()
            .map(|s| s.trim().to_owned())
            .ok_or_else(|| {
                ReceiveError::ResponseInvalid(
                    "credentials[0].credential is not an SD-JWT string".into(),
                )
            }),
        other => Err(ReceiveError::ResponseInvalid(format!(
            "{} credentials came back for one key proof",
            other.len()
        ))),
    }
}

/// The issuer's signing keys from its SD-JWT VC issuer metadata
/// (`/.well-known/jwt-vc-issuer`, inline `jwks` or `jwks_uri`), trusted
/// for credentials whose `iss` is `iss` only. Keys this wallet cannot use
/// (other curves, encryption keys) are skipped.
fn issuer_keys(client: &Client, iss: &str) -> Result<InMemoryKeys, ReceiveError> {
    let url = well_known_url(iss, WELL_KNOWN_JWT_VC_ISSUER)?;
    let m = client.get_json(&url, ReceiveError::MetadataInvalid)?;
    if m.get("issuer").and_then(Value::as_str) != Some(iss) {
        return Err(ReceiveError::MetadataInvalid(format!(
            "{url} names the issuer {:?}, not {iss:?}",
            m.get("issuer")
        )));
    }
    let jwks = match (m.get("jwks"), m.get("jwks_uri").and_then(Value::as_str)) {
        (Some(j), None) => j.clone(),
        (None, Some(uri)) => Value::Object(client.get_json(uri, ReceiveError::MetadataInvalid)?),
        _ => {
            return Err(ReceiveError::MetadataInvalid(format!(
                "{url} must carry exactly one of jwks and jwks_uri"
            )));
        }
    };
    let mut keys = InMemoryKeys::new();
    for k in jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if k.get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        if let Ok(key) = KeyWithId::from_jwk(k) {
            keys.add_issuer_key(iss, key);
        }
    }
    if keys.is_empty() {
        return Err(ReceiveError::MetadataInvalid(format!(
            "{url} publishes no signing key this wallet can use"
        )));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;
    use tongban_protocol::oid4vci::PROOF_TYP;
    use tongban_verifier::encoding::b64_encode;
    use tongban_verifier::{CredentialBuilder, Ed25519Signer};

    #[test]
    fn attempts_left_is_read_from_the_description() {
        assert_eq!(
            attempts_left("the tx_code is wrong; 4 attempt(s) left"),
            Some(4)
        );
        assert_eq!(attempts_left("1 attempt left"), Some(1));
        assert_eq!(attempts_left("wrong"), None);
        assert_eq!(attempts_left("attempts exhausted"), None);
    }

    #[test]
    fn the_key_proof_carries_the_holder_key_and_verifies() {
        let holder = Ed25519Signer::from_seed(&[7; 32], None);
        let jwt = key_proof(&holder, "https://i.example/a", Some("n-1"), 1_800_000_000).unwrap();
        let jws = tongban_verifier::jws::CompactJws::parse(&jwt, "proof").unwrap();
        assert_eq!(jws.header["typ"], PROOF_TYP);
        assert_eq!(jws.header["alg"], "EdDSA");
        assert_eq!(jws.header["jwk"], holder.public_key().to_jwk());
        assert!(!jws.header.contains_key("kid"));
        assert_eq!(
            jws.payload,
            json!({"aud": "https://i.example/a", "iat": 1_800_000_000, "nonce": "n-1"})
                .as_object()
                .cloned()
                .unwrap()
        );
        assert!(holder.public_key().verify(
            tongban_verifier::keys::Algorithm::EdDsa,
            jws.signing_input.as_bytes(),
            &jws.signature
        ));
    }

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
