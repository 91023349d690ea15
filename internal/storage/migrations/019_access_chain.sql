-- The access log joins the tamper-evident audit trail (issue 12 item 6,
-- 第3 10): a second hash chain per office over history_access_log, with its
-- own heads and daily anchors, in the encoding of the case events' chain
-- under its own tag (internal/storage.AccessEventHash), so an edited,
-- deleted or reordered read is found like an edited case event. A row's
-- office is the office whose record was read (municipality_code), whose
-- auditors search the log.

CREATE TABLE access_chain_heads (
    office_code text PRIMARY KEY,
    last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_hash   bytea  NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (octet_length(last_hash) = 32)
);

CREATE TABLE access_anchors (
    office_code text   NOT NULL,
    day         date   NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 0),
    head_hash   bytea  NOT NULL CHECK (octet_length(head_hash) = 32),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office_code, day)
);

-- An access-log row's hash: SHA-256 over the tag, the office, the seq (8
-- bytes, big endian), the previous hash (32 bytes), the reader's login, the
-- reader's id (as decimal text), the reader's office, the kind, the case
-- number ('' for none), the reference and the time in microseconds since
-- the Unix epoch (8 bytes, big endian); audit_field is 009's.
CREATE FUNCTION access_event_hash(office text, seq bigint, prev bytea, clerk_login text, clerk_id bigint, from_office text,
                                  kind text, case_number text, reference text, at timestamptz) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT sha256(audit_field('madoguchi.history_access_log.v1') || audit_field(office) || int8send(seq) || prev
        || audit_field(clerk_login) || audit_field(clerk_id::text) || audit_field(from_office) || audit_field(kind)
        || audit_field(case_number) || audit_field(reference) || int8send((extract(epoch FROM at) * 1000000)::bigint))
$$;

ALTER TABLE history_access_log
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN row_hash  bytea;

-- The rows recorded before this migration are chained per office in a
-- deterministic order: time, then id.
DO $$
DECLARE
    r          record;
    cur_office text := NULL;
    n          bigint := 0;
    prev       bytea;
    h          bytea;
BEGIN
    FOR r IN SELECT id, municipality_code AS office, clerk_login, clerk_id, office_code, kind, COALESCE(case_number, '') AS case_number,
                    reference, at
             FROM history_access_log ORDER BY municipality_code COLLATE "C", at, id
    LOOP
        IF cur_office IS DISTINCT FROM r.office THEN
            IF cur_office IS NOT NULL THEN
                INSERT INTO access_chain_heads (office_code, last_seq, last_hash) VALUES (cur_office, n, prev);
            END IF;
            cur_office := r.office;
            n := 0;
            prev := decode(repeat('00', 32), 'hex');
        END IF;
        n := n + 1;
        h := access_event_hash(r.office, n, prev, r.clerk_login, r.clerk_id, r.office_code, r.kind, r.case_number, r.reference, r.at);
        UPDATE history_access_log SET chain_seq = n, prev_hash = prev, row_hash = h WHERE id = r.id;
        prev := h;
    END LOOP;
    IF cur_office IS NOT NULL THEN
        INSERT INTO access_chain_heads (office_code, last_seq, last_hash) VALUES (cur_office, n, prev);
    END IF;
END
$$;

ALTER TABLE history_access_log
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN row_hash SET NOT NULL,
    ADD CONSTRAINT history_access_log_chain_seq_check CHECK (chain_seq > 0),
    ADD CONSTRAINT history_access_log_hashes_check CHECK (octet_length(prev_hash) = 32 AND octet_length(row_hash) = 32),
    ADD CONSTRAINT history_access_log_chain_unique UNIQUE (municipality_code, chain_seq);
