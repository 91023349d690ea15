package bench

import (
	"bufio"
	"cmp"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serverMetrics is a reading of Temporal's own Prometheus metrics (the
// dev server's endpoint, or the cluster's four: MADOGUCHI_TEMPORAL_METRICS,
// comma-separated), summed over the services: for each of the families
// below, the histogram's sum (ms) and count by operation. The difference of
// two readings around a run tells where the server's time went.
type serverMetrics map[string]float64

// serverFamilies are the histograms read: the persistence calls (the SQL
// store), the visibility store's, the history's queue tasks (transfer,
// timer, visibility) from their creation to their loading by the queue
// reader (the wait a poll rate limits), their processing (for a transfer
// task, the call to matching that hands it to a poller), and the frontend's
// calls.
var serverFamilies = []string{"persistence_latency", "visibility_persistence_latency", "task_latency_load",
	"task_latency_processing", "service_latency"}

// readServerMetrics reads every endpoint; one it cannot read is left out,
// and the second result says so.
func readServerMetrics() (serverMetrics, bool) {
	m := serverMetrics{}
	ok := true
	for _, u := range strings.Split(os.Getenv("MADOGUCHI_TEMPORAL_METRICS"), ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if err := m.add(u); err != nil {
			ok = false
		}
	}
	return m, ok && len(m) > 0
}

func (m serverMetrics) add(url string) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		brace := strings.IndexByte(line, '{')
		end := strings.LastIndexByte(line, '}')
		if brace < 0 || end < brace {
			continue
		}
		// The cluster's OpenTelemetry exporter names timers x_milliseconds_sum
		// (ms); the dev server's tally names them x_sum (seconds).
		name := line[:brace]
		var kind string
		scale := 1.0
		switch {
		case strings.HasSuffix(name, "_milliseconds_sum"):
			name, kind = strings.TrimSuffix(name, "_milliseconds_sum"), "ms"
		case strings.HasSuffix(name, "_milliseconds_count"):
			name, kind = strings.TrimSuffix(name, "_milliseconds_count"), "n"
		case strings.HasSuffix(name, "_sum"):
			name, kind, scale = strings.TrimSuffix(name, "_sum"), "ms", 1000
		case strings.HasSuffix(name, "_count"):
			name, kind = strings.TrimSuffix(name, "_count"), "n"
		default:
			continue
		}
		if !slices.Contains(serverFamilies, name) {
			continue
		}
		labels := line[brace+1 : end]
		if name == "service_latency" && !strings.Contains(labels, `service_name="frontend"`) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		m[name+"|"+label(labels, "operation")+"|"+kind] += v * scale
	}
	return sc.Err()
}

// label is one label's value in a Prometheus label list.
func label(labels, key string) string {
	i := strings.Index(labels, key+`="`)
	if i < 0 {
		return ""
	}
	rest := labels[i+len(key)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return rest
}

// reportServerMetrics reports, per procedure, what the server spent between
// two readings: its persistence calls and their time, the visibility
// store's time, the history's queue tasks' load wait and processing, and logs each family's
// largest operations.
func reportServerMetrics(b *testing.B, before, after serverMetrics, n int) {
	type op struct {
		name   string
		ms, nn float64
	}
	per := float64(n)
	for _, fam := range serverFamilies {
		var ops []op
		var ms, nn float64
		for k, v := range after { // summed: the order does not matter
			f := strings.SplitN(k, "|", 3)
			if f[0] != fam || f[2] != "ms" {
				continue
			}
			d := v - before[k]
			c := after[f[0]+"|"+f[1]+"|n"] - before[f[0]+"|"+f[1]+"|n"]
			if c <= 0 {
				continue
			}
			ops = append(ops, op{f[1], d, c})
			ms += d
			nn += c
		}
		slices.SortFunc(ops, func(a, b op) int { return cmp.Compare(b.ms, a.ms) })
		var top []string
		for _, o := range ops[:min(len(ops), 5)] {
			top = append(top, fmt.Sprintf("%s %.1f ms in %.1f", o.name, o.ms/per, o.nn/per))
		}
		b.Logf("%s per procedure: %.1f ms in %.1f calls; largest: %s", fam, ms/per, nn/per, strings.Join(top, ", "))
		switch fam {
		case "persistence_latency":
			b.ReportMetric(nn/per, "persistence-calls/op")
			b.ReportMetric(ms/per, "persistence-ms/op")
		case "visibility_persistence_latency":
			b.ReportMetric(ms/per, "visibility-ms/op")
		case "task_latency_load":
			b.ReportMetric(ms/per, "task-load-wait-ms/op")
		case "task_latency_processing":
			b.ReportMetric(ms/per, "task-processing-ms/op")
		}
	}
}
