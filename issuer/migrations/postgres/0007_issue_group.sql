-- Issuing's group commit in one statement (issue 16). PostgreSQL only: the
-- SQLite store commits its groups on a thread of its own
-- (issuer/src/store/sql/sqlite_writer.rs) and has no counterpart. No table
-- changes shape.
--
-- The service links a group's audit entries to the chain head it last
-- committed for each agency (issuer/src/store/sql/postgres_groups.rs) and
-- sends the credential rows, each agency's expected and new head, and the
-- linked entries in one call. The call runs as one implicit transaction:
-- the rows go in first, then each agency's head moves on only if it is
-- still the one the entries were linked to (under the agency row's lock,
-- taken here in the order given), then the entries go in. So the row lock
-- that orders an agency's chain is held for the server's own work and the
-- commit's flush, not for round trips to the service.
--
-- Errors, which roll the whole call back:
--   TB001       an agency's head is not the one expected (another writer
--               moved the chain on): the service reads the head and tries
--               again, or commits the group the ordinary way.
--   23505       a unique value is taken (a licence id): the service
--               commits the group the ordinary way, which refuses only
--               that credential.
--   22023       the arrays do not line up, or a credential has no entry
--               (a bug in the service).
--   others      as they come.
CREATE FUNCTION tongban_issue_group(
    c_id TEXT[], c_agency_id TEXT[], c_vct TEXT[], c_licence_id TEXT[],
    c_status_list BIGINT[], c_status_idx BIGINT[], c_status BIGINT[],
    c_holder_thumbprint TEXT[], c_kid TEXT[], c_issued_at BIGINT[],
    c_expires_at BIGINT[], c_offer_id TEXT[], c_batch_id TEXT[],
    c_key_attestation TEXT[], c_status_seq BIGINT[],
    h_agency_id TEXT[], h_seq_before BIGINT[], h_head_before TEXT[],
    h_seq_after BIGINT[], h_head_after TEXT[],
    a_agency_id TEXT[], a_seq BIGINT[], a_at BIGINT, a_actor TEXT[],
    a_action TEXT[], a_subject TEXT[], a_detail TEXT[], a_prev_hash TEXT[],
    a_hash TEXT[]
) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(c_agency_id) <> cardinality(c_id)
        OR cardinality(h_seq_before) <> cardinality(h_agency_id)
        OR cardinality(h_head_before) <> cardinality(h_agency_id)
        OR cardinality(h_seq_after) <> cardinality(h_agency_id)
        OR cardinality(h_head_after) <> cardinality(h_agency_id)
        OR cardinality(a_agency_id) <> cardinality(c_id)
        OR cardinality(a_seq) <> cardinality(a_agency_id)
        OR cardinality(a_hash) <> cardinality(a_agency_id) THEN
        RAISE EXCEPTION 'tongban_issue_group: arrays of different lengths'
            USING ERRCODE = '22023';
    END IF;
    -- A head already moved on fails before any row is written (two
    -- replicas issuing for one agency would otherwise insert and roll back
    -- a whole group each time one of them misses).
    FOR i IN 1 .. coalesce(array_length(h_agency_id, 1), 0) LOOP
        PERFORM 1 FROM agencies WHERE id = h_agency_id[i]
            AND audit_seq = h_seq_before[i] AND audit_head = h_head_before[i];
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the audit chain of agency % is not at entry %',
                h_agency_id[i], h_seq_before[i] USING ERRCODE = 'TB001';
        END IF;
    END LOOP;
    INSERT INTO credentials (id, agency_id, vct, licence_id, status_list, status_idx,
        status, holder_thumbprint, kid, issued_at, expires_at, offer_id, batch_id,
        key_attestation, status_seq)
    SELECT * FROM unnest(c_id, c_agency_id, c_vct, c_licence_id, c_status_list,
        c_status_idx, c_status, c_holder_thumbprint, c_kid, c_issued_at, c_expires_at,
        c_offer_id, c_batch_id, c_key_attestation, c_status_seq);
    FOR i IN 1 .. coalesce(array_length(h_agency_id, 1), 0) LOOP
        UPDATE agencies SET audit_seq = h_seq_after[i], audit_head = h_head_after[i]
        WHERE id = h_agency_id[i] AND audit_seq = h_seq_before[i]
            AND audit_head = h_head_before[i];
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the audit chain of agency % is not at entry %',
                h_agency_id[i], h_seq_before[i] USING ERRCODE = 'TB001';
        END IF;
    END LOOP;
    INSERT INTO audit_log (agency_id, seq, at, actor, action, subject, detail,
        prev_hash, hash)
    SELECT a.agency_id, a.seq, a_at, a.actor, a.action, a.subject, a.detail,
        a.prev_hash, a.hash
    FROM unnest(a_agency_id, a_seq, a_actor, a_action, a_subject, a_detail,
        a_prev_hash, a_hash) AS a (agency_id, seq, actor, action, subject, detail,
        prev_hash, hash);
END
$$;
