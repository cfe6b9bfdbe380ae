package caddys3cors

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// minio stands in for MinIO: it adds its own permissive CORS headers to
// every response (any Origin echoed, with credentials) and sends Vary as
// two lines, then answers by path.
type minio struct {
	srv      *httptest.Server
	requests atomic.Int64
	options  atomic.Int64
	release  chan struct{} // the flush endpoint waits on it
}

const bigBody = 100 << 20 // 100 MiB

func newMinio(t *testing.T) *minio {
	m := &minio{release: make(chan struct{})}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *minio) addr() string { return m.srv.Listener.Addr().String() }

func (m *minio) serve(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	if r.Method == http.MethodOptions {
		m.options.Add(1)
	}
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "Date, Etag, Server, X-Amz-Request-Id")
	}
	h.Add("Vary", "Origin")
	h.Add("Vary", "Accept-Encoding")
	h.Set("X-Amz-Request-Id", "MINIO")
	switch {
	case strings.HasSuffix(r.URL.Path, "/big"):
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", fmt.Sprint(bigBody))
		chunk := make([]byte, 64<<10)
		for sent := 0; sent < bigBody; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case strings.HasSuffix(r.URL.Path, "/flush"):
		_, _ = io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-m.release:
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, "second\n")
	case strings.HasSuffix(r.URL.Path, "/hints"):
		h.Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		h.Del("Link")
		_, _ = io.WriteString(w, "hinted")
	case strings.HasSuffix(r.URL.Path, "/trailers"):
		h.Set("Trailer", "Access-Control-Allow-Origin, X-Checksum")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "trailed")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Checksum", "c")
		h[http.TrailerPrefix+"Access-Control-Allow-Credentials"] = []string{"true"}
	case strings.HasSuffix(r.URL.Path, "/etag"):
		h.Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", "5")
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "hello")
		}
	case r.URL.Path == "/":
		_, _ = io.WriteString(w, "ListAllMyBucketsResult")
	default:
		h.Set("Content-Length", "5")
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "hello")
		}
	}
}

const vary3 = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// siteConfig is an s3_cors block with an app rule, a wildcard rule and a
// default, in front of the stand-in store.
func siteConfig(m *minio, s3cors string) string {
	return s3cors + `
	header >X-Bucket "{http.s3_cors.bucket}"
	header >X-Result "{http.s3_cors.result}"
	header >X-Rule "{http.s3_cors.rule}"
	reverse_proxy ` + m.addr()
}

const photosRules = `
		bucket_config photos {
			rule {
				id app
				origins https://app.example.com
				methods GET HEAD
				headers *
				expose ETag
				max_age 3000
			}
			rule {
				origins *
				methods PUT
			}
		}`

