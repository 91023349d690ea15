-- The certification records procedures (認証業務情報, 法第58条〜第61条): a
-- person's disclosure request (開示請求) and correction request (訂正等請求),
-- what the Organization disclosed, the letters it sent and the corrections
-- it decided. The certificates and the signed CRLs are never rewritten by
-- them: a verifier keeps seeing what was signed, and a correction amends
-- only the Organization's records about a certificate (ca_record_corrections).

-- One row per request as the Organization received it from a counter, keyed
-- by the Organization's case number (a repeat of the same case is the same
-- request). The requester's name and address are the register's, kept to
-- write to them: the Organization answers the person directly, never
-- through the counter.
CREATE TABLE ca_records_requests (
    case_number     text        PRIMARY KEY,
    procedure       text        NOT NULL CHECK (procedure IN ('disclosure', 'correction')),
    resident_code   text        NOT NULL CHECK (resident_code ~ '^[0-9]{11}$'),
    name            text        NOT NULL,
    address         text        NOT NULL,
    -- How the requester chose to receive the answer; a letter copies it
    -- when it is queued (ca_letters.delivery).
    delivery        text        NOT NULL CHECK (delivery IN ('mail', 'pickup')),
    received_at     timestamptz NOT NULL,
    -- Where the request was made: the counter's office and its own case.
    counter_office  text        NOT NULL,
    counter_case    text        NOT NULL,
    -- A correction names the disclosure it corrects. Not a foreign key: the
    -- request is recorded as it was made, and whether it names a disclosure
    -- of this person is a question of the decision (ApplyCorrections
    -- refuses a decision when it does not).
    disclosure_case text,
    -- A correction's items as requested (contract.CorrectionItem).
    items           jsonb,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((procedure = 'correction') = (disclosure_case IS NOT NULL)),
    CHECK ((procedure = 'correction') = (items IS NOT NULL))
);
CREATE INDEX ca_records_requests_resident ON ca_records_requests (resident_code);

-- A compiled disclosure: once per case. Its records are the snapshot in
-- ca_disclosed_records, so that the notice printed again, or a correction
-- deciding against it, sees exactly what was disclosed even after the
-- certificates' status changed.
CREATE TABLE ca_disclosures (
    case_number text        PRIMARY KEY REFERENCES ca_records_requests (case_number),
    operator    text        NOT NULL,
    compiled_at timestamptz NOT NULL
);

-- The records exactly as disclosed: the issuance record with the status at
-- compilation and the accepted corrections then in effect. No foreign key to
-- ca_certificates: what was disclosed stays what it was, whatever happens to
-- the certificate's row later (its retention ends).
CREATE TABLE ca_disclosed_records (
    case_number        text        NOT NULL REFERENCES ca_disclosures (case_number),
    serial             text        NOT NULL,
    kind               text        NOT NULL CHECK (kind IN ('sign', 'auth')),
    municipality_code  text        NOT NULL,
    issued_at          timestamptz NOT NULL,
    not_after          timestamptz NOT NULL,
    counterpart_serial text,
    -- The RFC 5280 name (internal/reasons), certificateHold for a hold;
    -- NULL for a certificate that was good.
    revocation_reason  text,
    revoked_at         timestamptz,
    PRIMARY KEY (case_number, serial),
    CHECK ((revocation_reason IS NULL) = (revoked_at IS NULL))
);

-- The Organization's letters of these procedures, once per case and letter:
-- the bytes queued are the bytes delivered, and the row says how they left
-- (mailed, or handed over at the counter after an identity check).
CREATE TABLE ca_letters (
    case_number   text        NOT NULL REFERENCES ca_records_requests (case_number),
    letter        text        NOT NULL CHECK (letter IN ('disclosure', 'extension', 'correction')),
    -- The request's choice when queued; 'mail' once a letter is mailed
    -- (a letter not picked up may be mailed after all).
    delivery      text        NOT NULL CHECK (delivery IN ('mail', 'pickup')),
    pdf           bytea       NOT NULL,
    queued_at     timestamptz NOT NULL,
    delivered_how text        CHECK (delivered_how IN ('mailed', 'handed_over')),
    delivered_by  text,
    delivered_at  timestamptz,
    PRIMARY KEY (case_number, letter),
    CHECK ((delivered_how IS NULL) = (delivered_at IS NULL))
);

-- Every decided item of a correction request, accepted or not: the audit of
-- the decision and, for the accepted ones, the amendments in effect (the
-- latest accepted row of a serial and field is that field's value; a
-- deleted record is no longer disclosed). Rows are only ever inserted: the
-- old value is kept beside the new one, and a later correction adds a row.
CREATE TABLE ca_record_corrections (
    case_number text        NOT NULL REFERENCES ca_records_requests (case_number),
    item        integer     NOT NULL CHECK (item >= 0), -- position in the request's items
    serial      text        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('correct', 'add', 'delete')),
    field       text        NOT NULL CHECK (field IN ('municipality', 'counterpart', 'revocation_reason', 'record')),
    -- The effective value before this item and the value after it; '' for
    -- none (an add's old value, a delete's new one).
    old_value   text        NOT NULL,
    new_value   text        NOT NULL,
    accepted    boolean     NOT NULL,
    decided_by  text        NOT NULL,
    reason      text        NOT NULL,
    decided_at  timestamptz NOT NULL,
    PRIMARY KEY (case_number, item)
);
CREATE INDEX ca_record_corrections_effective ON ca_record_corrections (serial, field, decided_at) WHERE accepted;
