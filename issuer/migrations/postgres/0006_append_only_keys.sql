-- Append-only keys (issue 16). Keep in step with
-- ../sqlite/0006_append_only_keys.sql.
--
-- A credential's status position (status_list, status_idx) is a keyed
-- permutation of the agency's dense counter g (issuer/src/status_index.rs):
-- a bijection for the agency's fixed key and list size. So the position is
-- kept unique by keeping g unique, in the new column status_seq, whose index
-- is appended to in issuing order. The old UNIQUE (agency_id, status_list,
-- status_idx) put every new credential on a random page of its index.
--
-- Rows stored before this migration have no status_seq yet (NULL): the
-- partial index credentials_legacy_position keeps their positions unique
-- among themselves, and the service, when it opens the database, computes
-- their g by inverting the permutation and sets it (store/sql/backfill.rs),
-- so from then on the counter's index covers them too. The partial index is
-- made before the constraint is dropped, so no moment is without one.
ALTER TABLE credentials ADD COLUMN status_seq BIGINT;
CREATE UNIQUE INDEX credentials_by_status_seq ON credentials (agency_id, status_seq);
CREATE UNIQUE INDEX credentials_legacy_position ON credentials (agency_id, status_list, status_idx)
    WHERE status_seq IS NULL;
ALTER TABLE credentials DROP CONSTRAINT credentials_agency_id_status_list_status_idx_key;
