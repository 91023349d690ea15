package ca

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// The certification records procedures (認証業務情報, 法第58条〜第61条): the
// Organization receives a person's disclosure or correction request,
// compiles and keeps what it disclosed, queues and delivers its letters,
// and records its correction decisions (migration 0007). Every call is
// idempotent by the case number (and letter, or item): a repeat returns
// what the first call stored. Nothing here writes ca_certificates or a CRL
// table: a correction amends the Organization's records about a
// certificate, never the certificate or its signed status.

// Errors of the records procedures; they match IsPermanent.
var (
	// ErrUnknownRequest: no request of the right procedure has this case
	// number.
	ErrUnknownRequest = errors.New("ca: unknown records request")
	// ErrNotCompiled: the disclosure of the case has not been compiled.
	ErrNotCompiled = errors.New("ca: disclosure not compiled")
	// ErrUnknownLetter: the letter of the case has not been queued.
	ErrUnknownLetter = errors.New("ca: letter not queued")
	// ErrBadCorrection: a correction decision the records cannot take; the
	// message says why in English and Japanese.
	ErrBadCorrection = errors.New("ca: correction refused")
)

// maxCorrectionItems bounds one correction request.
const maxCorrectionItems = 100

// DisclosedRecord is one certificate's record as a disclosure shows it:
// the issuance record, its status at compilation (Revoked with
// reasons.CertificateHold is a hold) and the accepted corrections in
// effect then.
type DisclosedRecord struct {
	Serial            string         `json:"serial"`
	Kind              Kind           `json:"kind"`
	MunicipalityCode  string         `json:"municipality_code"`
	IssuedAt          time.Time      `json:"issued_at"`
	NotAfter          time.Time      `json:"not_after"`
	CounterpartSerial string         `json:"counterpart_serial,omitempty"`
	Revoked           bool           `json:"revoked"`
	Reason            reasons.Reason `json:"reason,omitempty"`
	RevokedAt         time.Time      `json:"revoked_at,omitzero"`
}

// QueuedLetter is one of the Organization's letters of a case, as queued
// and, once it left, how.
type QueuedLetter struct {
	CaseNumber   string
	Letter       string // contract.LetterDisclosure, LetterExtension or LetterCorrection
	Delivery     string // contract.DeliveryMail or DeliveryPickup
	PDF          []byte
	QueuedAt     time.Time
	DeliveredHow string // contract.DeliveredByMail or DeliveredByHandOver; "" while queued
	DeliveredBy  string
	DeliveredAt  time.Time
}

// String identifies the letter without its contents, which name the
// requester.
func (l QueuedLetter) String() string {
	return fmt.Sprintf("ca.QueuedLetter{Case:%s Letter:%s Delivery:%s PDF:%d bytes Delivered:%q}",
		l.CaseNumber, l.Letter, l.Delivery, len(l.PDF), l.DeliveredHow)
}

// GoString is String.
func (l QueuedLetter) GoString() string { return l.String() }

var municipalityCode = regexp.MustCompile(`^[0-9]{6}$`)

func badCorrection(item int, english, japanese string) error {
	if item < 0 {
		return fmt.Errorf("%w: %s（%s）", ErrBadCorrection, english, japanese)
	}
	return fmt.Errorf("%w: item %d: %s（項目%d: %s）", ErrBadCorrection, item, english, item+1, japanese)
}

// checkCaseNumber checks a case number as a request id is checked.
func checkCaseNumber(field, s string) error {
	var v *ValidationError
	if err := checkRequestID(s); errors.As(err, &v) {
		return &ValidationError{Field: field, Problem: v.Problem}
	} else if err != nil {
		return err
	}
	return nil
}

