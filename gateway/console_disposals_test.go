package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/madoguchi/madoguchi/internal/storage"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestConsoleDisposals: managers and auditors see the day's list with
// each item's status, the held one named with its request; a manager is
// offered the approval of a list another manager submitted, and it goes
// through the API as the approval update; the submitter is not offered
// it, and posting it anyway shows the API's refusal, recorded; an auditor
// is offered nothing, a clerk gets neither the link nor the page.
func TestConsoleDisposals(t *testing.T) {
	f := newConsoleFixture(t)
	f.addDisposalLists()
	p := f.get("auditor1", "/console/disposals?day=2026-12-01")
	if p.status != http.StatusOK {
		t.Fatalf("%d %s", p.status, p.body)
	}
	for _, want := range []string{`id="disposal-status" data-status="submitted"`, "提出済み（承認待ち）", `id="disposal-submitted-by">manager9`,
		`data-held="131016-20261120-000004"`, "保留中（請求） 131016-20261120-000004", "発行記録", `id="nav-disposals"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the auditor's page lacks %q", want)
		}
	}
	if strings.Contains(p.body, `id="disposal-approve"`) || strings.Contains(p.body, `id="disposal-submit"`) {
		t.Error("an auditor is offered a manager's step")
	}

	p = f.get("manager1", "/console/disposals?day=2026-12-01")
	if !strings.Contains(p.body, `id="disposal-approve"`) {
		t.Fatalf("the manager is not offered the approval: %s", p.body)
	}
	p = f.postForm("manager1", "/console/disposals/2026-12-01/approve", url.Values{"_csrf": {f.csrf("manager1")}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/disposals?day=2026-12-01&done=approve" {
		t.Fatalf("approve: %d %s", p.status, p.body)
	}
	if len(f.tc.updates) != 1 || f.tc.updates[0].UpdateName != workflows.ApproveDisposalListUpdate ||
		f.tc.updates[0].Args[0] != (workflows.ApproveDisposalListInput{Manager: "manager1"}) {
		t.Errorf("updates %+v", f.tc.updates)
	}

	// manager1 submitted it: no approval offered, and posting it is refused.
	l := f.store.disposalLists["131016/2026-12-01"]
	l.SubmittedBy = "manager1"
	f.store.disposalLists["131016/2026-12-01"] = l
	if p := f.get("manager1", "/console/disposals?day=2026-12-01"); strings.Contains(p.body, `id="disposal-approve"`) {
		t.Error("the submitter is offered the approval")
	}
	p = f.postForm("manager1", "/console/disposals/2026-12-01/approve", url.Values{"_csrf": {f.csrf("manager1")}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "自分が提出した廃棄リストは承認できません") || len(f.tc.updates) != 1 {
		t.Errorf("own list: %d %s", p.status, p.body)
	}
	if len(f.store.refusals) != 1 || f.store.refusals[0].Kind != storage.RefusalApprovalOfOwnList {
		t.Errorf("refusals %+v", f.store.refusals)
	}

	if p := f.get("manager1", "/console/disposals?day=2026-11-30"); !strings.Contains(p.body, `id="disposal-submit"`) {
		t.Errorf("a drawn-up list offers no submission: %s", p.body)
	}
	if p := f.get("manager1", "/console/disposals?day=2026-10-01"); p.status != http.StatusOK || !strings.Contains(p.body, `id="empty"`) {
		t.Errorf("a day without a list: %d", p.status)
	}
	if p := f.get("manager1", "/console/disposals?day=2026-02-30"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "YYYY-MM-DD") {
		t.Errorf("a bad day: %d", p.status)
	}
	if p := f.get("clerk1", "/console/disposals"); p.status != http.StatusNotFound || strings.Contains(f.get("clerk1", "/console/").body, `id="nav-disposals"`) {
		t.Errorf("a clerk: %d", p.status)
	}
}