func TestHandler(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, `
	s3_cors {`+photosRules+`
		bucket_config public {
			rule {
				origins *
				methods GET
			}
		}
	}`))
	app := liveApp()
	if app == nil {
		t.Fatal("no running s3_cors app")
	}
	if err := app.SetConfiguration(context.Background(), "dynamic", mustParse(t,
		`{"CORSRules":[{"ID":"from-api","AllowedOrigins":["https://api.example.com"],"AllowedMethods":["GET"]}]}`), "test"); err != nil {
		t.Fatal(err)
	}
	allowedApp := testenv.With(noCORS(),
		"Access-Control-Allow-Origin", "https://app.example.com",
		"Access-Control-Allow-Credentials", "true",
		"Access-Control-Allow-Methods", "GET, HEAD",
		"Access-Control-Expose-Headers", "ETag",
		"Access-Control-Max-Age", "3000",
	)
	appOrigin := map[string]string{"Origin": "https://app.example.com"}
	for _, tc := range []struct {
		name     string
		req      request
		status   int
		body     string // "" is not checked
		headers  map[string]string
		upstream bool // the request reaches the store
	}{
		{name: "preflight allowed", req: request{method: "OPTIONS", path: "/photos/a.jpg", headers: map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Amz-Date, Content-Type"}},
			status: 200, headers: testenv.With(allowedApp, "Access-Control-Allow-Headers", "x-amz-date, content-type", "Vary", vary3,
				"Content-Length", "0", "Content-Type", "", "X-Amz-Request-Id", "", "X-Bucket", "photos", "X-Result", "allowed", "X-Rule", "app")},
		{name: "preflight star rule", req: request{method: "OPTIONS", path: "/photos", headers: map[string]string{
			"Origin": "https://other.example", "Access-Control-Request-Method": "PUT"}},
			status: 200, headers: testenv.With(noCORS(), "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT", "Vary", vary3, "X-Rule", "1")},
		{name: "preflight denied", req: request{method: "OPTIONS", path: "/photos/a.jpg", headers: map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}},
			status: 403, body: "<Code>AccessForbidden</Code>", headers: testenv.With(noCORS(), "Content-Type", "application/xml", "X-Result", "denied", "X-Rule", "")},
		{name: "preflight without origin", req: request{method: "OPTIONS", path: "/photos/a.jpg"},
			status: 400, body: "Insufficient information. Origin request header needed.", headers: testenv.With(noCORS(), "X-Result", "no_origin")},
		{name: "preflight bucket without configuration", req: request{method: "OPTIONS", path: "/nocors/a.jpg", headers: map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}},
			status: 403, body: "CORSResponse: CORS is not enabled for this bucket.", headers: testenv.With(noCORS(), "X-Bucket", "nocors", "X-Result", "not_configured")},
		{name: "preflight bad method", req: request{method: "OPTIONS", path: "/photos", headers: map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "PATCH"}},
			status: 400, body: "Invalid Access-Control-Request-Method: PATCH", headers: testenv.With(noCORS(), "X-Result", "bad_request")},
		{name: "preflight app configuration", req: request{method: "OPTIONS", path: "/dynamic/k", headers: map[string]string{
			"Origin": "https://api.example.com", "Access-Control-Request-Method": "GET"}},
			status: 200, headers: map[string]string{"Access-Control-Allow-Origin": "https://api.example.com", "X-Rule": "from-api"}},
		{name: "actual allowed", req: request{path: "/photos/a.jpg", headers: appOrigin}, status: 200, body: "hello", upstream: true,
			headers: testenv.With(allowedApp, "Vary", vary3+"\nAccept-Encoding", "X-Amz-Request-Id", "MINIO", "Content-Length", "5",
				"X-Bucket", "photos", "X-Result", "allowed", "X-Rule", "app")},
		{name: "actual denied", req: request{path: "/photos/a.jpg", headers: map[string]string{"Origin": "https://evil.example"}},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding", "X-Result", "denied")},
		{name: "actual without origin", req: request{path: "/photos/a.jpg"},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding", "X-Result", "no_origin")},
		{name: "actual bucket without configuration", req: request{path: "/nocors/a.jpg", headers: appOrigin},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding", "X-Result", "not_configured")},
		{name: "actual wildcard rule", req: request{path: "/public", headers: map[string]string{"Origin": "https://any.example"}},
			status: 200, upstream: true, headers: testenv.With(noCORS(), "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET",
				"Vary", vary3+"\nAccept-Encoding", "X-Rule", "0")},
		{name: "actual with ACRM of another rule", req: request{path: "/photos/a.jpg", headers: map[string]string{
			"Origin": "https://other.example", "Access-Control-Request-Method": "PUT"}},
			status: 200, upstream: true, headers: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT"}},
		{name: "head keeps semantics", req: request{method: "HEAD", path: "/photos/etag", headers: appOrigin},
			status: 200, body: "", upstream: true, headers: testenv.With(allowedApp, "Vary", vary3+"\nAccept-Encoding", "Content-Length", "5", "Etag", `"v1"`)},
		{name: "not modified keeps semantics", req: request{path: "/photos/etag", headers: map[string]string{
			"Origin": "https://app.example.com", "If-None-Match": `"v1"`}},
			status: 304, upstream: true, headers: testenv.With(allowedApp, "Vary", vary3+"\nAccept-Encoding", "Etag", `"v1"`)},
		// Requests attributed to no bucket: none of the store's CORS
		// headers, no rule's; preflights refused, never forwarded.
		{name: "no bucket loses the store's CORS headers", req: request{path: "/", headers: appOrigin},
			status: 200, body: "ListAllMyBucketsResult", upstream: true, headers: testenv.With(noCORS(),
				"Vary", "Accept-Encoding", "X-Bucket", "{http.s3_cors.bucket}", "X-Result", "{http.s3_cors.result}")},
		{name: "no bucket preflight refused", req: request{method: "OPTIONS", path: "/", headers: map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}},
			status: 403, body: "CORSResponse: Bucket not found", headers: noCORS()},
		{name: "double slash preflight refused", req: request{method: "OPTIONS", path: "//photos/hello.txt", headers: map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}},
			status: 403, body: "CORSResponse: Bucket not found", headers: noCORS()},
		{name: "double slash preflight without origin", req: request{method: "OPTIONS", path: "//photos/hello.txt"},
			status: 400, body: "Origin request header needed", headers: noCORS()},
		{name: "double slash actual", req: request{path: "//photos/a.jpg", headers: map[string]string{"Origin": "https://evil.example"}},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding")},
		{name: "double slash actual from an allowed origin", req: request{path: "//photos/a.jpg", headers: appOrigin},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding")},
		{name: "encoded slash preflight refused", req: request{method: "OPTIONS", path: "/%2Fphotos/a.jpg", headers: map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}},
			status: 403, body: "CORSResponse: Bucket not found", headers: noCORS()},
		{name: "encoded slash actual", req: request{path: "/%2Fphotos/a.jpg", headers: map[string]string{"Origin": "https://evil.example"}},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding")},
		{name: "encoded slash in bucket actual", req: request{path: "/photos%2Fa.jpg", headers: appOrigin},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding")},
		{name: "dot-dot actual", req: request{path: "/photos/../private/a.jpg", headers: appOrigin},
			status: 200, body: "hello", upstream: true, headers: testenv.With(noCORS(), "Vary", "Accept-Encoding")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, optionsBefore := m.requests.Load(), m.options.Load()
			res, body := do(t, base, tc.req)
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", res.StatusCode, tc.status, body)
			}
			if !strings.Contains(body, tc.body) {
				t.Errorf("body %q, want it to contain %q", body, tc.body)
			}
			if tc.req.method == "HEAD" && body != "" {
				t.Errorf("HEAD body %q", body)
			}
			checkHeaders(t, res.Header, tc.headers)
			reached := m.requests.Load() != before
			if reached != tc.upstream {
				t.Errorf("reached the store: %v, want %v", reached, tc.upstream)
			}
			if tc.req.method == "OPTIONS" && m.options.Load() != optionsBefore {
				t.Error("a preflight reached the store")
			}
		})
	}
	if err := app.DeleteConfiguration(context.Background(), "dynamic", "test"); err != nil {
		t.Fatal(err)
	}
	res, _ := do(t, base, request{method: "OPTIONS", path: "/dynamic/k", headers: map[string]string{
		"Origin": "https://api.example.com", "Access-Control-Request-Method": "GET"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("after delete: status %d, want 403", res.StatusCode)
	}
}

func TestHandlerResolution(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, `
	s3_cors {
		bucket host s3.example.com *.example.org`+photosRules+`
		default {
			rule {
				id fallback
				origins https://default.example.com
				methods GET
			}
		}
	}`))
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET"}
	}
	for _, tc := range []struct {
		name   string
		req    request
		status int
		want   map[string]string
	}{
		{"virtual-hosted bucket", request{method: "OPTIONS", host: "photos.s3.example.com", path: "/a.jpg", headers: preflight("https://app.example.com")},
			200, map[string]string{"X-Bucket": "photos", "X-Rule": "app", "Access-Control-Allow-Origin": "https://app.example.com"}},
		{"virtual-hosted wildcard base", request{method: "OPTIONS", host: "photos.eu.example.org:443", path: "/", headers: preflight("https://app.example.com")},
			200, map[string]string{"X-Bucket": "photos", "X-Rule": "app"}},
		{"service endpoint is path style", request{method: "OPTIONS", host: "s3.example.com", path: "/photos/a.jpg", headers: preflight("https://app.example.com")},
			200, map[string]string{"X-Bucket": "photos"}},
		{"default configuration", request{method: "OPTIONS", host: "videos.s3.example.com", path: "/a", headers: preflight("https://default.example.com")},
			200, map[string]string{"X-Bucket": "videos", "X-Rule": "fallback", "Access-Control-Allow-Origin": "https://default.example.com"}},
		{"default configuration denies", request{method: "OPTIONS", host: "videos.s3.example.com", path: "/a", headers: preflight("https://app.example.com")},
			403, map[string]string{"X-Result": "denied"}},
		{"default on actual request", request{host: "videos.s3.example.com", path: "/a", headers: map[string]string{"Origin": "https://default.example.com"}},
			200, map[string]string{"Access-Control-Allow-Origin": "https://default.example.com", "Vary": vary3 + "\nAccept-Encoding"}},
		{"foreign host loses the store's CORS headers", request{host: "photos.example.net", path: "/a", headers: map[string]string{"Origin": "https://app.example.com"}},
			200, testenv.With(noCORS(), "X-Bucket", "{http.s3_cors.bucket}", "Vary", "Accept-Encoding")},
		{"foreign host preflight refused", request{method: "OPTIONS", host: "photos.example.net", path: "/a", headers: preflight("https://app.example.com")},
			403, testenv.With(noCORS(), "X-Bucket", "{http.s3_cors.bucket}")},
		// MinIO reads these hosts path style (trailing dot) or as another
		// bucket (upper case): no rule's headers, none of the store's.
		{"trailing-dot host", request{host: "photos.s3.example.com.", path: "/private/s.txt", headers: map[string]string{"Origin": "https://app.example.com"}},
			200, testenv.With(noCORS(), "X-Bucket", "{http.s3_cors.bucket}", "Vary", "Accept-Encoding")},
		{"trailing-dot host with port", request{host: "photos.s3.example.com.:443", path: "/private/s.txt", headers: map[string]string{"Origin": "https://app.example.com"}},
			200, testenv.With(noCORS(), "Vary", "Accept-Encoding")},
		{"upper-case host", request{host: "PHOTOS.s3.example.com", path: "/s.txt", headers: map[string]string{"Origin": "https://app.example.com"}},
			200, testenv.With(noCORS(), "Vary", "Accept-Encoding")},
		{"trailing-dot host preflight refused", request{method: "OPTIONS", host: "photos.s3.example.com.", path: "/a.jpg", headers: preflight("https://app.example.com")},
			403, noCORS()},
		{"upper-case host preflight refused", request{method: "OPTIONS", host: "Photos.S3.Example.Com", path: "/a.jpg", headers: preflight("https://app.example.com")},
			403, noCORS()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, base, tc.req)
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", res.StatusCode, tc.status, body)
			}
			checkHeaders(t, res.Header, tc.want)
		})
	}
}

