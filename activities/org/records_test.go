package org

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/notice"
	"github.com/madoguchi/madoguchi/internal/reasons"
)

// recordsStore is the Organization's records database as the activities
// see it: one request and its snapshot, the letters queued, and every call
// counted.
type recordsStore struct {
	err     error // every call fails with it when set
	req     contract.ReceiveRecordsRequestInput
	recs    []ca.DisclosedRecord
	at      time.Time
	letters map[string]ca.QueuedLetter
	calls   map[string]int
}

func newRecordsStore() *recordsStore {
	at := time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)
	return &recordsStore{
		req: contract.ReceiveRecordsRequestInput{CaseNumber: "J-20260401-000001", Procedure: contract.ProcDisclosure,
			Requester: contract.Requester{ResidentCode: "12345678901", Name: "山田　花子", Address: "東京都千代田区霞が関二丁目1番2号"},
			Delivery:  contract.DeliveryMail, ReceivedAt: at, CounterOffice: "131016", CounterCase: "131016-20260401-000001"},
		recs: []ca.DisclosedRecord{
			{Serial: "1a", Kind: ca.KindAuth, MunicipalityCode: "131016", IssuedAt: at, NotAfter: at.AddDate(5, 0, 0)},
			{Serial: "2b", Kind: ca.KindSign, MunicipalityCode: "131016", IssuedAt: at, NotAfter: at.AddDate(5, 0, 0),
				CounterpartSerial: "1a", Revoked: true, Reason: reasons.KeyCompromise, RevokedAt: at.Add(time.Hour)},
		},
		at:      at.Add(2 * time.Hour),
		letters: map[string]ca.QueuedLetter{},
		calls:   map[string]int{},
	}
}

func (s *recordsStore) call(name string) error { s.calls[name]++; return s.err }

func (s *recordsStore) total() int {
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

func (s *recordsStore) ReceiveRequest(_ context.Context, in contract.ReceiveRecordsRequestInput) (time.Time, error) {
	return in.ReceivedAt, s.call("ReceiveRequest")
}

func (s *recordsStore) Request(context.Context, string) (contract.ReceiveRecordsRequestInput, error) {
	return s.req, s.call("Request")
}

func (s *recordsStore) CompileDisclosure(context.Context, string, string, time.Time) ([]ca.DisclosedRecord, time.Time, error) {
	return s.recs, s.at, s.call("CompileDisclosure")
}

func (s *recordsStore) Disclosure(context.Context, string) (contract.ReceiveRecordsRequestInput, []ca.DisclosedRecord, error) {
	if s.req.Procedure != contract.ProcDisclosure {
		return contract.ReceiveRecordsRequestInput{}, nil, fmt.Errorf("%w: no disclosure", ca.ErrUnknownRequest)
	}
	return s.req, s.recs, s.call("Disclosure")
}

func (s *recordsStore) QueueLetter(_ context.Context, caseNumber, letter string, pdf []byte) (ca.QueuedLetter, error) {
	if err := s.call("QueueLetter"); err != nil {
		return ca.QueuedLetter{}, err
	}
	if l, ok := s.letters[letter]; ok {
		return l, nil
	}
	l := ca.QueuedLetter{CaseNumber: caseNumber, Letter: letter, Delivery: s.req.Delivery, PDF: pdf, QueuedAt: s.at}
	s.letters[letter] = l
	return l, nil
}

func (s *recordsStore) Letter(_ context.Context, caseNumber, letter string) (ca.QueuedLetter, error) {
	if err := s.call("Letter"); err != nil {
		return ca.QueuedLetter{}, err
	}
	if l, ok := s.letters[letter]; ok {
		return l, nil
	}
	return ca.QueuedLetter{}, fmt.Errorf("%w: %s %s", ca.ErrUnknownLetter, caseNumber, letter)
}

func (s *recordsStore) DeliverLetter(_ context.Context, in contract.DeliverLetterInput) (ca.QueuedLetter, error) {
	return ca.QueuedLetter{DeliveredHow: in.How, DeliveredAt: in.At}, s.call("DeliverLetter")
}

func (s *recordsStore) ApplyCorrections(_ context.Context, in contract.ApplyCorrectionsInput) ([]contract.AppliedCorrection, error) {
	return []contract.AppliedCorrection{{Item: 0, Serial: in.Items[0].Serial, Field: in.Items[0].Field, OldValue: "131016", NewValue: in.Items[0].Value}},
		s.call("ApplyCorrections")
}

// runAs runs one records activity from a workflow with the given id, once
// (no retries), and returns its result.
func runAs[In, Out any](t *testing.T, s *recordsStore, workflowID string, act contract.Activity[In, Out], in In) (Out, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivity(&Records{CA: s})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in In) (Out, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		var out Out
		err := workflow.ExecuteActivity(ctx, act.Name, in).Get(ctx, &out)
		return out, err
	}, workflow.RegisterOptions{Name: "records-caller"})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflowID})
	env.ExecuteWorkflow("records-caller", in)
	var out Out
	if err := env.GetWorkflowError(); err != nil {
		return out, err
	}
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	return out, nil
}

