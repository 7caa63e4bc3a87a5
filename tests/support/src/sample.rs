//! The README's reproducible sample (a Wujiang business licence presented
//! at a Qingpu counter) and realistic credentials of every licence type of
//! the catalogue.

use std::path::PathBuf;

use rand::SeedableRng as _;
use serde_json::{Value, json};
use tongban_verifier::{CredentialBuilder, Signer as _};

use crate::keys::{public_jwk, sample_holder, sample_issuer};
use crate::present::{Audience, present};

/// The sample's issuer: a market supervision bureau in Suzhou Wujiang (320509).
pub const SAMPLE_ISSUER: &str = "https://amr.wujiang.example";
/// The sample's licence type.
pub const SAMPLE_VCT: &str = "urn:tongban:business-licence:1";
/// The counter (audience) the sample presentation was made for: Shanghai Qingpu.
pub const SAMPLE_AUD: &str = "https://counter.qingpu.example";
/// The nonce of the counter's request.
pub const SAMPLE_NONCE: &str = "qp-20261125-0001";
/// When the sample presentation was made: 2026-11-25T10:00:00+08:00.
pub const SAMPLE_PRESENTED_AT: i64 = crate::clock::NOW;
/// The claims the counter asked for.
pub const SAMPLE_DISCLOSED: [&str; 6] = [
    "unified_social_credit_code",
    "company_name",
    "legal_representative",
    "company_type",
    "establishment_date",
    "registration_authority",
];
/// When the sample credentials were issued: 2026-11-20T09:00:00+08:00.
const SAMPLE_ISSUED_AT: i64 = 1_795_136_400;
/// When the sample credentials expire.
const SAMPLE_EXPIRES_AT: i64 = 1_952_902_800;

/// Where the sample lives in the repository.
pub fn sample_dir() -> PathBuf {
    crate::workspace_root().join("specs/vectors/sample")
}

/// The sample files, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// `issuer.jwk.json`: the issuer's public key.
    pub issuer_jwk: String,
    /// `credential.txt`: the credential as issued (all disclosures).
    pub credential: String,
    /// `presentation.txt`: six claims disclosed, with a KB-JWT.
    pub presentation: String,
    /// `presentation.tb1.txt`: the presentation in the QR transport.
    pub presentation_transport: String,
    /// `credential.parts.txt`: the credential in the QR transport, split
    /// into parts of at most 700 characters, one per line.
    pub credential_parts: String,
}

/// The sample's business-licence claims (fictional; identifiers carry
/// valid check characters).
pub fn sample_claims() -> serde_json::Map<String, Value> {
    let claims = json!({
        "unified_social_credit_code": "91320509MA1Q8K3T2C",
        "company_name": "苏州吴江通办示范科技有限公司",
        "legal_representative": "李明",
        "company_type": "有限责任公司(自然人投资或控股)",
        "registered_capital": "500万元人民币",
        "establishment_date": "2019-06-18",
        "business_term": "2019-06-18至长期",
        "address": "苏州市吴江区黎里镇汾湖大道1号",
        "business_scope": "软件开发；信息技术咨询服务；数据处理服务",
        "registration_authority": "苏州市吴江区市场监督管理局",
        "issue_date": "2026-11-20",
        "licence_id": "320509-BL-2026-000001"
    });
    claims.as_object().cloned().unwrap_or_default()
}

/// Builds the sample deterministically (fixed seeds, a seeded RNG for the
/// salts; Ed25519 signatures are deterministic).
pub fn generate() -> Result<Sample, Box<dyn std::error::Error>> {
    let issuer = sample_issuer();
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_261_125);
    let issued = CredentialBuilder::new(SAMPLE_ISSUER, SAMPLE_VCT, SAMPLE_ISSUED_AT)
        .expires_at(SAMPLE_EXPIRES_AT)
        .holder_key(sample_holder().public_key())
        .claims(sample_claims())
        .issue(&issuer, &mut rng)?;
    let presentation = present_to_sample_counter(&issued.sd_jwt, &SAMPLE_DISCLOSED)?;
    let jwk = public_jwk(&issuer);
    let presentation_transport = tongban_verifier::transport::encode(&presentation)?;
    let parts = tongban_verifier::transport::split(
        &tongban_verifier::transport::encode(&issued.sd_jwt)?,
        700,
    )?;
    Ok(Sample {
        issuer_jwk: serde_json::to_string_pretty(&jwk)? + "\n",
        credential: issued.sd_jwt + "\n",
        presentation: presentation + "\n",
        presentation_transport: presentation_transport + "\n",
        credential_parts: parts.join("\n") + "\n",
    })
}

