-- Batch issuance (OpenID4VCI 1.0 §8.2, `proofs` with several keys): the
-- copies of one licence issued in one credential request share
-- `batch_id`, the id of the batch's first copy. Only that copy carries the
-- licence_id (unique per agency); revoking, suspending or reinstating any
-- copy changes every copy of its batch (specs/issuer-api.md). A credential
-- issued alone has no batch_id. Keep in step with the other backend's file.
ALTER TABLE credentials ADD COLUMN batch_id TEXT;
CREATE INDEX credentials_by_batch ON credentials (agency_id, batch_id);