// retryable reports whether err is an activity failure a retry may fix.
func retryable(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && !appErr.NonRetryable()
}

const (
	disclosureWF = contract.ProcDisclosure + "/J-20260401-000001"
	correctionWF = contract.ProcCorrection + "/J-20260401-000002"
)

// everyRecordsActivity runs each of the five activities once as
// workflowID and returns their errors by name.
func everyRecordsActivity(t *testing.T, s *recordsStore, workflowID string) map[string]error {
	t.Helper()
	at := s.at
	errs := map[string]error{}
	_, errs["ReceiveRecordsRequest"] = runAs(t, s, workflowID, contract.ReceiveRecordsRequest, s.req)
	_, errs["CompileDisclosure"] = runAs(t, s, workflowID, contract.CompileDisclosure,
		contract.CompileDisclosureInput{CaseNumber: s.req.CaseNumber, Operator: "jlis1", At: at})
	_, errs["SendRecordsLetter"] = runAs(t, s, workflowID, contract.SendRecordsLetter,
		contract.SendRecordsLetterInput{CaseNumber: s.req.CaseNumber, Letter: contract.LetterDisclosure, IssuedOn: at})
	_, errs["DeliverLetter"] = runAs(t, s, workflowID, contract.DeliverLetter,
		contract.DeliverLetterInput{CaseNumber: s.req.CaseNumber, Letter: contract.LetterDisclosure, How: contract.DeliveredByMail, At: at})
	_, errs["ApplyCorrections"] = runAs(t, s, workflowID, contract.ApplyCorrections, contract.ApplyCorrectionsInput{
		CaseNumber: s.req.CaseNumber, DisclosureCase: "J-20260401-000001", DecidedBy: "jlis1", Reason: "誤り", At: at,
		Items: []contract.DecidedItem{{CorrectionItem: contract.CorrectionItem{Serial: "2b", Action: contract.ActionCorrect,
			Field: contract.FieldMunicipality, Value: "141003", Statement: "市区町村が違う"}, Accepted: true}}})
	return errs
}