// ReceiveRequest records a disclosure or correction request as received
// (受付) and returns when it was received. The same case number again
// returns the first reception; used for another person or procedure it is
// a ConflictError. Whether a correction's items can be decided is
// ApplyCorrections' question: a request is recorded as it was made.
func (c *CA) ReceiveRequest(ctx context.Context, in contract.ReceiveRecordsRequestInput) (time.Time, error) {
	if err := checkCaseNumber("CaseNumber", in.CaseNumber); err != nil {
		return time.Time{}, err
	}
	p := in.Requester
	switch {
	case in.Procedure != contract.ProcDisclosure && in.Procedure != contract.ProcCorrection:
		return time.Time{}, &ValidationError{Field: "Procedure", Problem: `must be "disclosure" or "correction"`}
	case !allDigits(p.ResidentCode, 11):
		return time.Time{}, &ValidationError{Field: "Requester.ResidentCode", Problem: "must be 11 digits"}
	case strings.TrimSpace(p.Name) == "":
		return time.Time{}, &ValidationError{Field: "Requester.Name", Problem: "is required"}
	case strings.TrimSpace(p.Address) == "":
		return time.Time{}, &ValidationError{Field: "Requester.Address", Problem: "is required"}
	case in.Delivery != contract.DeliveryMail && in.Delivery != contract.DeliveryPickup:
		return time.Time{}, &ValidationError{Field: "Delivery", Problem: `must be "mail" or "pickup"`}
	case in.ReceivedAt.IsZero():
		return time.Time{}, &ValidationError{Field: "ReceivedAt", Problem: "is required"}
	case in.ReceivedAt.After(c.now().Add(clockSkew)):
		return time.Time{}, &ValidationError{Field: "ReceivedAt", Problem: "is in the future"}
	case strings.TrimSpace(in.CounterOffice) == "" || strings.TrimSpace(in.CounterCase) == "":
		return time.Time{}, &ValidationError{Field: "CounterOffice", Problem: "and CounterCase are required"}
	}
	var disclosureCase *string
	var items []byte
	if in.Procedure == contract.ProcDisclosure {
		if in.DisclosureCase != "" || len(in.Items) > 0 {
			return time.Time{}, &ValidationError{Field: "Items", Problem: "a disclosure request names no disclosure case and no items"}
		}
	} else {
		if err := checkCaseNumber("DisclosureCase", in.DisclosureCase); err != nil {
			return time.Time{}, err
		}
		norm, err := checkItems(in.Items)
		if err != nil {
			return time.Time{}, err
		}
		if items, err = json.Marshal(norm); err != nil {
			return time.Time{}, fmt.Errorf("ca: correction items: %w", err)
		}
		disclosureCase = &in.DisclosureCase
	}
	var stored struct {
		procedure, resident string
		disclosureCase      *string
		receivedAt          time.Time
	}
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO ca_records_requests (case_number, procedure, resident_code, name, address,
				delivery, received_at, counter_office, counter_case, disclosure_case, items)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (case_number) DO NOTHING`,
			in.CaseNumber, in.Procedure, p.ResidentCode, p.Name, p.Address, in.Delivery, in.ReceivedAt,
			in.CounterOffice, in.CounterCase, disclosureCase, items); err != nil {
			return fmt.Errorf("ca: receive records request: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT procedure, resident_code, disclosure_case, received_at FROM ca_records_requests WHERE case_number = $1`,
			in.CaseNumber).Scan(&stored.procedure, &stored.resident, &stored.disclosureCase, &stored.receivedAt); err != nil {
			return fmt.Errorf("ca: receive records request: %w", err)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	if stored.procedure != in.Procedure || stored.resident != p.ResidentCode ||
		(stored.disclosureCase == nil) != (disclosureCase == nil) || (disclosureCase != nil && *stored.disclosureCase != *disclosureCase) {
		return time.Time{}, &ConflictError{RequestID: in.CaseNumber, Field: "records request"}
	}
	return stored.receivedAt.UTC(), nil
}

// checkItems checks a correction request's items as written (known actions
// and fields, a whole record only deleted, a serial, a value where the
// action needs one, a statement)
// and returns them with canonical serials.
func checkItems(items []contract.CorrectionItem) ([]contract.CorrectionItem, error) {
	if len(items) == 0 || len(items) > maxCorrectionItems {
		return nil, &ValidationError{Field: "Items", Problem: fmt.Sprintf("a correction request names 1 to %d items", maxCorrectionItems)}
	}
	out := make([]contract.CorrectionItem, len(items))
	for i, it := range items {
		f := func(name string) string { return fmt.Sprintf("Items[%d].%s", i, name) }
		s, err := CanonicalSerial(it.Serial)
		if err != nil {
			return nil, &ValidationError{Field: f("Serial"), Problem: "is not a serial number"}
		}
		it.Serial = s
		switch it.Action {
		case contract.ActionCorrect, contract.ActionAdd:
			if strings.TrimSpace(it.Value) == "" {
				return nil, &ValidationError{Field: f("Value"), Problem: "is required to " + it.Action}
			}
		case contract.ActionDelete:
			if it.Value != "" {
				return nil, &ValidationError{Field: f("Value"), Problem: "must be empty to delete"}
			}
		default:
			return nil, &ValidationError{Field: f("Action"), Problem: `must be "correct", "add" or "delete"`}
		}
		switch it.Field {
		case contract.FieldMunicipality, contract.FieldCounterpart, contract.FieldRevocationReason, contract.FieldRecord:
		default:
			return nil, &ValidationError{Field: f("Field"), Problem: "names no field of the records"}
		}
		if it.Field == contract.FieldRecord && it.Action != contract.ActionDelete {
			return nil, &ValidationError{Field: f("Action"), Problem: "a whole record can only be deleted"}
		}
		if strings.TrimSpace(it.Statement) == "" {
			return nil, &ValidationError{Field: f("Statement"), Problem: "is required: the requester says what is wrong"}
		}
		out[i] = it
	}
	return out, nil
}

