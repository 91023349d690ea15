package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/notice"
)

// RecordsStore is what the records activities need of the Organization's
// CA database (ca.CA): the requests, the compiled disclosures, the letters
// and the correction decisions (internal/ca/records.go). Every method is
// idempotent by case number.
type RecordsStore interface {
	ReceiveRequest(ctx context.Context, in contract.ReceiveRecordsRequestInput) (time.Time, error)
	Request(ctx context.Context, caseNumber string) (contract.ReceiveRecordsRequestInput, error)
	CompileDisclosure(ctx context.Context, caseNumber, operator string, at time.Time) ([]ca.DisclosedRecord, time.Time, error)
	Disclosure(ctx context.Context, caseNumber string) (contract.ReceiveRecordsRequestInput, []ca.DisclosedRecord, error)
	QueueLetter(ctx context.Context, caseNumber, letter string, pdf []byte) (ca.QueuedLetter, error)
	Letter(ctx context.Context, caseNumber, letter string) (ca.QueuedLetter, error)
	DeliverLetter(ctx context.Context, in contract.DeliverLetterInput) (ca.QueuedLetter, error)
	ApplyCorrections(ctx context.Context, in contract.ApplyCorrectionsInput) ([]contract.AppliedCorrection, error)
}

// ErrRecordsNotAllowed is a caller that is not one of the records
// procedures (contract.RecordsProcedures).
var ErrRecordsNotAllowed = errors.New("this procedure may not read or amend certification records")

// Records holds the Organization's activities of the certification records
// (認証業務情報, 法第58条〜第61条): receiving a disclosure or correction
// request, compiling a disclosure, the letters to the requester and the
// correction decision. The requester's name, address and records stay in
// the Organization's database: what goes back to Temporal is case numbers,
// serials, times and the amendments' values.
type Records struct {
	CA RecordsStore
	// Organization is the letters' sender; notice.DefaultOrganization when
	// empty.
	Organization string
}

// ReceiveRecordsRequest records a request as the Organization received it.
func (a *Records) ReceiveRecordsRequest(ctx context.Context, in contract.ReceiveRecordsRequestInput) (contract.ReceiveRecordsRequestResult, error) {
	if err := mayUseRecords(ctx); err != nil {
		return contract.ReceiveRecordsRequestResult{}, err
	}
	at, err := a.CA.ReceiveRequest(ctx, in)
	if err != nil {
		return contract.ReceiveRecordsRequestResult{}, recordsErr("receive records request", err)
	}
	return contract.ReceiveRecordsRequestResult{ReceivedAt: at}, nil
}

// CompileDisclosure compiles the requester's records once and keeps them
// as disclosed; it answers with their serials only.
func (a *Records) CompileDisclosure(ctx context.Context, in contract.CompileDisclosureInput) (contract.CompileDisclosureResult, error) {
	if err := mayUseRecords(ctx); err != nil {
		return contract.CompileDisclosureResult{}, err
	}
	recs, at, err := a.CA.CompileDisclosure(ctx, in.CaseNumber, in.Operator, in.At)
	if err != nil {
		return contract.CompileDisclosureResult{}, recordsErr("compile disclosure", err)
	}
	out := contract.CompileDisclosureResult{CompiledAt: at}
	for _, r := range recs {
		out.Serials = append(out.Serials, r.Serial)
	}
	return out, nil
}

// SendRecordsLetter renders one of the case's letters from the request and
// the disclosure as stored, and queues it for the requester, once: a
// letter already queued is not rendered again.
func (a *Records) SendRecordsLetter(ctx context.Context, in contract.SendRecordsLetterInput) (contract.SendRecordsLetterResult, error) {
	if err := mayUseRecords(ctx); err != nil {
		return contract.SendRecordsLetterResult{}, err
	}
	l, err := a.CA.Letter(ctx, in.CaseNumber, in.Letter)
	if errors.Is(err, ca.ErrUnknownLetter) {
		var pdf []byte
		if pdf, err = a.render(ctx, in); err != nil {
			return contract.SendRecordsLetterResult{}, recordsErr("render "+in.Letter+" letter", err)
		}
		l, err = a.CA.QueueLetter(ctx, in.CaseNumber, in.Letter, pdf)
	}
	if err != nil {
		return contract.SendRecordsLetterResult{}, recordsErr("queue "+in.Letter+" letter", err)
	}
	return contract.SendRecordsLetterResult{QueuedAt: l.QueuedAt, Delivery: l.Delivery}, nil
}

// errLetterInput is a letter asked for without what it says.
var errLetterInput = fmt.Errorf("%w: letter", ErrInvalidRequest)

