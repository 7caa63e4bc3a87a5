//! The OpenID4VCI pre-authorized code flow, client side, in the order
//! [`receive_offer`] runs it (see the [module documentation](super)).

use std::time::Duration;

use serde_json::Value;
use tongban_protocol::oid4vci::{
    AuthorizationServerMetadata, CredentialRequest, CredentialResponse, ErrorResponse,
    NonceResponse, PRE_AUTH_GRANT, ProofKeyForm, ResponseEncryptionRequest, TokenRequest,
    TokenResponse, WELL_KNOWN_AUTHORIZATION_SERVER, WELL_KNOWN_CREDENTIAL_ISSUER,
    WELL_KNOWN_JWT_VC_ISSUER, sign_attested_proof, sign_proof,
};
use tongban_verifier::jws::CompactJws;
use tongban_verifier::{AnySigner, CredentialInfo, InMemoryKeys, KeyWithId, PublicKey, Signer};

use crate::store::{CredentialCopy, HolderKey, MAX_BATCH};

use super::ReceiveError;
use super::authorization::{self, Granted};
use super::check::{Expected, check_credential};
use super::dpop::Dpop;
use super::http::{Client, Reply, oauth_error};
use super::jwe::{ResponseKey, encrypt_request};
use super::metadata::{RequestEncryption, configuration, parse_issuer_metadata, well_known_url};
use super::offer::{Offer, OfferRef, TxCode, parse_offer_uri};
use crate::attestation::StoredAttestation;

/// How the wallet talks to the user while receiving.
pub trait Interaction {
    /// One step done or begun, in plain words.
    fn progress(&mut self, message: &str);
    /// Asks for the PIN the offer requires; `None` when there is no one to
    /// ask (no terminal). An empty answer means the user gave up.
    fn ask_tx_code(&mut self, tx_code: &TxCode) -> Option<String>;
    /// Sends the citizen to the issuer's login at `url` (the authorization
    /// code flow): opens it in a browser, or shows it. The wallet then
    /// waits for the browser to come back.
    fn open_in_browser(&mut self, url: &str) {
        self.progress(&format!(
            "Log in at the issuer in your browser 请在浏览器中登录发证机构: {url}"
        ));
    }
}

/// The `client_id` the wallet uses with every authorization server.
pub const CLIENT_ID: &str = "tongban-wallet";

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
    /// The wallet's OAuth `client_id` (authorization code flow) when it has
    /// no wallet attestation; with one, the attestation's `sub` is used
    /// ([`Options::client_id`]).
    pub client_id: String,
    /// How long the citizen may take at the issuer's login.
    pub login_timeout: Duration,
    /// How many copies to ask for (OpenID4VCI batch issuance, each bound
    /// to a fresh key of its own): `None` for the issuer's `batch_size`
    /// up to [`MAX_BATCH`], one when it offers no batches. One copy is
    /// bound to the wallet's holder key.
    pub batch: Option<usize>,
    /// The wallet attestation (and key attester) to show the issuer, when
    /// the wallet has one: its headers go with the pushed authorization
    /// and token requests (a fresh proof of possession each), and a key
    /// attestation of the holder key in each key proof's header.
    pub attestation: Option<StoredAttestation>,
}

impl Options {
    /// Defaults: ask for the PIN, encrypt, https only, 20 s timeout, five
    /// minutes at the login, client id [`CLIENT_ID`], as many copies as
    /// the issuer offers (up to [`MAX_BATCH`]).
    pub fn new(now: i64) -> Options {
        Options {
            tx_code: None,
            encrypt: true,
            allow_http: false,
            now,
            timeout: Duration::from_secs(20),
            client_id: CLIENT_ID.to_owned(),
            login_timeout: Duration::from_secs(300),
            batch: None,
            attestation: None,
        }
    }

    /// The `client_id` to send: the wallet attestation's `sub` when the
    /// wallet has one (HAIP 1.0: the PAR request's `client_id` is that
    /// `sub`), else [`Options::client_id`].
    pub fn client_id(&self) -> &str {
        self.attestation
            .as_ref()
            .map_or(self.client_id.as_str(), |a| a.client_id.as_str())
    }
}

