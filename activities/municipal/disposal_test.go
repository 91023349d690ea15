package municipal

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

// disposalStore answers each step with err, and records what it was asked.
type disposalStore struct {
	DisposalStore
	err   error
	steps []string
	days  []time.Time
}

func (s *disposalStore) SubmitDisposalList(_ context.Context, _ string, day time.Time, by string, _ time.Time) error {
	s.steps, s.days = append(s.steps, "submit:"+by), append(s.days, day)
	return s.err
}

func (s *disposalStore) ApproveDisposalList(_ context.Context, _ string, day time.Time, by string, _ time.Time) error {
	s.steps, s.days = append(s.steps, "approve:"+by), append(s.days, day)
	return s.err
}

func (s *disposalStore) DisposeList(context.Context, string, time.Time, []string, time.Time) (storage.DisposalList, error) {
	return storage.DisposalList{}, s.err
}

// TestDisposalStepErrors: a manager's step reaches the store with the
// day as stored; an approval of one's own list is a rejection with the
// own_list code (the gateway answers and records it), a step the list's
// status does not allow, an unknown step, a malformed day and a disposal
// without approval are refused for good; any other failure is retried.
func TestDisposalStepErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		step     string
		day      string
		err      error
		wantType string
		wantCode string
	}{
		{"submitted", "submit", "2036-12-02", nil, "", ""},
		{"own list", "approve", "2036-12-02", storage.ErrOwnDisposalList, contract.ErrTypeRejected, contract.CodeOwnDisposalList},
		{"wrong status", "approve", "2036-12-02", storage.ErrDisposalListState, contract.ErrTypeInvalid, ""},
		{"no list", "submit", "2036-12-02", storage.ErrNotFound, contract.ErrTypeInvalid, ""},
		{"unknown step", "dispose", "2036-12-02", nil, contract.ErrTypeInvalid, ""},
		{"malformed day", "submit", "2036-02-30", nil, contract.ErrTypeInvalid, ""},
		{"database down", "approve", "2036-12-02", errors.New("connection refused"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			store := &disposalStore{err: tc.err}
			env.RegisterActivity(&Disposal{Store: store})
			_, err := env.ExecuteActivity(contract.RecordDisposalStep.Name, contract.DisposalListStepInput{
				Office: "131016", Day: tc.day, Step: tc.step, Manager: "manager2", At: time.Now()})
			var appErr *temporal.ApplicationError
			switch {
			case tc.err == nil && tc.wantType == "":
				if err != nil || len(store.days) != 1 || !store.days[0].Equal(time.Date(2036, 12, 2, 0, 0, 0, 0, time.UTC)) || store.steps[0] != tc.step+":manager2" {
					t.Fatalf("%v, asked %v %v", err, store.steps, store.days)
				}
			case tc.wantType == "":
				if !errors.As(err, &appErr) || appErr.NonRetryable() {
					t.Fatalf("a transient failure is not retried: %v", err)
				}
			default:
				if !errors.As(err, &appErr) || appErr.Type() != tc.wantType || !appErr.NonRetryable() {
					t.Fatalf("got %v, want a non-retryable %s", err, tc.wantType)
				}
				if r, ok := contract.AsRejection(err); tc.wantCode != "" && (!ok || r.Code != tc.wantCode) {
					t.Errorf("rejection %+v %v", r, ok)
				}
			}
		})
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(&Disposal{Store: &disposalStore{err: storage.ErrDisposalNotApproved}})
	_, err := env.ExecuteActivity(contract.DisposeList.Name, contract.DisposeListInput{Office: "131016", Day: "2036-12-02"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeInvalid || !appErr.NonRetryable() {
		t.Errorf("a disposal without approval: %v", err)
	}
}
