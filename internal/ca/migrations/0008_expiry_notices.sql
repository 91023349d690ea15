-- Expiry notices (有効期限通知書, issue 12): the Organization writes to a
-- holder whose certificate expires within the coming 3 months (renewal
-- opens then, 規則13), with a proxy-renewal form (委任状) carrying a renewal
-- code. One notice per certificate: the serial is the key, so the daily run
-- produces a certificate's notice once however often it runs. A pair's two
-- certificates get a notice each, as they may expire on different days.
CREATE TABLE ca_expiry_notices (
    serial          text        PRIMARY KEY REFERENCES ca_certificates (serial),
    -- Printed on the letter instead of the serial: derived from it, so a
    -- retry renders the same letter, and says nothing about the holder.
    notice_number   text        NOT NULL UNIQUE,
    -- The run (workflow id) that produced it, for the record.
    run_id          text        NOT NULL,
    -- SHA-256 of the renewal code (internal/renewal): the code itself is
    -- only in the letter.
    code_hash       text        NOT NULL UNIQUE CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    -- The code opens a renewal until the certificate expires.
    code_expires_at timestamptz NOT NULL,
    -- The letter as produced (PDF/A); wiped once it is mailed or its code
    -- used, as it holds the code in the clear.
    pdf             bytea,
    produced_at     timestamptz NOT NULL,
    -- Handed to the mail room (cmd/expirynotices mailed), by whom.
    mailed_at       timestamptz,
    mailed_by       text,
    -- The renewal case that used the code, once; the office that started it.
    used_by_case    text        UNIQUE,
    used_by_office  text,
    used_at         timestamptz,
    CHECK ((used_by_case IS NULL) = (used_at IS NULL)),
    CHECK ((used_by_case IS NULL) = (used_by_office IS NULL)),
    CHECK ((mailed_at IS NULL) = (mailed_by IS NULL)),
    CHECK (pdf IS NOT NULL OR used_by_case IS NOT NULL OR mailed_at IS NOT NULL)
);
-- The mail room's queue: produced, not yet mailed.
CREATE INDEX ca_expiry_notices_unmailed ON ca_expiry_notices (produced_at, serial) WHERE mailed_at IS NULL AND pdf IS NOT NULL;
-- The daily selection reads unexpired certificates by expiry.
CREATE INDEX ca_certificates_expiry ON ca_certificates (not_after) WHERE revoked_at IS NULL AND cert_der IS NOT NULL;
