-- Which card each certificate was written to (カードの発行の番号), so that
-- the Organization's 24-hour line can take a loss report by the card's
-- serial alone, with no personal data asked or said.
CREATE TABLE ca_card_certificates (
    card_serial text NOT NULL,
    serial      text NOT NULL REFERENCES ca_certificates (serial),
    PRIMARY KEY (card_serial, serial)
);
CREATE INDEX ca_card_certificates_serial ON ca_card_certificates (serial);
