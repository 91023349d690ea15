// Package metrics is each service's Prometheus metrics (issue 13 item 6):
// one registry per process, served on a loopback port as /metrics, with the
// Temporal SDK's own metrics fed into it through SDKHandler.
//
// What the services record, by name:
//   - madoguchi_procedures_started_total, madoguchi_procedures_ended_total
//     {procedure, outcome}: the kit, as a case opens and settles;
//   - madoguchi_step_duration_seconds {procedure, step}: the kit, the time
//     a case spent in a step (from the workflow's clock);
//   - madoguchi_card_step_duration_seconds {activity, result}: the card
//     agent's activities on the card;
//   - madoguchi_ca_signing_duration_seconds {result}: the CA's issuance of
//     a certificate request through the HSM;
//   - madoguchi_ocsp_requests_total {status}: the repository's OCSP answers;
//   - madoguchi_http_requests_total {route, code}: the gateway;
//   - temporal_*: the SDK's metrics (requests, task latencies, pollers).
//
// Labels never hold personal data or case numbers: procedures, steps,
// activities, outcomes and status codes only.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is this process's registry, with the Go runtime's and the
// process's own collectors.
var Registry = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}()

// Buckets are the latency buckets, in seconds: from a local call (1 ms) to
// a slow card write (30 s).
var Buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

var (
	// CardStep is the duration of a card agent's activity on the card.
	CardStep = register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "madoguchi_card_step_duration_seconds", Help: "Duration of a card step on the counter terminal, by activity and result.", Buckets: Buckets,
	}, []string{"activity", "result"}))
	// CASigning is the duration of the CA's issuance of one request.
	CASigning = register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "madoguchi_ca_signing_duration_seconds", Help: "Duration of the CA issuing one certificate through the HSM, by result.", Buckets: Buckets,
	}, []string{"result"}))
	// OCSPRequests counts the repository's OCSP answers by certificate
	// status (good, revoked, unknown) or error.
	OCSPRequests = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "madoguchi_ocsp_requests_total", Help: "OCSP requests answered, by status.",
	}, []string{"status"}))
	// HTTPRequests counts the gateway's answers by route and status code.
	HTTPRequests = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "madoguchi_http_requests_total", Help: "Gateway requests answered, by route and status code.",
	}, []string{"route", "code"}))
)

func register[C prometheus.Collector](c C) C {
	Registry.MustRegister(c)
	return c
}

// Result is the result label of an error: "ok" or "error".
func Result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// Since observes the seconds since start on a histogram.
func Since(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

// Handler serves the registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}

// Serve serves /metrics on addr until ctx ends; an empty addr serves
// nothing. It returns once it listens, so a port in use fails the start.
func Serve(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = l.Close()
		}
	}()
	return nil
}