func TestHandlerKeepUpstreamCORS(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, `
	s3_cors {
		keep_upstream_cors`+photosRules+`
	}`))
	res, _ := do(t, base, request{path: "/nocors/a", headers: map[string]string{"Origin": "https://x.example"}})
	checkHeaders(t, res.Header, map[string]string{
		"Access-Control-Allow-Origin": "https://x.example", "Access-Control-Allow-Credentials": "true", "Vary": "Origin\nAccept-Encoding"})
	res, _ = do(t, base, request{path: "/photos/a", headers: map[string]string{"Origin": "https://other.example", "Access-Control-Request-Method": "PUT"}})
	checkHeaders(t, res.Header, map[string]string{
		"Access-Control-Allow-Origin":   "*",
		"Access-Control-Allow-Methods":  "PUT",
		"Access-Control-Expose-Headers": "",
		"Vary":                          vary3 + "\nAccept-Encoding",
	})
}

// TestHandlerStoreDown: when reverse_proxy cannot reach the store, Caddy
// answers 502 itself, without any CORS header; in handle_errors, s3_cors
// decorates the error response.
func TestHandlerStoreDown(t *testing.T) {
	down := fmt.Sprintf("127.0.0.1:%d", testenv.FreePorts(t, 1)[0])
	for _, tc := range []struct {
		name, site string
		want       map[string]string
	}{
		{"no CORS headers", `
	s3_cors {` + photosRules + `
	}
	reverse_proxy ` + down, noCORS()},
		{"s3_cors in handle_errors", `
	s3_cors {` + photosRules + `
	}
	reverse_proxy ` + down + `
	handle_errors {
		s3_cors {` + photosRules + `
		}
		respond "store unavailable" {err.status_code}
	}`, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Vary": vary3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := startCaddy(t, "", tc.site)
			res, _ := do(t, base, request{path: "/photos/a", headers: map[string]string{"Origin": "https://app.example.com"}})
			if res.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d, want 502", res.StatusCode)
			}
			checkHeaders(t, res.Header, tc.want)
		})
	}
}

