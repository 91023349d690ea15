package ca

import (
	"context"
	"fmt"
)

// LinkCard records that certificates were issued for a card; repeating it
// is harmless.
func (c *CA) LinkCard(ctx context.Context, cardSerial string, serials ...string) error {
	for _, s := range serials {
		if _, err := c.pool.Exec(ctx, `INSERT INTO ca_card_certificates (card_serial, serial) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			cardSerial, s); err != nil {
			return fmt.Errorf("ca: link card: %w", err)
		}
	}
	return nil
}

// CardCertificates returns the status of every certificate issued for a
// card, newest first; none for a card the Organization never issued for.
func (c *CA) CardCertificates(ctx context.Context, cardSerial string) ([]CertStatus, error) {
	rows, err := c.pool.Query(ctx, `SELECT `+certCols+` FROM ca_certificates
		WHERE serial IN (SELECT serial FROM ca_card_certificates WHERE card_serial = $1) AND cert_der IS NOT NULL
		ORDER BY issued_at DESC, serial`, cardSerial)
	if err != nil {
		return nil, fmt.Errorf("ca: card certificates: %w", err)
	}
	defer rows.Close()
	var out []CertStatus
	for rows.Next() {
		r, err := scanCert(rows)
		if err != nil {
			return nil, fmt.Errorf("ca: card certificates: %w", err)
		}
		out = append(out, statusOf(r))
	}
	return out, rows.Err()
}

// RecordsOf returns the issuance records (発行記録) of every certificate
// issued to a resident, oldest first, each with its current status and
// counterpart: what a disclosure request (開示請求, 法第58条) compiles. A
// resident with none gets an empty list, which is an answer too.
func (c *CA) RecordsOf(ctx context.Context, residentCode string) ([]Record, error) {
	return recordsOf(ctx, c.pool, residentCode)
}

// recordsOf is RecordsOf on a pool or inside a transaction (a disclosure
// compiles and stores in one).
func recordsOf(ctx context.Context, q rowsQueryer, residentCode string) ([]Record, error) {
	rows, err := q.Query(ctx, `SELECT `+certCols+` FROM ca_certificates
		WHERE resident_code = $1 AND cert_der IS NOT NULL ORDER BY issued_at, serial`, residentCode)
	if err != nil {
		return nil, fmt.Errorf("ca: records of a resident: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanCert(rows)
		if err != nil {
			return nil, fmt.Errorf("ca: records of a resident: %w", err)
		}
		out = append(out, recordOf(r))
	}
	return out, rows.Err()
}
