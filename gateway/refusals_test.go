package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// The fake register of refused attempts. A recorded refusal is not one of
// the store's events: the RBAC matrix's "a refused call changes nothing"
// is about the act refused, and the attempt is recorded on purpose.

func (s *apiStore) RecordRefusal(_ context.Context, r storage.Refusal) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	r.ID = int64(len(s.refusals) + 1)
	s.refusals = append(s.refusals, r)
	return r.ID, nil
}

func (s *apiStore) Refusals(_ context.Context, f storage.RefusalFilter) ([]storage.Refusal, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.refusalFilters = append(s.refusalFilters, f)
	var out []storage.Refusal
	for _, r := range s.refusals {
		if r.Office == f.Office && (f.Kind == "" || r.Kind == f.Kind) {
			out = append(out, r)
		}
	}
	return out, nil
}

// RecordChainBreak: a break is recorded once per office, place and reason.
func (s *apiStore) RecordChainBreak(_ context.Context, rep storage.ChainReport, actor string, at time.Time) (bool, error) {
	if rep.Break == nil {
		return false, nil
	}
	subject := fmt.Sprintf("chain seq %d", rep.Break.Seq)
	for _, r := range s.refusals {
		if r.Office == rep.Office && r.Kind == storage.RefusalAuditRowEdited && r.Subject == subject && r.Reason == rep.Break.Reason {
			return false, nil
		}
	}
	_, err := s.RecordRefusal(context.Background(), storage.Refusal{Office: rep.Office, Kind: storage.RefusalAuditRowEdited, Actor: actor,
		Subject: subject, Reason: rep.Break.Reason, At: at})
	return err == nil, err
}

// TestRefusalsListed: the office's managers and auditors read its refused
// attempts, not another office's; a kind and a period narrow the list
// (to includes its day, in Tokyo); a bad kind or date is a 400 and nothing
// is asked of the store.
func TestRefusalsListed(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	f.store.refusals = []storage.Refusal{
		{ID: 1, Office: apiMunicipality, Kind: storage.RefusalApprovalOfOwnList, Actor: "manager1", Subject: "2026-12-01", Reason: "own_list", At: apiNow},
		{ID: 2, Office: "141003", Kind: storage.RefusalFeeTypedByHand, Actor: "yokohama1", Reason: "fee_not_typed", At: apiNow},
	}
	rec := matrixGet("/api/refusals?kind=approval_of_own_list&from=2026-11-01&to=2026-12-01")(f, "auditor1", "")
	var body struct{ Refusals []RefusalView }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(body.Refusals) != 1 || body.Refusals[0].Actor != "manager1" || body.Refusals[0].Manual != "第3 10" || body.Refusals[0].Subject != "2026-12-01" {
		t.Errorf("listed %+v", body.Refusals)
	}
	got := f.store.refusalFilters[0]
	if got.Office != apiMunicipality || got.Kind != storage.RefusalApprovalOfOwnList ||
		!got.From.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, storage.Tokyo)) || !got.To.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, storage.Tokyo)) {
		t.Errorf("filter %+v", got)
	}
	for _, bad := range []string{"?kind=weather", "?from=2026-02-30", "?to=yesterday"} {
		if rec := matrixGet("/api/refusals"+bad)(f, "manager1", ""); rec.Code != http.StatusBadRequest || len(f.store.refusalFilters) != 1 {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	if rec := matrixGet("/api/refusals")(f, "clerk1", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a clerk: %d", rec.Code)
	}
}

func (s *apiStore) VerifyAccessChain(_ context.Context, office string) (storage.ChainReport, error) {
	if s.err != nil {
		return storage.ChainReport{}, s.err
	}
	if rep, ok := s.accessChains[office]; ok {
		return rep, nil
	}
	return storage.ChainReport{Office: office, OK: true, Chain: storage.AccessLogChain}, nil
}
