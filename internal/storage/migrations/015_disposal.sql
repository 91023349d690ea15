-- Retention and disposal (issue 12 item 1, 第3 3 申請書等の保存).
--
-- Application documents are kept for the municipality's period for their
-- type (retention_periods), or its default (municipalities.
-- document_retention_years) for a type it did not set. The issuance records
-- (issued_certificates, 発行記録) follow their own rule: kept until 10 years
-- after the day after the certificate's expiry (令第2条; storage.
-- IssuanceRecordDisposableOn). A daily Schedule draws up each
-- municipality's list of what is due (disposal_lists, disposal_list_items);
-- a manager submits it, another manager approves it, and only then is each
-- item disposed of and the disposal recorded with its approval (disposals).
-- The submission, the approval and the disposal are also events of the
-- day's case in the audit trail's hash chain (case_events).
--
-- These tables hold no personal data: items are named by case number and
-- document type or certificate serial, people by staff login.

CREATE TABLE retention_periods (
    municipality_code char(6) NOT NULL REFERENCES municipalities (code),
    doc_type          text    NOT NULL CHECK (length(btrim(doc_type)) > 0),
    years             int     NOT NULL CHECK (years BETWEEN 1 AND 100),
    PRIMARY KEY (municipality_code, doc_type)
);

-- Whom a case is about, for the holds: the gateway records it when it
-- opens a case whose request names a resident (the issuance cases are
-- linked through issued_certificates, the ex-officio ones through
-- register_events). A document is about the resident of its case; it is
-- held while an open disclosure or correction request is about the same
-- resident.
CREATE TABLE case_residents (
    case_number   text     PRIMARY KEY REFERENCES cases (case_number),
    resident_code char(11) NOT NULL REFERENCES residents (resident_code)
);
CREATE INDEX case_residents_resident ON case_residents (resident_code);

-- The day's disposal is a case of its municipality like any other (its
-- state, history and audit events), opened by the Schedule, not a clerk.
ALTER TABLE cases ALTER COLUMN opened_by DROP NOT NULL;

ALTER TABLE documents ADD COLUMN disposed_at timestamptz;
ALTER TABLE issued_certificates ADD COLUMN disposed_at timestamptz;

CREATE TABLE disposal_lists (
    office_code  char(6)     NOT NULL REFERENCES municipalities (code),
    day          date        NOT NULL,
    case_number  text        NOT NULL UNIQUE REFERENCES cases (case_number),
    workflow_id  text        NOT NULL UNIQUE,
    status       text        NOT NULL DEFAULT 'drawn_up'
                 CHECK (status IN ('drawn_up', 'submitted', 'approved', 'disposed', 'nothing_due', 'lapsed', 'cancelled')),
    -- Drawn up by the daily Schedule; submitted by a manager, approved by
    -- another.
    drawn_up_at  timestamptz NOT NULL,
    submitted_by text,
    submitted_at timestamptz,
    approved_by  text,
    approved_at  timestamptz,
    closed_at    timestamptz,
    PRIMARY KEY (office_code, day),
    CHECK ((submitted_by IS NULL) = (submitted_at IS NULL)),
    CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
    CHECK (approved_by IS NULL OR (submitted_by IS NOT NULL AND approved_by <> submitted_by))
);

CREATE TABLE disposal_list_items (
    office_code char(6) NOT NULL,
    day         date    NOT NULL,
    -- A document (item: its doc_type) or an issuance record (item: the
    -- certificate's serial), of the case.
    kind        text    NOT NULL CHECK (kind IN ('document', 'issuance_record')),
    case_number text    NOT NULL REFERENCES cases (case_number),
    item        text    NOT NULL,
    due_on      date    NOT NULL,
    -- The open disclosure or correction request holding it, if any.
    held_by     text REFERENCES cases (case_number),
    PRIMARY KEY (office_code, day, kind, case_number, item),
    FOREIGN KEY (office_code, day) REFERENCES disposal_lists (office_code, day)
);

-- Each disposal, once per item: what, when, under whose approval.
CREATE TABLE disposals (
    kind        text        NOT NULL CHECK (kind IN ('document', 'issuance_record')),
    case_number text        NOT NULL REFERENCES cases (case_number),
    item        text        NOT NULL,
    office_code char(6)     NOT NULL,
    day         date        NOT NULL,
    disposed_at timestamptz NOT NULL,
    approved_by text        NOT NULL,
    approved_at timestamptz NOT NULL,
    PRIMARY KEY (kind, case_number, item),
    FOREIGN KEY (office_code, day) REFERENCES disposal_lists (office_code, day)
);
