package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/internal/demo"
	"github.com/madoguchi/madoguchi/workflows"
)

// TestGatewayRefusesClearly covers the gateway's 4xx answers and the
// register rejections: each says what is wrong and nothing is issued.
func TestGatewayRefusesClearly(t *testing.T) {
	beginTest(t)
	anon := &api{t: t}
	var e apiErr
	if code := anon.do("GET", "/api/cases", nil, &e); code != http.StatusUnauthorized || e.Error.Message == "" {
		t.Fatalf("unauthenticated list: HTTP %d %v", code, e)
	}
	if code := anon.do("POST", "/api/login", map[string]string{"login": "clerk1", "password": "wrong"}, &e); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: HTTP %d", code)
	}
	clerk := login(t, "clerk1")

	bad := application(demo.ResidentAdult, true, true)
	bad.ResidentCode = "123"
	e = apiErr{}
	if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001", "application": bad}, &e); code != http.StatusBadRequest || e.Error.Code != "bad_resident_code" {
		t.Fatalf("bad resident code: HTTP %d %v", code, e)
	}
	e = apiErr{}
	if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "Y0001", "application": application(demo.ResidentAdult, true, true)}, &e); code != http.StatusBadRequest || e.Error.Code != "unknown_terminal" {
		t.Fatalf("other municipality's terminal: HTTP %d %v", code, e)
	}
	e = apiErr{}
	if code := clerk.do("GET", "/api/cases/131016-20000101-999999", nil, &e); code != http.StatusNotFound || e.Error.Code != "unknown_case" {
		t.Fatalf("unknown case: HTTP %d %v", code, e)
	}

	rejections := []struct {
		name string
		app  contract.Application
		code string
	}{
		{"4 information differ", func() contract.Application {
			a := application(demo.ResidentAdult, true, true)
			a.Name = "山田 次郎"
			return a
		}(), "mismatch_name"},
		{"resident of another municipality", application(demo.ResidentYokohama, true, true), "other_municipality"},
		{"moved out", application(demo.ResidentMovedOut, false, true), "not_resident"},
		{"under 15 asks for a signing certificate only", application(demo.ResidentChild, true, false), "under_15_signing"},
		{"adult ward asks for a signing certificate", application(demo.ResidentAdultWard, true, false), "adult_ward_signing"},
	}
	db := jlis(t)
	for _, tc := range rejections {
		t.Run(tc.name, func(t *testing.T) {
			var started struct{ CaseNumber string }
			if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001", "application": tc.app}, &started); code != http.StatusCreated {
				t.Fatalf("start: HTTP %d", code)
			}
			st := clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepRejected, workflows.StepIdentityCheck)
			rej, _ := st["rejection"].(map[string]any)
			if st["status"] != workflows.StatusRejected || rej["code"] != tc.code || rej["message"] == "" {
				t.Fatalf("want rejection %s, state %v", tc.code, st)
			}
			var n int
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM ca_certificates WHERE request_id LIKE $1`, started.CaseNumber+"/%").Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d certificates issued for a rejected application (%v)", n, err)
			}
		})
	}

	// A step out of order, and another municipality's clerk.
	var started struct{ CaseNumber string }
	if code := clerk.do("POST", "/api/procedures/inperson-issuance", map[string]any{"terminalId": "T0001", "application": application(demo.ResidentAdult, false, true)}, &started); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepIdentityCheck)
	e = apiErr{}
	if code := clerk.do("POST", "/api/cases/"+started.CaseNumber+"/identity-check", map[string]any{"documentType": "library_card", "verified": true}, &e); code != http.StatusConflict || e.Error.Message == "" {
		t.Fatalf("unknown document type: HTTP %d %v", code, e)
	}
	if code := clerk.do("POST", "/api/cases/"+started.CaseNumber+"/identity-check", map[string]any{"documentType": "passport", "verified": false}, nil); code != http.StatusOK {
		t.Fatalf("identity check: HTTP %d", code)
	}
	e = apiErr{}
	if code := clerk.do("POST", "/api/cases/"+started.CaseNumber+"/identity-check", map[string]any{"documentType": "passport", "verified": true}, &e); code != http.StatusConflict {
		t.Fatalf("second identity check: HTTP %d %v, want 409", code, e)
	}
	st := clerk.waitStep(started.CaseNumber, time.Minute, workflows.StepRejected)
	if rej, _ := st["rejection"].(map[string]any); rej["code"] != "identity_not_verified" {
		t.Fatalf("unverified identity: state %v", st)
	}
	other := login(t, "yokohama1")
	e = apiErr{}
	if code := other.do("GET", "/api/cases/"+started.CaseNumber, nil, &e); code != http.StatusNotFound || e.Error.Code != "unknown_case" {
		t.Fatalf("other municipality's clerk: HTTP %d %v", code, e)
	}
	var list struct{ Cases []map[string]any }
	if code := other.do("GET", "/api/cases", nil, &list); code != http.StatusOK {
		t.Fatalf("list: HTTP %d", code)
	}
	for _, c := range list.Cases {
		if c["caseNumber"] == started.CaseNumber {
			t.Fatal("another municipality's case is listed")
		}
	}
}
