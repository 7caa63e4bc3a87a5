//! Receiving a credential: the OpenID4VCI 1.0 pre-authorized and
//! authorization code flows (client side), with DPoP, and the checks every
//! received credential passes before the wallet stores it.
//!
//! The flow, in the order [`receive_offer`] runs it:
//!
//! 1. **Offer** (§4.1): an `openid-credential-offer://` URI carrying the
//!    offer by value (`credential_offer`) or by reference
//!    (`credential_offer_uri`), for one credential configuration: the
//!    pre-authorized code grant, or the authorization code grant (also
//!    without an offer, [`Offer::wallet_initiated`]).
//! 2. **Metadata**: the credential issuer's (§12.2.2, path insertion under
//!    `/.well-known/openid-credential-issuer`) and its authorization
//!    server's (RFC 8414 §3, `/.well-known/oauth-authorization-server`).
//!    Each must name itself exactly as the offer (or the issuer metadata)
//!    names it — §12.2.4 and RFC 8414 §3.3 — or the flow stops.
//! 3. **Authorization** (authorization code grant, `authorization`): the
//!    request pushed (RFC 9126) with PKCE `S256`, the configuration's
//!    `scope` and the offer's `issuer_state`; the citizen logs in at the
//!    issuer in the system browser (or opens the printed URL); the answer
//!    comes back to a loopback port (RFC 8252 §7.3) and its `state` and
//!    `iss` (RFC 9207) are checked; the code and PKCE verifier are
//!    exchanged for the access token.
//!    **DPoP** (`dpop`, RFC 9449): when the authorization server lists
//!    ES256 in `dpop_signing_alg_values_supported`, every token request and
//!    every use of the access token carries a proof by a fresh P-256 key,
//!    with the server's latest `DPoP-Nonce` (retried once when asked).
//!    **Token** (§6, pre-authorized code grant): the code and, when the offer asks for
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

mod authorization;
mod check;
mod dpop;
mod error;
mod flow;
mod http;
mod jwe;
mod metadata;
mod offer;

pub use check::{Expected, check_credential};
pub use error::{ReceiveError, printable};
pub use flow::{CLIENT_ID, Interaction, Options, Received, key_proof, receive, receive_offer};
pub use metadata::well_known_url;
pub use offer::{Offer, OfferRef, TxCode, parse_offer_uri};
