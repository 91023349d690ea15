-- The register of refused attempts (issue 12 item 8, 第3 10): an act the
-- rules forbid is refused, and the attempt itself is recorded, so that the
-- compliance audit sees who tried what, when and from which office. Kinds
-- (storage.Refusal*): a disposal without an approval, an approval of one's
-- own list, a fee typed by hand, an audit row found edited by the chain check.
--
-- It holds no personal data: the subject is a case number, a list's day or a
-- chain link, and the reason is the refusal's code.
CREATE TABLE refused_attempts (
    id          bigserial PRIMARY KEY,
    office_code text NOT NULL REFERENCES offices (code),
    kind        text NOT NULL CHECK (kind IN ('disposal_without_approval', 'approval_of_own_list',
                                              'fee_typed_by_hand', 'audit_row_edited')),
    -- Who tried: a staff login, or a process ("auditchain verify").
    actor       text NOT NULL CHECK (length(btrim(actor)) > 0),
    subject     text NOT NULL DEFAULT '',
    reason      text NOT NULL CHECK (length(btrim(reason)) > 0),
    at          timestamptz NOT NULL
);
CREATE INDEX refused_attempts_office ON refused_attempts (office_code, at);