// TestRecordsRefuseOtherCallers: only the Organization's records
// procedures (the workflow id's prefix, which no input can forge) reach
// the records; any other caller, the counter's own request procedures
// included, is refused for good before the database is asked anything.
func TestRecordsRefuseOtherCallers(t *testing.T) {
	for _, id := range []string{
		contract.ProcInPersonDisclosureRequest + "/131016-20260401-000001",
		contract.ProcProxyCorrectionRequest + "/131016-20260401-000002",
		contract.ProcInPersonIssuance + "/131016-20260401-000003",
		"unknown/" + contract.ProcDisclosure + "/1",
	} {
		s := newRecordsStore()
		for name, err := range everyRecordsActivity(t, s, id) {
			if !refusedForGood(err) || !strings.Contains(err.Error(), ErrRecordsNotAllowed.Error()) {
				t.Errorf("%s as %q: %v, want a non-retryable refusal", name, id, err)
			}
		}
		if s.total() != 0 {
			t.Errorf("as %q the records were reached: %v", id, s.calls)
		}
	}
	// The activity test environment's workflow id names no procedure.
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	s := newRecordsStore()
	r := &Records{CA: s}
	env.RegisterActivity(r)
	if _, err := env.ExecuteActivity(r.CompileDisclosure, contract.CompileDisclosureInput{CaseNumber: "x"}); !refusedForGood(err) {
		t.Errorf("no procedure: %v", err)
	}
	for _, id := range []string{disclosureWF, correctionWF} {
		for name, err := range everyRecordsActivity(t, newRecordsStore(), id) {
			if err != nil {
				t.Errorf("%s as %q: %v", name, id, err)
			}
		}
	}
}

// TestRecordsErrorClassification: what no retry can fix (a malformed or
// refused request, an unknown case, a conflicting repeat) fails for good
// as Invalid; a database failure is retried.
func TestRecordsErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"validation", &ca.ValidationError{Field: "CaseNumber", Problem: "is required"}, true},
		{"bad correction", fmt.Errorf("%w: item 0: add only where empty（追加は…）", ca.ErrBadCorrection), true},
		{"unknown request", fmt.Errorf("%w: J-1", ca.ErrUnknownRequest), true},
		{"not compiled", fmt.Errorf("%w: J-1", ca.ErrNotCompiled), true},
		{"conflict", &ca.ConflictError{RequestID: "J-1", Field: "correction decision"}, true},
		{"database", errors.New("ca: read records request: connection reset by peer"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRecordsStore()
			s.err = tc.err
			for name, err := range everyRecordsActivity(t, s, disclosureWF) {
				if tc.permanent && !refusedForGood(err) {
					t.Errorf("%s: %v, want a non-retryable Invalid error", name, err)
				}
				if !tc.permanent && !retryable(err) {
					t.Errorf("%s: %v, want a retryable error", name, err)
				}
			}
		})
	}
}

// TestCompileDisclosureAnswersSerialsOnly: what a disclosure compiled goes
// back into Temporal as serials and a time, nothing of the records.
func TestCompileDisclosureAnswersSerialsOnly(t *testing.T) {
	s := newRecordsStore()
	res, err := runAs(t, s, disclosureWF, contract.CompileDisclosure, contract.CompileDisclosureInput{CaseNumber: s.req.CaseNumber, Operator: "jlis1", At: s.at})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Serials) != 2 || res.Serials[0] != "1a" || res.Serials[1] != "2b" || !res.CompiledAt.Equal(s.at) {
		t.Errorf("result %+v", res)
	}
	b, _ := json.Marshal(res)
	for _, leak := range []string{"131016", "keyCompromise", "sign", "auth", s.req.Requester.Name, s.req.Requester.ResidentCode} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the result %s carries %q", b, leak)
		}
	}
}

