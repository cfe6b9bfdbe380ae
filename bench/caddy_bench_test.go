package bench

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/s3cors/caddy-s3cors"
	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// In-process benchmarks of a whole Caddy HTTP server: a real JSON
// configuration is loaded with caddy.Load (admin off, nothing persisted,
// storage in a temporary directory, logs discarded) and the server's
// ServeHTTP is called directly, so the numbers include Caddy's own request
// set-up (replacer, context values, idle-timeout wrappers, route
// compilation) but no network. Each benchmark has sub-benchmarks
// front=baseline and front=s3_cors (and front=s3_cors_app), so that
//
//	benchstat -col /front FILE
//
// prints the ratio. The baseline of an actual request is the same route
// without s3_cors (static_response only); the baseline of a preflight is a
// static_response that sends the very headers s3_cors answers the preflight
// with (checked before timing).

// discardWriter is a ResponseWriter whose header map is reused between
// requests, so that only the server allocates. It accepts deadlines, as
// net/http's writer does, so that Caddy's idle-timeout wrappers take their
// usual path.
type discardWriter struct {
	h      http.Header
	status int
	body   int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body += len(b)
	return len(b), nil
}
func (w *discardWriter) WriteHeader(code int)              { w.status = code }
func (w *discardWriter) SetWriteDeadline(time.Time) error  { return nil }
func (w *discardWriter) SetReadDeadline(time.Time) error   { return nil }
func (w *discardWriter) reset()                            { clear(w.h); w.status, w.body = 0, 0 }
func (w *discardWriter) FlushError() error                 { return nil }
func (w *discardWriter) snapshot() (http.Header, int, int) { return w.h.Clone(), w.status, w.body }

// The bucket, origin and rule of the single-bucket benchmarks.
const (
	bucket    = "photos"
	origin    = "https://app.example.com"
	oneRule   = `{"CORSRules":[{"ID":"app","AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET","HEAD"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]}`
	body      = "hello"
	varyValue = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
)

// handlers of the routes, as JSON.
var (
	staticBody = `{"handler":"static_response","status_code":200,"body":"` + body + `"}`
	s3CORS     = `{"handler":"s3_cors","buckets":{"` + bucket + `":` + oneRule + `}}`
	bareS3CORS = `{"handler":"s3_cors"}`
)

// respond returns a static_response sending the headers of an allowed
// preflight, as s3_cors does; acah is the Access-Control-Allow-Headers
// value, "" for none.
func respond(acao, acam, acah string) string {
	h := allowedHeaders(acao, acam)
	h["Content-Length"] = []string{"0"}
	if acah != "" {
		h["Access-Control-Allow-Headers"] = []string{acah}
	}
	hj, _ := json.Marshal(h)
	return `{"handler":"static_response","status_code":200,"headers":` + string(hj) + `}`
}

// setHeaders returns Caddy's `header` handler setting the headers s3_cors
// adds to an allowed actual response: what a hand-written, static CORS
// snippet costs, the floor of any CORS layer.
func setHeaders(acao, acam string) string {
	hj, _ := json.Marshal(allowedHeaders(acao, acam))
	return `{"handler":"headers","response":{"set":` + string(hj) + `}}`
}

// allowedHeaders are the CORS headers of the benchmarks' rule for an
// allowed request from acao with the methods acam.
func allowedHeaders(acao, acam string) map[string][]string {
	return map[string][]string{
		"Access-Control-Allow-Origin":      {acao},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Allow-Methods":     {acam},
		"Access-Control-Expose-Headers":    {"ETag"},
		"Access-Control-Max-Age":           {"3000"},
		"Vary":                             {varyValue},
	}
}

// caddyConfig is a configuration with one HTTP server per entry of routes,
// each with one route of the given handlers (JSON), on free ports of
// 127.0.0.1. Storage is a file-system storage rooted at storage.
func caddyConfig(tb testing.TB, storage string, routes map[string][]string) []byte {
	tb.Helper()
	servers := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(routes)) {
		handle := make([]json.RawMessage, 0, len(routes[name]))
		for _, h := range routes[name] {
			handle = append(handle, json.RawMessage(h))
		}
		servers[name] = map[string]any{
			"listen":          []string{"127.0.0.1:" + strconv.Itoa(testenv.FreePorts(tb, 1)[0])},
			"automatic_https": map[string]any{"disable": true},
			"routes":          []any{map[string]any{"handle": handle}},
		}
	}
	cfg := map[string]any{
		"admin":   map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"storage": map[string]any{"module": "file_system", "root": storage},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{
			"writer": map[string]any{"output": "discard"}, "level": "ERROR"}}},
		"apps": map[string]any{
			// No sync during the benchmark: the initial read at start is
			// what is measured.
			"s3_cors": map[string]any{"sync_interval": syncInterval},
			"http":    map[string]any{"servers": servers},
		},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// syncInterval is the s3_cors app's: no sync while timing, so only the
