//! The X.509 certificates of a signed request: parsed with `x509-cert`
//! (never by hand), ECDSA P-256 / SHA-256 signatures checked with `p256`.
//! Only what the wallet needs: the leaf's hash and DNS names, its key, who
//! signed it, and its validity period.

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};

/// `ecdsa-with-SHA256` (RFC 5758).
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
/// `id-ecPublicKey` (RFC 5480).
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// `secp256r1` / P-256 (RFC 5480).
const P256_CURVE: &str = "1.2.840.10045.3.1.7";

/// One parsed certificate and its DER bytes.
#[derive(Clone)]
pub struct Cert {
    der: Vec<u8>,
    cert: Certificate,
}

impl std::fmt::Debug for Cert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cert")
            .field("subject", &self.subject())
            .finish()
    }
}

impl Cert {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Cert, String> {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        Ok(Cert {
            der: der.to_vec(),
            cert,
        })
    }

    /// Parses every certificate of a PEM text (one or more
    /// `-----BEGIN CERTIFICATE-----` blocks).
    pub fn from_pem_chain(pem: &[u8]) -> Result<Vec<Cert>, String> {
        let certs =
            Certificate::load_pem_chain(pem).map_err(|e| format!("not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("no certificate in the PEM text".into());
        }
        certs
            .into_iter()
            .map(|cert| {
                let der = cert.to_der().map_err(|e| e.to_string())?;
                Ok(Cert { der, cert })
            })
            .collect()
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The base64url SHA-256 of the DER (what `x509_hash:` names).
    pub fn sha256_b64(&self) -> String {
        tongban_verifier::encoding::b64_encode(Sha256::digest(&self.der))
    }

    /// The subject, RFC 4514 style.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// The issuer, RFC 4514 style.
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// The `dNSName` subject alternative names.
    pub fn dns_names(&self) -> Vec<String> {
        match self.cert.tbs_certificate.get::<SubjectAltName>() {
            Ok(Some((_, san))) => san
                .0
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DnsName(d) => Some(d.as_str().to_owned()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the certificate says it is a CA (basic constraints `cA`).
    pub fn is_ca(&self) -> bool {
        matches!(
            self.cert.tbs_certificate.get::<BasicConstraints>(),
            Ok(Some((_, bc))) if bc.ca
        )
    }

    /// `notBefore` and `notAfter`, Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = &self.cert.tbs_certificate.validity;
        let secs = |t: x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        (secs(v.not_before), secs(v.not_after))
    }

    /// Whether `now` lies within the validity period.
    pub fn valid_at(&self, now: i64) -> bool {
        let (from, until) = self.validity();
        from <= now && now <= until
    }

    /// The subject's P-256 public key (refused if it is any other kind).
    pub fn p256_key(&self) -> Result<VerifyingKey, String> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid.to_string() != EC_PUBLIC_KEY {
            return Err(format!(
                "the key of {} is not an EC key ({})",
                self.subject(),
                spki.algorithm.oid
            ));
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok());
        if curve.map(|c| c.to_string()).as_deref() != Some(P256_CURVE) {
            return Err(format!("the key of {} is not on P-256", self.subject()));
        }
        VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
            .map_err(|e| format!("the key of {}: {e}", self.subject()))
    }

    /// Whether `issuer`'s key signed this certificate (ECDSA P-256 with
    /// SHA-256; any other algorithm is `Err`).
    pub fn signed_by(&self, issuer: &Cert) -> Result<bool, String> {
        if self.cert.signature_algorithm.oid.to_string() != ECDSA_WITH_SHA256 {
            return Err(format!(
                "{} is signed with {}, not ecdsa-with-SHA256",
                self.subject(),
                self.cert.signature_algorithm.oid
            ));
        }
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Ok(false);
        }
        let key = issuer.p256_key()?;
        let Some(sig) = self.cert.signature.as_bytes() else {
            return Ok(false);
        };
        let Ok(sig) = Signature::from_der(sig) else {
            return Ok(false);
        };
        let tbs = self
            .cert
            .tbs_certificate
            .to_der()
            .map_err(|e| e.to_string())?;
        Ok(key.verify(&tbs, &sig).is_ok())
    }

    /// Whether the certificate is self-signed: issued by its own subject
    /// and verifying under its own key.
    pub fn is_self_signed(&self) -> bool {
        self.cert.tbs_certificate.issuer == self.cert.tbs_certificate.subject
            || self.signed_by(self).unwrap_or(false)
    }
}
