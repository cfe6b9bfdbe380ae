package caddys3cors

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// startCaddy runs Caddy in this process with the given global options and
// site body on a free port of 127.0.0.1, and returns the site's base URL.
// The admin endpoint is off and nothing is persisted; Caddy stops when the
// test ends.
func startCaddy(t *testing.T, globals, site string) string {
	t.Helper()
	port := testenv.FreePorts(t, 1)[0]
	caddyfile := fmt.Sprintf(`{
	admin off
	persist_config off
	auto_https off
	storage file_system %s
	log {
		output discard
	}
	%s
}

http://:%d {
	bind 127.0.0.1
	%s
}
`, t.TempDir(), globals, port, site)
	cfg, err := adaptWarn(t, []byte(caddyfile), false)
	if err != nil {
		t.Fatalf("adapt: %v\n%s", err, caddyfile)
	}
	loadCaddy(t, cfg)
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// loadCaddy runs a JSON configuration until the test ends.
func loadCaddy(t *testing.T, cfg []byte) {
	t.Helper()
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatalf("load: %v\n%s", err, cfg)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

// client talks to the in-process Caddy; it neither follows redirects nor
// asks for compression, so headers arrive as sent.
var client = &http.Client{
	Timeout:       10 * time.Second,
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// request is one request of a table test.
type request struct {
	method, path, host string
	headers            map[string]string
}

// do sends req and returns the response with its body read.
func do(t *testing.T, base string, req request) (*http.Response, string) {
	t.Helper()
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequest(method, base+req.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.host != "" {
		r.Host = req.host
	}
	for k, v := range req.headers {
		r.Header.Set(k, v)
	}
	res, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// checkHeaders compares h with want: a value is the exact, single value
// expected (several lines joined with "\n"), "" means absent.
func checkHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for name, v := range want {
		got := strings.Join(h.Values(name), "\n")
		if got != v {
			t.Errorf("header %s = %q, want %q", name, got, v)
		}
	}
}

// photosHandler is a Handler, compiled, whose static bucket photos has the
// configuration doc (aws cli JSON), as Provision would leave it without an
// app.
func photosHandler(t testing.TB, doc string) *Handler {
	t.Helper()
	h := &Handler{Source: Source{Buckets: map[string]json.RawMessage{"photos": json.RawMessage(doc)}}}
	if err := h.compile(); err != nil {
		t.Fatal(err)
	}
	return h
}

// noCORS is every CORS response header, all required absent.
func noCORS() map[string]string {
	return map[string]string{
		"Access-Control-Allow-Origin":      "",
		"Access-Control-Allow-Credentials": "",
		"Access-Control-Allow-Methods":     "",
		"Access-Control-Allow-Headers":     "",
		"Access-Control-Expose-Headers":    "",
		"Access-Control-Max-Age":           "",
		"Vary":                             "",
	}
}