// read at start counts, unless a scale benchmark must wait for the sync
// loop to finish a read the start-up timeout cut short.
var syncInterval = "1h"

// load runs cfg with caddy.Load until stop is called, and returns the
// servers of the HTTP app by name.
func load(tb testing.TB, cfg []byte) (map[string]*caddyhttp.Server, func()) {
	tb.Helper()
	if err := caddy.Load(cfg, true); err != nil {
		tb.Fatalf("load: %v", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			if err := caddy.Stop(); err != nil {
				tb.Errorf("stop: %v", err)
			}
		}
	}
	tb.Cleanup(stop)
	app, err := caddy.ActiveContext().App("http")
	if err != nil {
		tb.Fatal(err)
	}
	return app.(*caddyhttp.App).Servers, stop
}

// request is a request to bucket's object a.jpg from origin; kv are more
// headers.
func request(method, bucket, origin string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, "http://127.0.0.1/"+bucket+"/a.jpg", nil)
	r.Header.Set("Origin", origin)
	for i := 0; i < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	return r
}

// serve sends r through srv once and returns the response.
func serve(srv http.Handler, r *http.Request) (http.Header, int, int) {
	w := &discardWriter{h: http.Header{}}
	r.Body = http.NoBody
	srv.ServeHTTP(w, r)
	return w.snapshot()
}

// run times srv answering r, after checking that it answers with status.
func run(b *testing.B, srv http.Handler, r *http.Request, status int) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		// Caddy's read-idle-timeout wrapper replaces the body of the
		// request it is given: give it the same one every time.
		r.Body = http.NoBody
		srv.ServeHTTP(w, r)
	}
	if w.status != status {
		b.Fatalf("status %d, want %d", w.status, status)
	}
}

// sameHeaders fails unless a and c (a preflight answered by s3_cors and by
// the static_response standing for it) carry the same header lines.
func sameHeaders(tb testing.TB, what string, a, c http.Header) {
	tb.Helper()
	// A header without values is not sent (static_response sets an empty
	// Content-Type to stop sniffing).
	sent := func(h http.Header) http.Header {
		h = h.Clone()
		maps.DeleteFunc(h, func(_ string, v []string) bool { return len(v) == 0 })
		return h
	}
	a, c = sent(a), sent(c)
	if len(a) != len(c) {
		tb.Fatalf("%s: s3_cors sends %v, the baseline %v", what, a, c)
	}
	for k, v := range a {
		if !slices.Equal(v, c[k]) {
			tb.Fatalf("%s: %s: s3_cors sends %q, the baseline %q", what, k, v, c[k])
		}
	}
}

// fronts runs the request kinds through the servers: for each kind, the
// baseline server and the s3_cors servers (fronts other than "baseline"
// name servers in srv; the baseline server is given per kind).
type kind struct {
	name     string
	req      func() *http.Request
	status   int
	baseline string // server answering the baseline
	// same: the baseline must send exactly the headers s3_cors sends
	// (a static preflight answer).
	same bool
}

func benchKinds(b *testing.B, servers map[string]*caddyhttp.Server, kinds []kind, fronts []string) {
	for _, k := range kinds {
		b.Run("kind="+k.name, func(b *testing.B) {
			// Check the answers before timing them.
			base := servers[k.baseline]
			bh, bstatus, _ := serve(base, k.req())
			if bstatus != k.status {
				b.Fatalf("baseline %s: status %d", k.baseline, bstatus)
			}
			for _, f := range fronts {
				h, status, _ := serve(servers[f], k.req())
				if status != k.status || h.Get("Access-Control-Allow-Origin") == "" {
					b.Fatalf("%s: status %d, headers %v", f, status, h)
				}
				if k.same {
					sameHeaders(b, k.name+" "+f, h, bh)
				}
			}
			b.Run("front=baseline", func(b *testing.B) { run(b, base, k.req(), k.status) })
			for _, f := range fronts {
				b.Run("front="+f, func(b *testing.B) { run(b, servers[f], k.req(), k.status) })
			}
			for _, f := range fronts {
				b.Run("pair="+f, func(b *testing.B) { paired(b, base, servers[f], k.req(), k.req(), k.status) })
			}
		})
	}
}

