-- The counter terminals' register (issue 12 item 3, 第3 6 統合端末の管理):
-- who registered a terminal and when, the card agent's identity (the name
-- its Temporal worker polls under, so the list can show when that agent last
-- asked for work), and which case runs on which terminal, so that a
-- decommissioned terminal's open cases are ended instead of waiting for it.
ALTER TABLE terminals ADD COLUMN agent_identity text UNIQUE CHECK (agent_identity IS NULL OR length(btrim(agent_identity)) > 0);
ALTER TABLE terminals ADD COLUMN registered_by bigint REFERENCES clerks (id);
ALTER TABLE terminals ADD COLUMN registered_at timestamptz;

-- The terminal a case was started on (NULL: a procedure with no card steps).
ALTER TABLE cases ADD COLUMN terminal_id text REFERENCES terminals (id);
CREATE INDEX cases_open_on_terminal ON cases (terminal_id) WHERE status = 'open' AND terminal_id IS NOT NULL;
