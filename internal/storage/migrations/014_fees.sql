-- Fees (issue 12 item 2, 第3 5 電子証明書発行手数料管理): the schedule gets
-- effective dates, a case gets one fee whose item the rule picks
-- (internal/fee), and a case that ends cancelled or failed after its fee
-- gets its refund, once.

-- The schedule per municipality and item, with the day each amount takes
-- effect: the amount in force on a day is the row with the latest
-- valid_from on or before that day (Asia/Tokyo).
ALTER TABLE fee_schedule ADD COLUMN valid_from date NOT NULL DEFAULT DATE '2016-01-01';
ALTER TABLE fee_schedule DROP CONSTRAINT fee_schedule_pkey;
ALTER TABLE fee_schedule ADD PRIMARY KEY (municipality_code, item, valid_from);

-- The rule in force since the individual number card (2016-01-01): issuance
-- free, certificates issued again on a re-issued card (再交付) 200 yen.
INSERT INTO fee_schedule (municipality_code, item, amount_yen, valid_from)
SELECT code, i.item, i.amount_yen, DATE '2016-01-01' FROM municipalities,
    (VALUES ('certificate_issuance', 0), ('certificate_reissue_after_card_reissue', 200)) AS i (item, amount_yen)
ON CONFLICT DO NOTHING;

-- A municipality recorded later starts with the same rule, so no case of
-- its own ever finds no amount in force.
CREATE FUNCTION fee_schedule_seed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fee_schedule (municipality_code, item, amount_yen, valid_from)
    VALUES (NEW.code, 'certificate_issuance', 0, DATE '2016-01-01'),
           (NEW.code, 'certificate_reissue_after_card_reissue', 200, DATE '2016-01-01')
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END $$;
CREATE TRIGGER municipalities_fee_schedule AFTER INSERT ON municipalities
    FOR EACH ROW EXECUTE FUNCTION fee_schedule_seed();

-- One fee per case: the rule picks its item, so a retry records nothing
-- new. valid_from names the schedule row the amount came from.
CREATE UNIQUE INDEX fees_one_per_case ON fees (case_number);
ALTER TABLE fees ADD COLUMN valid_from date;
CREATE INDEX fees_recorded_at ON fees (recorded_at);

-- The refund of a case's fee (a case cancelled or failed after its fee was
-- recorded), once per case: who (a clerk's login, or "system" for a
-- failure), when and why (the case's ending). No personal data.
CREATE TABLE fee_refunds (
    case_number  text PRIMARY KEY REFERENCES fees (case_number),
    item         text NOT NULL,
    amount_yen   int  NOT NULL CHECK (amount_yen >= 0),
    refunded_by  text NOT NULL CHECK (length(btrim(refunded_by)) > 0),
    reason       text NOT NULL CHECK (length(btrim(reason)) > 0),
    refunded_at  timestamptz NOT NULL
);
CREATE INDEX fee_refunds_refunded_at ON fee_refunds (refunded_at);
