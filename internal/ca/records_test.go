package ca

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

const (
	resident = "12345678901" // signRequest's and authRequest's
	stranger = "10987654321"
)

// recordsTables are migration 0007's; every other table is the CA's,
// which the records procedures never write.
var recordsTables = []string{"ca_records_requests", "ca_disclosures", "ca_disclosed_records", "ca_letters", "ca_record_corrections"}

func disclosureRequest(caseNumber, residentCode string, at time.Time) contract.ReceiveRecordsRequestInput {
	return contract.ReceiveRecordsRequestInput{
		CaseNumber: caseNumber, Procedure: contract.ProcDisclosure,
		Requester: contract.Requester{ResidentCode: residentCode, Name: "山田　花子", Address: "東京都千代田区霞が関二丁目1番2号"},
		Delivery:  contract.DeliveryMail, ReceivedAt: at, CounterOffice: "131016", CounterCase: "131016-20260401-000001",
	}
}

func correctionRequest(caseNumber, disclosureCase, residentCode string, at time.Time, items ...contract.CorrectionItem) contract.ReceiveRecordsRequestInput {
	in := disclosureRequest(caseNumber, residentCode, at)
	in.Procedure, in.DisclosureCase, in.Items, in.Delivery = contract.ProcCorrection, disclosureCase, items, contract.DeliveryPickup
	return in
}

func item(serial, action, field, value string) contract.CorrectionItem {
	return contract.CorrectionItem{Serial: serial, Action: action, Field: field, Value: value, Statement: "記録が誤っています"}
}

// decision accepts (or not) each item of a request as asked.
func decision(req contract.ReceiveRecordsRequestInput, at time.Time, accepted ...bool) contract.ApplyCorrectionsInput {
	in := contract.ApplyCorrectionsInput{CaseNumber: req.CaseNumber, DisclosureCase: req.DisclosureCase, DecidedBy: "jlis1", At: at}
	for i, it := range req.Items {
		in.Items = append(in.Items, contract.DecidedItem{CorrectionItem: it, Accepted: accepted[i]})
	}
	if slices.Contains(accepted, false) {
		in.Reason = "調査の結果、記録に誤りはありませんでした"
	}
	return in
}

// recordsEnv is a CA with a person's pair (the signing one revoked for
// keyCompromise), a stranger's certificate and the person's compiled
// disclosure "D1".
type recordsEnv struct {
	*env
	sign, auth, other IssueResult
	disclosed         []DisclosedRecord
	at                time.Time
}

func newRecordsEnv(t *testing.T) *recordsEnv {
	t.Helper()
	e := &recordsEnv{env: newEnv(t)}
	pair, err := e.ca.IssuePair(ctx, signRequest(t, e.env, "rec/sign"), authRequest(t, e.env, "rec/auth"))
	if err != nil {
		t.Fatal(err)
	}
	e.sign, e.auth = pair.Sign, pair.Auth
	or := authRequest(t, e.env, "rec/other")
	or.ResidentCode = stranger
	if e.other, err = e.ca.Issue(ctx, or); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.Revoke(ctx, RevokeRequest{RequestID: "rec/revoke", Serial: e.sign.Serial, Reason: reasons.KeyCompromise}); err != nil {
		t.Fatal(err)
	}
	e.at = e.clock.now()
	if _, err := e.ca.ReceiveRequest(ctx, disclosureRequest("D1", resident, e.at)); err != nil {
		t.Fatal(err)
	}
	if e.disclosed, _, err = e.ca.CompileDisclosure(ctx, "D1", "jlis1", e.at); err != nil {
		t.Fatal(err)
	}
	return e
}

// receive records a correction request and returns it.
func (e *recordsEnv) receive(t *testing.T, in contract.ReceiveRecordsRequestInput) contract.ReceiveRecordsRequestInput {
	t.Helper()
	if _, err := e.ca.ReceiveRequest(ctx, in); err != nil {
		t.Fatalf("ReceiveRequest %s: %v", in.CaseNumber, err)
	}
	return in
}

