-- The status of a counter terminal (issue 12 item 3, 第3 6): active,
-- suspended (no procedure starts on it until it is active again) or
-- decommissioned (for good). The gateway refuses a start on a terminal
-- that is not active. Who changed it last, and when.
ALTER TABLE terminals ADD COLUMN status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended', 'decommissioned'));
ALTER TABLE terminals ADD COLUMN status_changed_by bigint REFERENCES clerks (id);
ALTER TABLE terminals ADD COLUMN status_changed_at timestamptz;
