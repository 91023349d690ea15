package ca

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/madoguchi/madoguchi/internal/reasons"
)

// Action is a status change recorded in ca_status_events.
type Action string

// The three status changes.
const (
	ActionRevoke  Action = "revoke"
	ActionHold    Action = "hold"
	ActionRelease Action = "release"
)

// RevokeRequest revokes a certificate for one of the manual's five reasons.
// RequestID makes the call idempotent. At is the revocation time; zero means
// now. It may not lie in the future.
type RevokeRequest struct {
	RequestID string         `json:"request_id"`
	Serial    string         `json:"serial"`
	Reason    reasons.Reason `json:"reason"`
	At        time.Time      `json:"at"`
}

// HoldRequest puts a user-authentication certificate on hold (一時保留), or
// releases the hold.
type HoldRequest struct {
	RequestID string    `json:"request_id"`
	Serial    string    `json:"serial"`
	At        time.Time `json:"at"`
}

// Event is a recorded status change.
type Event struct {
	RequestID string         `json:"request_id"`
	Serial    string         `json:"serial"`
	Action    Action         `json:"action"`
	Reason    reasons.Reason `json:"reason,omitempty"` // empty for release
	At        time.Time      `json:"at"`
	// Existing is true when an earlier call with this RequestID recorded it.
	Existing bool `json:"existing"`
}

// State is a certificate's status as OCSP reports it.
type State string

// The three states. A certificate on hold is revoked with reason
// certificateHold.
const (
	StateGood    State = "good"
	StateRevoked State = "revoked"
	StateUnknown State = "unknown"
)

// CertStatus is the answer of Status.
type CertStatus struct {
	Serial           string         `json:"serial"`
	State            State          `json:"state"`
	Kind             Kind           `json:"kind,omitempty"`
	MunicipalityCode string         `json:"municipality_code,omitempty"`
	NotAfter         time.Time      `json:"not_after,omitzero"`
	RevokedAt        time.Time      `json:"revoked_at,omitzero"`
	Reason           reasons.Reason `json:"reason,omitempty"`
}

// Expired reports whether the certificate had expired at t.
func (s CertStatus) Expired(t time.Time) bool { return !s.NotAfter.IsZero() && t.After(s.NotAfter) }

// Record is an issuance record (発行記録) with the current status.
type Record struct {
	Serial            string     `json:"serial"`
	RequestID         string     `json:"request_id"`
	Kind              Kind       `json:"kind"`
	MunicipalityCode  string     `json:"municipality_code"`
	ResidentCode      string     `json:"resident_code"`
	NotBefore         time.Time  `json:"not_before"`
	NotAfter          time.Time  `json:"not_after"`
	RetainUntil       time.Time  `json:"retain_until"`
	CounterpartSerial string     `json:"counterpart_serial,omitempty"`
	IssuedAt          time.Time  `json:"issued_at"`
	CertificateDER    []byte     `json:"certificate_der"`
	Status            CertStatus `json:"status"`
}

// String identifies the record without the resident code.
func (r Record) String() string {
	return fmt.Sprintf("ca.Record{Serial:%s Kind:%s RequestID:%q State:%s}", r.Serial, r.Kind, r.RequestID, r.Status.State)
}

// GoString is String.
func (r Record) GoString() string { return r.String() }

func statusOf(r *certRow) CertStatus {
	if r == nil || r.CertDER == nil {
		return CertStatus{State: StateUnknown}
	}
	s := CertStatus{Serial: r.Serial, State: StateGood, Kind: r.Kind, MunicipalityCode: r.Municipality, NotAfter: r.NotAfter.UTC()}
	if r.RevReason != nil {
		s.State = StateRevoked
		s.RevokedAt = r.RevokedAt.UTC()
		s.Reason, _ = reasons.FromCode(int(*r.RevReason))
	}
	return s
}

func recordOf(r *certRow) Record {
	rec := Record{
		Serial: r.Serial, RequestID: r.RequestID, Kind: r.Kind, MunicipalityCode: r.Municipality,
		ResidentCode: r.ResidentCode, NotBefore: r.NotBefore.UTC(), NotAfter: r.NotAfter.UTC(),
		RetainUntil: r.RetainUntil, IssuedAt: r.IssuedAt.UTC(), CertificateDER: r.CertDER, Status: statusOf(r),
	}
	if r.Counterpart != nil {
		rec.CounterpartSerial = *r.Counterpart
	}
	return rec
}