// getRequest reads a ca_records_requests row, nil when there is none.
func getRequest(ctx context.Context, q queryer, caseNumber string, lock bool) (*contract.ReceiveRecordsRequestInput, error) {
	sql := `SELECT case_number, procedure, resident_code, name, address, delivery, received_at, counter_office,
		counter_case, disclosure_case, items FROM ca_records_requests WHERE case_number = $1`
	if lock {
		sql += " FOR UPDATE"
	}
	var r contract.ReceiveRecordsRequestInput
	var disclosureCase *string
	var items []byte
	err := q.QueryRow(ctx, sql, caseNumber).Scan(&r.CaseNumber, &r.Procedure, &r.Requester.ResidentCode, &r.Requester.Name,
		&r.Requester.Address, &r.Delivery, &r.ReceivedAt, &r.CounterOffice, &r.CounterCase, &disclosureCase, &items)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ca: read records request: %w", err)
	}
	r.ReceivedAt = r.ReceivedAt.UTC()
	if disclosureCase != nil {
		r.DisclosureCase = *disclosureCase
	}
	if items != nil {
		if err := json.Unmarshal(items, &r.Items); err != nil {
			return nil, fmt.Errorf("ca: read records request items: %w", err)
		}
	}
	return &r, nil
}

// Request returns a request as received, or an error wrapping
// ErrUnknownRequest.
func (c *CA) Request(ctx context.Context, caseNumber string) (contract.ReceiveRecordsRequestInput, error) {
	r, err := getRequest(ctx, c.pool, caseNumber, false)
	if err != nil {
		return contract.ReceiveRecordsRequestInput{}, err
	}
	if r == nil {
		return contract.ReceiveRecordsRequestInput{}, fmt.Errorf("%w: %s", ErrUnknownRequest, caseNumber)
	}
	return *r, nil
}

// disclosedOf is a record as a disclosure shows it, before corrections.
func disclosedOf(r Record) DisclosedRecord {
	d := DisclosedRecord{Serial: r.Serial, Kind: r.Kind, MunicipalityCode: r.MunicipalityCode, IssuedAt: r.IssuedAt,
		NotAfter: r.NotAfter, CounterpartSerial: r.CounterpartSerial}
	if r.Status.State == StateRevoked {
		d.Revoked, d.Reason, d.RevokedAt = true, r.Status.Reason, r.Status.RevokedAt
	}
	return d
}

// value is a field's value in a record as a correction names it: the
// whole record's is its serial, a good certificate has no reason.
func (d DisclosedRecord) value(field string) string {
	switch field {
	case contract.FieldMunicipality:
		return d.MunicipalityCode
	case contract.FieldCounterpart:
		return d.CounterpartSerial
	case contract.FieldRevocationReason:
		return string(d.Reason)
	case contract.FieldRecord:
		return d.Serial
	}
	return ""
}

// with is the record with a field's value replaced; the whole record's
// value is handled by the caller (a deleted record is left out).
func (d DisclosedRecord) with(field, v string) DisclosedRecord {
	switch field {
	case contract.FieldMunicipality:
		d.MunicipalityCode = v
	case contract.FieldCounterpart:
		d.CounterpartSerial = v
	case contract.FieldRevocationReason:
		d.Reason = reasons.Reason(v)
	}
	return d
}

// effectiveRecord is a record with the accepted corrections in effect.
type effectiveRecord struct {
	DisclosedRecord
	deleted bool
}

