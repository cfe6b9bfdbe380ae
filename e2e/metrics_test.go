package e2e

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// TestMetricsEndpoint scrapes the real binary's metrics, on the admin
// endpoint and through the `metrics` handler, and checks that the counters
// move as requests are made.
func TestMetricsEndpoint(t *testing.T) {
	upstream := startUpstream(t).Addr()
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		bucket_config photos {
			rule {
				origins https://app.example
				methods GET
			}
		}
	}
	reverse_proxy `+upstream+`
}
http://127.0.0.1:{{PORT1}} {
	metrics
}
`, testenv.CaddyOptions{Ports: 2})

	put, _ := http.NewRequest("PUT", "http://"+c.Admin+"/s3_cors/buckets/docs", strings.NewReader(
		`{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`))
	put.Header.Set("Content-Type", "application/json")
	if res, _ := mustSend(t, put); res.StatusCode != 200 {
		t.Fatalf("admin put: %d", res.StatusCode)
	}

	requests := []struct {
		method, path, origin, acrm string
	}{
		{"OPTIONS", "/photos/a", "https://app.example", "GET"},   // preflight allowed
		{"OPTIONS", "/photos/a", "https://evil.example", "GET"},  // preflight denied
		{"OPTIONS", "/nocors/a", "https://app.example", "GET"},   // preflight not_configured
		{"OPTIONS", "/photos/a", "https://app.example", "PATCH"}, // preflight bad_request
		{"GET", "/photos/a", "https://app.example", ""},          // actual allowed
		{"GET", "/photos/a", "", ""},                             // actual no_origin
	}
	want := map[string]float64{
		`caddy_s3_cors_decisions_total{kind="preflight",result="allowed"}`:        1,
		`caddy_s3_cors_decisions_total{kind="preflight",result="denied"}`:         1,
		`caddy_s3_cors_decisions_total{kind="preflight",result="not_configured"}`: 1,
		`caddy_s3_cors_decisions_total{kind="preflight",result="bad_request"}`:    1,
		`caddy_s3_cors_decisions_total{kind="actual",result="allowed"}`:           1,
		`caddy_s3_cors_decisions_total{kind="actual",result="no_origin"}`:         1,
	}
	for _, endpoint := range []string{"http://" + c.Admin + "/metrics", c.URL(1) + "/metrics"} {
		before := scrape(t, endpoint)
		for _, r := range requests {
			req, _ := http.NewRequest(r.method, c.URL(0)+r.path, nil)
			if r.origin != "" {
				req.Header.Set("Origin", r.origin)
			}
			if r.acrm != "" {
				req.Header.Set("Access-Control-Request-Method", r.acrm)
			}
			mustSend(t, req)
		}
		after := scrape(t, endpoint)
		for series, delta := range want {
			if got := after[series] - before[series]; got != delta {
				t.Errorf("%s: %s moved by %v, want %v", endpoint, series, got, delta)
			}
		}
		if got := after[`caddy_s3_cors_buckets_configured`]; got != 1 {
			t.Errorf("%s: buckets_configured = %v, want 1", endpoint, got)
		}
		if got := after[`caddy_s3_cors_config_writes_total{operation="put",outcome="ok",source="admin"}`]; got != 1 {
			t.Errorf("%s: admin put writes = %v, want 1", endpoint, got)
		}
		if after[`caddy_s3_cors_sync_runs_total`] < 1 {
			t.Errorf("%s: no sync run counted", endpoint)
		}
	}
}

// scrape reads a Prometheus text exposition into series → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
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
		if err != nil {
			continue
		}
		series[line[:i]] = v
	}
	return series
}
