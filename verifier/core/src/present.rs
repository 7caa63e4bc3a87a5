//! Deriving a presentation from a held credential (the wallet's direction):
//! disclose only chosen claim paths, and sign a Key Binding JWT over the
//! verifier's nonce and audience.

use serde_json::{Map, Value};

use crate::error::Rejection;
use crate::jws::{CompactJws, sign_compact};
use crate::keys::{SignError, Signer};
use crate::sdjwt::{ClaimPath, Disclosure, PathSegment, SdAlg, SdJwtParts, check_sd_alg, process};
use crate::verify::TYP_KB_JWT;

/// Why a presentation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresentError {
    /// The credential itself is malformed.
    #[error("the credential is malformed: {0}")]
    Malformed(Rejection),
    /// A requested claim path does not exist in the credential.
    #[error("the credential has no claim {0}")]
    UnknownClaim(String),
    /// The holder's signer failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// What the KB-JWT binds the presentation to.
pub struct KeyBinding<'s> {
    /// The holder's key (the one in `cnf`).
    pub signer: &'s dyn Signer,
    /// The verifier (`aud`).
    pub audience: String,
    /// The verifier's nonce.
    pub nonce: String,
    /// When the presentation is made (Unix seconds).
    pub iat: i64,
    /// The OpenID4VP transaction data hashes the holder authorizes
    /// (`transaction_data_hashes`, sha-256; none: the member is omitted).
    pub transaction_data_hashes: Vec<String>,
}

/// A credential as the holder keeps it: the issuance form, parsed.
#[derive(Debug, Clone)]
pub struct HeldCredential {
    issuer_jwt: String,
    disclosures: Vec<Disclosure>,
    paths: Vec<ClaimPath>,
    payload: Map<String, Value>,
    claims: Map<String, Value>,
    sd_alg: SdAlg,
}

impl HeldCredential {
    /// Parses an issued SD-JWT (`<JWT>~<D1>~…~<Dn>~`) and processes all its
    /// disclosures. This checks structure only: verify the credential with
    /// [`crate::verify()`] before trusting it.
    pub fn parse(issued: &str) -> Result<HeldCredential, PresentError> {
        let parts = SdJwtParts::split(issued, usize::MAX).map_err(PresentError::Malformed)?;
        if parts.kb_jwt.is_some() {
            return Err(PresentError::Malformed(Rejection::new(
                crate::ErrorCode::SdJwtMalformed,
                "a held credential must not carry a KB-JWT",
            )));
        }
        let jws = CompactJws::parse(parts.issuer_jwt, "the credential")
            .map_err(PresentError::Malformed)?;
        let sd_alg = check_sd_alg(&jws.payload).map_err(PresentError::Malformed)?;
        let disclosures = parts
            .disclosures
            .iter()
            .map(|d| Disclosure::parse_with(d, sd_alg))
            .collect::<Result<Vec<_>, _>>()
            .map_err(PresentError::Malformed)?;
        let processed = process(&jws.payload, &disclosures).map_err(PresentError::Malformed)?;
        Ok(HeldCredential {
            issuer_jwt: parts.issuer_jwt.to_owned(),
            disclosures,
            paths: processed.paths,
            payload: jws.payload,
            claims: processed.claims,
            sd_alg,
        })
    }

    /// Every claim, disclosed in full.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The issuer-signed payload (with digests, not claims).
    pub fn payload(&self) -> &Map<String, Value> {
        &self.payload
    }

    /// The digest algorithm of the credential (`_sd_alg`), which its
    /// `sd_hash` uses too.
    pub fn sd_alg(&self) -> SdAlg {
        self.sd_alg
    }

    /// The paths a holder can choose to disclose, in issuance order.
    pub fn disclosable_paths(&self) -> &[ClaimPath] {
        &self.paths
    }

    /// Makes a presentation that discloses exactly the claims under
    /// `paths` (and the containers they sit in), with a KB-JWT when `kb`
    /// is given.
    pub fn present(
        &self,
        paths: &[ClaimPath],
        kb: Option<&KeyBinding<'_>>,
    ) -> Result<String, PresentError> {
        for p in paths {
            if lookup(&self.claims, p).is_none() {
                return Err(PresentError::UnknownClaim(p.to_string()));
            }
        }
        let mut out = self.issuer_jwt.clone();
        out.push('~');
        for (d, dp) in self.disclosures.iter().zip(&self.paths) {
            if paths
                .iter()
                .any(|p| p.is_prefix_of(dp) || dp.is_prefix_of(p))
            {
                out.push_str(&d.encoded);
                out.push('~');
            }
        }
        if let Some(kb) = kb {
            let mut payload = Map::new();
            payload.insert("iat".into(), Value::from(kb.iat));
            payload.insert("aud".into(), Value::String(kb.audience.clone()));
            payload.insert("nonce".into(), Value::String(kb.nonce.clone()));
            payload.insert(
                "sd_hash".into(),
                Value::String(self.sd_alg.digest_b64(&out)),
            );
            if !kb.transaction_data_hashes.is_empty() {
                payload.insert(
                    "transaction_data_hashes".into(),
                    Value::from(kb.transaction_data_hashes.clone()),
                );
                payload.insert("transaction_data_hashes_alg".into(), Value::from("sha-256"));
            }
            let jwt = sign_compact(kb.signer, TYP_KB_JWT, &Value::Object(payload))?;
            out.push_str(&jwt);
        }
        Ok(out)
    }
}

fn lookup<'v>(claims: &'v Map<String, Value>, path: &ClaimPath) -> Option<&'v Value> {
    let mut segs = path.0.iter();
    let mut cur = match segs.next()? {
        PathSegment::Key(k) => claims.get(k)?,
        PathSegment::Index(_) => return None,
    };
    for seg in segs {
        cur = match (seg, cur) {
            (PathSegment::Key(k), Value::Object(o)) => o.get(k)?,
            (PathSegment::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}
