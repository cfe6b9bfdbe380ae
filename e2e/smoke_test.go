package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// TestSidecarSmoke runs the built binary in front of MinIO: a configuration
// put through the admin API governs preflights answered by the sidecar,
// and MinIO's own CORS headers are replaced by S3's on actual requests.
func TestSidecarSmoke(t *testing.T) {
	m := testenv.StartMinIO(t)
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s")+proxySite(m.Endpoint), testenv.CaddyOptions{Ports: 1})

	req, _ := http.NewRequest("PUT", "http://"+c.Admin+"/s3_cors/buckets/photos", strings.NewReader(
		`{"CORSRules":[{"AllowedOrigins":["https://app.example"],"AllowedMethods":["GET"],"ExposeHeaders":["ETag"]}]}`))
	req.Header.Set("Content-Type", "application/json")
	res, _ := mustSend(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("admin put: %d", res.StatusCode)
	}

	pre, _ := http.NewRequest("OPTIONS", c.URL(0)+"/photos/cat.jpg", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	res, _ = mustSend(t, pre)
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		res.Header.Get("Access-Control-Allow-Methods") != "GET" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}

	get, _ := http.NewRequest("GET", c.URL(0)+"/photos/cat.jpg", nil)
	get.Header.Set("Origin", "https://evil.example")
	res, _ = mustSend(t, get)
	if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 0 {
		t.Errorf("MinIO's CORS header leaked on a denied request: %q (status %d)", got, res.StatusCode)
	}
}
