-- The tamper-evident audit trail (issue 12, 第3 10 準拠性監査): a hash chain
-- per office over case_events, anchored daily (internal/storage/audit.go,
-- docs/AUDIT.md).
--
-- Chained: case_events, the trail every procedure writes through
-- storage.RecordEvent (who did which step of which case, when). A row's
-- office is its case's office (cases.municipality_code: the office whose
-- case it is and whose auditor audits it), copied onto the row so that a
-- later change of the case does not move the row between chains.
-- Each row carries its place in its office's chain (chain_seq, from 1), the
-- hash of the row before it (prev_hash; 32 zero bytes for the first) and its
-- own hash (row_hash) over the canonical encoding case_event_hash defines,
-- which internal/storage.CaseEventHash computes the same way.
-- audit_chain_heads holds each office's last (seq, hash); RecordEvent locks
-- it FOR UPDATE, so concurrent inserts of one office are chained one after
-- the other.

CREATE TABLE audit_chain_heads (
    office_code text PRIMARY KEY REFERENCES offices (code),
    last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_hash   bytea  NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (octet_length(last_hash) = 32)
);

-- The daily anchors: each office's chain head as recorded on a day
-- (storage.AnchorAuditChains). Verification checks each anchor against the
-- chain, so rows rewritten wholesale after an anchor are still detected.
CREATE TABLE audit_anchors (
    office_code text   NOT NULL REFERENCES offices (code),
    day         date   NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 0),
    head_hash   bytea  NOT NULL CHECK (octet_length(head_hash) = 32),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office_code, day)
);

-- One field of the canonical encoding: its UTF-8 length (4 bytes, big
-- endian), then its UTF-8 bytes.
CREATE FUNCTION audit_field(t text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8')
$$;

-- A case event's hash: SHA-256 over the tag, the office, the seq (8 bytes,
-- big endian), the previous hash (32 bytes), the case number, the event key,
-- the actor, the detail and the time in microseconds since the Unix epoch
-- (8 bytes, big endian, two's complement).
CREATE FUNCTION case_event_hash(office text, seq bigint, prev bytea, case_number text, event_key text,
                                actor text, detail text, at timestamptz) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT sha256(audit_field('madoguchi.case_events.v1') || audit_field(office) || int8send(seq) || prev
        || audit_field(case_number) || audit_field(event_key) || audit_field(actor) || audit_field(detail)
        || int8send((extract(epoch FROM at) * 1000000)::bigint))
$$;

ALTER TABLE case_events
    ADD COLUMN office_code text REFERENCES offices (code),
    ADD COLUMN chain_seq   bigint,
    ADD COLUMN prev_hash   bytea,
    ADD COLUMN row_hash    bytea;

-- The rows recorded before this migration are chained per office in a
-- deterministic order: time, then case number and event key (byte order).
DO $$
DECLARE
    r       record;
    cur_office text := NULL;
    n       bigint := 0;
    prev    bytea;
    h       bytea;
BEGIN
    FOR r IN SELECT c.municipality_code AS office, e.case_number, e.event_key, e.actor, e.detail, e.at
             FROM case_events e JOIN cases c ON c.case_number = e.case_number
             ORDER BY c.municipality_code COLLATE "C", e.at, e.case_number COLLATE "C", e.event_key COLLATE "C"
    LOOP
        IF cur_office IS DISTINCT FROM r.office THEN
            IF cur_office IS NOT NULL THEN
                INSERT INTO audit_chain_heads (office_code, last_seq, last_hash) VALUES (cur_office, n, prev);
            END IF;
            cur_office := r.office;
            n := 0;
            prev := decode(repeat('00', 32), 'hex');
        END IF;
        n := n + 1;
        h := case_event_hash(r.office, n, prev, r.case_number, r.event_key, r.actor, r.detail, r.at);
        UPDATE case_events SET office_code = r.office, chain_seq = n, prev_hash = prev, row_hash = h
            WHERE case_number = r.case_number AND event_key = r.event_key;
        prev := h;
    END LOOP;
    IF cur_office IS NOT NULL THEN
        INSERT INTO audit_chain_heads (office_code, last_seq, last_hash) VALUES (cur_office, n, prev);
    END IF;
END
$$;

ALTER TABLE case_events
    ALTER COLUMN office_code SET NOT NULL,
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN row_hash SET NOT NULL,
    ADD CONSTRAINT case_events_chain_seq_check CHECK (chain_seq > 0),
    ADD CONSTRAINT case_events_hashes_check CHECK (octet_length(prev_hash) = 32 AND octet_length(row_hash) = 32),
    ADD CONSTRAINT case_events_chain_unique UNIQUE (office_code, chain_seq);
