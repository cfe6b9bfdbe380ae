package caddys3cors

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// benchWriter is a ResponseWriter that keeps its header map between
// requests, so that only the code under test allocates.
type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(int)             {}
func (w *benchWriter) reset()                      { clear(w.h) }

// benchSetup returns a handler with one static bucket, its policy, and a
// request to it in a context like Caddy's server makes (with a replacer).
func benchSetup(tb testing.TB, method string, headers map[string]string) (*Handler, *s3cors.Policy, *http.Request) {
	tb.Helper()
	h := &Handler{Source: Source{
		Buckets: map[string]json.RawMessage{"photos": json.RawMessage(`{"CORSRules":[
			{"ID":"app","AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET","HEAD"],
			 "AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]}`)},
		app: new(App),
	}}
	if err := h.compile(); err != nil {
		tb.Fatal(err)
	}
	r := httptest.NewRequest(method, "/photos/a.jpg", nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	return h, h.static["photos"].policy, r
}

var (
	preflightHeaders = map[string]string{
		"Origin":                         "https://app.example.com",
		"Access-Control-Request-Method":  "GET",
		"Access-Control-Request-Headers": "content-type, x-amz-date",
	}
	actualHeaders = map[string]string{"Origin": "https://app.example.com"}
)

func nextCaddy(w http.ResponseWriter, _ *http.Request) error {
	w.Header()["Content-Length"] = []string{"5"}
	_, err := io.WriteString(w, "hello")
	return err
}

func nextHTTP(w http.ResponseWriter, r *http.Request) { _ = nextCaddy(w, r) }

func BenchmarkPreflight(b *testing.B) { benchHandlerAndEngine(b, http.MethodOptions, preflightHeaders) }

func BenchmarkActual(b *testing.B) { benchHandlerAndEngine(b, http.MethodGet, actualHeaders) }

// benchHandlerAndEngine times the same request through the Handler and
// through the engine's Wrap, side by side.
func benchHandlerAndEngine(b *testing.B, method string, headers map[string]string) {
	h, p, r := benchSetup(b, method, headers)
	w := &benchWriter{h: http.Header{}}
	b.Run("handler", func(b *testing.B) {
		next := caddyhttp.HandlerFunc(nextCaddy)
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			_ = h.ServeHTTP(w, r, next)
		}
	})
	b.Run("engine-wrap", func(b *testing.B) {
		wrapped := s3cors.Wrap(p, http.HandlerFunc(nextHTTP))
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			wrapped.ServeHTTP(w, r)
		}
	})
}

// requestKinds are the two requests the handler is measured on.
var requestKinds = []struct {
	name    string
	method  string
	headers map[string]string
}{
	{"actual", http.MethodGet, actualHeaders},
	{"preflight", http.MethodOptions, preflightHeaders},
}

// TestHandlerAllocations holds the handler to the benchmark's target: on
// the request path it allocates nothing beyond what the engine's Wrap does
// for the same request.
func TestHandlerAllocations(t *testing.T) {
	for _, tc := range requestKinds {
		t.Run(tc.name, func(t *testing.T) {
			h, p, r := benchSetup(t, tc.method, tc.headers)
			w := &benchWriter{h: http.Header{}}
			next := caddyhttp.HandlerFunc(nextCaddy)
			wrapped := s3cors.Wrap(p, http.HandlerFunc(nextHTTP))
			handler := testing.AllocsPerRun(200, func() { w.reset(); _ = h.ServeHTTP(w, r, next) })
			engine := testing.AllocsPerRun(200, func() { w.reset(); wrapped.ServeHTTP(w, r) })
			if handler > engine {
				t.Errorf("handler allocates %.0f times per request, the engine's Wrap %.0f", handler, engine)
			}
		})
	}
}

// BenchmarkHandlerFresh times the Caddy handler and the engine's Wrap on
// requests as a Caddy server hands them over: a fresh request header map,
// response writer and replacer (with the HTTP placeholders) each, so that
// every allocation either makes per request is counted (the harness's own
// are the same on both sides). It reports the process's CPU time per
// request as cpu-ns/op, and the two side by side as a paired ratio.
//
//	go test . -run '^$' -bench HandlerFresh -benchmem -cpu 1 -count 6 | benchstat -
func BenchmarkHandlerFresh(b *testing.B) {
	for _, tc := range requestKinds {
		h, p, r := benchSetup(b, tc.method, tc.headers)
		header := r.Header.Clone()
		ctx := context.Background()
		serve := func(b *testing.B, serve func(w http.ResponseWriter, r *http.Request)) {
			b.ReportAllocs()
			cpu := testenv.ProcessCPU()
			for b.Loop() {
				// A replacer with the HTTP placeholders, as Caddy's server
				// prepares one for every request.
				req := r.WithContext(ctx)
				caddyhttp.NewTestReplacer(req)
				req.Header = header.Clone()
				serve(testenv.NewFreshWriter(), req)
			}
			if cpu != 0 {
				b.ReportMetric(float64(testenv.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
			}
		}
		b.Run(tc.name+"/handler", func(b *testing.B) {
			next := caddyhttp.HandlerFunc(nextCaddy)
			serve(b, func(w http.ResponseWriter, r *http.Request) { _ = h.ServeHTTP(w, r, next) })
		})
		b.Run(tc.name+"/engine-wrap", func(b *testing.B) {
			serve(b, s3cors.Wrap(p, http.HandlerFunc(nextHTTP)).ServeHTTP)
		})
		b.Run(tc.name+"/handler-vs-engine-wrap", func(b *testing.B) {
			next := caddyhttp.HandlerFunc(nextCaddy)
			wrapped := s3cors.Wrap(p, http.HandlerFunc(nextHTTP))
			request := func() (http.ResponseWriter, *http.Request) {
				req := r.WithContext(ctx)
				caddyhttp.NewTestReplacer(req)
				req.Header = header.Clone()
				return testenv.NewFreshWriter(), req
			}
			testenv.PairedRatio(b, 256,
				func() { w, req := request(); _ = h.ServeHTTP(w, req, next) },
				func() { w, req := request(); wrapped.ServeHTTP(w, req) })
		})
	}
}
