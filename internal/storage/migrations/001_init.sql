-- Municipal database (db "madoguchi"): the resident register, staff, terminals,
-- procedures (cases) and the municipality's own records of what it did.

CREATE TABLE municipalities (
    code                     char(6) PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name                     text NOT NULL,
    document_retention_years int  NOT NULL DEFAULT 5 CHECK (document_retention_years > 0)
);

-- Fee schedule (第3 5): one row per municipality and item; 0 yen is a valid fee.
CREATE TABLE fee_schedule (
    municipality_code char(6) NOT NULL REFERENCES municipalities(code),
    item              text    NOT NULL,
    amount_yen        int     NOT NULL CHECK (amount_yen >= 0),
    PRIMARY KEY (municipality_code, item)
);

CREATE TABLE clerks (
    id                bigserial PRIMARY KEY,
    municipality_code char(6) NOT NULL REFERENCES municipalities(code),
    login             text NOT NULL UNIQUE,
    display_name      text NOT NULL,
    role              text NOT NULL CHECK (role IN ('clerk', 'manager')),
    password_hash     text NOT NULL
);

-- Sessions keep only a hash of the bearer token.
CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,
    clerk_id    bigint NOT NULL REFERENCES clerks(id),
    expires_at  timestamptz NOT NULL
);

-- The resident register (住民基本台帳): basic 4 information plus former
-- surname / alias, the resident code and the record's status.
CREATE TABLE residents (
    resident_code     char(11) PRIMARY KEY CHECK (resident_code ~ '^[0-9]{11}$'),
    municipality_code char(6) NOT NULL REFERENCES municipalities(code),
    name              text NOT NULL,
    name_kana         text NOT NULL DEFAULT '',
    former_surname    text NOT NULL DEFAULT '',
    alias             text NOT NULL DEFAULT '',
    birth_date        date NOT NULL,
    sex               text NOT NULL CHECK (sex IN ('male', 'female')),
    address           text NOT NULL,
    status            text NOT NULL CHECK (status IN ('resident', 'moved_out', 'deceased')),
    adult_ward        boolean NOT NULL DEFAULT false
);

-- IC cards known to the municipality, with the card's own expiry.
CREATE TABLE cards (
    card_serial    text PRIMARY KEY,
    resident_code  char(11) NOT NULL REFERENCES residents(resident_code),
    expires_on     date NOT NULL
);

-- Counter terminals (統合端末); each card agent polls its own task queue.
CREATE TABLE terminals (
    id                text PRIMARY KEY,
    municipality_code char(6) NOT NULL REFERENCES municipalities(code),
    reader_name       text NOT NULL
);

-- Case numbers are allocated per municipality and day.
CREATE TABLE case_counters (
    municipality_code char(6) NOT NULL,
    day               date NOT NULL,
    last              int NOT NULL,
    PRIMARY KEY (municipality_code, day)
);

-- One row per procedure. No personal data beyond the resident code.
CREATE TABLE cases (
    case_number       text PRIMARY KEY,
    municipality_code char(6) NOT NULL REFERENCES municipalities(code),
    procedure         text NOT NULL,
    workflow_id       text NOT NULL UNIQUE,
    opened_by         bigint NOT NULL REFERENCES clerks(id),
    opened_at         timestamptz NOT NULL DEFAULT now(),
    status            text NOT NULL DEFAULT 'open',
    closed_at         timestamptz
);

-- Fees recorded per case (第3 5 電子証明書発行手数料管理).
CREATE TABLE fees (
    case_number  text NOT NULL REFERENCES cases(case_number),
    item         text NOT NULL,
    amount_yen   int  NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_number, item)
);

-- Application documents kept (第3 3 申請書等の保存) with their retention date.
CREATE TABLE documents (
    case_number   text NOT NULL REFERENCES cases(case_number),
    doc_type      text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    retain_until  date NOT NULL,
    PRIMARY KEY (case_number, doc_type)
);

-- The municipality's record of certificates it wrote onto cards; renewal
-- reads the current certificate from here (the municipality has no access to
-- the Organization's database).
CREATE TABLE issued_certificates (
    serial         text PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('sign', 'auth')),
    case_number    text NOT NULL REFERENCES cases(case_number),
    resident_code  char(11) NOT NULL REFERENCES residents(resident_code),
    card_serial    text NOT NULL,
    not_after      timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded', 'revoked')),
    UNIQUE (case_number, kind)
);
CREATE INDEX issued_certificates_resident ON issued_certificates (resident_code, kind) WHERE status = 'active';

-- Audit trail of human steps (who did what, when); no personal data.
CREATE TABLE case_events (
    case_number  text NOT NULL REFERENCES cases(case_number),
    event_key    text NOT NULL,
    actor        text NOT NULL,
    detail       text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_number, event_key)
);