// BenchmarkCaddy: one bucket with one rule, set statically in the handler
// (front=s3_cors) or in the app's storage (front=s3_cors_app).
//
//   - actual: an allowed GET; baseline: the same route without s3_cors.
//   - actual-vs-header-directive: the same GET; baseline: the route with
//     Caddy's `header` handler setting the same CORS headers statically.
//   - preflight: an allowed preflight with Access-Control-Request-Method
//     only; baseline: static_response sending the same headers.
//   - preflight-headers: the same with Access-Control-Request-Headers
//     `content-type,x-amz-date` (as browsers send for a signed PUT), whose
//     allowed-headers value s3_cors builds.
func BenchmarkCaddy(b *testing.B) {
	storage := b.TempDir()
	cfg, err := s3cors.ParseJSON([]byte(oneRule))
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(storage, "s3_cors", "buckets")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, bucket+".xml"), cfg.XML(), 0o644); err != nil {
		b.Fatal(err)
	}
	servers, _ := load(b, caddyConfig(b, storage, map[string][]string{
		"s3_cors":          {s3CORS, staticBody},
		"s3_cors_app":      {bareS3CORS, staticBody},
		"plain":            {staticBody},
		"respond":          {respond(origin, "GET, HEAD", "")},
		"respond_headers":  {respond(origin, "GET, HEAD", "content-type, x-amz-date")},
		"header_directive": {setHeaders(origin, "GET, HEAD"), staticBody},
	}))
	fronts := []string{"s3_cors", "s3_cors_app"}
	benchKinds(b, servers, []kind{
		{"actual", func() *http.Request { return request("GET", bucket, origin) }, http.StatusOK, "plain", false},
		{"actual-vs-header-directive", func() *http.Request { return request("GET", bucket, origin) }, http.StatusOK, "header_directive", true},
		{"preflight", func() *http.Request {
			return request("OPTIONS", bucket, origin, "Access-Control-Request-Method", "GET")
		}, http.StatusOK, "respond", true},
		{"preflight-headers", func() *http.Request {
			return request("OPTIONS", bucket, origin, "Access-Control-Request-Method", "GET",
				"Access-Control-Request-Headers", "content-type,x-amz-date")
		}, http.StatusOK, "respond_headers", true},
	}, fronts)
}

// scaleSize is the number of buckets and of rules per bucket of the scale
// benchmarks: 10,000 × 100 unless S3CORS_BENCH_BUCKETS / S3CORS_BENCH_RULES
// say otherwise.
func scaleSize(b *testing.B) (buckets, rules int) {
	buckets, rules = 10000, 100
	for name, v := range map[string]*int{"S3CORS_BENCH_BUCKETS": &buckets, "S3CORS_BENCH_RULES": &rules} {
		if s := os.Getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				b.Fatalf("%s=%q", name, s)
			}
			*v = n
		}
	}
	return buckets, rules
}

