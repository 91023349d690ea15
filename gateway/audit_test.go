package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// TestAuditChainRoute: an auditor's GET /api/audit/chain verifies its own
// office's chain only, and answers ok or the first broken link.
func TestAuditChainRoute(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	rec := matrixGet("/api/audit/chain")(f, "auditor1", "")
	var rep storage.ChainReport
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &rep) != nil || !rep.OK || rep.Office != apiMunicipality {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(f.store.verified) != 1 || f.store.verified[0] != apiMunicipality {
		t.Fatalf("verified %v, want only %s", f.store.verified, apiMunicipality)
	}

	brk := &storage.ChainBreak{Seq: 3, CaseNumber: "131016-20261201-000001", EventKey: "pin", Reason: storage.BreakChanged, Message: "row 3 was changed after it was recorded"}
	f.store.chains = map[string]storage.ChainReport{apiMunicipality: {Office: apiMunicipality, Rows: 3, Break: brk}}
	rec = matrixGet("/api/audit/chain")(f, "manager1", "")
	var broken struct {
		OK    bool               `json:"ok"`
		Break storage.ChainBreak `json:"firstBreak"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &broken) != nil || broken.OK || broken.Break != *brk {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// The break is an attempt on record, once however often it is checked.
	matrixGet("/api/audit/chain")(f, "auditor1", "")
	if len(f.store.refusals) != 1 || f.store.refusals[0].Kind != storage.RefusalAuditRowEdited || f.store.refusals[0].Actor != "chain check by manager1" ||
		f.store.refusals[0].Reason != storage.BreakChanged {
		t.Errorf("recorded %+v", f.store.refusals)
	}
}

// TestAuditChainCoversTheAccessLog: the route reports the access log's
// chain too; a break there makes the whole answer not ok and is recorded
// as an attempt.
func TestAuditChainCoversTheAccessLog(t *testing.T) {
	f := newAPIFixture(t, &apiTemporal{})
	brk := &storage.ChainBreak{Seq: 2, CaseNumber: "131016-20261201-000001", EventKey: "history", Reason: storage.BreakMissing, Message: "row 2 is missing"}
	f.store.accessChains = map[string]storage.ChainReport{apiMunicipality: {Office: apiMunicipality, Chain: storage.AccessLogChain, Rows: 3, Break: brk}}
	rec := matrixGet("/api/audit/chain")(f, "auditor1", "")
	var rep storage.ChainReport
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &rep) != nil || rep.OK || rep.Break != nil ||
		rep.AccessLog == nil || rep.AccessLog.Break == nil || rep.AccessLog.Break.Reason != storage.BreakMissing {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(f.store.refusals) != 1 || f.store.refusals[0].Subject != "chain seq 2" || f.store.refusals[0].Reason != storage.BreakMissing {
		t.Errorf("recorded %+v", f.store.refusals)
	}
}