func (e *recordsEnv) compile(t *testing.T, caseNumber string) []DisclosedRecord {
	t.Helper()
	if _, err := e.ca.ReceiveRequest(ctx, disclosureRequest(caseNumber, resident, e.clock.now())); err != nil {
		t.Fatal(err)
	}
	recs, _, err := e.ca.CompileDisclosure(ctx, caseNumber, "jlis1", e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func bySerial(recs []DisclosedRecord) map[string]DisclosedRecord {
	m := map[string]DisclosedRecord{}
	for _, r := range recs {
		m[r.Serial] = r
	}
	return m
}

// tableDigests is an md5 of every row of every table of the test's schema
// but the records tables, to show they were not written.
func (e *recordsEnv) tableDigests(t *testing.T) map[string]string {
	t.Helper()
	rows, err := e.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(recordsTables, n) {
			tables = append(tables, n)
		}
	}
	rows.Close()
	if !slices.Contains(tables, "ca_certificates") || !slices.Contains(tables, "crl_issued") || !slices.Contains(tables, "ca_status_events") {
		t.Fatalf("tables %v lack the CA's", tables)
	}
	out := map[string]string{}
	for _, n := range tables {
		var d *string
		if err := e.pool.QueryRow(ctx, fmt.Sprintf(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM %s t`, n)).Scan(&d); err != nil {
			t.Fatal(err)
		}
		out[n] = fmt.Sprint(d)
		if d != nil {
			out[n] = *d
		}
	}
	return out
}

// TestReceiveRequest: a request is recorded once by its case number (a
// repeat returns the first reception, another person's under the same
// number is a conflict), and a malformed one is refused for good.
func TestReceiveRequest(t *testing.T) {
	e := newEnv(t)
	at := e.clock.now().Add(-time.Hour)
	got, err := e.ca.ReceiveRequest(ctx, disclosureRequest("D1", resident, at))
	if err != nil || !got.Equal(at) {
		t.Fatalf("first: %v, %v; want %v", got, err, at)
	}
	again, err := e.ca.ReceiveRequest(ctx, disclosureRequest("D1", resident, at.Add(time.Minute)))
	if err != nil || !again.Equal(at) {
		t.Errorf("repeat: %v, %v; want the first reception %v", again, err, at)
	}
	if _, err := e.ca.ReceiveRequest(ctx, disclosureRequest("D1", stranger, at)); !errors.Is(err, ErrRequestConflict) || !IsPermanent(err) {
		t.Errorf("another person under the same case: %v, want a conflict", err)
	}
	c := correctionRequest("C1", "D1", resident, at, item("0A", contract.ActionCorrect, contract.FieldMunicipality, "141003"))
	if _, err := e.ca.ReceiveRequest(ctx, c); err != nil {
		t.Fatal(err)
	}
	req, err := e.ca.Request(ctx, "C1")
	if err != nil || req.DisclosureCase != "D1" || len(req.Items) != 1 || req.Items[0].Serial != "a" || req.Requester != c.Requester ||
		req.Delivery != contract.DeliveryPickup || req.CounterCase != c.CounterCase {
		t.Errorf("stored correction request: %+v, %v (the serial canonical)", req, err)
	}
	if _, err := e.ca.Request(ctx, "C404"); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("unknown request: %v", err)
	}

	bad := map[string]func(*contract.ReceiveRecordsRequestInput){
		"no case number":            func(in *contract.ReceiveRecordsRequestInput) { in.CaseNumber = "" },
		"unknown procedure":         func(in *contract.ReceiveRecordsRequestInput) { in.Procedure = contract.ProcInPersonDisclosureRequest },
		"resident code":             func(in *contract.ReceiveRecordsRequestInput) { in.Requester.ResidentCode = "123" },
		"no name":                   func(in *contract.ReceiveRecordsRequestInput) { in.Requester.Name = " " },
		"no address":                func(in *contract.ReceiveRecordsRequestInput) { in.Requester.Address = "" },
		"delivery":                  func(in *contract.ReceiveRecordsRequestInput) { in.Delivery = "fax" },
		"no reception time":         func(in *contract.ReceiveRecordsRequestInput) { in.ReceivedAt = time.Time{} },
		"received in the future":    func(in *contract.ReceiveRecordsRequestInput) { in.ReceivedAt = e.clock.now().Add(time.Hour) },
		"no counter":                func(in *contract.ReceiveRecordsRequestInput) { in.CounterCase = "" },
		"disclosure with items":     func(in *contract.ReceiveRecordsRequestInput) { in.Items = c.Items },
		"correction without items":  func(in *contract.ReceiveRecordsRequestInput) { *in = c; in.Items = nil },
		"correction, no disclosure": func(in *contract.ReceiveRecordsRequestInput) { *in = c; in.DisclosureCase = "" },
		"item serial": func(in *contract.ReceiveRecordsRequestInput) {
			*in = c
			in.Items = []contract.CorrectionItem{item("xyz", contract.ActionCorrect, contract.FieldMunicipality, "141003")}
		},
		"item action": func(in *contract.ReceiveRecordsRequestInput) {
			*in = c
			in.Items = []contract.CorrectionItem{item("a", "replace", contract.FieldMunicipality, "141003")}
		},
		"item field": func(in *contract.ReceiveRecordsRequestInput) {
			*in = c
			in.Items = []contract.CorrectionItem{item("a", contract.ActionCorrect, "name", "x")}
		},
		"correct without a value": func(in *contract.ReceiveRecordsRequestInput) {
			*in = c
			in.Items = []contract.CorrectionItem{item("a", contract.ActionCorrect, contract.FieldMunicipality, "")}
		},
		"delete with a value": func(in *contract.ReceiveRecordsRequestInput) {
			*in = c
			in.Items = []contract.CorrectionItem{item("a", contract.ActionDelete, contract.FieldCounterpart, "b")}
		},
		"correct a whole record": func(in *contract.ReceiveRecordsRequestInput) {
			*in = c
			in.Items = []contract.CorrectionItem{item("a", contract.ActionCorrect, contract.FieldRecord, "b")}
		},
		"no statement": func(in *contract.ReceiveRecordsRequestInput) {
			*in = c
			in.Items = []contract.CorrectionItem{{Serial: "a", Action: contract.ActionDelete, Field: contract.FieldRecord}}
		},
	}
	for name, f := range bad {
		in := disclosureRequest("D2", resident, at)
		f(&in)
		in.CaseNumber = strings.Replace(in.CaseNumber, "C1", "C2", 1)
		if _, err := e.ca.ReceiveRequest(ctx, in); !errors.Is(err, ErrInvalidRequest) || !IsPermanent(err) {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_records_requests").Scan(&n); err != nil || n != 2 {
		t.Errorf("%d requests stored (%v), want D1 and C1 only", n, err)
	}
}

// TestCompileDisclosure: a disclosure compiles the person's records with
// their status, only theirs, stores them, and a repeat (or a later reading)
// returns what was stored even after a status changed; another person's
// case, a correction's, an unknown one are refused.
func TestCompileDisclosure(t *testing.T) {
	e := newRecordsEnv(t)
	if len(e.disclosed) != 2 {
		t.Fatalf("%d records disclosed, want the person's 2: %+v", len(e.disclosed), e.disclosed)
	}
	by := bySerial(e.disclosed)
	s, a := by[e.sign.Serial], by[e.auth.Serial]
	if s.Kind != KindSign || !s.Revoked || s.Reason != reasons.KeyCompromise || s.RevokedAt.IsZero() ||
		s.CounterpartSerial != e.auth.Serial || s.MunicipalityCode != "131016" || s.IssuedAt.IsZero() || !s.NotAfter.Equal(e.sign.NotAfter) {
		t.Errorf("signing record: %+v", s)
	}
	if a.Kind != KindAuth || a.Revoked || a.Reason != "" {
		t.Errorf("user-authentication record: %+v", a)
	}

	e.clock.add(time.Hour)
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "rec/hold", Serial: e.auth.Serial}); err != nil {
		t.Fatal(err)
	}
	again, compiledAt, err := e.ca.CompileDisclosure(ctx, "D1", "jlis2", e.clock.now())
	if err != nil || !slices.Equal(again, e.disclosed) || !compiledAt.Equal(e.at) {
		t.Errorf("repeat after a hold: %+v at %v, %v; want the first compilation at %v", again, compiledAt, err, e.at)
	}
	req, stored, err := e.ca.Disclosure(ctx, "D1")
	if err != nil || !slices.Equal(stored, e.disclosed) || req.Requester.ResidentCode != resident || req.Requester.Name == "" {
		t.Errorf("Disclosure: %+v %+v, %v", req, stored, err)
	}
	// A new disclosure sees the hold.
	later := bySerial(e.compile(t, "D2"))
	if h := later[e.auth.Serial]; !h.Revoked || h.Reason != reasons.CertificateHold {
		t.Errorf("a later disclosure's held record: %+v", h)
	}

	// Nobody's records: an empty answer is an answer, stored too.
	if _, err := e.ca.ReceiveRequest(ctx, disclosureRequest("D3", "11111111111", e.at)); err != nil {
		t.Fatal(err)
	}
	if none, _, err := e.ca.CompileDisclosure(ctx, "D3", "jlis1", e.at); err != nil || len(none) != 0 {
		t.Errorf("no records: %v, %v", none, err)
	}
	if _, none, err := e.ca.Disclosure(ctx, "D3"); err != nil || none == nil || len(none) != 0 {
		t.Errorf("no records, read back: %v, %v", none, err)
	}

	if _, _, err := e.ca.CompileDisclosure(ctx, "D404", "jlis1", e.at); !errors.Is(err, ErrUnknownRequest) || !IsPermanent(err) {
		t.Errorf("unknown case: %v", err)
	}
	e.receive(t, correctionRequest("C1", "D1", resident, e.at, item(e.sign.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141003")))
	if _, _, err := e.ca.CompileDisclosure(ctx, "C1", "jlis1", e.at); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("a correction case compiled: %v", err)
	}
	if _, err := e.ca.ReceiveRequest(ctx, disclosureRequest("D4", resident, e.at)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.ca.Disclosure(ctx, "D4"); !errors.Is(err, ErrNotCompiled) || !IsPermanent(err) {
		t.Errorf("not compiled: %v", err)
	}
	if _, _, err := e.ca.CompileDisclosure(ctx, "D4", "", e.at); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("no operator: %v", err)
	}
}

// TestLetters: a letter is queued once per case and letter with the
// request's delivery (a repeat keeps the first bytes), only a letter of the
// case's procedure; its first delivery is recorded and a mailed one is by
// mail.
func TestLetters(t *testing.T) {
	e := newRecordsEnv(t)
	e.receive(t, correctionRequest("C1", "D1", resident, e.at, item(e.sign.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141003")))
	l, err := e.ca.QueueLetter(ctx, "D1", contract.LetterDisclosure, []byte("%PDF-1 first"))
	if err != nil || l.Delivery != contract.DeliveryMail || l.QueuedAt.IsZero() || l.DeliveredHow != "" {
		t.Fatalf("queued: %v, %v", l, err)
	}
	e.clock.add(time.Minute)
	again, err := e.ca.QueueLetter(ctx, "D1", contract.LetterDisclosure, []byte("%PDF-1 second"))
	if err != nil || !bytes.Equal(again.PDF, []byte("%PDF-1 first")) || !again.QueuedAt.Equal(l.QueuedAt) {
		t.Errorf("repeat: %v, %v; want the first letter", again, err)
	}
	if s := fmt.Sprint(again); strings.Contains(s, "first") {
		t.Errorf("a letter prints its contents: %s", s)
	}
	for _, tc := range []struct{ c, letter string }{{"D1", contract.LetterCorrection}, {"C1", contract.LetterDisclosure}, {"D1", "reminder"}} {
		if _, err := e.ca.QueueLetter(ctx, tc.c, tc.letter, []byte("x")); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s letter of %s: %v, want refused", tc.letter, tc.c, err)
		}
	}
	if _, err := e.ca.QueueLetter(ctx, "D404", contract.LetterExtension, []byte("x")); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("unknown case: %v", err)
	}
	if _, err := e.ca.Letter(ctx, "C1", contract.LetterCorrection); !errors.Is(err, ErrUnknownLetter) || !IsPermanent(err) {
		t.Errorf("a letter not queued: %v", err)
	}

	// The pickup letter, never picked up, is mailed after all.
	if _, err := e.ca.QueueLetter(ctx, "C1", contract.LetterExtension, []byte("%PDF-1 ext")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.DeliverLetter(ctx, contract.DeliverLetterInput{CaseNumber: "C1", Letter: contract.LetterExtension,
		How: contract.DeliveredByHandOver, At: e.clock.now()}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("handed over by nobody: %v", err)
	}
	mailedAt := e.clock.now()
	d, err := e.ca.DeliverLetter(ctx, contract.DeliverLetterInput{CaseNumber: "C1", Letter: contract.LetterExtension,
		How: contract.DeliveredByMail, By: "mailroom", At: mailedAt})
	if err != nil || d.DeliveredHow != contract.DeliveredByMail || d.Delivery != contract.DeliveryMail || !d.DeliveredAt.Equal(mailedAt) || d.DeliveredBy != "mailroom" {
		t.Errorf("mailed: %v, %v", d, err)
	}
	e.clock.add(time.Hour)
	d2, err := e.ca.DeliverLetter(ctx, contract.DeliverLetterInput{CaseNumber: "C1", Letter: contract.LetterExtension,
		How: contract.DeliveredByHandOver, By: "jlis1", At: e.clock.now()})
	if err != nil || d2.DeliveredHow != contract.DeliveredByMail || !d2.DeliveredAt.Equal(mailedAt) {
		t.Errorf("a second delivery: %v, %v; want the first kept", d2, err)
	}
	h, err := e.ca.DeliverLetter(ctx, contract.DeliverLetterInput{CaseNumber: "D1", Letter: contract.LetterDisclosure,
		How: contract.DeliveredByHandOver, By: "jlis1", At: e.clock.now()})
	if err != nil || h.DeliveredHow != contract.DeliveredByHandOver || h.Delivery != contract.DeliveryMail || h.DeliveredBy != "jlis1" {
		t.Errorf("handed over: %v, %v", h, err)
	}
	if _, err := e.ca.DeliverLetter(ctx, contract.DeliverLetterInput{CaseNumber: "D1", Letter: contract.LetterExtension,
		How: contract.DeliveredByMail, At: e.clock.now()}); !errors.Is(err, ErrUnknownLetter) {
		t.Errorf("delivering a letter never queued: %v", err)
	}
}

// TestCorrectionsLeaveCertificatesAndCRLsAlone: an accepted correction of
// the revocation reason and of the municipality amends the records a
// disclosure shows, with the old values kept, and changes nothing a
// verifier sees: the status OCSP answers (Status), the signed certificate,
// and every row of every CA, CRL and repository table.
func TestCorrectionsLeaveCertificatesAndCRLsAlone(t *testing.T) {
	e := newRecordsEnv(t)
	before := e.tableDigests(t)
	statusBefore, err := e.ca.Status(ctx, e.sign.Serial)
	if err != nil {
		t.Fatal(err)
	}
	certBefore, err := e.ca.Certificate(ctx, e.sign.Serial)
	if err != nil {
		t.Fatal(err)
	}

	req := e.receive(t, correctionRequest("C1", "D1", resident, e.at,
		item(e.sign.Serial, contract.ActionCorrect, contract.FieldRevocationReason, "利用者の意思によるサービスの停止"),
		item(e.sign.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141003"),
		item(e.auth.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141305"),
	))
	e.clock.add(time.Hour)
	applied, err := e.ca.ApplyCorrections(ctx, decision(req, e.clock.now(), true, true, false))
	if err != nil {
		t.Fatal(err)
	}
	want := []contract.AppliedCorrection{
		{Item: 0, Serial: e.sign.Serial, Field: contract.FieldRevocationReason, OldValue: "keyCompromise", NewValue: "cessationOfOperation"},
		{Item: 1, Serial: e.sign.Serial, Field: contract.FieldMunicipality, OldValue: "131016", NewValue: "141003"},
	}
	if !slices.Equal(applied, want) {
		t.Errorf("applied %+v, want %+v", applied, want)
	}
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_record_corrections WHERE case_number = 'C1' AND NOT accepted AND old_value = '131016' AND new_value = '141305'").Scan(&n); err != nil || n != 1 {
		t.Errorf("the refused item's audit row: %d, %v", n, err)
	}

	// What a verifier sees is what was signed.
	statusAfter, err := e.ca.Status(ctx, e.sign.Serial)
	if err != nil || statusAfter != statusBefore || statusAfter.Reason != reasons.KeyCompromise || statusAfter.MunicipalityCode != "131016" {
		t.Errorf("status after the correction %+v (%v), before %+v", statusAfter, err, statusBefore)
	}
	certAfter, err := e.ca.Certificate(ctx, e.sign.Serial)
	if err != nil || !bytes.Equal(certAfter.CertificateDER, certBefore.CertificateDER) || !bytes.Equal(certAfter.CertificateDER, e.sign.CertificateDER) {
		t.Errorf("the certificate's DER changed (%v)", err)
	}
	after := e.tableDigests(t)
	for table, d := range before {
		if after[table] != d {
			t.Errorf("table %s was written by a correction", table)
		}
	}

	// The records are amended: a new disclosure shows the corrections, the
	// first one still shows what it disclosed.
	now := bySerial(e.compile(t, "D2"))
	if s := now[e.sign.Serial]; s.Reason != reasons.CessationOfOperation || s.MunicipalityCode != "141003" || !s.Revoked {
		t.Errorf("the amended record: %+v", s)
	}
	if a := now[e.auth.Serial]; a.MunicipalityCode != "131016" {
		t.Errorf("a refused item amended the record: %+v", a)
	}
	_, first, _ := e.ca.Disclosure(ctx, "D1")
	if !slices.Equal(first, e.disclosed) {
		t.Errorf("the first disclosure's snapshot changed: %+v", first)
	}

	// Once per case: a repeat answers the same, another decision conflicts.
	again, err := e.ca.ApplyCorrections(ctx, decision(req, e.clock.now(), true, true, false))
	if err != nil || !slices.Equal(again, want) {
		t.Errorf("repeat: %+v, %v", again, err)
	}
	if _, err := e.ca.ApplyCorrections(ctx, decision(req, e.clock.now(), true, true, true)); !errors.Is(err, ErrRequestConflict) || !IsPermanent(err) {
		t.Errorf("another decision on a decided case: %v", err)
	}
}

// TestCorrectionsInEffect: the latest accepted correction of a field wins,
// an item's old value is the value in effect before it (also within one
// decision), a deleted record is no longer disclosed nor corrected, and a
// counterpart deleted and then added is the one added.
func TestCorrectionsInEffect(t *testing.T) {
	e := newRecordsEnv(t)
	// The person's second user-authentication certificate, after D1.
	second, err := e.ca.Issue(ctx, authRequest(t, e.env, "rec/auth2"))
	if err != nil {
		t.Fatal(err)
	}
	c1 := e.receive(t, correctionRequest("C1", "D1", resident, e.at,
		item(e.auth.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141003"),
		item(e.auth.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141305"),
		item(e.sign.Serial, contract.ActionDelete, contract.FieldCounterpart, ""),
		item(e.sign.Serial, contract.ActionAdd, contract.FieldCounterpart, second.Serial),
	))
	e.clock.add(time.Hour)
	applied, err := e.ca.ApplyCorrections(ctx, decision(c1, e.clock.now(), true, true, true, true))
	if err != nil {
		t.Fatal(err)
	}
	olds := []string{}
	for _, a := range applied {
		olds = append(olds, a.OldValue+">"+a.NewValue)
	}
	if want := []string{"131016>141003", "141003>141305", e.auth.Serial + ">", ">" + second.Serial}; !slices.Equal(olds, want) {
		t.Errorf("old>new values %v, want %v", olds, want)
	}
	e.clock.add(time.Hour)
	c2 := e.receive(t, correctionRequest("C2", "D1", resident, e.at,
		item(e.auth.Serial, contract.ActionCorrect, contract.FieldMunicipality, "131016"),
		item(e.auth.Serial, contract.ActionDelete, contract.FieldRecord, ""),
	))
	applied, err = e.ca.ApplyCorrections(ctx, decision(c2, e.clock.now(), true, false))
	if err != nil || len(applied) != 1 || applied[0].OldValue != "141305" {
		t.Fatalf("second correction: %+v, %v; want one from 141305", applied, err)
	}
	recs := bySerial(e.compile(t, "D2"))
	if a := recs[e.auth.Serial]; a.MunicipalityCode != "131016" {
		t.Errorf("the latest accepted correction does not win: %+v", a)
	}
	if s := recs[e.sign.Serial]; s.CounterpartSerial != second.Serial {
		t.Errorf("the counterpart added: %+v", s)
	}

	e.clock.add(time.Hour)
	c3 := e.receive(t, correctionRequest("C3", "D2", resident, e.at, item(e.auth.Serial, contract.ActionDelete, contract.FieldRecord, "")))
	if _, err := e.ca.ApplyCorrections(ctx, decision(c3, e.clock.now(), true)); err != nil {
		t.Fatal(err)
	}
	recs = bySerial(e.compile(t, "D3"))
	if _, ok := recs[e.auth.Serial]; ok || len(recs) != 2 {
		t.Errorf("a deleted record is disclosed: %+v", recs)
	}
	c4 := e.receive(t, correctionRequest("C4", "D2", resident, e.at, item(e.auth.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141003")))
	if _, err := e.ca.ApplyCorrections(ctx, decision(c4, e.clock.now(), true)); !errors.Is(err, ErrBadCorrection) {
		t.Errorf("correcting a deleted record: %v", err)
	}
	// Refusing it is a decision all the same.
	if _, err := e.ca.ApplyCorrections(ctx, decision(c4, e.clock.now(), false)); err != nil {
		t.Errorf("refusing: %v", err)
	}
}

// TestBadCorrectionsRecordNothing: a decision that the records cannot take
// is refused for good with a reason in English and Japanese, and nothing of
// it is recorded.
func TestBadCorrectionsRecordNothing(t *testing.T) {
	e := newRecordsEnv(t)
	if _, err := e.ca.Hold(ctx, HoldRequest{RequestID: "rec/hold", Serial: e.auth.Serial}); err != nil {
		t.Fatal(err)
	}
	later, err := e.ca.Issue(ctx, signRequest(t, e.env, "rec/sign2"))
	if err != nil {
		t.Fatal(err)
	}
	// The stranger's disclosure, and one never compiled.
	if _, err := e.ca.ReceiveRequest(ctx, disclosureRequest("DS", stranger, e.at)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.ca.CompileDisclosure(ctx, "DS", "jlis1", e.at); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ca.ReceiveRequest(ctx, disclosureRequest("DN", resident, e.at)); err != nil {
		t.Fatal(err)
	}
	sign, auth, other := e.sign.Serial, e.auth.Serial, e.other.Serial
	n := 0
	for name, tc := range map[string]struct {
		resident, disclosure string // the person's D1 when empty
		item                 contract.CorrectionItem
		change               func(*contract.ApplyCorrectionsInput)
	}{
		"a serial not disclosed":           {item: item(later.Serial, contract.ActionCorrect, contract.FieldMunicipality, "141003")},
		"another person's disclosure":      {disclosure: "DS", item: item(other, contract.ActionCorrect, contract.FieldMunicipality, "141003")},
		"a disclosure never compiled":      {disclosure: "DN", item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "141003")},
		"no disclosure at all":             {disclosure: "D404", item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "141003")},
		"add where there is a value":       {item: item(sign, contract.ActionAdd, contract.FieldMunicipality, "141003")},
		"correct where there is none":      {resident: stranger, disclosure: "DS", item: item(other, contract.ActionCorrect, contract.FieldCounterpart, sign)},
		"delete where there is none":       {resident: stranger, disclosure: "DS", item: item(other, contract.ActionDelete, contract.FieldCounterpart, "")},
		"delete a municipality":            {item: item(sign, contract.ActionDelete, contract.FieldMunicipality, "")},
		"delete a revocation reason":       {item: item(sign, contract.ActionDelete, contract.FieldRevocationReason, "")},
		"a reason of a good certificate":   {resident: stranger, disclosure: "DS", item: item(other, contract.ActionAdd, contract.FieldRevocationReason, "keyCompromise")},
		"a reason of a held certificate":   {item: item(auth, contract.ActionCorrect, contract.FieldRevocationReason, "keyCompromise")},
		"a reason that is none":            {item: item(sign, contract.ActionCorrect, contract.FieldRevocationReason, "removeFromCRL")},
		"a hold as a reason":               {item: item(sign, contract.ActionCorrect, contract.FieldRevocationReason, "certificateHold")},
		"the same reason":                  {item: item(sign, contract.ActionCorrect, contract.FieldRevocationReason, "KEY_COMPROMISE")},
		"a municipality of 5 digits":       {item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "13101")},
		"a municipality that is a name":    {item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "千代田区")},
		"the same municipality":            {item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "131016")},
		"another person's counterpart":     {item: item(sign, contract.ActionCorrect, contract.FieldCounterpart, other)},
		"a counterpart of the same kind":   {item: item(sign, contract.ActionCorrect, contract.FieldCounterpart, later.Serial)},
		"a counterpart that is no serial":  {item: item(sign, contract.ActionCorrect, contract.FieldCounterpart, "zz")},
		"a counterpart that is itself":     {item: item(sign, contract.ActionCorrect, contract.FieldCounterpart, sign)},
		"a counterpart never issued":       {item: item(sign, contract.ActionCorrect, contract.FieldCounterpart, "abcdef")},
		"a decision on another disclosure": {item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "141003"), change: func(in *contract.ApplyCorrectionsInput) { in.DisclosureCase = "DS" }},
		"a decision on another item":       {item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "141003"), change: func(in *contract.ApplyCorrectionsInput) { in.Items[0].Field = contract.FieldCounterpart }},
		"a decision with more items":       {item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "141003"), change: func(in *contract.ApplyCorrectionsInput) { in.Items = append(in.Items, in.Items[0]) }},
		"a decision on another serial":     {item: item(sign, contract.ActionCorrect, contract.FieldMunicipality, "141003"), change: func(in *contract.ApplyCorrectionsInput) { in.Items[0].Serial = other }},
	} {
		n++
		req := e.receive(t, correctionRequest(fmt.Sprintf("C%d", n), cmp.Or(tc.disclosure, "D1"), cmp.Or(tc.resident, resident), e.at, tc.item))
		in := decision(req, e.clock.now(), true)
		if tc.change != nil {
			tc.change(&in)
		}
		_, err := e.ca.ApplyCorrections(ctx, in)
		if !errors.Is(err, ErrBadCorrection) || !IsPermanent(err) {
			t.Errorf("%s: %v, want ErrBadCorrection", name, err)
			continue
		}
		if msg := err.Error(); !strings.ContainsFunc(msg, func(r rune) bool { return r > 0x3000 }) {
			t.Errorf("%s: %q has no Japanese", name, msg)
		}
		t.Logf("%s: %v", name, err)
	}
	var rows int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM ca_record_corrections").Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d correction rows recorded (%v), want none", rows, err)
	}

	// Input no retry can fix.
	req := e.receive(t, correctionRequest("CX", "D1", resident, e.at, item(sign, contract.ActionCorrect, contract.FieldMunicipality, "141003")))
	for name, f := range map[string]func(*contract.ApplyCorrectionsInput){
		"no decider":           func(in *contract.ApplyCorrectionsInput) { in.DecidedBy = "" },
		"no time":              func(in *contract.ApplyCorrectionsInput) { in.At = time.Time{} },
		"decided in future":    func(in *contract.ApplyCorrectionsInput) { in.At = e.clock.now().Add(time.Hour) },
		"no items":             func(in *contract.ApplyCorrectionsInput) { in.Items = nil },
		"refused, no reason":   func(in *contract.ApplyCorrectionsInput) { in.Items[0].Accepted = false; in.Reason = "" },
		"no correction number": func(in *contract.ApplyCorrectionsInput) { in.CaseNumber = "" },
	} {
		in := decision(req, e.clock.now(), true)
		f(&in)
		if _, err := e.ca.ApplyCorrections(ctx, in); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	in := decision(req, e.clock.now(), true)
	in.CaseNumber = "D1"
	if _, err := e.ca.ApplyCorrections(ctx, in); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("a disclosure case decided as a correction: %v", err)
	}
}
