-- The complaints and inquiries register (issue 12 item 4, 第3 7): what a
-- resident complained of or asked, the office's answer, its due date and
-- its status, for the office's managers and auditors.
--
-- It holds no more personal data than needed: no names, addresses or
-- resident codes. A complaint about a case links the case by its number
-- (which carries no personal data); the summary is free text that the clerk
-- is told not to fill with personal data (README, "Complaints").
--
-- The due date is ours to choose: 14 days after receipt unless the clerk
-- sets another (第3 7 sets no period).
CREATE TABLE complaints (
    id           bigserial PRIMARY KEY,
    office_code  text NOT NULL REFERENCES offices (code),
    category     text NOT NULL CHECK (category IN ('procedure', 'pin', 'card', 'personal_data', 'other')),
    -- A case of the office (checked by the gateway), or NULL.
    case_number  text REFERENCES cases (case_number),
    summary      text NOT NULL CHECK (length(btrim(summary)) > 0),
    received_at  timestamptz NOT NULL,
    due_on       date NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'closed')),
    response     text,
    recorded_by  bigint NOT NULL REFERENCES clerks (id),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    answered_by  bigint REFERENCES clerks (id),
    answered_at  timestamptz,
    CHECK ((status = 'open') = (answered_at IS NULL)),
    CHECK (answered_at IS NULL OR (response IS NOT NULL AND answered_by IS NOT NULL))
);
CREATE INDEX complaints_office ON complaints (office_code, status, due_on);
