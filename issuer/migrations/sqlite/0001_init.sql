-- Tongban issuer schema, SQLite. Keep in step with ../postgres/0001_init.sql:
-- the same tables, columns and constraints; only the types differ.
CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    iss TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    region TEXT NOT NULL,
    vcts TEXT NOT NULL,
    encryption_required INTEGER NOT NULL DEFAULT 0,
    status_list_size INTEGER NOT NULL,
    index_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_status_idx INTEGER NOT NULL DEFAULT 0,
    audit_seq INTEGER NOT NULL DEFAULT 0,
    audit_head TEXT NOT NULL,
    enc_kid TEXT NOT NULL,
    enc_public_jwk TEXT NOT NULL,
    enc_sealed BLOB NOT NULL
);

CREATE TABLE signing_keys (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    kid TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    PRIMARY KEY (agency_id, kid)
);

CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE credentials (
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
    credential_exp INTEGER,
    credential_nbf INTEGER,
    code_hash TEXT NOT NULL UNIQUE,
    tx_code_hash TEXT,
    tx_code_length INTEGER,
    tx_attempts INTEGER NOT NULL DEFAULT 0,
    code_expires_at INTEGER NOT NULL,
    state INTEGER NOT NULL,
    access_token_hash TEXT UNIQUE,
    token_expires_at INTEGER,
    credential_id TEXT,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE nonces (
    hash TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (agency_id, seq)
);
