//! OpenID for Verifiable Presentations 1.0 with DCQL, as Tongban's
//! receiving agencies ask and its wallet answers, profiled by HAIP 1.0:
//! signed requests by reference with the `x509_hash` client identifier
//! prefix, `direct_post.jwt` responses encrypted with ECDH-ES on P-256, and
//! SD-JWT VC presentations.
//!
//! - [`path`]: claims path pointers (§7).
//! - [`dcql`]: the query language (§6): structure, the wallet's selection,
//!   the verifier's check of what came back.
//! - [`request`]: the invocation link, client identifiers, the request
//!   object, client metadata, transaction data.
//! - [`response`]: the VP token, the encrypted response's payload, error
//!   responses, the response URI's answer.
//! - [`verify`]: the verifier's check of a whole VP token (§8.6) through
//!   `tongban-verifier`.
//!
//! The JOSE around these messages (the request object's ES256 signature
//! with `x5c`, the response JWE) is done by the service and the wallet with
//! a JOSE library; this module stays free of I/O and of OpenSSL, and builds
//! for `wasm32`.
//!
//! Section numbers are those of OpenID4VP 1.0.

pub mod dcql;
pub mod path;
pub mod registration;
pub mod request;
pub mod response;
pub mod verify;

pub use dcql::{
    AnswerMismatch, ClaimsQuery, CredentialMeta, CredentialQuery, CredentialSetQuery, DcqlError,
    DcqlQuery, DisclosureMismatch, FORMAT_SD_JWT_VC,
};
pub use path::{ClaimPath, PathElement, PathError};
pub use request::{
    AuthorizationRequest, ClientId, ClientMetadata, JwkSet, RequestObject, RequestUriMethod,
    RequestUriPost, TongbanPurpose, TransactionData, TransactionDataError,
};
pub use response::{AuthorizationErrorResponse, AuthorizationResponse, ResponseUriAnswer, VpToken};
pub use verify::{Expectations, VerifiedPresentation, VpTokenRejection, verify_vp_token};