// effectiveRecords reads a resident's records with the accepted
// corrections in effect (the latest accepted correction of a serial and
// field wins), oldest first, deleted ones included and marked.
func effectiveRecords(ctx context.Context, q rowsQueryer, residentCode string) ([]*effectiveRecord, error) {
	recs, err := recordsOf(ctx, q, residentCode)
	if err != nil {
		return nil, err
	}
	out := make([]*effectiveRecord, len(recs))
	serials := make([]string, len(recs))
	by := make(map[string]*effectiveRecord, len(recs))
	for i, r := range recs {
		out[i] = &effectiveRecord{DisclosedRecord: disclosedOf(r)}
		serials[i] = r.Serial
		by[r.Serial] = out[i]
	}
	if len(recs) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (serial, field) serial, field, new_value FROM ca_record_corrections
		WHERE accepted AND serial = ANY($1)
		ORDER BY serial, field, decided_at DESC, case_number DESC, item DESC`, serials)
	if err != nil {
		return nil, fmt.Errorf("ca: effective corrections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var serial, field, v string
		if err := rows.Scan(&serial, &field, &v); err != nil {
			return nil, fmt.Errorf("ca: effective corrections: %w", err)
		}
		r := by[serial]
		if field == contract.FieldRecord {
			r.deleted = true
			continue
		}
		r.DisclosedRecord = r.with(field, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ca: effective corrections: %w", err)
	}
	return out, nil
}

// snapshot reads a compiled disclosure's records; compiled is false when
// the case was never compiled.
func snapshot(ctx context.Context, q rowsQueryer, caseNumber string) (recs []DisclosedRecord, compiledAt time.Time, compiled bool, err error) {
	err = q.QueryRow(ctx, `SELECT compiled_at FROM ca_disclosures WHERE case_number = $1`, caseNumber).Scan(&compiledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("ca: read disclosure: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT serial, kind, municipality_code, issued_at, not_after, counterpart_serial,
			revocation_reason, revoked_at
		FROM ca_disclosed_records WHERE case_number = $1 ORDER BY issued_at, serial`, caseNumber)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("ca: read disclosed records: %w", err)
	}
	defer rows.Close()
	recs = []DisclosedRecord{}
	for rows.Next() {
		var d DisclosedRecord
		var kind string
		var counterpart, reason *string
		var revokedAt *time.Time
		if err := rows.Scan(&d.Serial, &kind, &d.MunicipalityCode, &d.IssuedAt, &d.NotAfter, &counterpart, &reason, &revokedAt); err != nil {
			return nil, time.Time{}, false, fmt.Errorf("ca: read disclosed records: %w", err)
		}
		d.Kind, d.IssuedAt, d.NotAfter = Kind(kind), d.IssuedAt.UTC(), d.NotAfter.UTC()
		if counterpart != nil {
			d.CounterpartSerial = *counterpart
		}
		if reason != nil {
			d.Revoked, d.Reason, d.RevokedAt = true, reasons.Reason(*reason), revokedAt.UTC()
		}
		recs = append(recs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, false, fmt.Errorf("ca: read disclosed records: %w", err)
	}
	return recs, compiledAt.UTC(), true, nil
}

// CompileDisclosure compiles the records of a disclosure request's resident
// (RecordsOf, with the accepted corrections in effect; a record deleted by
// a correction is left out) and stores them as what was disclosed, in one
// transaction; it returns the records and when they were compiled. A repeat
// returns the stored records and time, unchanged even when the
// certificates' status changed since. A case that is no disclosure request
// is an error wrapping ErrUnknownRequest.
func (c *CA) CompileDisclosure(ctx context.Context, caseNumber, operator string, at time.Time) ([]DisclosedRecord, time.Time, error) {
	switch {
	case strings.TrimSpace(operator) == "":
		return nil, time.Time{}, &ValidationError{Field: "Operator", Problem: "is required"}
	case at.IsZero():
		return nil, time.Time{}, &ValidationError{Field: "At", Problem: "is required"}
	case at.After(c.now().Add(clockSkew)):
		return nil, time.Time{}, &ValidationError{Field: "At", Problem: "is in the future"}
	}
	var out []DisclosedRecord
	var compiledAt time.Time
	var fresh bool
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		// The request's row lock orders concurrent compilations of a case.
		req, err := getRequest(ctx, tx, caseNumber, true)
		if err != nil {
			return err
		}
		if req == nil || req.Procedure != contract.ProcDisclosure {
			return fmt.Errorf("%w: no disclosure request %s", ErrUnknownRequest, caseNumber)
		}
		if _, _, compiled, err := snapshot(ctx, tx, caseNumber); err != nil {
			return err
		} else if !compiled {
			fresh = true
			recs, err := effectiveRecords(ctx, tx, req.Requester.ResidentCode)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ca_disclosures (case_number, operator, compiled_at) VALUES ($1, $2, $3)`,
				caseNumber, operator, at); err != nil {
				return fmt.Errorf("ca: store disclosure: %w", err)
			}
			for _, r := range recs {
				if r.deleted {
					continue
				}
				var counterpart, reason *string
				var revokedAt *time.Time
				if r.CounterpartSerial != "" {
					counterpart = &r.CounterpartSerial
				}
				if r.Revoked {
					s := string(r.Reason)
					reason, revokedAt = &s, &r.RevokedAt
				}
				if _, err := tx.Exec(ctx, `INSERT INTO ca_disclosed_records (case_number, serial, kind, municipality_code,
						issued_at, not_after, counterpart_serial, revocation_reason, revoked_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
					caseNumber, r.Serial, string(r.Kind), r.MunicipalityCode, r.IssuedAt, r.NotAfter, counterpart, reason, revokedAt); err != nil {
					return fmt.Errorf("ca: store disclosed record: %w", err)
				}
			}
		}
		// Read back what is stored, so a first call and a repeat answer
		// the same (the database keeps microseconds).
		out, compiledAt, _, err = snapshot(ctx, tx, caseNumber)
		return err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	if fresh {
		c.opts.Logger.Info("ca: disclosure compiled", "case", caseNumber, "records", len(out))
	}
	return out, compiledAt, nil
}

