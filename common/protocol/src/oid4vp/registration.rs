//! What a DCQL query asks, in the terms of a receiving agency's registered
//! service item (`tongban_verifier::relying_party`): per licence type, the
//! claim paths (dotted) and whether holder binding is required. The wallet
//! judges a request with it, and the agency's service refuses to create a
//! transaction asking beyond its registration with the same reading.

use tongban_verifier::relying_party::Asked;

use super::dcql::DcqlQuery;
use super::path::ClaimPath;

/// Dotted form of a DCQL claim path (`null` = every element, `*`).
fn dotted(path: &ClaimPath) -> String {
    let parts: Vec<serde_json::Value> = path.clone().into();
    parts
        .iter()
        .map(|p| match p {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "*".into(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What a DCQL query asks, one entry per licence type it accepts (a query
/// naming no type is judged against every granted one).
pub fn asked(query: &DcqlQuery) -> Vec<Asked> {
    let mut out = Vec::new();
    for c in &query.credentials {
        let claims: Vec<String> = match &c.claims {
            Some(cs) => cs.iter().map(|q| dotted(&q.path)).collect(),
            // No claims named: the whole credential, nothing is granted
            // that wholesale.
            None => vec!["*".into()],
        };
        let vcts: Vec<Option<String>> = match &c.meta.vct_values {
            Some(v) if !v.is_empty() => v.iter().cloned().map(Some).collect(),
            _ => vec![None],
        };
        for vct in vcts {
            out.push(Asked {
                vct,
                claims: claims.clone(),
                holder_binding: c.require_holder_binding,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn a_query_reads_as_paths_per_licence_type() {
        let q: DcqlQuery = serde_json::from_value(json!({"credentials": [
            {"id": "bl", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:a:1", "urn:b:1"]},
             "claims": [{"path": ["company_name"]}, {"path": ["address", "city"]}, {"path": ["staff", null]}]},
            {"id": "any", "format": "dc+sd-jwt", "meta": {}, "require_cryptographic_holder_binding": false}
        ]}))
        .unwrap();
        let a = asked(&q);
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].vct.as_deref(), Some("urn:a:1"));
        assert_eq!(a[0].claims, ["company_name", "address.city", "staff.*"]);
        assert!(a[0].holder_binding);
        assert_eq!(a[2].vct, None);
        assert_eq!(a[2].claims, ["*"]);
        assert!(!a[2].holder_binding);
    }
}
