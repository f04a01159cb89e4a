package commentsvc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the service's Prometheus series, on a registry of its own (no globals, so
// that several services can live in one test binary).
type metrics struct {
	reg         *prometheus.Registry
	received    func(form string)
	rejections  *prometheus.CounterVec
	accepts     *prometheus.CounterVec
	dups        *prometheus.CounterVec
	latency     prometheus.Histogram
	moderation  *prometheus.CounterVec
	workErrors  *prometheus.CounterVec
	rebuilds    *prometheus.CounterVec
	rebuildDur  prometheus.Histogram
	commitDur   prometheus.Histogram
	commitOps   prometheus.Histogram
	commitErrs  prometheus.Counter
	connRefused prometheus.Counter
}

func newMetrics(s *Service) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{reg: reg}
	recv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parvis_submissions_received_total", Help: "Submissions received, by form."}, []string{"form"})
	m.received = func(form string) { recv.WithLabelValues(form).Inc() }
	m.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parvis_submissions_rejected_total", Help: "Submissions refused at intake, by form and reason."}, []string{"form", "reason"})
	m.accepts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parvis_submissions_accepted_total", Help: "Submissions stored in the queue, by form."}, []string{"form"})
	m.dups = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parvis_submissions_duplicate_total", Help: "Submissions sent again (same idempotency key), by form."}, []string{"form"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parvis_intake_seconds", Help: "Time from receiving a submission to answering it, for accepted ones.", Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .25, .5, 1}})
	m.moderation = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parvis_moderation_total", Help: "Moderation decisions, by action."}, []string{"action"})
	m.workErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parvis_worker_errors_total", Help: "Failures turning submissions into changes, by kind."}, []string{"kind"})
	m.rebuilds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parvis_rebuilds_total", Help: "Site rebuilds after approvals, by result."}, []string{"result"})
	m.rebuildDur = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parvis_rebuild_seconds", Help: "Time a rebuild took.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 10)})
	m.commitDur = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parvis_queue_commit_seconds", Help: "Time the queue's transactions took, sync included.", Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1}})
	m.commitOps = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parvis_queue_commit_requests", Help: "Requests (submissions, leases, acknowledgements) one transaction of the queue served.", Buckets: prometheus.ExponentialBuckets(1, 2, 11)})
	m.commitErrs = prometheus.NewCounter(prometheus.CounterOpts{Name: "parvis_queue_commit_errors_total", Help: "Transactions of the queue that failed."})
	m.connRefused = prometheus.NewCounter(prometheus.CounterOpts{Name: "parvis_connections_refused_total", Help: "Connections refused because their address had too many open."})
	queueDesc := prometheus.NewDesc("parvis_queue_items", "Items in the submission queue, by state.", []string{"state"}, nil)
	reg.MustRegister(recv, m.rejections, m.accepts, m.dups, m.latency, m.moderation, m.workErrors, m.rebuilds, m.rebuildDur, m.commitDur, m.commitOps, m.commitErrs, m.connRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectorFunc{desc: queueDesc, collect: func(ch chan<- prometheus.Metric) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			st, err := s.queue.Stats(ctx)
			if err != nil {
				return
			}
			for state, n := range map[string]int{"ready": st.Ready, "delayed": st.Delayed, "leased": st.Leased, "failed": st.Failed} {
				ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), state)
			}
		}},
	)
	return m
}

func (m *metrics) rejected(form, reason string) { m.rejections.WithLabelValues(form, reason).Inc() }
func (m *metrics) duplicate(form string)        { m.dups.WithLabelValues(form).Inc() }
func (m *metrics) accepted(form string, d time.Duration) {
	m.accepts.WithLabelValues(form).Inc()
	m.latency.Observe(d.Seconds())
}

// commit observes one transaction of the queue, for a queue that reports them.
func (m *metrics) commit(ops int, d time.Duration, err error) {
	if err != nil {
		m.commitErrs.Inc()
		return
	}
	m.commitDur.Observe(d.Seconds())
	m.commitOps.Observe(float64(ops))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// guarded serves the series on the service's public address: to requests that carry the
// bearer token, and, without a token, to nobody. The series tell how busy the service is
// and what it refuses, which is nobody else's business.
func (m *metrics) guarded(token string) http.Handler {
	if token == "" {
		return http.NotFoundHandler()
	}
	h := m.handler()
	want := sha256.Sum256([]byte("Bearer " + token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// collectorFunc adapts a function to prometheus.Collector.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
