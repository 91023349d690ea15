-- Inquiries of proxy issuance (照会書兼回答書, manual 第2 1(2)): one per case.
-- The reply code itself is never stored: only a slow salted hash bound to
-- the case number (internal/inquiry.Hash). The printable letter carries
-- the code, so it is kept only until the letter is recorded as mailed (or
-- the inquiry ends); a copy with the code masked stays as the record of
-- what was sent.
CREATE TABLE inquiries (
    case_number   text PRIMARY KEY REFERENCES cases(case_number),
    code_hash     bytea NOT NULL CHECK (length(code_hash) >= 16),
    salt          bytea NOT NULL CHECK (length(salt) >= 16),
    deadline      timestamptz NOT NULL,
    attempts      int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  int NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    pages         int NOT NULL DEFAULT 1 CHECK (pages > 0),
    pdf           bytea,          -- the printable letter, with the code; NULL once mailed or ended
    archived_pdf  bytea NOT NULL, -- the same letter with the code masked
    created_at    timestamptz NOT NULL DEFAULT now(),
    mailed_at     timestamptz,
    mailed_by     text,
    answered_at   timestamptz,
    locked_at     timestamptz,
    lapsed_at     timestamptz,
    status        text NOT NULL DEFAULT 'prepared'
                  CHECK (status IN ('prepared', 'mailed', 'answered', 'locked', 'lapsed')),
    CHECK (status = 'prepared' OR pdf IS NULL),
    CHECK (status <> 'mailed' OR (mailed_at IS NOT NULL AND mailed_by IS NOT NULL)),
    CHECK (status <> 'answered' OR answered_at IS NOT NULL),
    CHECK (status <> 'locked' OR locked_at IS NOT NULL),
    CHECK (status <> 'lapsed' OR lapsed_at IS NOT NULL)
);

-- Replies due, soonest first (what a municipality is waiting on).
CREATE INDEX inquiries_open_by_deadline ON inquiries (deadline) WHERE status IN ('prepared', 'mailed');
