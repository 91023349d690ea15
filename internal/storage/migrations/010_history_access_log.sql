-- Every opening of a case's history (its decoded Temporal history, with
-- personal data) by a manager or an auditor: who read whose record, when,
-- from which office (issue 11). Rows are only ever added; auditors search
-- them through GET /api/access-log.
CREATE TABLE history_access_log (
    id                bigserial PRIMARY KEY,
    clerk_id          bigint NOT NULL REFERENCES clerks(id),
    clerk_login       text NOT NULL,
    office_code       text NOT NULL,
    case_number       text NOT NULL REFERENCES cases(case_number),
    municipality_code text NOT NULL,
    at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX history_access_log_municipality_at ON history_access_log (municipality_code, at);
CREATE INDEX history_access_log_case ON history_access_log (case_number, at);
