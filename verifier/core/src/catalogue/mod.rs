//! The licence catalogue: the credential types every issuer and verifier
//! shares, with their `vct`, JSON Schema and SD-JWT VC type metadata
//! (Chinese and English display names for the type and every claim).
//!
//! The documents live in `specs/catalogue/<type>/` and are compiled into
//! this crate, so a verifier needs no network to know them.

pub mod ids;
pub mod schema;

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::encoding::parse_json;
use schema::{Mode, Schema, Violation};

/// One licence type.
#[derive(Debug, Clone)]
pub struct LicenceType {
    /// The short name (`business-licence`), the folder in `specs/catalogue/`.
    pub slug: &'static str,
    /// The `vct`.
    pub vct: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// The claims in display order.
    pub claims: Vec<ClaimInfo>,
    /// The compiled schema of the claims.
    pub schema: Schema,
    /// The type metadata document as published.
    pub metadata: Value,
}

/// Display information of one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimInfo {
    /// The claim name.
    pub name: String,
    /// Label in Chinese.
    pub label_zh: String,
    /// Label in English.
    pub label_en: String,
    /// Whether every credential of the type carries it.
    pub mandatory: bool,
}

impl LicenceType {
    /// The claim's display information.
    pub fn claim(&self, name: &str) -> Option<&ClaimInfo> {
        self.claims.iter().find(|c| c.name == name)
    }

    /// Checks claims against the schema.
    pub fn validate(&self, claims: &Map<String, Value>, mode: Mode) -> Vec<Violation> {
        self.schema.validate(claims, mode)
    }
}

/// Why a catalogue document is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalogue type {slug}: {reason}")]
pub struct CatalogueError {
    /// The type.
    pub slug: String,
    /// What is wrong.
    pub reason: String,
}

/// The catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    types: Vec<LicenceType>,
}

macro_rules! builtin {
    ($($slug:literal),+ $(,)?) => {
        const BUILTIN: &[(&str, &str, &str)] = &[$(
            ($slug,
             include_str!(concat!("../../../../specs/catalogue/", $slug, "/schema.json")),
             include_str!(concat!("../../../../specs/catalogue/", $slug, "/type-metadata.json"))),
        )+];
    };
}

builtin!(
    "business-licence",
    "driving-licence",
    "marriage-certificate",
    "birth-medical-certificate",
    "academic-degree-certificate",
    "social-security-card",
    "professional-qualification-certificate",
    "real-estate-title-certificate",
);

fn display(v: &Value, locale: &str, key: &str) -> Option<String> {
    v.as_array()?
        .iter()
        .find(|d| d.get("locale").and_then(Value::as_str) == Some(locale))?
        .get(key)?
        .as_str()
        .map(str::to_owned)
}

impl Catalogue {
    /// The catalogue compiled into this crate (parsed once).
    pub fn builtin() -> Result<&'static Catalogue, CatalogueError> {
        static CATALOGUE: OnceLock<Result<Catalogue, CatalogueError>> = OnceLock::new();
        CATALOGUE
            .get_or_init(|| {
                BUILTIN
                    .iter()
                    .map(|(slug, schema, meta)| Catalogue::parse_type(slug, schema, meta))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|types| Catalogue { types })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn parse_type(
        slug: &'static str,
        schema: &str,
        meta: &str,
    ) -> Result<LicenceType, CatalogueError> {
        let err = |reason: String| CatalogueError {
            slug: slug.into(),
            reason,
        };
        let schema_doc = parse_json(schema.as_bytes(), "schema").map_err(|r| err(r.detail))?;
        let meta = parse_json(meta.as_bytes(), "type metadata").map_err(|r| err(r.detail))?;
        let schema = Schema::compile(&schema_doc).map_err(|e| err(e.to_string()))?;
        let vct = meta
            .get("vct")
            .and_then(Value::as_str)
            .ok_or_else(|| err("no vct".into()))?
            .to_owned();
        let name_zh = display(&meta["display"], "zh-CN", "name")
            .ok_or_else(|| err("no zh-CN display name".into()))?;
        let name_en = display(&meta["display"], "en-US", "name")
            .ok_or_else(|| err("no en-US display name".into()))?;
        let mut claims = Vec::new();
        for c in meta
            .get("claims")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = match c.get("path").and_then(Value::as_array).map(Vec::as_slice) {
                Some([Value::String(n)]) => n.clone(),
                _ => return Err(err("a claim path is not a single name".into())),
            };
            if c.get("sd").and_then(Value::as_str) != Some("always") {
                return Err(err(format!(
                    "claim {name}: every personal claim must be sd \"always\""
                )));
            }
            claims.push(ClaimInfo {
                label_zh: display(&c["display"], "zh-CN", "label")
                    .ok_or_else(|| err(format!("claim {name} has no zh-CN label")))?,
                label_en: display(&c["display"], "en-US", "label")
                    .ok_or_else(|| err(format!("claim {name} has no en-US label")))?,
                mandatory: c.get("mandatory").and_then(Value::as_bool).unwrap_or(false),
                name,
            });
        }
        let described: Vec<&str> = claims.iter().map(|c| c.name.as_str()).collect();
        let mut in_schema: Vec<&str> = schema.property_names().collect();
        let mut sorted = described.clone();
        sorted.sort_unstable();
        in_schema.sort_unstable();
        if sorted != in_schema {
            return Err(err(
                "the type metadata and the schema describe different claims".into(),
            ));
        }
        Ok(LicenceType {
            slug,
            vct,
            name_zh,
            name_en,
            claims,
            schema,
            metadata: meta,
        })
    }

    /// Every type.
    pub fn types(&self) -> &[LicenceType] {
        &self.types
    }

    /// The type with this `vct`.
    pub fn by_vct(&self, vct: &str) -> Option<&LicenceType> {
        self.types.iter().find(|t| t.vct == vct)
    }

    /// The type with this short name.
    pub fn by_slug(&self, slug: &str) -> Option<&LicenceType> {
        self.types.iter().find(|t| t.slug == slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_is_complete_and_consistent() {
        let c = Catalogue::builtin().unwrap();
        assert_eq!(c.types().len(), 8);
        for t in c.types() {
            assert_eq!(t.vct, format!("urn:tongban:{}:1", t.slug));
            assert!(
                t.claims
                    .iter()
                    .any(|c| c.name == "licence_id" && c.mandatory),
                "{}",
                t.slug
            );
            for claim in &t.claims {
                assert!(
                    claim
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{} is not snake_case",
                    claim.name
                );
            }
        }
        let bl = c.by_vct("urn:tongban:business-licence:1").unwrap();
        assert_eq!(bl.name_zh, "营业执照");
        assert_eq!(
            bl.claim("unified_social_credit_code").unwrap().label_zh,
            "统一社会信用代码"
        );
    }
}
