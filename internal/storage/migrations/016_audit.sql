-- The compliance audit (issue 12 items 5 and 6, 第3 8 and 第3 10).
--
-- 1. The access log records every read of personal data through the
-- gateway, not only the openings of a case's history: kind says what was
-- read (storage.Access*), reference names it without personal data (a
-- letter's name, or a refused start's procedure and refusal code), and a
-- register check that refused a start before any case existed has no case.
ALTER TABLE history_access_log
    ADD COLUMN kind text NOT NULL DEFAULT 'history'
        CHECK (kind IN ('history', 'register_record', 'disclosure')),
    ADD COLUMN reference text NOT NULL DEFAULT '',
    ALTER COLUMN case_number DROP NOT NULL;
-- Auditors also search the reads their own office's staff made of another
-- office's records.
CREATE INDEX history_access_log_office_at ON history_access_log (office_code, at);
CREATE INDEX history_access_log_kind ON history_access_log (municipality_code, kind, at);

-- 2. A closed case keeps the code of why it did not complete (a lapse's,
-- a rejection's, "cancelled", "failed"), so the audit report lists them
-- from the database after Temporal's retention removed the run.
ALTER TABLE cases ADD COLUMN reason_code text NOT NULL DEFAULT '';
CREATE INDEX cases_municipality_opened ON cases (municipality_code, opened_at);
