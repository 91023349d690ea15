-- The repository server (リポジトリ / OCSPレスポンダ): delegated OCSP
-- responder certificates, registered verifiers (署名検証者, 利用者証明検証者,
-- 団体署名検証者) and the change notifications that keep the OCSP answer cache
-- and the verifier list current. Tables are unqualified, as in 0001.

-- One row per delegated OCSP-signing certificate. The newest unexpired row of
-- an issuer is the one in use; older rows stay so answers signed under them
-- can be explained later.
CREATE TABLE ocsp_responders (
    id         bigserial   PRIMARY KEY,
    issuer_id  bigint      NOT NULL REFERENCES ca_issuers (id),
    key_label  text        NOT NULL,
    serial     text        NOT NULL UNIQUE,   -- lower-case hex, like ca_certificates
    cert_der   bytea       NOT NULL,
    not_before timestamptz NOT NULL,
    not_after  timestamptz NOT NULL CHECK (not_after > not_before),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ocsp_responders_issuer ON ocsp_responders (issuer_id, not_after DESC);

-- Registered verifiers and their access rights (seed 第1 4 (4) エ–カ).
-- category is the legal basis of the registration: エ①–⑥ for signature and
-- user-authentication verifiers, カ①② for group signature verifiers. A group
-- signature verifier is neither of the other two (オ admits only エ's bodies).
-- Only the SHA-256 of the issued API key is kept; key_id is its public part.
CREATE TABLE repo_verifiers (
    id              bigserial   PRIMARY KEY,
    name            text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    category        text        NOT NULL CHECK (category IN ('administrative', 'court', 'designated',
                                    'accredited_ca', 'specified_ca', 'minister_approved',
                                    'group_proxy', 'group_provider')),
    signature       boolean     NOT NULL,
    user_auth       boolean     NOT NULL,
    group_signature boolean     NOT NULL,
    key_id          text        NOT NULL UNIQUE,
    key_sha256      bytea       NOT NULL UNIQUE CHECK (length(key_sha256) = 32),
    registered_at   timestamptz NOT NULL DEFAULT now(),
    key_issued_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    CHECK (signature OR user_auth OR group_signature),
    CHECK (NOT group_signature OR (NOT signature AND NOT user_auth)),
    CHECK (group_signature = (category IN ('group_proxy', 'group_provider')))
);

-- Change notifications. Statement-level triggers with transition tables so a
-- bulk load or bulk update sends one "flush everything" ('*') instead of a
-- million notifications (the subqueries stop at 101 rows); a single change
-- sends its serial. Payloads are "<schema>:<serial>" or "<schema>:*":
-- channels are per database, and each schema (production's public, one per
-- test) is a CA of its own. The trigger functions keep the search_path of
-- the migration so they find repo_notify_serials whoever writes. Only changes that
-- alter an OCSP answer count: issuance (cert_der set), revocation, hold,
-- release and deletion (retention disposal).
CREATE FUNCTION repo_notify_serials(tbl_schema text, changed text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF changed IS NULL OR cardinality(changed) = 0 THEN
        RETURN;
    END IF;
    IF cardinality(changed) > 100 THEN
        PERFORM pg_notify('ca_certificate_changed', tbl_schema || ':*');
    ELSE
        PERFORM pg_notify('ca_certificate_changed', tbl_schema || ':' || s) FROM unnest(changed) AS s;
    END IF;
END $$;

CREATE FUNCTION repo_certificates_inserted() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM repo_notify_serials(TG_TABLE_SCHEMA, ARRAY(SELECT serial FROM new_rows WHERE cert_der IS NOT NULL OR revoked_at IS NOT NULL LIMIT 101));
    RETURN NULL;
END $$;

CREATE FUNCTION repo_certificates_updated() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM repo_notify_serials(TG_TABLE_SCHEMA, ARRAY(SELECT serial FROM (
        SELECT n.serial FROM new_rows n JOIN old_rows o ON o.serial = n.serial
        WHERE (n.cert_der IS NULL) <> (o.cert_der IS NULL)
           OR n.revocation_reason IS DISTINCT FROM o.revocation_reason
           OR n.revoked_at IS DISTINCT FROM o.revoked_at
           OR n.kind IS DISTINCT FROM o.kind
           OR n.issuer_id IS DISTINCT FROM o.issuer_id
        UNION
        -- a changed primary key: both the old and the new serial
        SELECT o.serial FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.serial = o.serial)
        UNION
        SELECT n.serial FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.serial = n.serial)
    ) AS changed LIMIT 101));
    RETURN NULL;
END $$;

CREATE FUNCTION repo_certificates_deleted() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM repo_notify_serials(TG_TABLE_SCHEMA, ARRAY(SELECT serial FROM old_rows LIMIT 101));
    RETURN NULL;
END $$;

CREATE TRIGGER repo_certificates_inserted AFTER INSERT ON ca_certificates
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION repo_certificates_inserted();
CREATE TRIGGER repo_certificates_updated AFTER UPDATE ON ca_certificates
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION repo_certificates_updated();
CREATE TRIGGER repo_certificates_deleted AFTER DELETE ON ca_certificates
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION repo_certificates_deleted();

-- Any change of the verifier list: the servers reload it (it is small).
CREATE FUNCTION repo_verifiers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('repo_verifiers_changed', TG_TABLE_SCHEMA);
    RETURN NULL;
END $$;

CREATE TRIGGER repo_verifiers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON repo_verifiers
    FOR EACH STATEMENT EXECUTE FUNCTION repo_verifiers_changed();
