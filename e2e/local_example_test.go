package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// TestLocalExample runs examples/local/Caddyfile, the README's first
// command, with the built binary on free ports (the example takes them from
// environment variables) and checks what docs/walkthrough.md says:
// the preflight's exact headers, a GET decorated with S3's headers instead
// of the stand-in store's, a bucket configured with the aws cli, and the
// demo page reading the object in Chromium.
func TestLocalExample(t *testing.T) {
	root := testenv.RepoRoot(t)
	caddyfile, err := os.ReadFile(filepath.Join(root, "examples", "local", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.StartCaddy(t, string(caddyfile), testenv.CaddyOptions{
		Ports: 3,
		Dir:   root, // the README runs it from the repository root
		Env: []string{
			"S3CORS_ADMIN={{ADMIN}}",
			"S3CORS_PORT={{PORT0}}",
			"S3CORS_STORE_PORT={{PORT1}}",
			"S3CORS_PAGE_PORT={{PORT2}}",
			"S3CORS_ACCESS_KEY=" + sidecarAccessKey,
			"S3CORS_SECRET_KEY=" + sidecarSecretKey,
		},
	})
	sidecar, store := c.URL(0), c.URL(1)
	page := "http://localhost:" + strings.TrimPrefix(c.URL(2), "http://127.0.0.1:")
	hello, err := os.ReadFile(filepath.Join(root, "examples", "local", "store", "photos", "hello.txt"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("preflight", func(t *testing.T) {
		res, body := fetch(t, "OPTIONS", sidecar+"/photos/hello.txt", http.Header{
			"Origin": {page}, "Access-Control-Request-Method": {"GET"},
		})
		want := http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Methods":     {"GET, HEAD"},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {"ETag"},
			"Access-Control-Max-Age":           {"3000"},
			"Vary":                             {corsVary},
		}
		if got := corsHeaderLines(res.Header); res.StatusCode != 200 || body != "" || !reflect.DeepEqual(got, want) {
			t.Errorf("preflight: %d %q\n got %v\nwant %v", res.StatusCode, body, got, want)
		}
	})

	t.Run("GET allowed origin", func(t *testing.T) {
		res, body := fetch(t, "GET", sidecar+"/photos/hello.txt", http.Header{"Origin": {page}})
		if res.StatusCode != 200 || body != string(hello) {
			t.Fatalf("GET: %d %q", res.StatusCode, body)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != page {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, page)
		}
		if got := res.Header.Values("Access-Control-Expose-Headers"); !reflect.DeepEqual(got, []string{"ETag"}) {
			t.Errorf("Access-Control-Expose-Headers %q: want the rule's ETag only, not the store's list", got)
		}
	})

	t.Run("GET other origin: store's headers removed", func(t *testing.T) {
		const evil = "https://evil.example"
		res, _ := fetch(t, "GET", store+"/photos/hello.txt", http.Header{"Origin": {evil}})
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != evil {
			t.Errorf("the stand-in store should echo any origin as MinIO does, got %q", got)
		}
		res, body := fetch(t, "GET", sidecar+"/photos/hello.txt", http.Header{"Origin": {evil}})
		if got := corsHeaderLines(res.Header); res.StatusCode != 200 || body != string(hello) || len(got) != 0 {
			t.Errorf("through the sidecar: %d %q, CORS headers %v (want none)", res.StatusCode, body, got)
		}
	})

	t.Run("aws cli configures the docs bucket", func(t *testing.T) {
		awsBin := testenv.RequireAWSCLI(t)
		preflight := func() *http.Response {
			res, _ := fetch(t, "OPTIONS", sidecar+"/docs/readme.txt", http.Header{
				"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"},
			})
			return res
		}
		if res := preflight(); res.StatusCode != 403 {
			t.Fatalf("docs before put-bucket-cors: %d, want 403", res.StatusCode)
		}
		ctx := context.Background()
		if _, err := runAWS(ctx, awsBin, sidecar, sidecarAccessKey, sidecarSecretKey, "s3api", "put-bucket-cors", "--bucket", "docs",
			"--cors-configuration", `{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET"]}]}`); err != nil {
			t.Fatal(err)
		}
		if res := preflight(); res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("docs after put-bucket-cors: %d %v", res.StatusCode, res.Header)
		}
		if _, err := runAWS(ctx, awsBin, sidecar, sidecarAccessKey, sidecarSecretKey, "s3api", "delete-bucket-cors", "--bucket", "docs"); err != nil {
			t.Fatal(err)
		}
		if res := preflight(); res.StatusCode != 403 {
			t.Errorf("docs after delete-bucket-cors: %d, want 403", res.StatusCode)
		}
	})

	t.Run("demo page in Chromium", func(t *testing.T) {
		results, _ := runBrowser(t, page+"/", []browserCall{{Fn: "demo"}})
		var r fetchResult
		if err := json.Unmarshal(results[0], &r); err != nil {
			t.Fatal(err)
		}
		t.Logf("chromium saw: %v", r)
		res, _ := fetch(t, "GET", store+"/photos/hello.txt", nil)
		if r.Error != "" || r.Status != 200 || r.Body != string(hello) || r.ETag == nil || *r.ETag != res.Header.Get("ETag") {
			t.Errorf("demo page: %v, want the object and its ETag %s", r, res.Header.Get("ETag"))
		}
	})
}

// corsHeaderLines returns the Access-Control-* headers of h, and the Vary lines
// that name a CORS request header (MinIO's own Vary: Accept-Encoding is
// not CORS's business).
func corsHeaderLines(h http.Header) http.Header {
	got := http.Header{}
	for name, values := range h {
		if strings.HasPrefix(name, "Access-Control-") {
			got[name] = values
		}
	}
	for _, v := range h.Values("Vary") {
		if strings.Contains(v, "Origin") || strings.Contains(v, "Access-Control-") {
			got.Add("Vary", v)
		}
	}
	return got
}
