package caddys3cors

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// deviations are the conformance cases this module answers differently
// from S3, on purpose; only inferred cases may be here. docs/caddyfile.md
// (Deviation from S3) lists them too.
var deviations = map[string]string{
	"inf-nobucket-options-with-acrm": "a proxy cannot know that a bucket does not exist: a preflight to a missing bucket " +
		"gets S3's answer for a bucket without CORS configuration (\"CORS is not enabled for this bucket.\") " +
		"instead of \"Bucket not found\"",
}

// TestConformance runs every request case of the conformance file through
// Caddy: s3_cors in front of reverse_proxy to a stand-in store that
// answers with the case's status and body and MinIO's CORS headers. Each
// case gets its own bucket, configured statically from the case.
func TestConformance(t *testing.T) {
	cases, err := conformance.Load("testdata/conformance/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	byBucket := map[string]*conformance.Case{}
	buckets := map[string]json.RawMessage{}
	for i := range cases {
		c := &cases[i]
		if c.Kind != "request" {
			continue
		}
		bucket := fmt.Sprintf("case-%d", i)
		byBucket[bucket] = c
		if c.HasConfig() {
			buckets[bucket] = c.ConfigJSON()
		}
	}
	if len(byBucket) < 70 {
		t.Fatalf("only %d request cases", len(byBucket))
	}

	var preflights atomic.Int64
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			preflights.Add(1)
		}
		bucket, _ := s3cors.SplitPath(r.URL.Path)
		c, ok := byBucket[bucket]
		if !ok {
			http.Error(w, "unknown case bucket", http.StatusTeapot)
			return
		}
		conformance.Upstream(c, writeError).ServeHTTP(w, r)
	}))
	t.Cleanup(store.Close)

	port := testenv.FreePorts(t, 1)[0]
	handler, err := json.Marshal(map[string]any{"handler": "s3_cors", "buckets": buckets})
	if err != nil {
		t.Fatal(err)
	}
	loadCaddy(t, []byte(fmt.Sprintf(`{
		"admin": {"disabled": true, "config": {"persist": false}},
		"logging": {"logs": {"default": {"writer": {"output": "discard"}}}},
		"storage": {"module": "file_system", "root": %q},
		"apps": {"http": {"servers": {"conformance": {
			"listen": ["127.0.0.1:%d"],
			"automatic_https": {"disable": true},
			"routes": [{"handle": [%s, {"handler": "reverse_proxy", "upstreams": [{"dial": %q}]}]}]
		}}}}
	}`, t.TempDir(), port, handler, store.Listener.Addr().String())))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	for bucket, c := range byBucket {
		t.Run(c.ID, func(t *testing.T) {
			if reason, ok := deviations[c.ID]; ok {
				if !c.Inferred {
					t.Fatalf("deviation from a case that is not inferred: %s", reason)
				}
				t.Skip("documented deviation: " + reason)
			}
			path := "/" + bucket
			if c.Request.PathKind == "object" {
				path += "/key.txt"
			}
			r, err := http.NewRequest(c.Request.Method, base+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.Request.Headers {
				r.Header.Set(k, v)
			}
			res, err := client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode == http.StatusTeapot {
				t.Fatalf("the store did not know the case: %s", body)
			}
			h := res.Header.Clone()
			if res.Close && h.Get("Connection") == "" {
				h.Set("Connection", "close") // net/http's client consumes it
			}
			conformance.CheckResponse(t, c, res.StatusCode, h, body)
		})
	}
	if n := preflights.Load(); n != 0 {
		t.Errorf("%d preflights reached the store", n)
	}
}

// writeError is the stand-in store's error document: S3's, as the engine
// writes it.
func writeError(w http.ResponseWriter, status int, code, message string) {
	(&s3cors.Error{Status: status, Code: code, Message: message}).WriteTo(w)
}
