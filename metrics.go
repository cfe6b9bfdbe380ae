package caddys3cors

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// metricsNamespace prefixes every metric: caddy_s3_cors_*.
const metricsNamespace = "caddy"
const metricsSubsystem = "s3_cors"

// collectors holds the module's Prometheus collectors. They are created
// once per process, so their values survive config reloads, and are
// registered into Caddy's metrics registry on every Provision, since
// ctx.GetMetricsRegistry() is a new registry on every config load. No label
// carries an Origin, a header value, a bucket name or any other unbounded
// string.
type collectors struct {
	decisions         *prometheus.CounterVec
	decisionSeconds   prometheus.Histogram
	configWrites      *prometheus.CounterVec
	syncRuns          prometheus.Counter
	syncErrors        prometheus.Counter
	notifiedSyncs     prometheus.Counter
	notificationsUp   prometheus.Gauge
	bucketsConfigured prometheus.Gauge

	// decisionCounters are the decisions' counters resolved once, so the
	// request path pays an atomic add and no label lookup.
	decisionCounters [2][5]prometheus.Counter
	// wouldDeny counts, by kind, what report_only let through although
	// the rules would refuse it.
	wouldDeny [2]prometheus.Counter
}

// reportOnlyResult is the result label of a decision report_only let
// through although the rules would deny it.
const reportOnlyResult = "would_deny"

var metrics = newCollectors()

func newCollectors() *collectors {
	c := &collectors{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "decisions_total",
			Help: "CORS decisions by request kind (preflight, actual) and result (allowed, denied, not_configured, no_origin, bad_request, would_deny).",
		}, []string{"kind", "result"}),
		decisionSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name:    "decision_seconds",
			Help:    "Time spent deciding a request (bucket lookup and rule evaluation), sampled one request in 64.",
			Buckets: []float64{50e-9, 100e-9, 250e-9, 500e-9, 1e-6, 2.5e-6, 5e-6, 10e-6, 50e-6},
		}),
		configWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "config_writes_total",
			Help: "Bucket CORS configuration writes by operation (put, delete), source (admin, s3, bucket_deleted) and outcome (ok, error: storage failed).",
		}, []string{"operation", "source", "outcome"}),
		syncRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "sync_runs_total",
			Help: "Runs of the loop that reads the configurations other nodes wrote.",
		}),
		syncErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "sync_errors_total",
			Help: "Sync runs that failed (storage unreachable); the last good configurations keep serving.",
		}),
		notifiedSyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "sync_notified_total",
			Help: "Sync runs started by a bucket notification of another node's write (object_store on MinIO), also counted in sync_runs_total.",
		}),
		notificationsUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "notifications_up",
			Help: "1 while the bucket notification stream of object_store is established, else 0 (changes then arrive at each sync_interval).",
		}),
		bucketsConfigured: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "buckets_configured",
			Help: "Buckets with a CORS configuration from the S3 or admin API.",
		}),
	}
	for kind := range c.decisionCounters {
		c.wouldDeny[kind] = c.decisions.WithLabelValues(s3cors.Kind(kind).String(), reportOnlyResult)
		for result := range c.decisionCounters[kind] {
			c.decisionCounters[kind][result] = c.decisions.WithLabelValues(
				s3cors.Kind(kind).String(), s3cors.Result(result).String())
		}
	}
	return c
}

// register adds the collectors to a registry; one already there (an
// earlier Provision into the same registry) is fine.
func (c *collectors) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, col := range []prometheus.Collector{c.decisions, c.decisionSeconds, c.configWrites, c.syncRuns, c.syncErrors, c.notifiedSyncs, c.notificationsUp, c.bucketsConfigured} {
		if err := reg.Register(col); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return fmt.Errorf("s3_cors: register metrics: %w", err)
			}
		}
	}
	return nil
}

// countDecision counts one decision.
func (c *collectors) countDecision(d *s3cors.Decision) {
	if int(d.Kind) < len(c.decisionCounters) && int(d.Result) < len(c.decisionCounters[0]) {
		c.decisionCounters[d.Kind][d.Result].Inc()
	}
}
