package s3cors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The engine's benchmark set. The floor writes the same response headers
// a matched preflight gets, from precomputed values, through the same
// handler call and writer: what any CORS middleware must at least do.
//
//	go test ./s3cors -run '^$' -bench . -benchmem -count 10 | benchstat -

// discardWriter is a ResponseWriter whose header map is reused, so the
// benchmarks measure the middleware and not the recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// benchRules returns n rules with distinct exact origins; the request's
// origin is the last rule's.
func benchRules(n int) (rules, origin string) {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"AllowedOrigins":["https://app%d.example.com"],"AllowedMethods":["GET","PUT"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}`, i)
	}
	b.WriteString("]")
	return b.String(), fmt.Sprintf("https://app%d.example.com", n-1)
}

func benchRequest(method, origin string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, "/bucket/photos/cat.jpg", nil)
	r.Header.Set("Origin", origin)
	for i := 0; i < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	return r
}

func runHandler(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

func BenchmarkFloor(b *testing.B) {
	runFloor(b, false)
}

// BenchmarkFloorReadingRequest is the floor plus what any CORS middleware
// must also do: read the request's Origin, Access-Control-Request-Method
// and Access-Control-Request-Headers and compare the origin with the one
// allowed. It is the fair baseline for the 1.3x target (see docs/performance.md).
func BenchmarkFloorReadingRequest(b *testing.B) {
	runFloor(b, true)
}

// runFloor times a handler that writes a matched preflight's headers from
// precomputed values, after reading the request's CORS headers when read
// is set.
func runFloor(b *testing.B, read bool) {
	_, origin := benchRules(1)
	acao, acac, acam := []string{origin}, []string{"true"}, []string{"GET, PUT"}
	aceh, acma, vary, cl := []string{"ETag"}, []string{"3000"}, []string{varyValueFirstLine}, []string{"0"}
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if read {
			o := r.Header["Origin"]
			m := r.Header["Access-Control-Request-Method"]
			hs := r.Header["Access-Control-Request-Headers"]
			if len(o) == 0 || o[0] != origin || len(m) == 0 || m[0] != "GET" || len(hs) != 0 {
				w.WriteHeader(http.StatusForbidden)
				return
			}
		}
		h := w.Header()
		h[hdrAllowOrigin] = acao
		h[hdrAllowCredentials] = acac
		h[hdrAllowMethods] = acam
		h[hdrExposeHeaders] = aceh
		h[hdrMaxAge] = acma
		h[hdrVary] = vary
		h["Content-Length"] = cl
		w.WriteHeader(http.StatusOK)
	})
	runHandler(b, floor, benchRequest("OPTIONS", origin, "Access-Control-Request-Method", "GET"))
}

func BenchmarkPreflight(b *testing.B) {
	for _, n := range []int{1, 100} {
		rules, origin := benchRules(n)
		p := mustPolicy(b, rules)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			runHandler(b, Wrap(p, okHandler), benchRequest("OPTIONS", origin, "Access-Control-Request-Method", "GET"))
		})
	}
}

// BenchmarkPreflightBrowserHeaders is a preflight as Chromium sends it for
// a PUT with two custom headers: the allowed-headers value is built.
func BenchmarkPreflightBrowserHeaders(b *testing.B) {
	rules, origin := benchRules(1)
	runHandler(b, Wrap(mustPolicy(b, rules), okHandler),
		benchRequest("OPTIONS", origin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type,x-amz-date"))
}

func BenchmarkActual(b *testing.B) {
	for _, n := range []int{1, 100} {
		rules, origin := benchRules(n)
		p := mustPolicy(b, rules)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			runHandler(b, Wrap(p, okHandler), benchRequest("GET", origin))
		})
	}
}

// BenchmarkEvaluate is the decision alone, with no response written.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1, 100} {
		rules, origin := benchRules(n)
		p := mustPolicy(b, rules)
		r := benchRequest("OPTIONS", origin, "Access-Control-Request-Method", "GET")
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := p.Evaluate(r, true); d.Result != Allowed {
					b.Fatal(d.Result)
				}
			}
		})
	}
}

// BenchmarkParseJSON times what a PUT in the aws cli's JSON costs the
// engine: three rules in the shape bench/putbuckets sends.
//
//	go test ./s3cors -run '^$' -bench ParseJSON -benchmem
func BenchmarkParseJSON(b *testing.B) {
	body := []byte(`{"CORSRules":[` +
		`{"ID":"r0","AllowedOrigins":["https://app0.bucket7.example.com"],"AllowedMethods":["GET","PUT","POST"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000},` +
		`{"ID":"r1","AllowedOrigins":["https://app1.bucket7.example.com"],"AllowedMethods":["GET","PUT"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000},` +
		`{"ID":"r2","AllowedOrigins":["https://app2.bucket7.example.com"],"AllowedMethods":["GET","PUT","POST"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}
