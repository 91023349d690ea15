package metrics

import (
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// SDKLabels are the labels every metric fed through SDKHandler carries: the
// tags the Temporal SDK sets, and the kit's own (procedure, step, outcome).
// A tag not listed is dropped; a listed one not set is empty. Prometheus
// needs one label set per metric name, and the SDK sets different tags on
// one name over a process's life.
var SDKLabels = []string{"namespace", "task_queue", "workflow_type", "activity_type", "operation", "worker_type",
	"poller_type", "client_name", "status_code", "failure_reason", "procedure", "step", "outcome"}

// SDKHandler is a client.MetricsHandler on the registry: counters as
// counters (name_total), gauges as gauges, timers as histograms in seconds
// (name_seconds). Install it with client.Options.MetricsHandler.
func SDKHandler() client.MetricsHandler { return &sdkHandler{vecs: sdkVecs} }

// sdkVecs holds the vectors made for the SDK's metric names, process-wide.
var sdkVecs = &vecs{counters: map[string]*prometheus.CounterVec{}, gauges: map[string]*prometheus.GaugeVec{},
	timers: map[string]*prometheus.HistogramVec{}, refused: map[string]bool{}}

type vecs struct {
	mu       sync.Mutex
	counters map[string]*prometheus.CounterVec
	gauges   map[string]*prometheus.GaugeVec
	timers   map[string]*prometheus.HistogramVec
	// refused are the names the registry would not take.
	refused map[string]bool
}

type sdkHandler struct {
	vecs *vecs
	tags map[string]string
}

func (h *sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &sdkHandler{vecs: h.vecs, tags: merged}
}

// labels are the handler's tags as the fixed label set.
func (h *sdkHandler) labels() prometheus.Labels {
	l := make(prometheus.Labels, len(SDKLabels))
	for _, k := range SDKLabels {
		l[k] = h.tags[k]
	}
	return l
}

// metricName makes an SDK name a valid Prometheus one.
func metricName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == ':' {
			return r
		}
		return '_'
	}, name)
}

// vecOf returns the vector of a metric name from m, making and registering
// it the first time; false when the registry refused the name (taken by a
// metric of another kind), whose values are then dropped.
func vecOf[V prometheus.Collector](vs *vecs, m map[string]V, name string, make func() V) (V, bool) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if v, ok := m[name]; ok {
		return v, true
	}
	var none V
	if vs.refused[name] {
		return none, false
	}
	v := make()
	if Registry.Register(v) != nil {
		vs.refused[name] = true
		return none, false
	}
	m[name] = v
	return v, true
}

func (h *sdkHandler) Counter(name string) client.MetricsCounter {
	name = metricName(name)
	v, ok := vecOf(h.vecs, h.vecs.counters, name, func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name + "_total", Help: "Temporal SDK counter " + name + "."}, SDKLabels)
	})
	if !ok {
		return client.MetricsNopHandler.Counter(name)
	}
	c := v.With(h.labels())
	return counterFunc(func(n int64) { c.Add(float64(n)) })
}

func (h *sdkHandler) Gauge(name string) client.MetricsGauge {
	name = metricName(name)
	v, ok := vecOf(h.vecs, h.vecs.gauges, name, func() *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Temporal SDK gauge " + name + "."}, SDKLabels)
	})
	if !ok {
		return client.MetricsNopHandler.Gauge(name)
	}
	return gaugeFunc(v.With(h.labels()).Set)
}

func (h *sdkHandler) Timer(name string) client.MetricsTimer {
	name = metricName(name)
	v, ok := vecOf(h.vecs, h.vecs.timers, name, func() *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name + "_seconds", Help: "Temporal SDK timer " + name + ".", Buckets: Buckets}, SDKLabels)
	})
	if !ok {
		return client.MetricsNopHandler.Timer(name)
	}
	o := v.With(h.labels())
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(n int64) { f(n) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