// Disclosure returns a compiled disclosure's request and the records as
// disclosed, for its notice. An unknown case wraps ErrUnknownRequest, one
// not compiled yet ErrNotCompiled.
func (c *CA) Disclosure(ctx context.Context, caseNumber string) (contract.ReceiveRecordsRequestInput, []DisclosedRecord, error) {
	req, err := getRequest(ctx, c.pool, caseNumber, false)
	if err != nil {
		return contract.ReceiveRecordsRequestInput{}, nil, err
	}
	if req == nil || req.Procedure != contract.ProcDisclosure {
		return contract.ReceiveRecordsRequestInput{}, nil, fmt.Errorf("%w: no disclosure request %s", ErrUnknownRequest, caseNumber)
	}
	recs, _, compiled, err := snapshot(ctx, c.pool, caseNumber)
	if err != nil {
		return contract.ReceiveRecordsRequestInput{}, nil, err
	}
	if !compiled {
		return contract.ReceiveRecordsRequestInput{}, nil, fmt.Errorf("%w: %s", ErrNotCompiled, caseNumber)
	}
	return *req, recs, nil
}

// letterAllowed says which letters a procedure sends: the notice of its
// answer, and the extension notice (法第59条第2項) either may need.
func letterAllowed(procedure, letter string) bool {
	switch letter {
	case contract.LetterExtension:
		return true
	case contract.LetterDisclosure:
		return procedure == contract.ProcDisclosure
	case contract.LetterCorrection:
		return procedure == contract.ProcCorrection
	}
	return false
}

const letterCols = `case_number, letter, delivery, pdf, queued_at, delivered_how, delivered_by, delivered_at`

func getLetter(ctx context.Context, q queryer, caseNumber, letter string) (*QueuedLetter, error) {
	var l QueuedLetter
	var how, by *string
	var at *time.Time
	err := q.QueryRow(ctx, `SELECT `+letterCols+` FROM ca_letters WHERE case_number = $1 AND letter = $2`, caseNumber, letter).
		Scan(&l.CaseNumber, &l.Letter, &l.Delivery, &l.PDF, &l.QueuedAt, &how, &by, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ca: read letter: %w", err)
	}
	l.QueuedAt = l.QueuedAt.UTC()
	if how != nil {
		l.DeliveredHow, l.DeliveredAt = *how, at.UTC()
	}
	if by != nil {
		l.DeliveredBy = *by
	}
	return &l, nil
}

// QueueLetter queues a rendered letter of a case for the requester, by the
// delivery they chose, once per case and letter: a repeat returns the
// letter first queued, its bytes unchanged. A letter the case's procedure
// does not send is refused (ValidationError); an unknown case wraps
// ErrUnknownRequest.
func (c *CA) QueueLetter(ctx context.Context, caseNumber, letter string, pdf []byte) (QueuedLetter, error) {
	if len(pdf) == 0 {
		return QueuedLetter{}, &ValidationError{Field: "PDF", Problem: "is empty"}
	}
	var out *QueuedLetter
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		req, err := getRequest(ctx, tx, caseNumber, false)
		if err != nil {
			return err
		}
		if req == nil {
			return fmt.Errorf("%w: %s", ErrUnknownRequest, caseNumber)
		}
		if !letterAllowed(req.Procedure, letter) {
			return &ValidationError{Field: "Letter", Problem: fmt.Sprintf("%q is not a letter of the %s procedure", letter, req.Procedure)}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ca_letters (case_number, letter, delivery, pdf, queued_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_number, letter) DO NOTHING`,
			caseNumber, letter, req.Delivery, pdf, c.now()); err != nil {
			return fmt.Errorf("ca: queue letter: %w", err)
		}
		out, err = getLetter(ctx, tx, caseNumber, letter)
		return err
	})
	if err != nil {
		return QueuedLetter{}, err
	}
	return *out, nil
}

// Letter returns a queued letter, or an error wrapping ErrUnknownLetter.
func (c *CA) Letter(ctx context.Context, caseNumber, letter string) (QueuedLetter, error) {
	l, err := getLetter(ctx, c.pool, caseNumber, letter)
	if err != nil {
		return QueuedLetter{}, err
	}
	if l == nil {
		return QueuedLetter{}, fmt.Errorf("%w: %s %s", ErrUnknownLetter, caseNumber, letter)
	}
	return *l, nil
}

// DeliverLetter records how a queued letter left the Organization: mailed
// (and then its delivery is by mail, whatever was chosen), or handed over
// at the counter by the staff member named in By. Only the first delivery
// is recorded; a repeat returns it.
func (c *CA) DeliverLetter(ctx context.Context, in contract.DeliverLetterInput) (QueuedLetter, error) {
	switch {
	case in.How != contract.DeliveredByMail && in.How != contract.DeliveredByHandOver:
		return QueuedLetter{}, &ValidationError{Field: "How", Problem: `must be "mailed" or "handed_over"`}
	case in.How == contract.DeliveredByHandOver && strings.TrimSpace(in.By) == "":
		return QueuedLetter{}, &ValidationError{Field: "By", Problem: "is required: who handed the letter over after the identity check"}
	case in.At.IsZero():
		return QueuedLetter{}, &ValidationError{Field: "At", Problem: "is required"}
	case in.At.After(c.now().Add(clockSkew)):
		return QueuedLetter{}, &ValidationError{Field: "At", Problem: "is in the future"}
	}
	var by *string
	if in.By != "" {
		by = &in.By
	}
	var out *QueuedLetter
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE ca_letters SET delivered_how = $3, delivered_by = $4, delivered_at = $5,
				delivery = CASE WHEN $3 = 'mailed' THEN 'mail' ELSE delivery END
			WHERE case_number = $1 AND letter = $2 AND delivered_at IS NULL`,
			in.CaseNumber, in.Letter, in.How, by, in.At); err != nil {
			return fmt.Errorf("ca: deliver letter: %w", err)
		}
		var err error
		out, err = getLetter(ctx, tx, in.CaseNumber, in.Letter)
		return err
	})
	if err != nil {
		return QueuedLetter{}, err
	}
	if out == nil {
		return QueuedLetter{}, fmt.Errorf("%w: %s %s", ErrUnknownLetter, in.CaseNumber, in.Letter)
	}
	return *out, nil
}

