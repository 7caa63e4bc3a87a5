//! The JWE of OpenID4VCI 1.0 §10 with `josekit`: the credential request
//! encrypted to the issuer's key, the response decrypted with a fresh
//! P-256 key of the wallet's (ECDH-ES, A128GCM or A256GCM).

use serde_json::{Map, Value};
use tongban_protocol::oid4vci::KEY_AGREEMENT;
use tongban_verifier::encoding::b64_encode;

use super::ReceiveError;
use super::metadata::RequestEncryption;

/// An ephemeral P-256 key for the encrypted response.
pub(super) struct ResponseKey {
    pub(super) public: Map<String, Value>,
    pub(super) decrypter: josekit::jwe::alg::ecdh_es::EcdhEsJweDecrypter,
    pub(super) enc: String,
}

impl ResponseKey {
    pub(super) fn generate(enc: &str) -> Result<ResponseKey, ReceiveError> {
        use josekit::jwk::KeyPair as _;
        let fail = |e: josekit::JoseError| ReceiveError::Encryption(e.to_string());
        let pair = josekit::jwe::ECDH_ES
            .generate_ec_key_pair(josekit::jwk::alg::ec::EcCurve::P256)
            .map_err(fail)?;
        let mut kid = [0u8; 12];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut kid);
        let kid = format!("w-{}", b64_encode(kid));
        let mut private = pair.to_jwk_private_key();
        private.set_key_id(&kid);
        let decrypter = josekit::jwe::ECDH_ES
            .decrypter_from_jwk(&private)
            .map_err(fail)?;
        let mut public = pair.to_jwk_public_key();
        public.set_key_id(&kid);
        public.set_algorithm(KEY_AGREEMENT);
        public.set_key_use("enc");
        Ok(ResponseKey {
            public: public.as_ref().clone(),
            decrypter,
            enc: enc.to_owned(),
        })
    }

    pub(super) fn decrypt(&self, jwe: &str) -> Result<Vec<u8>, ReceiveError> {
        refuse_compressed(jwe.trim())?;
        let (payload, header) = josekit::jwe::deserialize_compact(jwe.trim(), &self.decrypter)
            .map_err(|e| {
                ReceiveError::Encryption(format!(
                    "the credential response does not decrypt with this wallet's key: {e}"
                ))
            })?;
        if header.content_encryption() != Some(self.enc.as_str()) {
            return Err(ReceiveError::Encryption(format!(
                "the response is encrypted with {:?}, not the requested {}",
                header.content_encryption(),
                self.enc
            )));
        }
        Ok(payload)
    }
}

/// Refuses a compact JWE whose protected header asks for compression
/// (`zip`), reading the header before anything is decrypted: `josekit`
/// inflates `zip: DEF` during decryption with no bound, so a small response
/// could grow to any size. Tongban's issuers never compress.
fn refuse_compressed(jwe: &str) -> Result<(), ReceiveError> {
    let header = jwe.split('.').next().unwrap_or_default();
    let header = tongban_verifier::encoding::b64_decode(header, "the JWE header")
        .map_err(|r| ReceiveError::Encryption(format!("the response's header: {}", r.detail)))?;
    let header: Map<String, Value> = serde_json::from_slice(&header).map_err(|e| {
        ReceiveError::Encryption(format!("the response's header is not a JSON object: {e}"))
    })?;
    match header.get("zip") {
        None => Ok(()),
        Some(zip) => Err(ReceiveError::CompressedResponse(
            zip.as_str().map_or_else(|| zip.to_string(), str::to_owned),
        )),
    }
}

