package s3cors

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// allocatedBytes reports the bytes f allocates, averaged over runs so that
// the test framework's own allocations do not count.
func allocatedBytes(f func()) uint64 {
	const runs = 50
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

func TestHostileRequests(t *testing.T) {
	p := mustPolicy(t, `[{"AllowedOrigins":["https://a"],"AllowedMethods":["GET"],"AllowedHeaders":["a","b*"]},{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]`)
	tests := []struct {
		name     string
		method   string
		header   http.Header
		result   Result
		maxAlloc uint64
	}{
		{"1 MiB ACRH preflight", "OPTIONS", hdr("Origin", "https://a", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", strings.Repeat("x", 1<<20)), BadRequest, 8 << 10},
		{"1 MiB ACRH actual", "GET", hdr("Origin", "https://a", "Access-Control-Request-Headers", strings.Repeat("x", 1<<20)), Denied, 1 << 10},
		{"10000 empty items", "OPTIONS", hdr("Origin", "https://a", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", strings.Repeat(",", 10000)), BadRequest, 8 << 10},
		{"4000 items under the limit", "OPTIONS", hdr("Origin", "https://a", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", strings.Repeat("a,", 4000)), Allowed, 512 << 10},
		{"4000 empty items under the limit", "OPTIONS", hdr("Origin", "https://a", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", strings.Repeat(",", 4000)), Allowed, 8 << 10},
		{"many ACRH lines", "OPTIONS", repeatedLines("Access-Control-Request-Headers", "a", 10000, "Origin", "https://a", "Access-Control-Request-Method", "GET"), BadRequest, 8 << 10},
		{"many Origin lines", "OPTIONS", repeatedLines("Origin", "https://a", 10000, "Access-Control-Request-Method", "GET"), Allowed, 8 << 10},
		{"1 MiB origin", "OPTIONS", hdr("Origin", strings.Repeat("o", 1<<20), "Access-Control-Request-Method", "GET"), Allowed, 8 << 10},
		{"control characters in origin", "GET", hdr("Origin", "https://a\x00\x7f"), Allowed, 8 << 10},
		{"non-ASCII header item", "OPTIONS", hdr("Origin", "https://a", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "bé"), Allowed, 8 << 10},
		// A handler before the engine may leave a header without a line;
		// it is not sent, so it counts as absent (it panicked before).
		{"ACRM without a line, actual", "GET", http.Header{"Origin": {"https://a"}, "Access-Control-Request-Method": nil}, Allowed, 8 << 10},
		{"ACRM without a line, preflight", "OPTIONS", http.Header{"Origin": {"https://a"}, "Access-Control-Request-Method": {}}, BadRequest, 8 << 10},
		{"Kelvin sign is not k", "OPTIONS", hdr("Origin", "https://a", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "\u212a"), Allowed, 8 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/b/k", nil)
			r.Header = tt.header
			var d Decision
			n := allocatedBytes(func() { d = p.Evaluate(r, true) })
			if d.Result != tt.result {
				t.Errorf("result %s, want %s", d.Result, tt.result)
			}
			if n > tt.maxAlloc {
				t.Errorf("allocated %d bytes, want at most %d", n, tt.maxAlloc)
			}
			_ = p.Explain(r, true) // must not panic either
			rec := httptest.NewRecorder()
			d.WritePreflight(rec)
			for name, values := range rec.Header() {
				for _, v := range values {
					if strings.ContainsAny(v, "\r\n") {
						t.Errorf("%s carries a line break", name)
					}
				}
			}
		})
	}
}

func TestKelvinSignMatchesOnlyItself(t *testing.T) {
	p := mustPolicy(t, `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["k"]}]`)
	r := httptest.NewRequest("OPTIONS", "/b/k", nil)
	r.Header = hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "\u212a")
	if d := p.Evaluate(r, true); d.Result != Denied {
		t.Errorf("U+212A matched the header k: %s", d.Result)
	}
}

func repeatedLines(name, value string, n int, kv ...string) http.Header {
	h := hdr(kv...)
	for range n {
		h.Add(name, value)
	}
	return h
}

func TestHostileBodies(t *testing.T) {
	deep := strings.Repeat("<CORSRule>", 50000)
	tests := []struct {
		name string
		body string
		json bool
	}{
		{"deeply nested rules", "<CORSConfiguration>" + deep, false},
		{"deeply nested unknown root", strings.Repeat("<a>", 60000), false},
		{"deeply nested value", "<CORSConfiguration><CORSRule><AllowedOrigin>" + strings.Repeat("<x>", 60000), false},
		{"entity expansion attempt", `<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;&x;">]><CORSConfiguration><CORSRule><AllowedOrigin>&y;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`, false},
		{"deeply nested JSON", strings.Repeat("[", 60000), true},
		{"deeply nested JSON object", `{"CORSRules":` + strings.Repeat(`[`, 60000), true},
		{"huge number", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"MaxAgeSeconds":1` + strings.Repeat("0", 60000) + `}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocatedBytes(func() {
				if tt.json {
					_, err = ParseJSON([]byte(tt.body))
				} else {
					_, err = ParseXML([]byte(tt.body))
				}
			})
			if _, ok := err.(*Error); !ok {
				t.Fatalf("got %v, want an S3 error", err)
			}
			if limit := uint64(64*len(tt.body)) + 1<<20; n > limit {
				t.Errorf("allocated %d bytes for a %d-byte body", n, len(tt.body))
			}
		})
	}
}