// heapInUse is HeapAlloc after a full collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkScale: 10,000 buckets of 100 rules, generated into a
// file-system storage and read by the s3_cors app at start. The request
// addresses the last bucket and matches the last rule of its 100.
//
//   - load: caddy.Load with those buckets; load-s is its wall time and
//     heap-MB the live heap it added (HeapAlloc after GC, minus before).
//   - actual, preflight: as in BenchmarkCaddy, through the app's
//     configurations (front=s3_cors, the bare handler).
func BenchmarkScale(b *testing.B) {
	n, rules := scaleSize(b)
	storage := b.TempDir()
	start := time.Now()
	if err := WriteBuckets(storage, n, rules); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d buckets of %d rules in %v", n, rules, time.Since(start).Round(time.Millisecond))
	last := n - 1
	bkt, org := BucketName(last), RuleOrigin(last, rules-1)
	routes := map[string][]string{
		"s3_cors": {bareS3CORS, staticBody},
		"plain":   {staticBody},
		"respond": {respond(org, "GET, PUT", "")},
	}
	if (rules-1)%2 == 0 {
		routes["respond"] = []string{respond(org, "GET, PUT, POST", "")}
	}

	// A first read that fails is retried by the sync loop: let it run
	// every 2 s.
	syncInterval = "2s"
	defer func() { syncInterval = "1h" }()
	b.Run("load", func(b *testing.B) {
		var took time.Duration
		var heap int64
		for b.Loop() {
			before := heapInUse()
			start := time.Now()
			servers, stop := load(b, caddyConfig(b, storage, routes))
			for {
				_, status, _ := serve(servers["s3_cors"], request("OPTIONS", bkt, org, "Access-Control-Request-Method", "GET"))
				if status == http.StatusOK {
					break
				}
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("bucket %s not configured after %v", bkt, time.Since(start))
				}
				time.Sleep(50 * time.Millisecond)
			}
			took += time.Since(start)
			heap += int64(heapInUse()) - int64(before)
			stop()
		}
		b.ReportMetric(took.Seconds()/float64(b.N), "load-s")
		b.ReportMetric(float64(heap)/float64(b.N)/(1<<20), "heap-MB")
	})

	start = time.Now()
	servers, _ := load(b, caddyConfig(b, storage, routes))
	for {
		if _, status, _ := serve(servers["s3_cors"], request("OPTIONS", bkt, org, "Access-Control-Request-Method", "GET")); status == http.StatusOK {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("bucket %s not configured after %v", bkt, time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	benchKinds(b, servers, []kind{
		{"actual", func() *http.Request { return request("GET", bkt, org) }, http.StatusOK, "plain", false},
		{"preflight", func() *http.Request {
			return request("OPTIONS", bkt, org, "Access-Control-Request-Method", "GET")
		}, http.StatusOK, "respond", true},
	}, []string{"s3_cors"})
}

// paired times base and front alternately, in batches of batchSize
// requests (the order of the two swapped every pair), and reports the
// median over pairs of front's time divided by base's ("ratio"), and the
// median time per request of each ("base-ns", "front-ns"). A pair of
// batches runs back to back, so a neighbour's load on a shared machine
// hits both alike: the median ratio is much steadier than two ns/op
// measured minutes apart. ns/op is the time of one pair of batches.
func paired(b *testing.B, base, front http.Handler, rb, rf *http.Request, status int) {
	const batchSize = 256
	wb, wf := &discardWriter{h: http.Header{}}, &discardWriter{h: http.Header{}}
	batch := func(h http.Handler, w *discardWriter, r *http.Request) time.Duration {
		start := time.Now()
		for range batchSize {
			w.reset()
			r.Body = http.NoBody
			h.ServeHTTP(w, r)
		}
		return time.Since(start)
	}
	var ratios, baseNS, frontNS []float64
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var tb, tf time.Duration
		if i%2 == 0 {
			tb = batch(base, wb, rb)
			tf = batch(front, wf, rf)
		} else {
			tf = batch(front, wf, rf)
			tb = batch(base, wb, rb)
		}
		i++
		ratios = append(ratios, float64(tf)/float64(tb))
		baseNS = append(baseNS, float64(tb)/batchSize)
		frontNS = append(frontNS, float64(tf)/batchSize)
	}
	if wb.status != status || wf.status != status {
		b.Fatalf("status %d and %d, want %d", wb.status, wf.status, status)
	}
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(median(baseNS), "base-ns")
	b.ReportMetric(median(frontNS), "front-ns")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// upstream starts a stand-in store on 127.0.0.1 that answers every GET
// with size bytes and the headers MinIO sends, its own permissive CORS
// headers included, and returns its host:port.
func upstream(b *testing.B, size int) string {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Accept-Ranges"] = []string{"bytes"}
		h["Content-Length"] = []string{strconv.Itoa(size)}
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Etag"] = []string{`"0123456789abcdef0123456789abcdef"`}
		h["Last-Modified"] = []string{"Mon, 02 Jan 2006 15:04:05 GMT"}
		h["Server"] = []string{"MinIO"}
		h["Vary"] = []string{"Origin", "Accept-Encoding"}
		h["X-Amz-Request-Id"] = []string{"17F0A1B2C3D4E5F6"}
		if r.Header.Get("Origin") != "" {
			h["Access-Control-Allow-Origin"] = []string{r.Header.Get("Origin")}
			h["Access-Control-Allow-Credentials"] = []string{"true"}
			h["Access-Control-Expose-Headers"] = []string{"Date, Etag, Server, Connection, Accept-Ranges, Content-Range, Content-Encoding, Content-Length, Content-Type, Content-Disposition, Last-Modified, Content-Language, Cache-Control, Retry-After, X-Amz-Bucket-Region, Expires, X-Amz*, X-Amz*, *"}
		}
		_, _ = w.Write(payload)
	}))
	b.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// BenchmarkCaddyProxy: s3_cors in front of reverse_proxy to a stand-in
// store on loopback (front=s3_cors), against reverse_proxy alone
// (baseline), for allowed GETs of a 1 KiB and a 1 MiB object. The store
// is reached over TCP; the client side is ServeHTTP, as above.
func BenchmarkCaddyProxy(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}} {
		proxy := `{"handler":"reverse_proxy","upstreams":[{"dial":"` + upstream(b, size.n) + `"}]}`
		servers, stop := load(b, caddyConfig(b, b.TempDir(), map[string][]string{
			"s3_cors": {s3CORS, proxy},
			"proxy":   {proxy},
		}))
		benchKinds(b, servers, []kind{
			{"actual-" + size.name, func() *http.Request { return request("GET", bucket, origin) }, http.StatusOK, "proxy", false},
		}, []string{"s3_cors"})
		stop()
	}
}
