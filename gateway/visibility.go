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
func ListCases(ctx context.Context, tc Lister, municipality, status string, waitingOnly bool, limit int) ([]CaseSummary, error) {
	if !keywordRE.MatchString(municipality) || !keywordRE.MatchString(status) {
		return nil, fmt.Errorf("gateway: bad list filter")
	}
	q := fmt.Sprintf("%s = '%s' AND %s = '%s'", searchattr.Municipality.GetName(), municipality, searchattr.Status.GetName(), status)
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
				Step: searchattr.KeywordOf(f, searchattr.Step), WaitingFor: searchattr.KeywordOf(f, searchattr.Waiting)}
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
