//! OpenID4VCI redemption: signing and storing the credential of an offer.

use serde_json::{Map, Value};
use tongban_verifier::PublicKey;

use crate::error::{ApiCode, ApiError};
use crate::store::{NewCredential, OfferRecord};

use super::{AgencyRuntime, Service, internal};

impl Service {
    /// Signs and stores the credential of a redeemed offer, bound to `holder`.
    pub async fn redeem_offer(
        &self,
        rt: &AgencyRuntime,
        offer: &OfferRecord,
        holder: &PublicKey,
    ) -> Result<String, ApiError> {
        let lt = self
            .catalogue
            .by_vct(&offer.vct)
            .ok_or_else(|| ApiError::new(ApiCode::UnknownVct, offer.vct.clone()))?;
        if let Some(exp) = offer.expires_credential_at
            && exp <= self.now()
        {
            return Err(ApiError::new(
                ApiCode::ValidityInvalid,
                format!(
                    "the offered credential would have expired at {exp}; ask the agency for a new offer"
                ),
            ));
        }
        let claims: Map<String, Value> = serde_json::from_str(&offer.claims).map_err(internal)?;
        let (record, credential, _) = self
            .sign(
                rt,
                lt,
                &claims,
                holder,
                offer.expires_credential_at,
                offer.not_before_credential,
                Some(&offer.id),
            )
            .await?;
        let item = NewCredential {
            record,
            actor: format!("oid4vci:{}", offer.id),
        };
        self.store
            .redeem_offer(&offer.id, &item, self.now())
            .await?;
        self.metrics.add(
            "tongban_credentials_issued_total",
            &[("agency", &rt.agency.id), ("vct", lt.slug)],
            1,
        );
        Ok(credential)
    }
}
