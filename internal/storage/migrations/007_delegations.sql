-- Delegations (issue 9): a municipality's work done by another office.
--   第2 5 (規則65–69): the head of another municipality does the delegated
--     certification-related work for the delegating municipality's residents;
--     the delegation is notified to the Organization (規則66) and ended (規則68).
--   第2 6 (郵便局事務取扱法): a post office, an office of its own with its own
--     clerks and terminals, takes the delegated applications (issuance and
--     renewal, PIN change and reset).
-- A case done under a delegation stays the delegating (address) municipality's:
-- its case number, its register check, its manager's lists. cases.office_code
-- records the office that acted.

-- Terminals belong to an office (a post office has its own).
ALTER TABLE terminals DROP CONSTRAINT terminals_municipality_code_fkey;
ALTER TABLE terminals ALTER COLUMN municipality_code TYPE text;
ALTER TABLE terminals ADD CONSTRAINT terminals_office_fkey FOREIGN KEY (municipality_code) REFERENCES offices (code);

-- The acting office of a case; NULL for the cases before this migration,
-- which were all done by their own municipality.
ALTER TABLE cases ADD COLUMN office_code text REFERENCES offices (code);

-- One delegation from a municipality to an office (a post office or another
-- municipality), for some procedures, from starts_on until the day before
-- ends_on (ends_on is the day the delegation no longer applies; NULL: open
-- ended). A delegation ended on its first day never applied.
CREATE TABLE delegations (
    id                bigserial PRIMARY KEY,
    municipality_code char(6) NOT NULL REFERENCES municipalities (code),
    delegate_office   text NOT NULL REFERENCES offices (code),
    procedures        text[] NOT NULL CHECK (cardinality(procedures) > 0),
    starts_on         date NOT NULL,
    ends_on           date,
    -- 規則66: the day the Organization was notified (municipal delegations).
    notified_on       date,
    recorded_by       bigint NOT NULL REFERENCES clerks (id),
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on IS NULL OR ends_on >= starts_on),
    CHECK (municipality_code <> delegate_office)
);
CREATE INDEX delegations_delegate ON delegations (delegate_office, municipality_code);

-- The recorded procedures of a delegation, with their dates: delegated
-- (規則65 / 郵便局事務取扱法第2条), notified (規則66), ended (規則68).
CREATE TABLE delegation_events (
    delegation_id bigint NOT NULL REFERENCES delegations (id),
    event         text NOT NULL CHECK (event IN ('delegated', 'notified', 'ended')),
    on_date       date NOT NULL,
    actor         bigint NOT NULL REFERENCES clerks (id),
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delegation_id, event)
);