// Status returns the status of a certificate: good, revoked (time, reason;
// certificateHold while on hold) or unknown (never issued by this CA). An
// expired certificate keeps its last status; see CertStatus.Expired.
func (c *CA) Status(ctx context.Context, serial string) (CertStatus, error) {
	s, err := CanonicalSerial(serial)
	if err != nil {
		return CertStatus{}, err
	}
	row, err := getCert(ctx, c.pool, "serial = $1", s)
	if err != nil {
		return CertStatus{}, err
	}
	st := statusOf(row)
	st.Serial = s
	return st, nil
}

// Certificate returns the issuance record of an issued certificate, or an
// error wrapping ErrUnknownCertificate.
func (c *CA) Certificate(ctx context.Context, serial string) (Record, error) {
	s, err := CanonicalSerial(serial)
	if err != nil {
		return Record{}, err
	}
	row, err := getCert(ctx, c.pool, "serial = $1", s)
	if err != nil {
		return Record{}, err
	}
	if row == nil || row.CertDER == nil {
		return Record{}, fmt.Errorf("%w: %s", ErrUnknownCertificate, s)
	}
	return recordOf(row), nil
}

// CertificateByRequest returns the record issued for a RequestID, or an error
// wrapping ErrUnknownCertificate.
func (c *CA) CertificateByRequest(ctx context.Context, requestID string) (Record, error) {
	row, err := getCert(ctx, c.pool, "request_id = $1", requestID)
	if err != nil {
		return Record{}, err
	}
	if row == nil || row.CertDER == nil {
		return Record{}, fmt.Errorf("%w: request %q", ErrUnknownCertificate, requestID)
	}
	return recordOf(row), nil
}

// Revoke revokes a certificate for one of the manual's five reasons (a held
// certificate may be revoked for good). Unknown, expired and already revoked
// certificates are refused with ErrUnknownCertificate, ErrExpired,
// ErrAlreadyRevoked and nothing changes. Repeating a RequestID returns the
// recorded event; reusing it for another change is a ConflictError.
func (c *CA) Revoke(ctx context.Context, req RevokeRequest) (Event, error) {
	if err := req.Reason.Validate(); err != nil {
		return Event{}, &ValidationError{Field: "Reason", Problem: "must be one of the manual's five revocation reasons"}
	}
	return c.change(ctx, ActionRevoke, req.RequestID, req.Serial, req.Reason, req.At)
}

// Hold puts a user-authentication certificate on hold (certificateHold), e.g.
// when the card is reported lost. Signing certificates cannot be held
// (ErrHoldNotAllowed).
func (c *CA) Hold(ctx context.Context, req HoldRequest) (Event, error) {
	return c.change(ctx, ActionHold, req.RequestID, req.Serial, reasons.CertificateHold, req.At)
}

// Release ends the hold of a user-authentication certificate (第3 2); the
// certificate is good again. A certificate not on hold is refused with
// ErrNotOnHold (or ErrAlreadyRevoked when it was revoked for good).
func (c *CA) Release(ctx context.Context, req HoldRequest) (Event, error) {
	return c.change(ctx, ActionRelease, req.RequestID, req.Serial, "", req.At)
}

type eventRow struct {
	requestID string
	serial    string
	action    Action
	reason    *int16
	at        time.Time
}

func getEvent(ctx context.Context, q queryer, requestID string) (*eventRow, error) {
	var e eventRow
	var action string
	err := q.QueryRow(ctx, "SELECT request_id, serial, action, reason, at FROM ca_status_events WHERE request_id = $1", requestID).
		Scan(&e.requestID, &e.serial, &action, &e.reason, &e.at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ca: read status event: %w", err)
	}
	e.action = Action(action)
	return &e, nil
}