// correctionRow is one ca_record_corrections row.
type correctionRow struct {
	item                                      int
	serial, action, field, oldValue, newValue string
	accepted                                  bool
}

// ApplyCorrections records the Organization's decision on each item of a
// correction request (法第61条), accepted or not, with the value each
// replaced, and returns the amendments made (the accepted items), in one
// transaction, once per case: a repeat returns what the first recorded, and
// another decision for a decided case is a ConflictError.
//
// The decision must be on the request's own items, in its order, about the
// disclosure it names, which must be a compiled disclosure of the same
// person. An accepted item must make sense on the records as they now are
// (the disclosed serial, with the accepted corrections in effect): an add
// only where the field has no value, a correct only where it has one, a
// delete only of a counterpart or of the whole record (not the
// requester's), a revocation reason only of a revoked certificate and only
// as one of the manual's reasons, a municipality of 6 digits, a
// counterpart that is the same person's certificate of the other kind.
// Otherwise nothing is recorded and the error wraps ErrBadCorrection. An
// item not accepted is recorded as asked: refusing what makes no sense is a
// decision too.
//
// ca_certificates and the CRLs are never written: what was signed stays as
// signed, and verifiers keep seeing it.
func (c *CA) ApplyCorrections(ctx context.Context, in contract.ApplyCorrectionsInput) ([]contract.AppliedCorrection, error) {
	if err := checkCaseNumber("CaseNumber", in.CaseNumber); err != nil {
		return nil, err
	}
	if err := checkCaseNumber("DisclosureCase", in.DisclosureCase); err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(in.DecidedBy) == "":
		return nil, &ValidationError{Field: "DecidedBy", Problem: "is required"}
	case in.At.IsZero():
		return nil, &ValidationError{Field: "At", Problem: "is required"}
	case in.At.After(c.now().Add(clockSkew)):
		return nil, &ValidationError{Field: "At", Problem: "is in the future"}
	case len(in.Items) == 0 || len(in.Items) > maxCorrectionItems:
		return nil, &ValidationError{Field: "Items", Problem: fmt.Sprintf("a decision covers 1 to %d items", maxCorrectionItems)}
	}
	refused := false
	for _, it := range in.Items {
		refused = refused || !it.Accepted
	}
	if refused && strings.TrimSpace(in.Reason) == "" {
		return nil, &ValidationError{Field: "Reason", Problem: "is required when an item is not accepted"}
	}
	var out []contract.AppliedCorrection
	var fresh bool
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		// The request's row lock orders concurrent decisions of a case.
		req, err := getRequest(ctx, tx, in.CaseNumber, true)
		if err != nil {
			return err
		}
		if req == nil || req.Procedure != contract.ProcCorrection {
			return fmt.Errorf("%w: no correction request %s", ErrUnknownRequest, in.CaseNumber)
		}
		stored, err := storedCorrections(ctx, tx, in.CaseNumber)
		if err != nil {
			return err
		}
		if len(stored) > 0 {
			out, err = replayCorrections(in, stored)
			return err
		}
		rows, err := decide(ctx, tx, req, in)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO ca_record_corrections (case_number, item, serial, action, field,
					old_value, new_value, accepted, decided_by, reason, decided_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (case_number, item) DO NOTHING`,
				in.CaseNumber, r.item, r.serial, r.action, r.field, r.oldValue, r.newValue, r.accepted, in.DecidedBy, in.Reason, in.At); err != nil {
				return fmt.Errorf("ca: record correction: %w", err)
			}
		}
		fresh = true
		out = applied(rows)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fresh {
		c.opts.Logger.Info("ca: correction decided", "case", in.CaseNumber, "items", len(in.Items), "accepted", len(out))
	}
	return out, nil
}

// decide checks a decision against the request, the disclosure and the
// records, and returns the rows it records.
func decide(ctx context.Context, tx pgx.Tx, req *contract.ReceiveRecordsRequestInput, in contract.ApplyCorrectionsInput) ([]correctionRow, error) {
	if in.DisclosureCase != req.DisclosureCase {
		return nil, badCorrection(-1, "the decision names another disclosure than the request does",
			"決定が請求と異なる開示を指しています")
	}
	if len(in.Items) != len(req.Items) {
		return nil, badCorrection(-1, fmt.Sprintf("the decision covers %d items, the request has %d", len(in.Items), len(req.Items)),
			fmt.Sprintf("請求の項目は%d件ですが、決定は%d件です", len(req.Items), len(in.Items)))
	}
	for i, it := range in.Items {
		r := req.Items[i]
		if s, err := CanonicalSerial(it.Serial); err != nil || s != r.Serial || it.Action != r.Action || it.Field != r.Field {
			return nil, badCorrection(i, "the decision is not on the request's item at this position",
				"決定が請求の同じ項目についてのものではありません")
		}
	}
	disc, err := getRequest(ctx, tx, in.DisclosureCase, false)
	if err != nil {
		return nil, err
	}
	if disc == nil || disc.Procedure != contract.ProcDisclosure {
		return nil, badCorrection(-1, "the disclosure case "+in.DisclosureCase+" is no disclosure request",
			"開示請求の事件番号 "+in.DisclosureCase+" が見つかりません")
	}
	if disc.Requester.ResidentCode != req.Requester.ResidentCode {
		return nil, badCorrection(-1, "the disclosure was another person's",
			"指定された開示は請求者本人のものではありません")
	}
	disclosed, _, compiled, err := snapshot(ctx, tx, in.DisclosureCase)
	if err != nil {
		return nil, err
	}
	if !compiled {
		return nil, badCorrection(-1, "the disclosure was never compiled: nothing was disclosed to correct",
			"開示がまだ行われていないため、訂正等の対象がありません")
	}
	inDisclosure := map[string]bool{}
	for _, d := range disclosed {
		inDisclosure[d.Serial] = true
	}
	recs, err := effectiveRecords(ctx, tx, req.Requester.ResidentCode)
	if err != nil {
		return nil, err
	}
	state := map[string]*effectiveRecord{}
	for _, r := range recs {
		state[r.Serial] = r
	}
	rows := make([]correctionRow, len(in.Items))
	for i, it := range in.Items {
		serial := req.Items[i].Serial
		row := correctionRow{item: i, serial: serial, action: it.Action, field: it.Field, newValue: it.Value, accepted: it.Accepted}
		cur := state[serial]
		if cur != nil && !cur.deleted {
			row.oldValue = cur.value(it.Field)
		}
		if it.Accepted {
			if !inDisclosure[serial] {
				return nil, badCorrection(i, "certificate "+serial+" was not disclosed in "+in.DisclosureCase,
					"証明書 "+serial+" は当該開示に含まれていません")
			}
			if cur == nil || cur.deleted {
				return nil, badCorrection(i, "the record of certificate "+serial+" is no longer held (deleted by an earlier correction)",
					"証明書 "+serial+" の記録は既に削除されています")
			}
			v, err := checkAmendment(i, cur, it.CorrectionItem, state)
			if err != nil {
				return nil, err
			}
			row.newValue = v
			if it.Field == contract.FieldRecord {
				cur.deleted = true
			} else {
				cur.DisclosedRecord = cur.with(it.Field, v)
			}
		}
		rows[i] = row
	}
	return rows, nil
}

// checkAmendment checks one accepted item on the record as it now is and
// returns the field's new value ("" for a delete).
func checkAmendment(i int, cur *effectiveRecord, it contract.CorrectionItem, state map[string]*effectiveRecord) (string, error) {
	old := cur.value(it.Field)
	if it.Field == contract.FieldRecord && it.Action != contract.ActionDelete {
		return "", badCorrection(i, "a whole record can only be deleted (it is not the requester's)",
			"記録全体については削除（請求者のものでない記録）のみできます")
	}
	switch it.Action {
	case contract.ActionAdd:
		if old != "" {
			return "", badCorrection(i, "add is only for a field the record has no value for",
				"追加は、記録に値がない項目にのみできます")
		}
	case contract.ActionCorrect:
		if old == "" {
			return "", badCorrection(i, "correct is only for a field the record has a value for",
				"訂正は、記録に値がある項目にのみできます")
		}
	case contract.ActionDelete:
		if it.Field != contract.FieldRecord && it.Field != contract.FieldCounterpart {
			return "", badCorrection(i, "only a counterpart or the whole record can be deleted",
				"削除できるのは対応証明書の記録又は記録全体のみです")
		}
		if old == "" {
			return "", badCorrection(i, "the record has no "+it.Field+" to delete",
				"削除する値が記録にありません")
		}
		return "", nil
	}
	switch it.Field {
	case contract.FieldMunicipality:
		if !municipalityCode.MatchString(it.Value) {
			return "", badCorrection(i, "a municipality is its 6-digit local government code",
				"市区町村は6桁の地方公共団体コードで指定してください")
		}
		if it.Value == old {
			return "", badCorrection(i, "the record already names municipality "+old, "記録の市区町村は既に "+old+" です")
		}
		return it.Value, nil
	case contract.FieldCounterpart:
		s, err := CanonicalSerial(it.Value)
		if err != nil {
			return "", badCorrection(i, "the counterpart is not a serial number", "対応証明書のシリアル番号が正しくありません")
		}
		if s == old || s == cur.Serial {
			return "", badCorrection(i, "the counterpart must be another certificate than the record's current one",
				"対応証明書には、現在の記録と異なる別の証明書を指定してください")
		}
		// state holds every issued certificate of the requester.
		other := state[s]
		if other == nil {
			return "", badCorrection(i, "the counterpart "+s+" is none of the requester's certificates",
				"対応証明書 "+s+" は請求者の証明書ではありません")
		}
		if other.deleted {
			return "", badCorrection(i, "the counterpart "+s+" was deleted from the requester's records",
				"対応証明書 "+s+" の記録は削除されています")
		}
		if other.Kind == cur.Kind {
			return "", badCorrection(i, "the counterpart must be the certificate of the other kind",
				"対応証明書には、種類の異なる電子証明書を指定してください")
		}
		return s, nil
	case contract.FieldRevocationReason:
		if !cur.Revoked || cur.Reason == reasons.CertificateHold {
			return "", badCorrection(i, "only a revoked certificate has a revocation reason (a hold has none)",
				"失効事由は失効した電子証明書にのみあります（一時保留中のものにはありません）")
		}
		r, err := reasons.Parse(it.Value)
		if err != nil || !r.IsRevocation() {
			return "", badCorrection(i, "the revocation reason is none of the manual's five",
				"失効事由が事務処理要領の5つの事由のいずれでもありません")
		}
		if string(r) == old {
			return "", badCorrection(i, "the record already names reason "+old, "記録の失効事由は既に「"+r.Japanese()+"」です")
		}
		return string(r), nil
	}
	return "", badCorrection(i, "the record has no such field", "記録にその項目はありません")
}

func storedCorrections(ctx context.Context, q rowsQueryer, caseNumber string) ([]correctionRow, error) {
	rows, err := q.Query(ctx, `SELECT item, serial, action, field, old_value, new_value, accepted
		FROM ca_record_corrections WHERE case_number = $1 ORDER BY item`, caseNumber)
	if err != nil {
		return nil, fmt.Errorf("ca: read corrections: %w", err)
	}
	defer rows.Close()
	var out []correctionRow
	for rows.Next() {
		var r correctionRow
		if err := rows.Scan(&r.item, &r.serial, &r.action, &r.field, &r.oldValue, &r.newValue, &r.accepted); err != nil {
			return nil, fmt.Errorf("ca: read corrections: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// replayCorrections answers a repeated decision with what the first
// recorded, or a conflict when it decides otherwise.
func replayCorrections(in contract.ApplyCorrectionsInput, stored []correctionRow) ([]contract.AppliedCorrection, error) {
	same := len(stored) == len(in.Items)
	for i := 0; same && i < len(stored); i++ {
		s, _ := CanonicalSerial(in.Items[i].Serial)
		r, it := stored[i], in.Items[i]
		same = r.item == i && r.serial == s && r.action == it.Action && r.field == it.Field && r.accepted == it.Accepted
	}
	if !same {
		return nil, &ConflictError{RequestID: in.CaseNumber, Field: "correction decision"}
	}
	return applied(stored), nil
}

func applied(rows []correctionRow) []contract.AppliedCorrection {
	var out []contract.AppliedCorrection
	for _, r := range rows {
		if r.accepted {
			out = append(out, contract.AppliedCorrection{Item: r.item, Serial: r.serial, Field: r.field, OldValue: r.oldValue, NewValue: r.newValue})
		}
	}
	return out
}
