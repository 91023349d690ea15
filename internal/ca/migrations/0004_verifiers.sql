-- What verifiers see (issue 8 §5): CRL partitions that say nothing about the
-- holder, and a record of which partition URIs a published CRL covers, so
-- that a certificate's CRL distribution point answers from the moment the
-- certificate exists. Unqualified, like 0001.

-- The CRL partition a certificate's distribution point names
-- (<repo>/crl/<kind>/<partition>.crl). A signing certificate keeps its
-- issuing municipality (its subject and SAN carry the address anyway); a
-- user-authentication certificate carries no personal information, so its
-- partition is one of 64 shards of its serial ('s00'–'s63': serial mod 64,
-- the serial's low six bits), which says nothing the serial does not. This
-- function is the one definition: the CA reads the partition back from the
-- row it reserved and names it in the certificate.
CREATE FUNCTION crl_partition_of(kind text, serial text, municipality_code text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE kind
        WHEN 'sign' THEN municipality_code::text
        ELSE 's' || lpad(((('x' || lpad(right(serial, 2), 2, '0'))::bit(8)::int) & 63)::text, 2, '0')
    END;

-- Existing certificates keep the partition their distribution point already
-- names (the municipality, for both kinds); a reservation not yet signed has
-- no certificate anyone holds, so it takes the new rule.
ALTER TABLE ca_certificates ADD COLUMN crl_partition text;
UPDATE ca_certificates SET crl_partition = CASE
    WHEN cert_der IS NULL THEN crl_partition_of(kind, serial, municipality_code)
    ELSE municipality_code::text END;
ALTER TABLE ca_certificates ALTER COLUMN crl_partition SET NOT NULL,
    ADD CONSTRAINT ca_certificates_crl_partition_check
        CHECK (crl_partition ~ '^[0-9]{6}$' OR (kind = 'auth' AND crl_partition ~ '^s[0-9]{2}$'));

CREATE FUNCTION crl_assign_partition() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
AS $$
BEGIN
    IF NEW.crl_partition IS NULL THEN
        NEW.crl_partition := crl_partition_of(NEW.kind, NEW.serial, NEW.municipality_code);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER crl_assign_partition BEFORE INSERT ON ca_certificates
    FOR EACH ROW EXECUTE FUNCTION crl_assign_partition();

-- The CRL entry index follows the partition key.
DROP INDEX ca_certificates_crl_entries;
CREATE INDEX ca_certificates_crl_entries ON ca_certificates (kind, crl_partition, not_after)
    INCLUDE (issuer_id, serial, revoked_at, revocation_reason)
    WHERE revoked_at IS NOT NULL;

-- crl_partitions is keyed by partition, not municipality; published is true
-- once a CRL naming this URI in its issuingDistributionPoint is current, so
-- the CA can tell in one lookup whether a certificate it is about to sign
-- names a distribution point that answers.
ALTER TABLE crl_partitions RENAME COLUMN municipality_code TO partition;
ALTER TABLE crl_partitions ALTER COLUMN partition TYPE text;
ALTER TABLE crl_partitions ADD COLUMN published boolean NOT NULL DEFAULT false;
UPDATE crl_partitions p SET published = true
    WHERE EXISTS (SELECT 1 FROM crl_current c
        WHERE c.issuer_id = p.issuer_id AND c.scope = p.partition AND c.crl_id IS NOT NULL);

CREATE OR REPLACE FUNCTION crl_note_partition() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
AS $$
BEGIN
    INSERT INTO crl_partitions (issuer_id, partition, repository_url)
    VALUES (NEW.issuer_id, NEW.crl_partition, NEW.repository_url)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

ALTER TABLE crl_issued DROP CONSTRAINT crl_issued_scope_check,
    ADD CONSTRAINT crl_issued_scope_check CHECK (scope = '' OR scope ~ '^[0-9]{6}$' OR scope ~ '^s[0-9]{2}$');
