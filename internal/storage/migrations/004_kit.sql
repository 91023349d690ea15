-- The procedure kit: offices and roles, card status, every ending of a case.

-- Offices (窓口を持つ機関): a municipality, a post office acting under a
-- delegation (郵便局事務取扱法), or the Organization (機構). Each
-- municipality is an office of kind 'municipality' with the same code.
CREATE TABLE offices (
    code  text PRIMARY KEY,
    kind  text NOT NULL CHECK (kind IN ('municipality', 'post_office', 'organization')),
    name  text NOT NULL
);
INSERT INTO offices (code, kind, name) SELECT code, 'municipality', name FROM municipalities ON CONFLICT DO NOTHING;

-- Roles: counter clerk, manager, auditor (reads its scope, changes
-- nothing), the Organization's operator.
ALTER TABLE clerks DROP CONSTRAINT clerks_role_check;
ALTER TABLE clerks ADD CONSTRAINT clerks_role_check CHECK (role IN ('clerk', 'manager', 'auditor', 'operator'));

-- A card's status: a lost card's certificates are revoked as compromised
-- when a new card is issued, a returned or expired one's as no longer used.
ALTER TABLE cards ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'lost', 'returned', 'expired'));

