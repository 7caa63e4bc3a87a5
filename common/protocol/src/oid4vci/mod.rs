//! OpenID for Verifiable Credential Issuance 1.0 (OpenID4VCI), the
//! pre-authorized code flow Tongban runs: the messages as serde types, the
//! constants both sides must agree on, and the key proof.
//!
//! Section numbers are those of OpenID4VCI 1.0; RFC 8414 is OAuth
//! authorization server metadata.

mod attestation;
mod credential;
mod error;
mod metadata;
mod offer;
mod proof;
mod token;

pub use attestation::{
    ATTACK_POTENTIAL_RESISTANCE, ATTEST_JWT_CLIENT_AUTH, CLIENT_ATTESTATION_HEADER,
    CLIENT_ATTESTATION_POP_HEADER, CLIENT_ATTESTATION_POP_TYP, CLIENT_ATTESTATION_TYP,
    ClientAttestationPopClaims, KEY_ATTESTATION_HEADER, KEY_ATTESTATION_TYP, KeyAttestationClaims,
    KeyAttestationsRequired, PROOF_TYPE_ATTESTATION, sign_client_attestation_pop,
    sign_key_attestation, sign_x5c_jwt, x5c_value,
};
pub use credential::{
    CredentialRequest, CredentialResponse, DraftProof, IssuedCredential, ProofSelectError, Proofs,
    ResponseEncryptionRequest,
};
pub use error::ErrorResponse;
pub use metadata::BatchCredentialIssuance;
pub use metadata::{
    AuthorizationServerMetadata, ClaimDescription, CredentialConfiguration,
    CredentialIssuerMetadata, CredentialMetadata, Display, Jwks, ProofTypeMetadata,
    RequestEncryptionMetadata, ResponseEncryptionMetadata,
};
pub use offer::{
    AuthorizationCodeGrant, CredentialOffer, Grants, InputMode, PreAuthorizedCodeGrant, TxCode,
};
pub use proof::{
    ExpectedNonce, IatWindow, ProofError, ProofKey, ProofKeyForm, check_proof, sign_attested_proof,
    sign_proof,
};
pub use token::{GrantedAuthorizationDetail, NonceResponse, TokenRequest, TokenResponse};

/// The URI scheme of a credential offer (§4.1.3), without `://`.
pub const OFFER_SCHEME: &str = "openid-credential-offer";
/// What a credential offer URI starts with (§4.1.3).
pub const OFFER_URI_PREFIX: &str = "openid-credential-offer://";
/// The query parameter of an offer passed by value (§4.1).
pub const OFFER_PARAM: &str = "credential_offer";
/// The query parameter of an offer passed by reference (§4.1).
pub const OFFER_URI_PARAM: &str = "credential_offer_uri";
/// The pre-authorized code grant type (§3.5, §4.1.1, §6.1).
pub const PRE_AUTH_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The authorization code grant's key in an offer's `grants` (§4.1.1).
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";
/// `typ` of a key proof JWT (Appendix F.1).
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The proof type of a JWT key proof (`proofs.jwt`, Appendix F.1).
pub const PROOF_TYPE_JWT: &str = "jwt";
/// Proof signing algorithms Tongban accepts, as issuers advertise them in
/// `proof_signing_alg_values_supported`: every algorithm the verifier
/// library verifies ([`Algorithm::all`](tongban_verifier::keys::Algorithm::all):
/// `EdDSA`, the fully specified `Ed25519` of RFC 9864, `ES256`, and
/// `SM2SM3` for SM2 holder keys, `specs/credential-format.md` §9), so the
/// list a wallet reads is the set the proof check accepts.
pub fn proof_signing_algs() -> Vec<&'static str> {
    tongban_verifier::keys::Algorithm::all()
        .iter()
        .map(|a| a.as_str())
        .collect()
}
/// The credential format Tongban issues and holds: SD-JWT VC.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// The key agreement algorithm of encrypted requests and responses (§10).
pub const KEY_AGREEMENT: &str = "ECDH-ES";
/// Content encryption algorithms Tongban supports for requests and
/// responses (§10), in the wallet's order of preference.
pub const ENC_VALUES: [&str; 2] = ["A128GCM", "A256GCM"];
/// The media type of an encrypted request or response (a compact JWE).
pub const JWT_MEDIA_TYPE: &str = "application/jwt";
/// The `well-known` suffix of credential issuer metadata (§12.2.2).
pub const WELL_KNOWN_CREDENTIAL_ISSUER: &str = "openid-credential-issuer";
/// The `well-known` suffix of authorization server metadata (RFC 8414 §3).
pub const WELL_KNOWN_AUTHORIZATION_SERVER: &str = "oauth-authorization-server";
/// The `well-known` suffix of SD-JWT VC issuer metadata (the issuer's
/// signing keys).
pub const WELL_KNOWN_JWT_VC_ISSUER: &str = "jwt-vc-issuer";

/// The `well-known` path of an identifier whose URL path is `path` (path
/// insertion, RFC 8414 §3.1; a terminating `/` of the path is dropped):
/// `/.well-known/<suffix><path>`.
pub fn well_known_path(suffix: &str, path: &str) -> String {
    format!("/.well-known/{suffix}{}", path.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_paths_insert_the_identifiers_path() {
        assert_eq!(
            well_known_path(WELL_KNOWN_CREDENTIAL_ISSUER, "/agencies/demo"),
            "/.well-known/openid-credential-issuer/agencies/demo"
        );
        assert_eq!(
            well_known_path(WELL_KNOWN_JWT_VC_ISSUER, "/"),
            "/.well-known/jwt-vc-issuer"
        );
        assert_eq!(
            well_known_path(WELL_KNOWN_AUTHORIZATION_SERVER, "/a/"),
            "/.well-known/oauth-authorization-server/a"
        );
    }

    #[test]
    fn the_proof_algorithms_are_the_verifiers() {
        assert_eq!(
            proof_signing_algs(),
            ["EdDSA", "Ed25519", "ES256", "SM2SM3"],
            "every algorithm the verifier library verifies, in its order"
        );
    }

    #[test]
    fn the_offer_uri_prefix_is_the_scheme() {
        assert_eq!(OFFER_URI_PREFIX, format!("{OFFER_SCHEME}://"));
    }
}