// replay returns the recorded event for a repeated RequestID, or a conflict
// when the repeat asks for something else.
func replay(e *eventRow, action Action, serial string, reason reasons.Reason, at time.Time) (Event, error) {
	var code *int16
	if reason != "" {
		v := int16(reason.Code())
		code = &v
	}
	same := e.serial == serial && e.action == action &&
		((e.reason == nil) == (code == nil)) && (e.reason == nil || *e.reason == *code) &&
		(at.IsZero() || e.at.Equal(at))
	if !same {
		return Event{}, &ConflictError{RequestID: e.requestID, Field: "status change"}
	}
	ev := Event{RequestID: e.requestID, Serial: e.serial, Action: e.action, At: e.at.UTC(), Existing: true}
	if e.reason != nil {
		ev.Reason, _ = reasons.FromCode(int(*e.reason))
	}
	return ev, nil
}

// change applies one status change under the certificate's row lock.
func (c *CA) change(ctx context.Context, action Action, requestID, serial string, reason reasons.Reason, at time.Time) (Event, error) {
	if err := checkRequestID(requestID); err != nil {
		return Event{}, err
	}
	s, err := CanonicalSerial(serial)
	if err != nil {
		return Event{}, err
	}
	now := c.now()
	if !at.IsZero() {
		at = at.UTC().Truncate(time.Second)
		if at.After(now.Add(clockSkew)) {
			return Event{}, &ValidationError{Field: "At", Problem: "is in the future"}
		}
	}
	var out Event
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		row, err := getCert(ctx, tx, "serial = $1 FOR UPDATE", s)
		if err != nil {
			return err
		}
		// Under the row lock a concurrent repeat of this request has either
		// committed its event or not started.
		if e, err := getEvent(ctx, tx, requestID); err != nil {
			return err
		} else if e != nil {
			out, err = replay(e, action, s, reason, at)
			return err
		}
		if row == nil || row.CertDER == nil {
			return fmt.Errorf("%w: %s", ErrUnknownCertificate, s)
		}
		when := at
		if when.IsZero() {
			when = now
		}
		onHold := row.RevReason != nil && *row.RevReason == int16(reasons.CertificateHold.Code())
		revoked := row.RevReason != nil && !onHold
		switch {
		case revoked:
			return fmt.Errorf("%w: %s", ErrAlreadyRevoked, s)
		case now.After(row.NotAfter) || when.After(row.NotAfter):
			return fmt.Errorf("%w: %s expired at %s", ErrExpired, s, row.NotAfter.UTC().Format(time.RFC3339))
		case when.Before(row.NotBefore):
			return &ValidationError{Field: "At", Problem: "is before the certificate's notBefore"}
		case action != ActionRevoke && row.Kind != KindAuth:
			return fmt.Errorf("%w: %s is a %s certificate", ErrHoldNotAllowed, s, row.Kind)
		case action == ActionHold && onHold:
			return fmt.Errorf("%w: %s", ErrAlreadyOnHold, s)
		case action == ActionRelease && !onHold:
			return fmt.Errorf("%w: %s", ErrNotOnHold, s)
		}
		var code *int16
		if action != ActionRelease {
			v := int16(reason.Code())
			code = &v
		}
		tag, err := tx.Exec(ctx, `INSERT INTO ca_status_events (request_id, serial, action, reason, at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id) DO NOTHING`, requestID, s, string(action), code, when)
		if err != nil {
			return fmt.Errorf("ca: record %s of %s: %w", action, s, err)
		}
		if tag.RowsAffected() == 0 {
			// The same RequestID was used concurrently for another serial.
			return &ConflictError{RequestID: requestID, Field: "status change"}
		}
		var revokedAt *time.Time
		if code != nil {
			revokedAt = &when
		}
		if _, err := tx.Exec(ctx, "UPDATE ca_certificates SET revocation_reason = $1, revoked_at = $2 WHERE serial = $3",
			code, revokedAt, s); err != nil {
			return fmt.Errorf("ca: %s %s: %w", action, s, err)
		}
		out = Event{RequestID: requestID, Serial: s, Action: action, Reason: reason, At: when}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	if !out.Existing {
		c.opts.Logger.Info("ca: certificate status changed", "serial", out.Serial, "action", string(out.Action),
			"reason", string(out.Reason), "at", out.At, "request_id", out.RequestID)
	}
	return out, nil
}