func (a *Records) render(ctx context.Context, in contract.SendRecordsLetterInput) ([]byte, error) {
	switch in.Letter {
	case contract.LetterDisclosure:
		req, recs, err := a.CA.Disclosure(ctx, in.CaseNumber)
		if err != nil {
			return nil, err
		}
		n := notice.Disclosure{CaseNumber: req.CaseNumber, Requester: req.Requester.Name, Address: req.Requester.Address,
			ByMail: req.Delivery == contract.DeliveryMail, Received: req.ReceivedAt, IssuedOn: in.IssuedOn,
			Organization: a.Organization, RequestedHere: req.CounterOffice, Certificates: []notice.DisclosedCertificate{}}
		for _, r := range recs {
			n.Certificates = append(n.Certificates, notice.DisclosedCertificate{Kind: string(r.Kind), Serial: r.Serial,
				Municipality: r.MunicipalityCode, IssuedAt: r.IssuedAt, NotAfter: r.NotAfter, CounterpartSerial: r.CounterpartSerial,
				Revoked: r.Revoked, Reason: r.Reason, RevokedAt: r.RevokedAt})
		}
		return notice.RenderDisclosure(n)
	case contract.LetterExtension:
		if in.Extension == nil {
			return nil, fmt.Errorf("%w: an extension notice needs its Extension", errLetterInput)
		}
		req, err := a.CA.Request(ctx, in.CaseNumber)
		if err != nil {
			return nil, err
		}
		subject := notice.SubjectDisclosure
		if req.Procedure == contract.ProcCorrection {
			subject = notice.SubjectCorrection
		}
		return notice.RenderExtension(notice.Extension{CaseNumber: req.CaseNumber, Requester: req.Requester.Name,
			Address: req.Requester.Address, ByMail: req.Delivery == contract.DeliveryMail, Subject: subject,
			Received: req.ReceivedAt, OriginalDue: in.Extension.OriginalDue, NewDue: in.Extension.NewDue,
			Reason: in.Extension.Reason, IssuedOn: in.IssuedOn, Organization: a.Organization})
	case contract.LetterCorrection:
		if in.Correction == nil {
			return nil, fmt.Errorf("%w: a correction notice needs its Correction", errLetterInput)
		}
		req, err := a.CA.Request(ctx, in.CaseNumber)
		if err != nil {
			return nil, err
		}
		if req.Procedure != contract.ProcCorrection {
			return nil, fmt.Errorf("%w: %s is no correction request", errLetterInput, in.CaseNumber)
		}
		n := notice.Correction{CaseNumber: req.CaseNumber, Requester: req.Requester.Name, Address: req.Requester.Address,
			ByMail: req.Delivery == contract.DeliveryMail, Received: req.ReceivedAt, DisclosureCase: req.DisclosureCase,
			Outcome: in.Correction.Outcome(), Reason: in.Correction.Reason, IssuedOn: in.IssuedOn, Organization: a.Organization}
		for _, it := range in.Correction.Items {
			n.Items = append(n.Items, notice.CorrectedItem{Serial: it.Serial, Action: it.Action, Field: it.Field,
				Value: it.Value, Accepted: it.Accepted})
		}
		return notice.RenderCorrection(n)
	}
	return nil, fmt.Errorf("%w: %q is none of the Organization's letters", errLetterInput, in.Letter)
}

// DeliverLetter records how a queued letter left the Organization (the
// first delivery only).
func (a *Records) DeliverLetter(ctx context.Context, in contract.DeliverLetterInput) (contract.DeliverLetterResult, error) {
	if err := mayUseRecords(ctx); err != nil {
		return contract.DeliverLetterResult{}, err
	}
	l, err := a.CA.DeliverLetter(ctx, in)
	if err != nil {
		return contract.DeliverLetterResult{}, recordsErr("deliver letter", err)
	}
	return contract.DeliverLetterResult{DeliveredAt: l.DeliveredAt, How: l.DeliveredHow}, nil
}

// ReadRecordsLetter reads a queued letter to print it (the operator's
// console); a letter never queued is Found false.
func (a *Records) ReadRecordsLetter(ctx context.Context, in contract.ReadRecordsLetterInput) (contract.ReadRecordsLetterResult, error) {
	if err := mayUseRecords(ctx); err != nil {
		return contract.ReadRecordsLetterResult{}, err
	}
	l, err := a.CA.Letter(ctx, in.CaseNumber, in.Letter)
	if errors.Is(err, ca.ErrUnknownLetter) {
		return contract.ReadRecordsLetterResult{}, nil
	}
	if err != nil {
		return contract.ReadRecordsLetterResult{}, recordsErr("read letter", err)
	}
	return contract.ReadRecordsLetterResult{Found: true, PDF: l.PDF}, nil
}

// ApplyCorrections records a correction decision and amends the records
// as decided (法第61条); certificates and CRLs are never rewritten.
func (a *Records) ApplyCorrections(ctx context.Context, in contract.ApplyCorrectionsInput) (contract.ApplyCorrectionsResult, error) {
	if err := mayUseRecords(ctx); err != nil {
		return contract.ApplyCorrectionsResult{}, err
	}
	applied, err := a.CA.ApplyCorrections(ctx, in)
	if err != nil {
		return contract.ApplyCorrectionsResult{}, recordsErr("apply corrections", err)
	}
	return contract.ApplyCorrectionsResult{Applied: applied}, nil
}

// mayUseRecords refuses, for good, a caller that is not a records
// procedure, named by its workflow id (procedure/case) as in allowed.
func mayUseRecords(ctx context.Context) error {
	procedure, _, _ := strings.Cut(activity.GetInfo(ctx).WorkflowExecution.ID, "/")
	if !contract.MayUseRecords(procedure) {
		return invalid(fmt.Errorf("%w: %q", ErrRecordsNotAllowed, procedure))
	}
	return nil
}

// recordsErr makes what no retry can fix (a malformed or refused request,
// an unknown case, a letter missing what it says) a non-retryable Invalid
// error; a database failure stays retryable, and so does a missing font,
// which installing it fixes.
func recordsErr(op string, err error) error {
	if ca.IsPermanent(err) || errors.Is(err, ErrInvalidRequest) || errors.Is(err, notice.ErrIncomplete) {
		return invalid(fmt.Errorf("%s: %w", op, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}
