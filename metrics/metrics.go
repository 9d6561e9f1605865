// Package metrics holds the appliance's Prometheus metrics in a registry of
// its own (no global state), and the hooks the services call. Every method
// works on a nil *Metrics and then does nothing, so tests and tools need no
// metrics.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"recordings/events"
)

// Metrics are the counters, gauges and histograms exported at /metrics.
type Metrics struct {
	reg *prometheus.Registry

	uploadsInProgress prometheus.Gauge
	uploadsCompleted  prometheus.Counter
	uploadsFailed     prometheus.Counter
	conversion        *prometheus.HistogramVec
	cdrsReceived      prometheus.Counter
	cdrsUnmatched     prometheus.Counter
	retentionDeleted  prometheus.Counter
	connsOpened       prometheus.Counter
	connsUnused       prometheus.Counter
}

// New returns metrics registered in a new registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.uploadsInProgress = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "recordings_uploads_in_progress", Help: "Capture uploads being received now."})
	m.uploadsCompleted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recordings_uploads_completed_total", Help: "Capture uploads received completely."})
	m.uploadsFailed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recordings_uploads_failed_total", Help: "Capture uploads refused or broken off (what arrived is kept)."})
	m.conversion = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "recordings_conversion_seconds",
		Help:    "Time to analyse a stored capture (decode, statistics, waveform), by resulting state.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10), // 10 ms … ~38 s
	}, []string{"state"})
	m.cdrsReceived = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recordings_cdrs_received_total", Help: "Call detail records received from the PBX."})
	m.cdrsUnmatched = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recordings_cdrs_unmatched_total", Help: "Call detail records that matched no recording when they arrived."})
	m.retentionDeleted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recordings_retention_deleted_total", Help: "Recordings deleted because they were older than the retention period."})
	m.connsOpened = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recordings_http_connections_total", Help: "HTTP connections accepted."})
	m.connsUnused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recordings_http_connections_unused_total",
		Help: "HTTP connections closed before a whole request header arrived: the client sent nothing in time (read header timeout), a partial header, or went away."})
	m.reg.MustRegister(m.uploadsInProgress, m.uploadsCompleted, m.uploadsFailed, m.conversion,
		m.cdrsReceived, m.cdrsUnmatched, m.retentionDeleted, m.connsOpened, m.connsUnused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live, for adding more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// UploadStarted counts an upload in progress until UploadDone.
func (m *Metrics) UploadStarted() {
	if m != nil {
		m.uploadsInProgress.Inc()
	}
}

// UploadDone ends an upload counted by UploadStarted.
func (m *Metrics) UploadDone(ok bool) {
	if m == nil {
		return
	}
	m.uploadsInProgress.Dec()
	if ok {
		m.uploadsCompleted.Inc()
	} else {
		m.uploadsFailed.Inc()
	}
}

// UploadRefused counts an upload refused before it started (bad name, too
// large, empty).
func (m *Metrics) UploadRefused() {
	if m != nil {
		m.uploadsFailed.Inc()
	}
}

// Converted records how long analysing a capture took and its outcome
// ("ready", "incomplete", "failed").
func (m *Metrics) Converted(d time.Duration, state string) {
	if m != nil {
		m.conversion.WithLabelValues(state).Observe(d.Seconds())
	}
}

// CDRsReceived counts n call detail records from one PBX request; when
// they matched no recording (yet: the recording may arrive later) they also
// count as unmatched.
func (m *Metrics) CDRsReceived(n int, matched bool) {
	if m == nil || n <= 0 {
		return
	}
	m.cdrsReceived.Add(float64(n))
	if !matched {
		m.cdrsUnmatched.Add(float64(n))
	}
}

// RetentionDeleted counts recordings deleted by retention.
func (m *Metrics) RetentionDeleted(n int) {
	if m != nil && n > 0 {
		m.retentionDeleted.Add(float64(n))
	}
}

// RecordingEvent is the metrics' subscriber on the event broker: it counts
// the recordings retention deletes.
func (m *Metrics) RecordingEvent(ev events.Recording) {
	if ev.Kind == events.Deleted && ev.By == events.ByRetention {
		m.RetentionDeleted(1)
	}
}

// ConnOpened counts an accepted HTTP connection.
func (m *Metrics) ConnOpened() {
	if m != nil {
		m.connsOpened.Inc()
	}
}

// ConnUnused counts a connection that closed without carrying a request.
func (m *Metrics) ConnUnused() {
	if m != nil {
		m.connsUnused.Inc()
	}
}

// WatchDatabase exports the database size, asked at each scrape.
func (m *Metrics) WatchDatabase(size func(ctx context.Context) (int64, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "recordings_database_size_bytes", Help: "Size of the database file (pages in use and free)."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n, err := size(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
}

// WatchLogs exports how many log records were not stored (queue full or the
// database refused them).
func (m *Metrics) WatchLogs(lost func() int64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "recordings_log_records_lost_total", Help: "Log records not stored for the UI (queue full or write failed)."},
		func() float64 { return float64(lost()) }))
}
