-- Append-only keys (issue 16). Keep in step with
-- ../postgres/0006_append_only_keys.sql.
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
-- so from then on the counter's index covers them too.
--
-- SQLite cannot drop a table's UNIQUE constraint, so the table is rebuilt
-- (https://www.sqlite.org/lang_altertable.html#otheralter): a new table,
-- every row copied with its row_id, the old one dropped, the new one renamed,
-- its indexes made again. Nothing references credentials, and this runs in
-- the migration's one transaction.
CREATE TABLE credentials_0006 (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    vct TEXT NOT NULL,
    licence_id TEXT,
    status_list INTEGER NOT NULL,
    status_idx INTEGER NOT NULL,
    status INTEGER NOT NULL,
    holder_thumbprint TEXT,
    kid TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER,
    offer_id TEXT,
    key_attestation TEXT,
    batch_id TEXT,
    status_seq INTEGER,
    UNIQUE (agency_id, licence_id)
);
INSERT INTO credentials_0006 (row_id, id, agency_id, vct, licence_id, status_list, status_idx,
    status, holder_thumbprint, kid, issued_at, expires_at, offer_id, key_attestation, batch_id,
    status_seq)
SELECT row_id, id, agency_id, vct, licence_id, status_list, status_idx, status,
    holder_thumbprint, kid, issued_at, expires_at, offer_id, key_attestation, batch_id, NULL
FROM credentials;
-- AUTOINCREMENT's high-water mark moves with the table, so a row_id (the
-- listing cursor) is never given twice.
DELETE FROM sqlite_sequence WHERE name = 'credentials_0006';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'credentials_0006', seq FROM sqlite_sequence WHERE name = 'credentials';
DROP TABLE credentials;
ALTER TABLE credentials_0006 RENAME TO credentials;
CREATE INDEX credentials_by_list ON credentials (agency_id, status_list, status);
CREATE INDEX credentials_by_agency ON credentials (agency_id, row_id);
CREATE INDEX credentials_by_batch ON credentials (agency_id, batch_id);
CREATE UNIQUE INDEX credentials_by_status_seq ON credentials (agency_id, status_seq);
CREATE UNIQUE INDEX credentials_legacy_position ON credentials (agency_id, status_list, status_idx)
    WHERE status_seq IS NULL;
