-- Tongban issuer schema, PostgreSQL. Keep in step with ../sqlite/0001_init.sql:
-- the same tables, columns and constraints; only the types differ.
CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    iss TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    region TEXT NOT NULL,
    vcts TEXT NOT NULL,
    encryption_required BIGINT NOT NULL DEFAULT 0,
    status_list_size BIGINT NOT NULL,
    index_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_status_idx BIGINT NOT NULL DEFAULT 0,
    audit_seq BIGINT NOT NULL DEFAULT 0,
    audit_head TEXT NOT NULL,
    enc_kid TEXT NOT NULL,
    enc_public_jwk TEXT NOT NULL,
    enc_sealed BYTEA NOT NULL
);

CREATE TABLE signing_keys (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    kid TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    PRIMARY KEY (agency_id, kid)
);

CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE credentials (
    row_id BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    vct TEXT NOT NULL,
    licence_id TEXT,
    status_list BIGINT NOT NULL,
    status_idx BIGINT NOT NULL,
    status BIGINT NOT NULL,
    holder_thumbprint TEXT,
    kid TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT,
    offer_id TEXT,
    UNIQUE (agency_id, status_list, status_idx),
    UNIQUE (agency_id, licence_id)
);
CREATE INDEX credentials_by_list ON credentials (agency_id, status_list, status);
CREATE INDEX credentials_by_agency ON credentials (agency_id, row_id);

CREATE TABLE offers (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    vct TEXT NOT NULL,
    claims TEXT NOT NULL,
    credential_exp BIGINT,
    credential_nbf BIGINT,
    code_hash TEXT NOT NULL UNIQUE,
    tx_code_hash TEXT,
    tx_code_length BIGINT,
    tx_attempts BIGINT NOT NULL DEFAULT 0,
    code_expires_at BIGINT NOT NULL,
    state BIGINT NOT NULL,
    access_token_hash TEXT UNIQUE,
    token_expires_at BIGINT,
    credential_id TEXT,
    actor TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE nonces (
    hash TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (agency_id, seq)
);
