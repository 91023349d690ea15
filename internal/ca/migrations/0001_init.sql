-- The Organization's CA: issuing CAs, issuance records (発行記録) and
-- revocation state. Tables are unqualified so that the search_path (one
-- schema per test, "public" in production) decides where they live.

-- One row per issuing CA key generation. Exactly one is active per kind; a
-- later re-key (after cACompromise) adds a row and deactivates the old one.
CREATE TABLE ca_issuers (
    id          bigserial   PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('sign', 'auth')),
    key_label   text        NOT NULL UNIQUE,
    serial      text        NOT NULL,
    subject     text        NOT NULL,
    cert_der    bytea       NOT NULL,
    spki_sha256 bytea       NOT NULL,
    not_before  timestamptz NOT NULL,
    not_after   timestamptz NOT NULL,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ca_issuers_one_active ON ca_issuers (kind) WHERE active;

-- Issuance records. A row is first a reservation (cert_der NULL) holding
-- everything that makes the certificate except the personal information,
-- which the caller supplies again on retry and request_digest pins down;
-- cert_der is set once, in the transaction that signs.
CREATE TABLE ca_certificates (
    serial             text        PRIMARY KEY,  -- lower-case hex, no leading zeros
    request_id         text        NOT NULL UNIQUE,
    kind               text        NOT NULL CHECK (kind IN ('sign', 'auth')),
    issuer_id          bigint      NOT NULL REFERENCES ca_issuers (id),
    municipality_code  char(6)     NOT NULL CHECK (municipality_code ~ '^[0-9]{6}$'),
    resident_code      text        NOT NULL,     -- 住民票コード, never in the certificate
    subject_id         text        NOT NULL,
    public_key_der     bytea       NOT NULL,
    spki_sha256        bytea       NOT NULL UNIQUE,
    request_digest     bytea       NOT NULL,
    repository_url     text        NOT NULL,
    not_before         timestamptz NOT NULL,
    not_after          timestamptz NOT NULL CHECK (not_after > not_before),
    retain_until       date        NOT NULL,     -- last day the record must be kept
    counterpart_serial text,                     -- 対応証明書の発行の番号
    reserved_at        timestamptz NOT NULL DEFAULT now(),
    cert_der           bytea,
    issued_at          timestamptz,
    -- Current revocation state; certificateHold (6) is a revocation that can
    -- be released. NULL reason = good.
    revocation_reason  smallint CHECK (revocation_reason IN (1, 2, 3, 4, 5, 6)),
    revoked_at         timestamptz,
    CHECK ((cert_der IS NULL) = (issued_at IS NULL)),
    CHECK ((revocation_reason IS NULL) = (revoked_at IS NULL))
);
-- CRL partitions are per kind and issuing municipality; only unexpired
-- revoked certificates are listed.
CREATE INDEX ca_certificates_crl ON ca_certificates (kind, municipality_code, not_after)
    WHERE revoked_at IS NOT NULL;
CREATE INDEX ca_certificates_resident ON ca_certificates (resident_code);
CREATE INDEX ca_certificates_retention ON ca_certificates (retain_until);

-- Append-only history of revocations, holds and releases, keyed by the
-- caller's request id so a repeated request is recognized. Daily revocation
-- information files (失効情報ファイル) are derived from it.
CREATE TABLE ca_status_events (
    id          bigserial   PRIMARY KEY,
    request_id  text        NOT NULL UNIQUE,
    serial      text        NOT NULL REFERENCES ca_certificates (serial),
    action      text        NOT NULL CHECK (action IN ('revoke', 'hold', 'release')),
    reason      smallint    CHECK (reason IN (1, 2, 3, 4, 5, 6)),
    at          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((action = 'release') = (reason IS NULL))
);
CREATE INDEX ca_status_events_serial ON ca_status_events (serial, id);
CREATE INDEX ca_status_events_at ON ca_status_events (at);