/// How many copies to ask for: `asked` (`--batch`), or the issuer's
/// `batch_size` up to [`MAX_BATCH`]; more than the issuer takes in one
/// request is refused before anything is spent.
pub fn batch_count(asked: Option<usize>, offered: Option<usize>) -> Result<usize, ReceiveError> {
    let offered = offered.filter(|n| *n >= 2).unwrap_or(1);
    match asked {
        None => Ok(offered.min(MAX_BATCH)),
        Some(0) => Err(ReceiveError::OfferUnsupported(
            "--batch must be at least 1".into(),
        )),
        Some(n) if n <= offered.min(MAX_BATCH) => Ok(n),
        Some(n) if n > MAX_BATCH => Err(ReceiveError::OfferUnsupported(format!(
            "--batch {n}: this wallet asks for at most {MAX_BATCH} copies at once"
        ))),
        Some(n) => Err(ReceiveError::OfferUnsupported(format!(
            "--batch {n}: the issuer issues at most {offered} cop{} in one request (its batch_credential_issuance)",
            if offered == 1 { "y" } else { "ies" }
        ))),
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
    /// The copies of a batch (two or more), each with the fresh key it is
    /// bound to, the first being [`Received::sd_jwt`]; empty when one
    /// credential was bound to the wallet's holder key.
    pub copies: Vec<CredentialCopy>,
    /// Where the issuer says the zone's trust list is published (its
    /// metadata's `tongban_trust_list_uri`); nothing is fetched from it
    /// here.
    pub trust_list_uri: Option<String>,
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

/// The key proof of `key`, with a key attestation of `key` in its header
/// when the wallet has a key attester (`opts.attestation`): each proof of a
/// batch carries one covering its own key, with the same `nonce`.
fn attested_key_proof(
    key: &dyn Signer,
    audience: &str,
    nonce: Option<&str>,
    opts: &Options,
) -> Result<String, ReceiveError> {
    match opts
        .attestation
        .as_ref()
        .and_then(|a| a.key_attestation(&key.public_key().to_jwk(), nonce, opts.now))
    {
        None => key_proof(key, audience, nonce, opts.now),
        Some(ka) => {
            let ka = ka.map_err(|e| ReceiveError::Signing(e.to_string()))?;
            sign_attested_proof(key, audience, nonce, opts.now, &ka)
                .map_err(|e| ReceiveError::Signing(e.to_string()))
        }
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
    let offer = resolve_offer(&Client::new(opts), offer_text)?;
    receive(offer, holder, ui, opts)
}

/// Runs the flow for a resolved `offer` (or a wallet-initiated request,
/// [`Offer::wallet_initiated`]).
pub fn receive(
    offer: Offer,
    holder: &dyn Signer,
    ui: &mut dyn Interaction,
    opts: &Options,
) -> Result<Received, ReceiveError> {
    let client = Client::new(opts);
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
    if offer.pre_authorized_code.is_some() && !as_meta.supports_grant(PRE_AUTH_GRANT) {
        return Err(ReceiveError::OfferUnsupported(
            "the authorization server does not support the pre-authorized code grant".into(),
        ));
    }
    let token_endpoint = as_meta.token_endpoint.clone().ok_or_else(|| {
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

    // How many copies, and their keys: the wallet's holder key for one,
    // a fresh key each for a batch (unlinkable presentations). Decided
    // before anything is spent.
    let count = batch_count(opts.batch, meta.batch_size)?;
    let fresh: Vec<HolderKey> = if count > 1 {
        (0..count)
            .map(|_| HolderKey::generate_like(holder))
            .collect()
    } else {
        Vec::new()
    };
    let fresh_signers: Vec<AnySigner> = fresh
        .iter()
        .map(HolderKey::signer)
        .collect::<Result<_, _>>()
        .map_err(|e| ReceiveError::Signing(e.to_string()))?;
    let signers: Vec<&dyn Signer> = if fresh_signers.is_empty() {
        vec![holder]
    } else {
        fresh_signers.iter().map(|s| s as &dyn Signer).collect()
    };
    if count > 1 {
        ui.progress(&format!(
            "Asking for {count} copies, each bound to a key of its own 申领{count}份副本，各用独立密钥"
        ));
    }

    // DPoP whenever the authorization server takes ES256 proofs.
    let mut dpop = as_meta
        .dpop_signing_alg_values_supported
        .as_ref()
        .is_some_and(|a| a.iter().any(|a| a == "ES256"))
        .then(|| Dpop::new(opts.now));

    // Token: with the PIN, or after the citizen's login; the wallet
    // attestation, when the wallet has one, with every request to the
    // authorization server.
    let granted = match &offer.pre_authorized_code {
        Some(code) => token(
            &client,
            &token_endpoint,
            &as_id,
            &offer,
            code,
            dpop.as_mut(),
            ui,
            opts,
        )?,
        None => {
            let scope = config.scope.clone().ok_or_else(|| {
                ReceiveError::MetadataInvalid(format!(
                    "configuration {:?} has no scope to ask for it with (HAIP 1.0 §4.1)",
                    config.id
                ))
            })?;
            authorization::authorize(
                &client,
                &as_id,
                &as_meta,
                &token_endpoint,
                &scope,
                &offer,
                dpop.as_mut(),
                ui,
                opts,
            )?
        }
    };
    let dpop = if granted.dpop_bound { dpop } else { None };
    let access_token = granted.access_token;

    // Nonce, key proofs (one nonce for all, §8.2) and the credential
    // request; once more with a fresh nonce if the issuer says the nonce
    // is stale (§8.3.1.2).
    client.check_url(&meta.credential_endpoint)?;
    let mut retried = false;
    let mut dpop = dpop;
    let (reply, response_key) = loop {
        let nonce = match &meta.nonce_endpoint {
            Some(url) => Some(fetch_nonce(&client, url, dpop.as_mut())?),
            None => None,
        };
        let proofs = signers
            .iter()
            .map(|s| attested_key_proof(*s, &iss, nonce.as_deref(), opts))
            .collect::<Result<Vec<_>, _>>()?;
        let request = CredentialRequest::with_jwt_proofs(config.id.clone(), proofs);
        let (reply, key) = request_credential(
            &client,
            &meta.credential_endpoint,
            &access_token,
            dpop.as_mut(),
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
    let issued = credentials(&body, signers.len())?;

    // Checks: every copy, against the key it is bound to.
    ui.progress("Verifying the credential 正在核验证照");
    let keys = issuer_keys(&client, &iss)?;
    let mut taken = vec![false; signers.len()];
    let mut infos = Vec::with_capacity(issued.len());
    let mut copies = Vec::with_capacity(issued.len());
    for sd_jwt in issued {
        let i = bound_key(&sd_jwt, &signers, &taken);
        taken[i] = true;
        let info = check_credential(
            &sd_jwt,
            &keys,
            &Expected {
                iss: Some(&iss),
                vct: Some(&config.vct),
                holder: &signers[i].public_key(),
            },
            opts.now,
        )?;
        infos.push(info);
        copies.push((sd_jwt, i));
    }
    let info = infos
        .into_iter()
        .next()
        .ok_or_else(|| ReceiveError::ResponseInvalid("no credential came back".into()))?;
    let sd_jwt = copies.first().map(|(s, _)| s.clone()).unwrap_or_default();
    let copies = if fresh.is_empty() {
        Vec::new()
    } else {
        copies
            .into_iter()
            .map(|(sd_jwt, i)| CredentialCopy {
                sd_jwt,
                key: fresh[i].clone(),
                presented: 0,
            })
            .collect()
    };
    Ok(Received {
        sd_jwt,
        info,
        configuration_id: config.id,
        issuer_name: meta.name,
        encrypted: response_key.is_some(),
        copies,
        trust_list_uri: meta.trust_list_uri,
    })
}

/// Which of the keys the proofs were signed with `sd_jwt` is bound to
/// (its `cnf.jwk`, read from the issuer JWT alone), each key taking one
/// credential at most (§8.3). A credential naming none of the keys still
/// left is given the first of them, so that [`check_credential`] says what
/// is wrong with it (`holder_key_mismatch`, or whatever fails first).
fn bound_key(sd_jwt: &str, signers: &[&dyn Signer], taken: &[bool]) -> usize {
    let cnf = sd_jwt
        .split('~')
        .next()
        .and_then(|jwt| CompactJws::parse(jwt, "credential").ok())
        .and_then(|jws| jws.payload.get("cnf")?.get("jwk").cloned())
        .and_then(|jwk| PublicKey::from_jwk(&jwk).ok());
    let free = |i: &usize| !taken.get(*i).copied().unwrap_or(true);
    (0..signers.len())
        .filter(free)
        .find(|i| cnf.as_ref() == Some(&signers[*i].public_key()))
        .or_else(|| (0..signers.len()).find(free))
        .unwrap_or_default()
}

/// Sends the credential request, encrypted to the issuer's key with a
/// fresh response key when `encryption` is set, plain JSON otherwise.
#[allow(clippy::too_many_arguments)]
fn request_credential(
    client: &Client,
    endpoint: &str,
    access_token: &str,
    mut dpop: Option<&mut Dpop>,
    encryption: Option<&(RequestEncryption, String)>,
    request: CredentialRequest,
    ui: &mut dyn Interaction,
) -> Result<(Reply, Option<ResponseKey>), ReceiveError> {
    let mut retried = false;
    loop {
        let (reply, key) = send_credential_request(
            client,
            endpoint,
            access_token,
            dpop.as_deref(),
            encryption,
            request.clone(),
            ui,
        )?;
        let asks = match dpop.as_deref_mut() {
            Some(d) => !retried && d.asks_for_nonce(&reply),
            None => false,
        };
        if !asks {
            return Ok((reply, key));
        }
        ui.progress("The issuer asks for a fresh DPoP nonce; trying once more");
        retried = true;
    }
}

/// One credential request: `Authorization: DPoP` with a proof over the
/// token when the token is DPoP-bound, else `Bearer`.
fn send_credential_request(
    client: &Client,
    endpoint: &str,
    access_token: &str,
    dpop: Option<&Dpop>,
    encryption: Option<&(RequestEncryption, String)>,
    mut request: CredentialRequest,
    ui: &mut dyn Interaction,
) -> Result<(Reply, Option<ResponseKey>), ReceiveError> {
    let post = match dpop {
        Some(d) => client
            .agent
            .post(endpoint)
            .set("Authorization", &format!("DPoP {access_token}"))
            .set("DPoP", &d.proof(endpoint, Some(access_token))?),
        None => client
            .agent
            .post(endpoint)
            .set("Authorization", &format!("Bearer {access_token}")),
    };
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
#[allow(clippy::too_many_arguments)]
fn token(
    client: &Client,
    endpoint: &str,
    authorization_server: &str,
    offer: &Offer,
    code: &str,
    mut dpop: Option<&mut Dpop>,
    ui: &mut dyn Interaction,
    opts: &Options,
) -> Result<Granted, ReceiveError> {
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
        let request = TokenRequest::pre_authorized(code.to_owned(), pin.clone());
        let reply = authorization::post_form(
            client,
            endpoint,
            &request.form_pairs(),
            dpop.as_deref_mut(),
            authorization_server,
            opts,
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
            return authorization::granted(t, dpop.is_some());
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

fn fetch_nonce(
    client: &Client,
    url: &str,
    dpop: Option<&mut Dpop>,
) -> Result<String, ReceiveError> {
    client.check_url(url)?;
    let reply = Client::finish(url, client.agent.post(url).call())?;
    if let Some(d) = dpop {
        d.observe(&reply);
    }
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

/// The credentials of a response: one to `asked` (an issuer may issue
/// fewer than the proofs sent, §8.3), each an SD-JWT string.
fn credentials(body: &CredentialResponse, asked: usize) -> Result<Vec<String>, ReceiveError> {
    if body.transaction_id.is_some() {
        return Err(ReceiveError::OfferUnsupported(
            "the issuer will issue this credential later (deferred issuance), which this wallet does not support yet".into(),
        ));
    }
    let list = body.credentials.as_deref().ok_or_else(|| {
        ReceiveError::ResponseInvalid("the credential response has no credentials".into())
    })?;
    if list.is_empty() || list.len() > asked {
        return Err(ReceiveError::ResponseInvalid(format!(
            "{} credentials came back for {asked} key proof(s)",
            list.len()
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            c.credential
                .as_str()
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| {
                    ReceiveError::ResponseInvalid(format!(
                        "credentials[{i}].credential is not an SD-JWT string"
                    ))
                })
        })
        .collect()
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

    #[test]
    fn the_batch_follows_the_issuer_within_the_wallets_cap() {
        assert_eq!(batch_count(None, None).unwrap(), 1, "no batches offered");
        assert_eq!(
            batch_count(None, Some(1)).unwrap(),
            1,
            "batch_size below 2 is none"
        );
        assert_eq!(batch_count(None, Some(5)).unwrap(), 5);
        assert_eq!(batch_count(None, Some(32)).unwrap(), MAX_BATCH);
        assert_eq!(batch_count(Some(3), Some(5)).unwrap(), 3);
        assert_eq!(batch_count(Some(1), None).unwrap(), 1);
        for (asked, offered) in [
            (Some(6), Some(5)),
            (Some(2), None),
            (Some(11), Some(32)),
            (Some(0), Some(5)),
        ] {
            let e = batch_count(asked, offered).unwrap_err();
            assert_eq!(e.code(), "offer_unsupported", "{asked:?} {offered:?}");
        }
    }
    use serde_json::json;
    use tongban_protocol::oid4vci::PROOF_TYP;
    use tongban_verifier::Ed25519Signer;

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
}
