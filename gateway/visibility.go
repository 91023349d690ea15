package gateway

import (
	"context"
	"fmt"
	"regexp"

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
	var token []byte
	for len(out) < limit {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: int32(min(limit, 1000)), NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			f := e.GetSearchAttributes().GetIndexedFields()
			row := CaseSummary{CaseNumber: searchattr.KeywordOf(f, searchattr.CaseNumber), Procedure: searchattr.KeywordOf(f, searchattr.Procedure),
				OpenedAt: e.GetStartTime().AsTime(), Status: searchattr.KeywordOf(f, searchattr.Status),
				Step: searchattr.KeywordOf(f, searchattr.Step), Municipality: searchattr.KeywordOf(f, searchattr.Municipality),
				Office: searchattr.KeywordOf(f, searchattr.Office), WaitingFor: searchattr.KeywordOf(f, searchattr.Waiting)}
			if waitingOnly && row.WaitingFor == "" {
				continue
			}
			if len(out) < limit {
				out = append(out, row)
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return out, nil
}