// TestSendRecordsLetter: each letter is rendered from the request and the
// snapshot as stored (the same bytes as the notice package renders for
// them) and queued once; a letter already queued is not rendered again; a
// letter missing what it says fails for good.
func TestSendRecordsLetter(t *testing.T) {
	issued := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	t.Run("disclosure", func(t *testing.T) {
		s := newRecordsStore()
		res, err := runAs(t, s, disclosureWF, contract.SendRecordsLetter,
			contract.SendRecordsLetterInput{CaseNumber: s.req.CaseNumber, Letter: contract.LetterDisclosure, IssuedOn: issued})
		if err != nil {
			t.Fatal(err)
		}
		want, err := notice.RenderDisclosure(notice.Disclosure{CaseNumber: s.req.CaseNumber, Requester: "山田　花子",
			Address: "東京都千代田区霞が関二丁目1番2号", ByMail: true, Received: s.req.ReceivedAt, IssuedOn: issued, RequestedHere: "131016",
			Certificates: []notice.DisclosedCertificate{
				{Kind: "auth", Serial: "1a", Municipality: "131016", IssuedAt: s.recs[0].IssuedAt, NotAfter: s.recs[0].NotAfter},
				{Kind: "sign", Serial: "2b", Municipality: "131016", IssuedAt: s.recs[1].IssuedAt, NotAfter: s.recs[1].NotAfter,
					CounterpartSerial: "1a", Revoked: true, Reason: reasons.KeyCompromise, RevokedAt: s.recs[1].RevokedAt},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.letters[contract.LetterDisclosure].PDF; !bytes.Equal(got, want) {
			t.Errorf("the queued letter (%d bytes) is not the disclosure notice of the snapshot (%d bytes)", len(got), len(want))
		}
		if !res.QueuedAt.Equal(s.at) || res.Delivery != contract.DeliveryMail {
			t.Errorf("result %+v", res)
		}
		if _, err := runAs(t, s, disclosureWF, contract.SendRecordsLetter,
			contract.SendRecordsLetterInput{CaseNumber: s.req.CaseNumber, Letter: contract.LetterDisclosure, IssuedOn: issued.AddDate(0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		if s.calls["Disclosure"] != 1 || s.calls["QueueLetter"] != 1 {
			t.Errorf("a queued letter was rendered or queued again: %v", s.calls)
		}
	})
	t.Run("extension of a correction", func(t *testing.T) {
		s := newRecordsStore()
		s.req.Procedure, s.req.Delivery, s.req.DisclosureCase = contract.ProcCorrection, contract.DeliveryPickup, "J-20260301-000001"
		ext := contract.ExtensionDetail{OriginalDue: issued.AddDate(0, 0, 20), NewDue: issued.AddDate(0, 0, 50), Reason: "調査に日数を要するため"}
		res, err := runAs(t, s, correctionWF, contract.SendRecordsLetter,
			contract.SendRecordsLetterInput{CaseNumber: s.req.CaseNumber, Letter: contract.LetterExtension, IssuedOn: issued, Extension: &ext})
		if err != nil {
			t.Fatal(err)
		}
		want, err := notice.RenderExtension(notice.Extension{CaseNumber: s.req.CaseNumber, Requester: "山田　花子",
			Address: "東京都千代田区霞が関二丁目1番2号", Subject: notice.SubjectCorrection, Received: s.req.ReceivedAt,
			OriginalDue: ext.OriginalDue, NewDue: ext.NewDue, Reason: ext.Reason, IssuedOn: issued})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.letters[contract.LetterExtension].PDF, want) || res.Delivery != contract.DeliveryPickup {
			t.Errorf("the queued extension notice is not the correction's (result %+v)", res)
		}
	})
	t.Run("correction", func(t *testing.T) {
		s := newRecordsStore()
		s.req.Procedure, s.req.DisclosureCase = contract.ProcCorrection, "J-20260301-000001"
		d := contract.CorrectionDecision{Reason: "一部の記録に誤りがありました", Items: []contract.DecidedItem{
			{CorrectionItem: contract.CorrectionItem{Serial: "2b", Action: contract.ActionCorrect, Field: contract.FieldMunicipality, Value: "141003"}, Accepted: true},
			{CorrectionItem: contract.CorrectionItem{Serial: "1a", Action: contract.ActionDelete, Field: contract.FieldRecord}},
		}}
		if _, err := runAs(t, s, correctionWF, contract.SendRecordsLetter,
			contract.SendRecordsLetterInput{CaseNumber: s.req.CaseNumber, Letter: contract.LetterCorrection, IssuedOn: issued, Correction: &d}); err != nil {
			t.Fatal(err)
		}
		want, err := notice.RenderCorrection(notice.Correction{CaseNumber: s.req.CaseNumber, Requester: "山田　花子",
			Address: "東京都千代田区霞が関二丁目1番2号", ByMail: true, Received: s.req.ReceivedAt, DisclosureCase: "J-20260301-000001",
			Outcome: contract.DecisionPart, Reason: d.Reason, IssuedOn: issued, Items: []notice.CorrectedItem{
				{Serial: "2b", Action: contract.ActionCorrect, Field: contract.FieldMunicipality, Value: "141003", Accepted: true},
				{Serial: "1a", Action: contract.ActionDelete, Field: contract.FieldRecord},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.letters[contract.LetterCorrection].PDF, want) {
			t.Errorf("the queued letter is not the correction decision notice")
		}
	})
	t.Run("incomplete", func(t *testing.T) {
		for name, in := range map[string]contract.SendRecordsLetterInput{
			"extension without its detail":  {Letter: contract.LetterExtension, IssuedOn: issued},
			"correction without a decision": {Letter: contract.LetterCorrection, IssuedOn: issued},
			"correction with no reason": {Letter: contract.LetterCorrection, IssuedOn: issued, Correction: &contract.CorrectionDecision{
				Items: []contract.DecidedItem{{CorrectionItem: contract.CorrectionItem{Serial: "2b", Action: contract.ActionDelete, Field: contract.FieldCounterpart}}}}},
			"no issue date":       {Letter: contract.LetterExtension, Extension: &contract.ExtensionDetail{OriginalDue: issued, NewDue: issued.AddDate(0, 0, 30), Reason: "x"}},
			"a letter of no kind": {Letter: "reminder", IssuedOn: issued},
		} {
			s := newRecordsStore()
			s.req.Procedure, s.req.DisclosureCase = contract.ProcCorrection, "J-20260301-000001"
			in.CaseNumber = s.req.CaseNumber
			if _, err := runAs(t, s, correctionWF, contract.SendRecordsLetter, in); !refusedForGood(err) {
				t.Errorf("%s: %v, want a non-retryable Invalid error", name, err)
			}
			if s.calls["QueueLetter"] != 0 {
				t.Errorf("%s: queued", name)
			}
		}
		// A disclosure notice of a correction case.
		s := newRecordsStore()
		s.req.Procedure = contract.ProcCorrection
		if _, err := runAs(t, s, correctionWF, contract.SendRecordsLetter,
			contract.SendRecordsLetterInput{CaseNumber: s.req.CaseNumber, Letter: contract.LetterDisclosure, IssuedOn: issued}); !refusedForGood(err) {
			t.Errorf("a disclosure notice of a correction: %v", err)
		}
	})
}

// TestDeliverAndApplyAnswer: the delivery and the amendments come back as
// the records recorded them.
func TestDeliverAndApplyAnswer(t *testing.T) {
	s := newRecordsStore()
	d, err := runAs(t, s, disclosureWF, contract.DeliverLetter, contract.DeliverLetterInput{CaseNumber: s.req.CaseNumber,
		Letter: contract.LetterDisclosure, How: contract.DeliveredByHandOver, By: "jlis1", At: s.at})
	if err != nil || d.How != contract.DeliveredByHandOver || !d.DeliveredAt.Equal(s.at) {
		t.Errorf("delivered: %+v, %v", d, err)
	}
	a, err := runAs(t, s, correctionWF, contract.ApplyCorrections, contract.ApplyCorrectionsInput{CaseNumber: "J-2", DisclosureCase: "J-1",
		DecidedBy: "jlis1", At: s.at, Items: []contract.DecidedItem{{CorrectionItem: contract.CorrectionItem{Serial: "2b",
			Action: contract.ActionCorrect, Field: contract.FieldMunicipality, Value: "141003"}, Accepted: true}}})
	if err != nil || len(a.Applied) != 1 || a.Applied[0].OldValue != "131016" || a.Applied[0].NewValue != "141003" {
		t.Errorf("applied: %+v, %v", a, err)
	}
}
