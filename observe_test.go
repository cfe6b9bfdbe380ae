package caddys3cors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// TestReportOnly runs report_only both ways: for buckets under the default
// configuration (enforcement off: preflights reach the store, the store's
// CORS headers stay, would-be denials are counted) and for a bucket with its
// own configuration beside them (enforced as usual).
func TestReportOnly(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, `
	s3_cors {
		report_only default
		default {
			rule {
				origins https://app.example.com
				methods GET
			}
		}
		bucket_config enforced {
			rule {
				origins https://app.example.com
				methods GET
			}
		}
	}`))
	for _, tc := range []struct {
		name      string
		req       request
		status    int
		headers   map[string]string
		toStore   bool // the store answers (also for OPTIONS)
		wouldDeny s3cors.Kind
		counted   bool
	}{
		{name: "default bucket, denied preflight goes to the store",
			req: request{method: "OPTIONS", path: "/legacy/a", headers: map[string]string{
				"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}},
			status: 200, toStore: true, counted: true, wouldDeny: s3cors.Preflight,
			headers: map[string]string{"Access-Control-Allow-Origin": "https://evil.example", "Access-Control-Allow-Credentials": "true", "X-Result": "would_deny"}},
		{name: "default bucket, denied actual keeps the store's headers",
			req:    request{path: "/legacy/a", headers: map[string]string{"Origin": "https://evil.example"}},
			status: 200, toStore: true, counted: true, wouldDeny: s3cors.Actual,
			headers: map[string]string{"Access-Control-Allow-Origin": "https://evil.example", "Vary": "Origin\nAccept-Encoding", "X-Result": "would_deny"}},
		{name: "default bucket, allowed actual keeps the store's headers too",
			req:    request{path: "/legacy/a", headers: map[string]string{"Origin": "https://app.example.com"}},
			status: 200, toStore: true,
			headers: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Expose-Headers": "Date, Etag, Server, X-Amz-Request-Id", "X-Result": "allowed"}},
		{name: "own configuration is enforced",
			req: request{method: "OPTIONS", path: "/enforced/a", headers: map[string]string{
				"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}},
			status: 403, headers: map[string]string{"Access-Control-Allow-Origin": "", "X-Result": "denied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := m.requests.Load()
			deniedBefore := testutil.ToFloat64(metrics.wouldDeny[tc.wouldDeny])
			res, _ := do(t, base, tc.req)
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			checkHeaders(t, res.Header, tc.headers)
			if got := m.requests.Load() - before; (got == 1) != tc.toStore {
				t.Errorf("the store got %d requests, want it to answer: %v", got, tc.toStore)
			}
			if got := testutil.ToFloat64(metrics.wouldDeny[tc.wouldDeny]) - deniedBefore; tc.counted && got != 1 {
				t.Errorf("would_deny counter moved by %v, want 1", got)
			}
		})
	}
}

// TestDeniedPreflightDebugLog checks the debug line of a denied preflight:
// for each rule, which test failed and on which value.
func TestDeniedPreflightDebugLog(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := photosHandler(t, `{"CORSRules":[`+
		`{"ID":"app","AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET"]},`+
		`{"AllowedOrigins":["*"],"AllowedMethods":["PUT"],"AllowedHeaders":["content-type"]}]}`)
	h.logger = zap.New(core)
	r := httptest.NewRequest("OPTIONS", "/photos/cat.jpg", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "x-custom")
	rec := httptest.NewRecorder()
	if err := h.ServeHTTP(rec, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		t.Error("a preflight reached the store")
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 403 {
		t.Fatalf("status %d", rec.Code)
	}
	entries := logs.FilterMessageSnippet("preflight denied").All()
	if len(entries) != 1 {
		t.Fatalf("%d debug lines, want 1: %v", len(entries), logs.All())
	}
	fields := entries[0].ContextMap()
	for key, want := range map[string]string{
		"rule_0": `origin "https://evil.example" matches none of AllowedOrigin ["https://app.example.com"]`,
		"rule_1": `requested header "x-custom" matches none of AllowedHeader ["content-type"]`,
	} {
		got := fmt.Sprint(fields[key])
		if !strings.Contains(got, want) {
			t.Errorf("%s = %s, want it to contain %s", key, got, want)
		}
	}
	if fields["origin"] != "https://evil.example" || fields["bucket"] != "photos" {
		t.Errorf("fields %v", fields)
	}
}

// TestMetricsAcrossReloads registers the collectors as Caddy does on every
// config load: twice into one registry (several handlers), then into a new
// registry (a reload). No registration fails, and counts survive.
func TestMetricsAcrossReloads(t *testing.T) {
	first := prometheus.NewRegistry()
	for range 2 {
		if err := metrics.register(first); err != nil {
			t.Fatalf("registering twice: %v", err)
		}
	}
	metrics.decisionCounters[s3cors.Preflight][s3cors.Allowed].Inc()
	before := testutil.ToFloat64(metrics.decisionCounters[s3cors.Preflight][s3cors.Allowed])
	second := prometheus.NewRegistry()
	if err := metrics.register(second); err != nil {
		t.Fatalf("registering after a reload: %v", err)
	}
	families, err := second.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		if f.GetName() != "caddy_s3_cors_decisions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == "preflight" && labels["result"] == "allowed" {
				found = true
				if got := m.GetCounter().GetValue(); got != before {
					t.Errorf("after the reload the counter is %v, want %v", got, before)
				}
			}
		}
	}
	if !found {
		t.Error("decisions_total{kind=preflight,result=allowed} not in the new registry")
	}
	// A foreign collector of the same name is an error, not ignored.
	clash := prometheus.NewRegistry()
	clash.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "caddy_s3_cors_sync_runs_total", Help: "other"}))
	if err := metrics.register(clash); err == nil {
		t.Error("a clashing collector was accepted")
	}
}
