-- Staff accounts' safety (issue 13 item 7): a disabled account signs in no
-- more and its sessions end; failed sign-ins are counted per account and
-- per address, and an account locked after too many stays locked until a
-- manager of its office unlocks it; the demo's accounts are marked, so that
-- a production gateway refuses to start while any is there; every change to
-- an account is recorded with who made it.
ALTER TABLE clerks ADD COLUMN disabled_at timestamptz;
ALTER TABLE clerks ADD COLUMN locked_at timestamptz;
-- demo: seeded by internal/demo with the published demo password.
ALTER TABLE clerks ADD COLUMN demo boolean NOT NULL DEFAULT false;

-- Failed sign-ins, kept for the throttling window (storage.LoginFailed
-- prunes older rows). The login is as typed (it may name no account).
CREATE TABLE login_failures (
    id      bigserial PRIMARY KEY,
    login   text NOT NULL,
    address text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX login_failures_login ON login_failures (login, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- Who did what to which account, when (created, disabled, enabled,
-- password_reset, role_set, unlocked, sessions_revoked).
CREATE TABLE account_events (
    id          bigserial PRIMARY KEY,
    office_code text NOT NULL REFERENCES offices (code),
    login       text NOT NULL,
    action      text NOT NULL CHECK (action IN ('created', 'disabled', 'enabled', 'password_reset', 'role_set', 'unlocked', 'sessions_revoked')),
    detail      text NOT NULL DEFAULT '',
    actor       text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX account_events_office ON account_events (office_code, at);
