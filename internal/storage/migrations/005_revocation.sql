-- Revocation, loss reports and hold release (issue 8).

-- The Organization (機構) is an office: its operators take loss reports on
-- the 24-hour line. A clerk's and a case's municipality_code is the code of
-- their office, which for a municipality is its 6-digit code.
INSERT INTO offices (code, kind, name) VALUES ('jlis', 'organization', '地方公共団体情報システム機構') ON CONFLICT DO NOTHING;

ALTER TABLE clerks DROP CONSTRAINT clerks_municipality_code_fkey;
ALTER TABLE clerks ALTER COLUMN municipality_code TYPE text;
ALTER TABLE clerks ADD CONSTRAINT clerks_office_fkey FOREIGN KEY (municipality_code) REFERENCES offices (code);

ALTER TABLE cases DROP CONSTRAINT cases_municipality_code_fkey;
ALTER TABLE cases ALTER COLUMN municipality_code TYPE text;
ALTER TABLE cases ADD CONSTRAINT cases_office_fkey FOREIGN KEY (municipality_code) REFERENCES offices (code);

ALTER TABLE case_counters ALTER COLUMN municipality_code TYPE text;
