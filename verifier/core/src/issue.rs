//! Building and signing a credential (the issuer's direction).
//!
//! Every personal claim is selectively disclosable; object values are
//! disclosable member by member (structured, RFC 9901 §6.2) so a holder can
//! show `address.city` without the street. The registered claims (`iss`,
//! `vct`, `iat`, `nbf`, `exp`, `cnf`, `status`) are always plaintext. Salts
//! are 128 random bits, `_sd` arrays are sorted, decoy digests (the digest of random bytes, RFC 9901 §4.2.5) hide the
//! number of claims, and all JSON is compact with raw UTF-8.

use serde_json::{Map, Value};

use crate::encoding::b64_encode;
use crate::jws::sign_compact;
use crate::keys::{PublicKey, SignError, Signer};
use crate::sdjwt::{Disclosure, SdAlg};
use crate::verify::{NEVER_DISCLOSABLE, TYP_SD_JWT_VC};

/// How many decoy digests to add to the top-level `_sd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoys {
    /// Exactly this many.
    Exactly(usize),
    /// Enough to make the number of top-level digests the next multiple of
    /// this (0 to `m - 1` decoys); the default is `RoundUp(4)`. Lean on
    /// purpose: every digest costs 32 bytes in the QR code, and a type's
    /// possible claims are public in the catalogue anyway; what decoys hide
    /// is how many optional claims a credential carries.
    RoundUp(usize),
}

impl Decoys {
    fn count(self, real: usize) -> usize {
        match self {
            Decoys::Exactly(n) => n,
            Decoys::RoundUp(0) => 0,
            Decoys::RoundUp(m) => (m - real % m) % m,
        }
    }
}

/// Why a credential could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A personal claim uses a name reserved for registered or SD-JWT claims.
    #[error("claim name {0:?} is reserved and cannot be a personal claim")]
    ReservedClaim(String),
    /// A claim name is empty.
    #[error("a claim name is empty")]
    EmptyClaimName,
    /// The signer failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Builds an SD-JWT VC.
#[derive(Debug, Clone)]
pub struct CredentialBuilder {
    iss: String,
    vct: String,
    iat: i64,
    nbf: Option<i64>,
    exp: Option<i64>,
    holder: Option<PublicKey>,
    status: Option<Value>,
    claims: Map<String, Value>,
    decoys: Decoys,
    sd_alg: SdAlg,
}

/// A signed credential in its issuance form, `<JWT>~<D1>~…~<Dn>~`.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedCredential {
    /// The issuance serialization.
    pub sd_jwt: String,
    /// The disclosures it carries.
    pub disclosures: Vec<Disclosure>,
}

impl CredentialBuilder {
    /// A credential of type `vct` from issuer `iss`, issued at `iat` (Unix seconds).
    pub fn new(iss: impl Into<String>, vct: impl Into<String>, iat: i64) -> Self {
        CredentialBuilder {
            iss: iss.into(),
            vct: vct.into(),
            iat,
            nbf: None,
            exp: None,
            holder: None,
            status: None,
            claims: Map::new(),
            decoys: Decoys::RoundUp(4),
            sd_alg: SdAlg::Sha256,
        }
    }

    /// Sets `exp`.
    pub fn expires_at(mut self, exp: i64) -> Self {
        self.exp = Some(exp);
        self
    }

    /// Sets `nbf`.
    pub fn not_before(mut self, nbf: i64) -> Self {
        self.nbf = Some(nbf);
        self
    }

    /// Binds the credential to the holder's public key (`cnf.jwk`).
    pub fn holder_key(mut self, key: PublicKey) -> Self {
        self.holder = Some(key);
        self
    }

    /// Sets the `status` claim (e.g. `{"status_list": {"idx": 7, "uri": "…"}}`).
    pub fn status(mut self, status: Value) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds one personal (selectively disclosable) claim.
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// Adds personal claims.
    pub fn claims(mut self, claims: Map<String, Value>) -> Self {
        if self.claims.is_empty() {
            // The usual case: the map itself, not each member moved over.
            self.claims = claims;
        } else {
            self.claims.extend(claims);
        }
        self
    }

