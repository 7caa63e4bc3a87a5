-- The receiving agency's service: the operator CA, tenants (receiving
-- agencies) with their request-signing identity, bearer tokens (hashes
-- only), presentation transactions, and the hash-chained audit log.

CREATE TABLE operator_ca (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    common_name TEXT NOT NULL,
    cert_der BLOB NOT NULL,
    sealed_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    region TEXT NOT NULL,
    dns TEXT NOT NULL,
    client_id_prefix TEXT NOT NULL,
    allow_plain_direct_post INTEGER NOT NULL,
    cert_der BLOB NOT NULL,
    sealed_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    tenant_id TEXT REFERENCES tenants(id),
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE transactions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    token_id TEXT NOT NULL,
    state TEXT NOT NULL,
    flow TEXT NOT NULL,
    nonce TEXT NOT NULL,
    state_param TEXT NOT NULL,
    dcql TEXT NOT NULL,
    transaction_data TEXT,
    purpose TEXT NOT NULL,
    response_mode TEXT NOT NULL,
    enc_kid TEXT NOT NULL,
    enc_sealed BLOB NOT NULL,
    enc_public_jwk TEXT NOT NULL,
    redirect_page TEXT,
    response_code_hash TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    answered_at INTEGER,
    outcome TEXT,
    claims TEXT,
    claims_erase_at INTEGER
);
CREATE INDEX transactions_pending ON transactions (tenant_id, state, expires_at);
CREATE INDEX transactions_claims ON transactions (claims_erase_at) WHERE claims IS NOT NULL;

CREATE TABLE audit_heads (
    chain TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    head TEXT NOT NULL
);

CREATE TABLE audit_log (
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