// TestHandlerNextError checks the handler alone: the store's CORS headers
// that next put in the header map before failing are removed, and none of
// the rule's are added.
func TestHandlerNextError(t *testing.T) {
	h := photosHandler(t, getRuleJSON)
	failure := errors.New("store down")
	for _, tc := range []struct {
		name string
		keep bool
		want map[string]string
	}{
		{"strip", false, testenv.With(noCORS(), "X-Other", "kept", "Vary", "Accept-Encoding")},
		{"keep", true, map[string]string{"Access-Control-Allow-Origin": "https://x.example", "Vary": "Origin, Accept-Encoding"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.KeepUpstreamCORS = tc.keep
			r := httptest.NewRequest("GET", "/photos/a", nil)
			r.Header.Set("Origin", "https://x.example")
			w := httptest.NewRecorder()
			err := h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Access-Control-Allow-Origin", "https://x.example")
				w.Header().Set("Vary", "Origin, Accept-Encoding")
				w.Header().Set("X-Other", "kept")
				return failure
			}))
			if err != failure {
				t.Fatalf("error %v, want %v", err, failure)
			}
			checkHeaders(t, w.Header(), tc.want)
		})
	}
}

func TestHandlerNextWritesNothing(t *testing.T) {
	h := photosHandler(t, getRuleJSON)
	r := httptest.NewRequest("GET", "/photos/a", nil)
	r.Header.Set("Origin", "https://x.example")
	w := httptest.NewRecorder()
	err := h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	checkHeaders(t, w.Header(), testenv.With(noCORS(), "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET", "Vary", vary3))
}