    /// Sets the decoy policy.
    pub fn decoys(mut self, decoys: Decoys) -> Self {
        self.decoys = decoys;
        self
    }

    /// Sets the digest algorithm of the disclosures (`_sd_alg`): SHA-256
    /// by default, SM3 as an issuer's option (`specs/credential-format.md`
    /// §9.3). The holder's `sd_hash` follows it.
    pub fn sd_alg(mut self, alg: SdAlg) -> Self {
        self.sd_alg = alg;
        self
    }

    /// Builds and signs the credential.
    pub fn issue(
        &self,
        signer: &dyn Signer,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<IssuedCredential, IssueError> {
        for name in self.claims.keys() {
            if name.is_empty() {
                return Err(IssueError::EmptyClaimName);
            }
            if NEVER_DISCLOSABLE.contains(&name.as_str())
                || ["_sd", "_sd_alg", "..."].contains(&name.as_str())
            {
                return Err(IssueError::ReservedClaim(name.clone()));
            }
        }
        let mut disclosures = Vec::new();
        let mut sd = Vec::with_capacity(self.claims.len());
        for (name, value) in &self.claims {
            let value = conceal_members(value, self.sd_alg, rng, &mut disclosures)?;
            let d = Disclosure::create_with(salt(rng), Some(name.clone()), value, self.sd_alg);
            sd.push(d.digest.clone());
            disclosures.push(d);
        }
        for _ in 0..self.decoys.count(sd.len()) {
            sd.push(self.sd_alg.digest_b64(&salt(rng)));
        }
        sd.sort_unstable();

        let mut payload = Map::new();
        payload.insert("iss".into(), Value::String(self.iss.clone()));
        payload.insert("iat".into(), Value::from(self.iat));
        if let Some(nbf) = self.nbf {
            payload.insert("nbf".into(), Value::from(nbf));
        }
        if let Some(exp) = self.exp {
            payload.insert("exp".into(), Value::from(exp));
        }
        payload.insert("vct".into(), Value::String(self.vct.clone()));
        if let Some(status) = &self.status {
            payload.insert("status".into(), status.clone());
        }
        if let Some(holder) = &self.holder {
            let mut cnf = Map::new();
            cnf.insert("jwk".into(), holder.to_jwk());
            payload.insert("cnf".into(), Value::Object(cnf));
        }
        payload.insert(
            "_sd".into(),
            Value::Array(sd.into_iter().map(Value::String).collect()),
        );
        payload.insert("_sd_alg".into(), Value::String(self.sd_alg.name().into()));

        let jwt = sign_compact(signer, TYP_SD_JWT_VC, &Value::Object(payload))?;
        let mut sd_jwt = jwt;
        sd_jwt.push('~');
        for d in &disclosures {
            sd_jwt.push_str(&d.encoded);
            sd_jwt.push('~');
        }
        Ok(IssuedCredential {
            sd_jwt,
            disclosures,
        })
    }
}

/// Makes every member of an object value selectively disclosable
/// (recursively); other values are returned unchanged.
fn conceal_members(
    value: &Value,
    alg: SdAlg,
    rng: &mut impl rand_core::CryptoRngCore,
    out: &mut Vec<Disclosure>,
) -> Result<Value, IssueError> {
    let Value::Object(members) = value else {
        return Ok(value.clone());
    };
    let mut sd = Vec::with_capacity(members.len());
    for (name, v) in members {
        if name.is_empty() {
            return Err(IssueError::EmptyClaimName);
        }
        if ["_sd", "_sd_alg", "..."].contains(&name.as_str()) {
            return Err(IssueError::ReservedClaim(name.clone()));
        }
        let inner = conceal_members(v, alg, rng, out)?;
        let d = Disclosure::create_with(salt(rng), Some(name.clone()), inner, alg);
        sd.push(Value::String(d.digest.clone()));
        out.push(d);
    }
    sd.sort_unstable_by(|a, b| a.as_str().cmp(&b.as_str()));
    let mut concealed = Map::new();
    concealed.insert("_sd".into(), Value::Array(sd));
    Ok(Value::Object(concealed))
}

/// A 128-bit random salt, base64url.
fn salt(rng: &mut impl rand_core::CryptoRngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    b64_encode(bytes)
}
