package municipal

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/storage"
)

type auditStore struct {
	day     time.Time
	offices []string
	breaks  []storage.ChainReport
}

func (s *auditStore) RecordChainBreak(_ context.Context, rep storage.ChainReport, actor string, _ time.Time) (bool, error) {
	if rep.Break != nil {
		s.breaks = append(s.breaks, rep)
	}
	return rep.Break != nil, nil
}

func (s *auditStore) VerifyAndAnchor(_ context.Context, day time.Time, offices []string) ([]storage.ChainReport, []storage.AuditAnchor, error) {
	s.day, s.offices = day, offices
	return []storage.ChainReport{{Office: "131016", OK: true}, {Office: "141305", Break: &storage.ChainBreak{Seq: 2, Reason: storage.BreakChanged}}},
		[]storage.AuditAnchor{{Office: "131016"}}, nil
}

// TestAnchorAuditChains: every office is verified, the day is the JST date
// asked for, a broken chain is reported and recorded as an attempt; a
// malformed day is refused for good.
func TestAnchorAuditChains(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	store := &auditStore{}
	env.RegisterActivity(&Audit{Store: store})
	v, err := env.ExecuteActivity(contract.AnchorAuditChains.Name, contract.AnchorAuditChainsInput{Day: "2026-12-02"})
	if err != nil {
		t.Fatal(err)
	}
	var res contract.AnchorAuditChainsResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Verified != 2 || res.Anchored != 1 || len(res.Broken) != 1 || res.Broken[0] != "141305" {
		t.Errorf("%+v", res)
	}
	if len(store.breaks) != 1 || store.breaks[0].Office != "141305" {
		t.Errorf("breaks recorded %+v", store.breaks)
	}
	if store.offices != nil || store.day.In(storage.Tokyo).Format(time.DateOnly) != "2026-12-02" {
		t.Errorf("verified %v on %v", store.offices, store.day)
	}
	if _, err := env.ExecuteActivity(contract.AnchorAuditChains.Name, contract.AnchorAuditChainsInput{Day: "12/02"}); err == nil {
		t.Error("a malformed day was accepted")
	}
}
