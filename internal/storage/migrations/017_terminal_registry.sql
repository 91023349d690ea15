-- The counter terminals' register (issue 12 item 3, 第3 6 統合端末の管理):
-- who registered a terminal and when, the card agent's identity (the name
-- its Temporal worker polls under, so the list can show when that agent last
-- asked for work), and which case runs on which terminal, so that a
-- decommissioned terminal's open cases are ended instead of waiting for it.
ALTER TABLE terminals ADD COLUMN agent_identity text UNIQUE CHECK (agent_identity IS NULL OR length(btrim(agent_identity)) > 0);
ALTER TABLE terminals ADD COLUMN registered_by bigint REFERENCES clerks (id);
ALTER TABLE terminals ADD COLUMN registered_at timestamptz;
-- Whether the terminal holds its office's sealing private keys (relay PIN
-- notices, migration 002): a municipality's do, a post office's do not. A
-- decommissioned terminal that held them retires the office's current key.
ALTER TABLE terminals ADD COLUMN holds_sealing_keys boolean NOT NULL DEFAULT true;
UPDATE terminals t SET holds_sealing_keys = false FROM offices o WHERE o.code = t.municipality_code AND o.kind <> 'municipality';
-- The PIN-reset authority (migration 008) is the Organization's to grant
-- or withdraw: who did, when.
ALTER TABLE terminals ADD COLUMN pin_reset_changed_by bigint REFERENCES clerks (id);
ALTER TABLE terminals ADD COLUMN pin_reset_changed_at timestamptz;

-- The terminal a case was started on (NULL: a procedure with no card steps).
ALTER TABLE cases ADD COLUMN terminal_id text REFERENCES terminals (id);
CREATE INDEX cases_open_on_terminal ON cases (terminal_id) WHERE status = 'open' AND terminal_id IS NOT NULL;
