package integration

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows"
)

// metricsResident is a resident of 千代田区 this test alone issues to.
var metricsResident = exResident{"00000000184", "計測 一郎", "東京都千代田区神田1番2号", "1980-10-10", "male", "C131016000184"}

// TestMetricsAfterAnIssuance (issue 13 item 6): every service's /metrics
// answers, and after one in-person issuance and one OCSP request the
// counters moved: procedures started and ended by procedure and outcome,
// step durations, card-step and CA-signing latency, OCSP requests by
// status, the gateway's requests, and the Temporal SDK's own metrics. No
// series carries the case number or the resident's data.
func TestMetricsAfterAnIssuance(t *testing.T) {
	beginTest(t)
	db := municipalDB(t)
	seedExResident(t, db, metricsResident)
	startTerminal(t, metricsResident.card, exCardExpiry, false)
	key := statusChangeRepository(t)
	clerk := login(t, "clerk1")
	before := scrapeAll(t)

	n, st := issue(t, clerk, metricsResident.application())
	if st["status"] != workflows.StatusCompleted {
		t.Fatalf("issuance: %v", st)
	}
	certs := certsOf(st)
	serial, _ := certs[contract.KindUserAuth]["serial"].(string)
	if verdict, out := ocspSays(t, key, contract.KindUserAuth, certPEM(t, serial)); verdict != "good" {
		t.Fatalf("OCSP: %s\n%s", verdict, out)
	}

	// The kit's counters are written by the workflow worker; the SDK
	// flushes none, but the gateway's answer may come before the worker's
	// last task completes: wait a little for them.
	var after map[string]map[string]float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		after = scrapeAll(t)
		if moved(after, before, "worker-municipal", `madoguchi_procedures_ended_total`, `outcome="completed"`, `procedure="inperson-issuance"`) >= 1 ||
			time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, c := range []struct {
		proc, metric string
		labels       []string
		atLeast      float64
	}{
		{"worker-municipal", "madoguchi_procedures_started_total", []string{`procedure="inperson-issuance"`}, 1},
		{"worker-municipal", "madoguchi_procedures_ended_total", []string{`procedure="inperson-issuance"`, `outcome="completed"`}, 1},
		{"worker-municipal", "madoguchi_step_duration_seconds_count", []string{`procedure="inperson-issuance"`, `step="identity_check"`}, 1},
		{"worker-municipal", "temporal_workflow_completed_total", []string{`workflow_type="InPersonIssuance"`}, 1},
		{"worker-ca", "madoguchi_ca_signing_duration_seconds_count", []string{`result="ok"`}, 2},
		{"worker-ca", "temporal_activity_execution_latency_seconds_count", []string{`activity_type="IssueCertificates"`}, 1},
		{"cardagent-T0001", "madoguchi_card_step_duration_seconds_count", []string{`activity="WriteCertificates"`, `result="ok"`}, 1},
		{"cardagent-T0001", "madoguchi_card_step_duration_seconds_count", []string{`activity="ReadCard"`}, 1},
		{"repository", "madoguchi_ocsp_requests_total", []string{`status="good"`}, 1},
		{"gateway", "madoguchi_http_requests_total", []string{`route="/api/procedures/:procedure"`, `code="201"`}, 1},
		{"gateway", "temporal_request_total", nil, 1},
	} {
		if got := moved(after, before, c.proc, c.metric, c.labels...); got < c.atLeast {
			t.Errorf("%s %s%v moved by %v, want at least %v", c.proc, c.metric, c.labels, got, c.atLeast)
		}
	}
	for proc, series := range after {
		for s := range series {
			if strings.Contains(s, n) || strings.Contains(s, metricsResident.code) || strings.Contains(s, metricsResident.name) {
				t.Errorf("%s exports %s", proc, s)
			}
		}
	}
}

// scrapeAll reads every process's metrics: series (name and labels) to value.
func scrapeAll(t *testing.T) map[string]map[string]float64 {
	t.Helper()
	out := map[string]map[string]float64{}
	for proc, addr := range metricsAddrs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%s metrics at %s: %v", proc, addr, err)
		}
		series := map[string]float64{}
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err == nil {
				series[line[:i]] = v
			}
		}
		res.Body.Close()
		cancel()
		if res.StatusCode != http.StatusOK || len(series) == 0 {
			t.Fatalf("%s metrics: HTTP %d, %d series", proc, res.StatusCode, len(series))
		}
		out[proc] = series
	}
	return out
}

// moved sums, over one process's series of a metric having all the given
// label pairs, how much they rose from before to after.
func moved(after, before map[string]map[string]float64, proc, metric string, labels ...string) float64 {
	var d float64
	for s, v := range after[proc] {
		if s != metric && !strings.HasPrefix(s, metric+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(s, l)
		}
		if ok {
			d += v - before[proc][s]
		}
	}
	return d
}
