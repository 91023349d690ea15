package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSDKHandler: the SDK's counters, gauges and timers land in the
// registry under valid names with the fixed label set: tags merge down a
// WithTags chain (a later one wins), unknown tags are dropped, names with
// other characters are mended.
func TestSDKHandler(t *testing.T) {
	h := SDKHandler().WithTags(map[string]string{"namespace": "default", "procedure": "a"})
	h.WithTags(map[string]string{"procedure": "inperson-issuance", "outcome": "completed", "resident": "12345678901"}).
		Counter("test_procedures_ended").Inc(2)
	h.Counter("test_procedures_ended").Inc(1)
	h.Gauge("test.pollers").Update(3)
	h.WithTags(map[string]string{"step": "card_write"}).Timer("test_step").Record(1500 * time.Millisecond)

	for _, tc := range []struct {
		name, want string
	}{
		{"counter with the later tag", `test_procedures_ended_total{activity_type="",client_name="",failure_reason="",namespace="default",operation="",outcome="completed",poller_type="",procedure="inperson-issuance",status_code="",step="",task_queue="",worker_type="",workflow_type=""} 2`},
		{"counter with the first tags", `test_procedures_ended_total{activity_type="",client_name="",failure_reason="",namespace="default",operation="",outcome="",poller_type="",procedure="a",status_code="",step="",task_queue="",worker_type="",workflow_type=""} 1`},
		{"gauge, name mended", `test_pollers{activity_type="",client_name="",failure_reason="",namespace="default",operation="",outcome="",poller_type="",procedure="a",status_code="",step="",task_queue="",worker_type="",workflow_type=""} 3`},
		{"timer in seconds", `test_step_seconds_sum{activity_type="",client_name="",failure_reason="",namespace="default",operation="",outcome="",poller_type="",procedure="a",status_code="",step="card_write",task_queue="",worker_type="",workflow_type=""} 1.5`},
	} {
		if body := scrape(t); !strings.Contains(body, tc.want) {
			t.Errorf("%s: no %s in\n%s", tc.name, tc.want, grepLines(body, "test_"))
		}
	}
	if body := scrape(t); strings.Contains(body, "12345678901") {
		t.Error("a tag outside the label set reached the registry")
	}
}

// TestOwnMetrics: the services' own histograms and counters count.
func TestOwnMetrics(t *testing.T) {
	before := testutil.ToFloat64(OCSPRequests.WithLabelValues("good"))
	OCSPRequests.WithLabelValues("good").Inc()
	if got := testutil.ToFloat64(OCSPRequests.WithLabelValues("good")); got != before+1 {
		t.Errorf("OCSP good: %v, want %v", got, before+1)
	}
	Since(CASigning.WithLabelValues(Result(nil)), time.Now().Add(-20*time.Millisecond))
	if n := testutil.CollectAndCount(CASigning); n < 1 {
		t.Errorf("CA signing series: %d", n)
	}
	if Result(io.EOF) != "error" || Result(nil) != "ok" {
		t.Error("Result labels")
	}
}

// TestServe: /metrics answers on the address until the context ends; an
// address in use fails at once; no address serves nothing.
func TestServe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if err := Serve(ctx, addr); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("%d %.200s", res.StatusCode, body)
	}
	if err := Serve(context.Background(), addr); err == nil {
		t.Error("a second server on the same address started")
	}
	cancel()
	if err := Serve(context.Background(), ""); err != nil {
		t.Error(err)
	}
}

func scrape(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	rec := &recorder{header: http.Header{}}
	Handler().ServeHTTP(rec, req)
	return rec.body.String()
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type recorder struct {
	header http.Header
	body   strings.Builder
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }
