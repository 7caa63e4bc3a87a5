-- The storage level a key attestation (OpenID4VCI 1.0 Appendix D) stated
-- for the key a credential is bound to: JSON
-- {"key_storage": [...], "user_authentication": [...]}, or NULL when the
-- wallet sent no key attestation. Keep in step with
-- ../postgres/0002_key_attestation.sql.
ALTER TABLE credentials ADD COLUMN key_attestation TEXT;
