-- CRLs (失効記録) and the daily revocation-information files (失効情報ファイル),
-- written by internal/crl. Unqualified, like 0001.

-- The CRL queries (internal/crl) read only these columns of the revoked
-- certificates. Covering them turns each CRL into an index-only scan instead
-- of one heap visit per entry (a row holds its ~1.5 KB certificate inline),
-- which is what makes a 1,000,000-entry CRL cheap; it replaces 0001's
-- ca_certificates_crl, which had the same keys without the payload.
DROP INDEX ca_certificates_crl;
CREATE INDEX ca_certificates_crl_entries ON ca_certificates (kind, municipality_code, not_after)
    INCLUDE (issuer_id, serial, revoked_at, revocation_reason)
    WHERE revoked_at IS NOT NULL;

-- CRL partitions. Every certificate's CRL distribution point names its
-- issuing municipality's partition under the repository URL recorded at
-- issuance; a partition CRL must name the same URI(s) in its
-- issuingDistributionPoint, so the set of (issuer, municipality, URL) is kept
-- here as certificates are reserved. Partitions without any revocation still
-- get a (empty) CRL: their certificates need one to be checked at all.
CREATE TABLE crl_partitions (
    issuer_id         bigint  NOT NULL REFERENCES ca_issuers (id),
    municipality_code char(6) NOT NULL,
    repository_url    text    NOT NULL,
    PRIMARY KEY (issuer_id, municipality_code, repository_url)
);

CREATE FUNCTION crl_note_partition() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
AS $$
BEGIN
    INSERT INTO crl_partitions (issuer_id, municipality_code, repository_url)
    VALUES (NEW.issuer_id, NEW.municipality_code, NEW.repository_url)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER crl_partition AFTER INSERT ON ca_certificates
    FOR EACH ROW EXECUTE FUNCTION crl_note_partition();

INSERT INTO crl_partitions (issuer_id, municipality_code, repository_url)
SELECT DISTINCT issuer_id, municipality_code, repository_url FROM ca_certificates
ON CONFLICT DO NOTHING;

-- Every CRL issued, append-only. scope is the municipality code of a
-- partition CRL, '' for the CA's full CRL. Rows referenced by crl_current or
-- crl_daily_files are kept; others are disposed of after a week (crl.Dispose).
CREATE TABLE crl_issued (
    id          bigserial   PRIMARY KEY,
    issuer_id   bigint      NOT NULL REFERENCES ca_issuers (id),
    scope       text        NOT NULL CHECK (scope = '' OR scope ~ '^[0-9]{6}$'),
    crl_number  bigint      NOT NULL CHECK (crl_number > 0),
    this_update timestamptz NOT NULL,
    next_update timestamptz NOT NULL CHECK (next_update > this_update),
    entries     bigint      NOT NULL,
    run_id      text        NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    der         bytea       NOT NULL,
    UNIQUE (issuer_id, scope, crl_number)
);
-- lz4 shrinks a CRL to about 65% (the serials are random, the rest is
-- repetitive DER) for ~0.1 s per 50 MB: worth it over 10 years of files.
ALTER TABLE crl_issued ALTER COLUMN der SET COMPRESSION lz4;
CREATE INDEX crl_issued_this_update ON crl_issued (this_update);
CREATE INDEX crl_issued_run ON crl_issued (run_id);

-- The CRL number counter and the latest CRL of each scope. The row is the
-- lock that serializes issuers of one scope; last_number only grows
-- (RFC 5280 §5.2.3: monotonically increasing per CRL issuer and scope).
CREATE TABLE crl_current (
    issuer_id   bigint NOT NULL REFERENCES ca_issuers (id),
    scope       text   NOT NULL,
    last_number bigint NOT NULL DEFAULT 0,
    crl_id      bigint REFERENCES crl_issued (id),
    PRIMARY KEY (issuer_id, scope)
);

-- The revocation-information file of each day (Asia/Tokyo): the CA's full CRL
-- from the last publication of that day. Kept for 10 years (crl.Dispose).
CREATE TABLE crl_daily_files (
    issuer_id bigint NOT NULL REFERENCES ca_issuers (id),
    day       date   NOT NULL,
    crl_id    bigint NOT NULL REFERENCES crl_issued (id),
    PRIMARY KEY (issuer_id, day)
);
CREATE INDEX crl_daily_files_day ON crl_daily_files (day);
CREATE INDEX crl_daily_files_crl ON crl_daily_files (crl_id);
CREATE INDEX crl_current_crl ON crl_current (crl_id);
