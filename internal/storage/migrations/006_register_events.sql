-- Ex-officio revocation (第2 2(3)): the resident register's changes (異動)
-- as they reach the back office. One row per change, keyed by the
-- register's own change id, so a change delivered twice is one row and one
-- case; a batch (a municipal merger) is one case for all its rows.
-- No personal data beyond the resident code; the change's kind and day.

-- The register's system account posts the changes: role 'register'.
ALTER TABLE clerks DROP CONSTRAINT clerks_role_check;
ALTER TABLE clerks ADD CONSTRAINT clerks_role_check CHECK (role IN ('clerk', 'manager', 'auditor', 'operator', 'register'));

CREATE TABLE register_events (
    id                bigserial PRIMARY KEY,
    municipality_code char(6) NOT NULL REFERENCES municipalities(code),
    change_id         text NOT NULL CHECK (change_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
    resident_code     char(11) NOT NULL REFERENCES residents(resident_code),
    kind              text NOT NULL CHECK (kind IN ('moved_out', 'moved_abroad', 'death', 'name_change',
                          'address_change', 'birth_date_correction', 'sex_correction', 'record_removal')),
    change_date       date NOT NULL,
    -- The case that processes it: its own, or its batch's.
    case_number       text NOT NULL REFERENCES cases(case_number),
    received_at       timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    UNIQUE (municipality_code, change_id)
);
CREATE INDEX register_events_case ON register_events (case_number, id);

-- A batch of changes, keyed by the register's batch id.
CREATE TABLE register_batches (
    case_number       text PRIMARY KEY REFERENCES cases(case_number),
    municipality_code char(6) NOT NULL REFERENCES municipalities(code),
    batch_id          text NOT NULL CHECK (batch_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
    changes           int NOT NULL CHECK (changes >= 0),
    received_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (municipality_code, batch_id)
);