/// Realistic sample claims for every licence type of the catalogue, by
/// type slug (`tests/src/samples.json`; every value passes its schema).
pub fn catalogue_samples() -> serde_json::Map<String, Value> {
    serde_json::from_str(include_str!("../../src/samples.json")).unwrap_or_default()
}

/// The realistic sample claims of catalogue type `slug`
/// ([`catalogue_samples`]) with the licence id's serial — what follows its
/// last `-` — replaced by `serial` in six digits, so that tests issuing
/// several credentials of one type keep licence ids unique within an
/// agency. Empty for a type without sample claims.
pub fn catalogue_claims(slug: &str, serial: u32) -> serde_json::Map<String, Value> {
    let mut claims = catalogue_samples()
        .get(slug)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let licence_id = claims
        .get("licence_id")
        .and_then(Value::as_str)
        .and_then(|id| id.rsplit_once('-'))
        .map(|(head, _)| format!("{head}-{serial:06}"));
    if let Some(id) = licence_id {
        claims.insert("licence_id".into(), Value::String(id));
    }
    claims
}

/// A realistic credential of catalogue type `slug` with the sample claims,
/// issued in Wujiang with a status entry and bound to a holder key, and a
/// presentation of it disclosing `disclose` (claim names) with a KB-JWT.
/// Returns `(issued credential, presentation)`.
pub fn realistic_presentation(
    slug: &str,
    disclose: &[&str],
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let catalogue = tongban_verifier::catalogue::Catalogue::builtin()?;
    let kind = catalogue.by_slug(slug).ok_or("no such type")?;
    let claims = catalogue_samples()
        .get(slug)
        .and_then(Value::as_object)
        .cloned()
        .ok_or("no sample for the type")?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let issued = CredentialBuilder::new(SAMPLE_ISSUER, &kind.vct, SAMPLE_ISSUED_AT)
        .expires_at(SAMPLE_EXPIRES_AT)
        .holder_key(sample_holder().public_key())
        .status(
            json!({"status_list": {"idx": 123_456, "uri": "https://amr.wujiang.example/status/1"}}),
        )
        .claims(claims)
        .issue(&sample_issuer(), &mut rng)?;
    let presentation = present_to_sample_counter(&issued.sd_jwt, disclose)?;
    Ok((issued.sd_jwt, presentation))
}

/// Presents `disclose` of an issued credential as the sample holder, to the
/// sample counter, at the sample's time.
fn present_to_sample_counter(
    sd_jwt: &str,
    disclose: &[&str],
) -> Result<String, Box<dyn std::error::Error>> {
    let to = Audience {
        aud: SAMPLE_AUD,
        nonce: SAMPLE_NONCE,
        iat: SAMPLE_PRESENTED_AT,
    };
    present(sd_jwt, disclose, &sample_holder(), to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_claims_renumber_only_the_licence_id() {
        let sample = catalogue_samples()["business-licence"].clone();
        let claims = catalogue_claims("business-licence", 42);
        let id = claims["licence_id"].as_str().unwrap_or_default();
        let (head, _) = sample["licence_id"]
            .as_str()
            .and_then(|s| s.rsplit_once('-'))
            .unwrap_or_default();
        assert_eq!(id, format!("{head}-000042"));
        let mut rest = claims.clone();
        rest.remove("licence_id");
        let mut sample_rest = sample.as_object().cloned().unwrap_or_default();
        sample_rest.remove("licence_id");
        assert_eq!(rest, sample_rest);
        assert_eq!(
            claims.keys().collect::<Vec<_>>(),
            sample
                .as_object()
                .map(|o| o.keys().collect::<Vec<_>>())
                .unwrap_or_default(),
            "the members keep their order"
        );
        assert!(catalogue_claims("no-such-type", 1).is_empty());
    }
}
