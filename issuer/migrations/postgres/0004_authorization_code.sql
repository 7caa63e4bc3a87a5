-- The authorization code flow (HAIP 1.0): pushed authorization requests
-- and their codes, the agency's records looked up by the citizen's
-- subject, and what an offer's access token is bound to. Keep in step
-- with ../sqlite/0004_authorization_code.sql.

-- 0 pre-authorized code, 1 authorization code from an issuer-initiated
-- offer (issuer_state), 2 authorization code asked for by the wallet.
ALTER TABLE offers ADD COLUMN grant_type BIGINT NOT NULL DEFAULT 0;
-- The citizen's subject at the agency's login (grants 1 and 2).
ALTER TABLE offers ADD COLUMN subject TEXT;
-- SHA-256 of the offer's issuer_state (grant 1).
ALTER TABLE offers ADD COLUMN issuer_state_hash TEXT;
-- The RFC 7638 thumbprint of the DPoP key the access token is bound to.
ALTER TABLE offers ADD COLUMN dpop_jkt TEXT;
CREATE UNIQUE INDEX offers_by_issuer_state ON offers (issuer_state_hash);

-- One row per pushed authorization request, through its stages:
-- 0 pushed, 1 citizen at the login, 5 login being finished, 2 code issued,
-- 3 code redeemed, 4 refused. expires_at is the current stage's deadline.
CREATE TABLE authorization_requests (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    request_uri_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    vct TEXT NOT NULL,
    by_details BIGINT NOT NULL,
    offer_id TEXT,
    client_state TEXT,
    dpop_jkt TEXT,
    stage BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    login_state_hash TEXT UNIQUE,
    login_nonce TEXT,
    login_verifier TEXT,
    subject TEXT,
    code_hash TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX authorization_requests_by_stage ON authorization_requests (agency_id, stage, expires_at);

-- The agency's records, by the subject its login names: the claims of one
-- credential type for one citizen, loaded by the admin API, forgotten once
-- the credential is issued or at expires_at.
CREATE TABLE subject_records (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    subject TEXT NOT NULL,
    vct TEXT NOT NULL,
    claims TEXT NOT NULL,
    credential_exp BIGINT,
    credential_nbf BIGINT,
    expires_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agency_id, subject, vct)
);
