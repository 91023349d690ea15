package gateway

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/madoguchi/madoguchi/internal/searchattr"
)

var keywordRE = regexp.MustCompile(`^[0-9a-z_-]+$`)

// Lister is what listing needs of the Temporal client.
type Lister interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
}

var _ Lister = client.Client(nil)

// ListCases lists a municipality's cases of one status through Temporal's
// visibility (search attributes only), at most limit; waitingOnly keeps the
// cases that wait for someone. It is exported for the benchmark that
// compares it with querying each case.
//
// A municipality's cases include those another office did on its behalf,
// and those it did for another municipality under a delegation.
func ListCases(ctx context.Context, tc Lister, municipality, status string, waitingOnly bool, limit int) ([]CaseSummary, error) {
	if !keywordRE.MatchString(municipality) {
		return nil, fmt.Errorf("gateway: bad list filter")
	}
	return listWhere(ctx, tc, fmt.Sprintf("(%s = '%s' OR %s = '%s')", searchattr.Municipality.GetName(), municipality, searchattr.Office.GetName(), municipality),
		status, waitingOnly, limit)
}

// ListOfficeCases lists the cases an office acted on (a post office's own
// work), of one status.
func ListOfficeCases(ctx context.Context, tc Lister, office, status string, waitingOnly bool, limit int) ([]CaseSummary, error) {
	if !keywordRE.MatchString(office) {
		return nil, fmt.Errorf("gateway: bad list filter")
	}
	return listWhere(ctx, tc, fmt.Sprintf("%s = '%s'", searchattr.Office.GetName(), office), status, waitingOnly, limit)
}

func listWhere(ctx context.Context, tc Lister, scope, status string, waitingOnly bool, limit int) ([]CaseSummary, error) {
	if !keywordRE.MatchString(status) {
		return nil, fmt.Errorf("gateway: bad list filter")
	}
	q := fmt.Sprintf("%s AND %s = '%s'", scope, searchattr.Status.GetName(), status)
	out := []CaseSummary{}
	err := eachRow(ctx, tc, q, limit, func(e *workflowpb.WorkflowExecutionInfo) bool {
		row := summaryOf(e)
		if waitingOnly && row.WaitingFor == "" {
			return false
		}
		out = append(out, row)
		return true
	})
	return out, err
}

// eachRow pages through a visibility query, handing each execution to
// keep, until keep has kept limit of them or the query is done.
func eachRow(ctx context.Context, tc Lister, q string, limit int, keep func(*workflowpb.WorkflowExecutionInfo) bool) error {
	kept := 0
	var token []byte
	for kept < limit {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: int32(min(limit, 1000)), NextPageToken: token})
		if err != nil {
			return err
		}
		for _, e := range resp.GetExecutions() {
			if kept < limit && keep(e) {
				kept++
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return nil
}

// summaryOf is a case's row from its search attributes.
func summaryOf(e *workflowpb.WorkflowExecutionInfo) CaseSummary {
	f := e.GetSearchAttributes().GetIndexedFields()
	return CaseSummary{CaseNumber: searchattr.KeywordOf(f, searchattr.CaseNumber), Procedure: searchattr.KeywordOf(f, searchattr.Procedure),
		OpenedAt: e.GetStartTime().AsTime(), Status: searchattr.KeywordOf(f, searchattr.Status),
		Step: searchattr.KeywordOf(f, searchattr.Step), Municipality: searchattr.KeywordOf(f, searchattr.Municipality),
		Office: searchattr.KeywordOf(f, searchattr.Office), WaitingFor: searchattr.KeywordOf(f, searchattr.Waiting)}
}

// ListFilter narrows a case list: a status, and optionally a procedure and
// the time a case opened (at or after OpenedFrom, before OpenedTo); Waiting
// keeps the cases that wait for someone (the kit sets MadoguchiWaiting while
// a case waits and unsets it after), in the query, so a page is full.
type ListFilter struct {
	Status, Procedure    string
	OpenedFrom, OpenedTo time.Time
	Waiting              bool
}

// ListPage lists one page of an office's cases (a post office's own work,
// else a municipality's as ListCases), newest first: at most pageSize rows
// from the page token of the page before (nil: the first), and the token
// of the next page (nil: the last).
func ListPage(ctx context.Context, tc Lister, office string, postOffice bool, f ListFilter, pageSize int, token []byte) ([]CaseSummary, []byte, error) {
	if !keywordRE.MatchString(office) || !keywordRE.MatchString(f.Status) || (f.Procedure != "" && !keywordRE.MatchString(f.Procedure)) {
		return nil, nil, fmt.Errorf("gateway: bad list filter")
	}
	q := fmt.Sprintf("(%s = '%s' OR %s = '%s')", searchattr.Municipality.GetName(), office, searchattr.Office.GetName(), office)
	if postOffice {
		q = fmt.Sprintf("%s = '%s'", searchattr.Office.GetName(), office)
	}
	q += fmt.Sprintf(" AND %s = '%s'", searchattr.Status.GetName(), f.Status)
	if f.Procedure != "" {
		q += fmt.Sprintf(" AND %s = '%s'", searchattr.Procedure.GetName(), f.Procedure)
	}
	if f.Waiting {
		q += fmt.Sprintf(" AND %s IS NOT NULL", searchattr.Waiting.GetName())
	}
	if !f.OpenedFrom.IsZero() {
		q += fmt.Sprintf(" AND StartTime >= '%s'", f.OpenedFrom.UTC().Format(time.RFC3339))
	}
	if !f.OpenedTo.IsZero() {
		q += fmt.Sprintf(" AND StartTime < '%s'", f.OpenedTo.UTC().Format(time.RFC3339))
	}
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: int32(pageSize), NextPageToken: token})
	if err != nil {
		return nil, nil, err
	}
	out := make([]CaseSummary, 0, len(resp.GetExecutions()))
	for _, e := range resp.GetExecutions() {
		out = append(out, summaryOf(e))
	}
	return out, resp.GetNextPageToken(), nil
}

// isInvalidArgument is Temporal refusing a request's argument (a page
// token that is not one of its own).
func isInvalidArgument(err error) bool {
	var ia *serviceerror.InvalidArgument
	return errors.As(err, &ia)
}