func TestHandlerStreaming(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, "s3_cors {"+photosRules+"\n}"))

	r, _ := http.NewRequest("GET", base+"/photos/big", nil)
	r.Header.Set("Origin", "https://app.example.com")
	res, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	checkHeaders(t, res.Header, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Content-Length": fmt.Sprint(bigBody)})

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseline, peak := ms.HeapAlloc, ms.HeapAlloc
	buf := make([]byte, 32<<10)
	var total int64
	for next := int64(0); ; {
		n, err := res.Body.Read(buf)
		total += int64(n)
		if total >= next {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			next += 10 << 20
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != bigBody {
		t.Errorf("read %d bytes, want %d", total, bigBody)
	}
	growth := int64(peak) - int64(baseline)
	t.Logf("heap growth while streaming 100 MiB: %d KiB", growth>>10)
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MiB while streaming 100 MiB: the body is buffered", growth>>20)
	}
}

func TestHandlerFlush(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, "s3_cors {"+photosRules+"\n}"))

	type first struct {
		res  *http.Response
		br   *bufio.Reader
		line string
		err  error
	}
	got := make(chan first, 1)
	go func() {
		r, _ := http.NewRequest("GET", base+"/photos/flush", nil)
		r.Header.Set("Origin", "https://app.example.com")
		res, err := client.Do(r)
		if err != nil {
			got <- first{err: err}
			return
		}
		br := bufio.NewReader(res.Body)
		line, err := br.ReadString('\n')
		got <- first{res, br, line, err}
	}()
	// The store holds the rest of the body back until released: only a
	// flush that reaches the client brings the headers and first chunk.
	var f first
	select {
	case f = <-got:
	case <-time.After(3 * time.Second):
		close(m.release)
		t.Fatal("the first chunk did not arrive while the store waited: the flush was lost")
	}
	close(m.release)
	if f.err != nil || f.line != "first\n" {
		t.Fatalf("first chunk %q, %v", f.line, f.err)
	}
	defer f.res.Body.Close()
	checkHeaders(t, f.res.Header, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Vary": vary3 + "\nAccept-Encoding"})
	rest, err := io.ReadAll(f.br)
	if err != nil || string(rest) != "second\n" {
		t.Errorf("rest %q, %v", rest, err)
	}
}

// TestHandlerInformational: a 1xx response passes through without the
// store's CORS headers and the final response still gets exactly the
// rule's headers.
func TestHandlerInformational(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, "s3_cors {"+photosRules+"\n}"))

	var hints []http.Header
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			hints = append(hints, http.Header(h))
		}
		return nil
	}}
	r, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/photos/hints", nil)
	r.Header.Set("Origin", "https://app.example.com")
	res, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "hinted" {
		t.Errorf("final response %d %q", res.StatusCode, body)
	}
	if len(hints) != 1 || hints[0].Get("Link") == "" {
		t.Fatalf("103 Early Hints not passed through: %v", hints)
	}
	// The stand-in store sent its CORS headers with the 103 too.
	checkHeaders(t, hints[0], testenv.With(noCORS(), "Vary", "Accept-Encoding"))
	checkHeaders(t, res.Header, testenv.With(noCORS(),
		"Access-Control-Allow-Origin", "https://app.example.com",
		"Access-Control-Allow-Credentials", "true",
		"Access-Control-Allow-Methods", "GET, HEAD",
		"Access-Control-Expose-Headers", "ETag",
		"Access-Control-Max-Age", "3000",
		"Vary", vary3+"\nAccept-Encoding",
	))
}

// TestHandlerTrailers: CORS headers the store sends as trailers do not
// reach the client, whether it announced them or not; other trailers do.
func TestHandlerTrailers(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", siteConfig(m, "s3_cors {"+photosRules+"\n}"))
	for _, origin := range []string{"https://app.example.com", "https://evil.example"} {
		t.Run(origin, func(t *testing.T) {
			r, _ := http.NewRequest("GET", base+"/photos/trailers", nil)
			r.Header.Set("Origin", origin)
			res, err := client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != "trailed" {
				t.Fatalf("body %q", body)
			}
			checkHeaders(t, res.Trailer, testenv.With(noCORS(), "X-Checksum", "c"))
		})
	}
}
