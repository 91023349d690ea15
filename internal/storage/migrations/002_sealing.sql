-- Sealing keys for PIN notices (暗証番号届出, relay-municipality case): the
-- registry of each municipality's public keys. Public keys are public; the
-- private keys stay in files on the municipality's terminals (internal/sealing).
-- The current key has retire_after NULL; a replaced key keeps opening notices
-- until retire_after (the overlap), after which its private key file is pruned.
-- Rows are kept after pruning as the record of which key was in use when.
CREATE TABLE sealing_keys (
    municipality_code char(6)     NOT NULL REFERENCES municipalities(code),
    key_id            text        NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    public_key        bytea       NOT NULL CHECK (octet_length(public_key) > 0),
    created_at        timestamptz NOT NULL,
    retire_after      timestamptz NULL,
    PRIMARY KEY (municipality_code, key_id)
);

-- At most one current key per municipality.
CREATE UNIQUE INDEX sealing_keys_one_current ON sealing_keys (municipality_code) WHERE retire_after IS NULL;