/// Encrypts the credential request to the issuer's key (compact JWE,
/// ECDH-ES, `kid` of the issuer's key).
pub(super) fn encrypt_request(
    to: &RequestEncryption,
    payload: &[u8],
) -> Result<String, ReceiveError> {
    let fail = |e: josekit::JoseError| {
        ReceiveError::Encryption(format!("encrypting the request to the issuer's key: {e}"))
    };
    let jwk = josekit::jwk::Jwk::from_map(to.jwk.clone()).map_err(fail)?;
    let encrypter = josekit::jwe::ECDH_ES
        .encrypter_from_jwk(&jwk)
        .map_err(fail)?;
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption(&to.enc);
    header.set_content_type("json");
    josekit::jwe::serialize_compact(payload, &header, &encrypter).map_err(fail)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_request_and_response_encryption_round_trip() {
        use josekit::jwk::KeyPair as _;
        // The issuer's key, as it publishes it.
        let issuer = josekit::jwe::ECDH_ES
            .generate_ec_key_pair(josekit::jwk::alg::ec::EcCurve::P256)
            .unwrap();
        let mut public = issuer.to_jwk_public_key();
        public.set_key_id("enc-1");
        public.set_algorithm("ECDH-ES");
        let mut private = issuer.to_jwk_private_key();
        private.set_key_id("enc-1");
        let to = RequestEncryption {
            jwk: public.as_ref().clone(),
            enc: "A128GCM".into(),
        };
        let jwe = encrypt_request(&to, b"{\"a\":1}").unwrap();
        let (plain, header) = josekit::jwe::deserialize_compact(
            &jwe,
            &josekit::jwe::ECDH_ES.decrypter_from_jwk(&private).unwrap(),
        )
        .unwrap();
        assert_eq!(plain, b"{\"a\":1}");
        assert_eq!(header.key_id(), Some("enc-1"));
        assert_eq!(header.content_encryption(), Some("A128GCM"));

        // The issuer answers to the wallet's ephemeral key.
        let key = ResponseKey::generate("A128GCM").unwrap();
        assert!(!key.public.contains_key("d"));
        assert_eq!(key.public["alg"], "ECDH-ES");
        let encrypter = josekit::jwe::ECDH_ES
            .encrypter_from_jwk(&josekit::jwk::Jwk::from_map(key.public.clone()).unwrap())
            .unwrap();
        let mut h = josekit::jwe::JweHeader::new();
        h.set_content_encryption("A128GCM");
        let answer = josekit::jwe::serialize_compact(b"{\"ok\":true}", &h, &encrypter).unwrap();
        assert_eq!(key.decrypt(&answer).unwrap(), b"{\"ok\":true}");
        // Another enc than the one asked for is refused.
        h.set_content_encryption("A256GCM");
        let other = josekit::jwe::serialize_compact(b"{}", &h, &encrypter).unwrap();
        assert_eq!(key.decrypt(&other).unwrap_err().code(), "encryption_failed");
        // So is a response encrypted to someone else.
        let stranger = ResponseKey::generate("A128GCM").unwrap();
        assert_eq!(
            stranger.decrypt(&answer).unwrap_err().code(),
            "encryption_failed"
        );
    }

    #[test]
    fn a_compressed_response_is_refused_before_it_is_decrypted() {
        let key = ResponseKey::generate("A128GCM").unwrap();
        let encrypter = josekit::jwe::ECDH_ES
            .encrypter_from_jwk(&josekit::jwk::Jwk::from_map(key.public.clone()).unwrap())
            .unwrap();
        let mut h = josekit::jwe::JweHeader::new();
        h.set_content_encryption("A128GCM");
        h.set_compression("DEF");
        // Four megabytes of zeros deflate to a few kilobytes.
        let bomb = josekit::jwe::serialize_compact(&vec![0u8; 4 << 20], &h, &encrypter).unwrap();
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let e = key.decrypt(&bomb).unwrap_err();
        assert_eq!(e.code(), "response_compressed", "{e}");
        // A header that is not base64url JSON is refused too, not decrypted.
        assert_eq!(
            key.decrypt("e30x.a.b.c.d").unwrap_err().code(),
            "encryption_failed"
        );
    }
}
