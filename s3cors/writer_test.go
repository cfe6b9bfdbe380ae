package s3cors

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
)

func TestDecorateVary(t *testing.T) {
	allow := `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`
	tests := []struct {
		name     string
		rules    string
		origin   string
		keep     bool
		upstream http.Header
		want     http.Header // exact final CORS and Vary headers
	}{
		{"minio lines, match", allow, "o", false,
			hdr("Vary", "Origin", "Vary", "Accept-Encoding", "Access-Control-Allow-Origin", "o", "Access-Control-Allow-Credentials", "true"),
			http.Header{hdrVary: {varyValueFirstLine, "Accept-Encoding"}, hdrAllowOrigin: {"*"}, hdrAllowMethods: {"GET"}}},
		{"minio lines, no match", allow, "", false,
			hdr("Vary", "Origin", "Vary", "Accept-Encoding", "Access-Control-Allow-Origin", "o"),
			http.Header{hdrVary: {"Accept-Encoding"}}},
		{"mixed tokens in one line", `[{"AllowedOrigins":["x"],"AllowedMethods":["GET"]}]`, "o", false,
			hdr("Vary", "origin, Accept-Encoding,Access-Control-Request-Method , Cookie"),
			http.Header{hdrVary: {"Accept-Encoding, Cookie"}}},
		{"only cors tokens", allow, "", false,
			hdr("Vary", "Origin, Access-Control-Request-Headers"),
			http.Header{}},
		{"expose headers from upstream removed", allow, "o", false,
			hdr("Access-Control-Expose-Headers", "Date", "access-control-max-age", "5"),
			http.Header{hdrVary: {varyValueFirstLine}, hdrAllowOrigin: {"*"}, hdrAllowMethods: {"GET"}}},
		{"keep upstream, no match", `[{"AllowedOrigins":["x"],"AllowedMethods":["GET"]}]`, "o", true,
			hdr("Vary", "Origin", "Access-Control-Allow-Origin", "o"),
			http.Header{hdrVary: {"Origin"}, hdrAllowOrigin: {"o"}}},
		{"keep upstream, a match replaces the whole set", allow, "o", true,
			hdr("Vary", "Origin", "Access-Control-Allow-Origin", "o", "Access-Control-Allow-Credentials", "true", "Access-Control-Expose-Headers", "Date"),
			http.Header{hdrVary: {varyValueFirstLine}, hdrAllowOrigin: {"*"}, hdrAllowMethods: {"GET"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.rules)
			r := httptest.NewRequest("GET", "/b/k", nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			d := p.Evaluate(r, true)
			h := tt.upstream.Clone()
			d.Decorate(h, tt.keep)
			for name, values := range h {
				if !strings.EqualFold(name, hdrVary) && !strings.HasPrefix(strings.ToLower(name), "access-control-") {
					continue
				}
				if strings.Join(tt.want[name], "|") != strings.Join(values, "|") {
					t.Errorf("%s = %q, want %q", name, values, tt.want[name])
				}
			}
			for name, values := range tt.want {
				if _, ok := h[name]; !ok {
					t.Errorf("%s missing, want %q", name, values)
				}
			}
		})
	}
}

func TestStripNonCanonical(t *testing.T) {
	h := http.Header{"access-control-allow-origin": {"x"}, "vary": {"origin"}, "X-Other": {"1"}}
	StripCORS(h)
	if len(h) != 1 || h.Get("X-Other") != "1" {
		t.Errorf("left %v", h)
	}
}

// TestSharedValuesNotModified checks that decorating a response never
// writes into the policy's precomputed slices.
func TestSharedValuesNotModified(t *testing.T) {
	p := mustPolicy(t, `[{"AllowedOrigins":["https://a"],"AllowedMethods":["GET"],"ExposeHeaders":["ETag"]}]`)
	for range 3 {
		r := httptest.NewRequest("GET", "/b/k", nil)
		r.Header.Set("Origin", "https://a")
		d := p.Evaluate(r, true)
		h := hdr("Vary", "Accept-Encoding")
		d.Decorate(h, false)
		h.Add(hdrVary, "X")
		h.Add(hdrAllowOrigin, "y")
		h.Add(hdrExposeHeaders, "z")
	}
	if varyValue[0] != varyValueFirstLine || len(varyValue) != 1 {
		t.Errorf("shared Vary changed: %q", varyValue)
	}
	if got := p.lookupOrigin("https://a").value; len(got) != 1 || got[0] != "https://a" {
		t.Errorf("shared origin value changed: %q", got)
	}
	if got := p.rules[0].aceh; len(got) != 1 || got[0] != "ETag" {
		t.Errorf("shared expose value changed: %q", got)
	}
}

func TestResponseWriterSemantics(t *testing.T) {
	p := mustPolicy(t, `[{"AllowedOrigins":["*"],"AllowedMethods":["GET","HEAD","PUT"]}]`)
	tests := []struct {
		name    string
		method  string
		handler http.HandlerFunc
		status  int
		body    string
	}{
		{"implicit 200 on write", "GET", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi") }, 200, "hi"},
		{"handler writes nothing", "GET", func(w http.ResponseWriter, r *http.Request) {}, 200, ""},
		{"error status decorated", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "evil")
			w.WriteHeader(404)
		}, 404, ""},
		{"304 keeps no body", "GET", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(304) }, 304, ""},
		{"HEAD", "HEAD", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(200)
		}, 200, ""},
		{"100 continue then final", "PUT", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "early")
			w.WriteHeader(100)
			w.WriteHeader(201)
		}, 201, ""},
		{"read from", "GET", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader("copied"))
		}, 200, "copied"},
		{"flush before write", "GET", func(w http.ResponseWriter, r *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			_, _ = io.WriteString(w, "after")
		}, 200, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(Wrap(p, tt.handler))
			defer srv.Close()
			req, _ := http.NewRequest(tt.method, srv.URL+"/b/k", nil)
			req.Header.Set("Origin", "https://a")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status || string(body) != tt.body {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tt.status, tt.body)
			}
			if got := res.Header.Values(hdrAllowOrigin); len(got) != 1 || got[0] != "*" {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
			if got := res.Header.Values(hdrVary); len(got) != 1 || got[0] != varyValueFirstLine {
				t.Errorf("Vary %q", got)
			}
		})
	}
}

// stringWriter has WriteString, as net/http's response writer has.
type stringWriter struct {
	discardWriter
	body []byte
}

func (w *stringWriter) Write(b []byte) (int, error) {
	w.body = append(w.body[:0], b...)
	return len(b), nil
}

func (w *stringWriter) WriteString(s string) (int, error) {
	w.body = append(w.body[:0], s...)
	return len(s), nil
}

// TestWriteStringReachesWriter checks that a store writing its body with
// io.WriteString reaches the underlying writer's WriteString, decorated,
// without copying the string into a new byte slice: the wrapper must not
// cost an allocation the bare writer would not.
func TestWriteStringReachesWriter(t *testing.T) {
	p := mustPolicy(t, `[{"AllowedOrigins":["https://a"],"AllowedMethods":["GET"]}]`)
	h := Wrap(p, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	r := httptest.NewRequest("GET", "/b/k", nil)
	r.Header.Set("Origin", "https://a")
	w := &stringWriter{discardWriter: discardWriter{h: http.Header{}}}
	serve := func() { clear(w.h); h.ServeHTTP(w, r) }
	serve()
	if string(w.body) != "hello" || w.h.Get(hdrAllowOrigin) != "https://a" {
		t.Fatalf("body %q, headers %v", w.body, w.h)
	}
	if got := testing.AllocsPerRun(100, serve); got != 0 {
		t.Errorf("%.0f allocations per request, want 0", got)
	}
}

// TestStreaming checks that the wrapper does not buffer: the client reads
// the first chunk while the handler still waits to write the second.
func TestStreaming(t *testing.T) {
	p := mustPolicy(t, `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`)
	release := make(chan struct{})
	srv := httptest.NewServer(Wrap(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second\n")
	})))
	defer srv.Close()
	defer close(release)
	req, _ := http.NewRequest("GET", srv.URL+"/b/k", nil)
	req.Header.Set("Origin", "o")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	if res.Header.Get(hdrAllowOrigin) != "*" {
		t.Errorf("headers not decorated before the first flush")
	}
}

// TestWrapUnattributed checks requests Wrap attributes to no bucket: the
// preflight is refused as one to a missing bucket and never reaches next,
// the actual response loses next's CORS headers and gets none.
func TestWrapUnattributed(t *testing.T) {
	p := mustPolicy(t, `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`)
	for _, tt := range []struct {
		name, method, target string
		status               int
	}{
		{"root preflight", "OPTIONS", "/", 403},
		{"root actual", "GET", "/", 200},
		{"double slash preflight", "OPTIONS", "//b/k", 403},
		{"double slash actual", "GET", "//b/k", 200},
		{"encoded slash preflight", "OPTIONS", "/%2Fb/k", 403},
		{"encoded slash in bucket actual", "GET", "/b%2Fk", 200},
		{"dot-dot actual", "GET", "/b/../c/k", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var called bool
			h := Wrap(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				w.Header().Set("Access-Control-Allow-Origin", "upstream")
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}))
			r := httptest.NewRequest(tt.method, "http://s3.test"+tt.target, nil)
			r.Header.Set("Origin", "o")
			r.Header.Set("Access-Control-Request-Method", "GET")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if called != (tt.method != "OPTIONS") {
				t.Errorf("next called: %v", called)
			}
			for name := range rec.Header() {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("%s: %q", name, rec.Header()[name])
				}
			}
			if tt.status == 403 && !strings.Contains(rec.Body.String(), "CORSResponse: Bucket not found") {
				t.Errorf("body %q", rec.Body.String())
			}
		})
	}
}

func TestSplitURL(t *testing.T) {
	tests := []struct {
		name, target string
		bucket       string
		object       bool
	}{
		{"root", "/", "", false},
		{"bucket", "/b", "b", false},
		{"bucket slash", "/b/", "b", false},
		{"object", "/b/k", "b", true},
		{"object slash", "/b/k/", "b", true},
		{"dotted key", "/b/a.b/c..d/.e", "b", true},
		{"dotted bucket", "/my.b/k", "my.b", true},
		{"double slash", "//b/k", "", false},
		{"encoded slash first", "/%2Fb/k", "", false},
		{"encoded slash in bucket", "/b%2Fk", "", false},
		{"encoded letter in bucket", "/%62/k", "", false},
		{"encoded key", "/b/k%2Fx", "b", true},
		{"dot segment", "/b/./k", "", false},
		{"dot-dot segment", "/b/../c/k", "", false},
		{"dot-dot bucket", "/../c/k", "", false},
		{"dot-dot last", "/b/k/..", "", false},
		{"dot-dot with spaces", "/b/%20..%20/k", "", false},
		{"backslash dot-dot", "/b\\..\\c", "", false},
		{"encoded dot-dot", "/b/%2E%2E/c", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.ParseRequestURI(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			b, o := SplitURL(u)
			if b != tt.bucket || o != tt.object {
				t.Errorf("got %q %v, want %q %v", b, o, tt.bucket, tt.object)
			}
		})
	}
}

// TestHasDotSegmentEveryShortPath compares hasDotSegment, which skips
// dots that no dot segment can hold, with the plain definition (split at
// the separators, trim the white space MinIO trims, compare) on every
// path of up to six bytes over the bytes that matter.
func TestHasDotSegmentEveryShortPath(t *testing.T) {
	plain := func(path string) bool {
		for seg := range strings.FieldsFuncSeq(path, func(r rune) bool { return r == '/' || r == '\\' }) {
			if seg = trimSpaceBytes(seg); seg == "." || seg == ".." {
				return true
			}
		}
		return false
	}
	alphabet := []byte{'.', '/', '\\', ' ', '\t', 0x85, 'a'}
	buf := make([]byte, 0, 6)
	var walk func()
	walk = func() {
		if got, want := hasDotSegment(string(buf)), plain(string(buf)); got != want {
			t.Fatalf("hasDotSegment(%q) = %v, want %v", buf, got, want)
		}
		if len(buf) == cap(buf) {
			return
		}
		for _, c := range alphabet {
			buf = append(buf, c)
			walk()
			buf = buf[:len(buf)-1]
		}
	}
	walk()
}

// TestInformationalCarriesNoStoreCORS checks that a 1xx response (103
// Early Hints, 100 Continue) goes out without the CORS headers the store
// put in the header map: net/http sends the whole map with a 1xx, and
// Caddy's reverse_proxy copies the store's 1xx headers into it. With
// keep, and no rule matched, the store's headers stay, as on the final
// response.
func TestInformationalCarriesNoStoreCORS(t *testing.T) {
	for _, tt := range []struct {
		name, rules string
		keep        bool
		wantKept    bool
	}{
		{"rule matched", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, false, false},
		{"no rule matched", `[{"AllowedOrigins":["https://other"],"AllowedMethods":["GET"]}]`, false, false},
		{"keep, rule matched", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, true, false},
		{"keep, no rule matched", `[{"AllowedOrigins":["https://other"],"AllowedMethods":["GET"]}]`, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.rules)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cw := acquireWriter(w, tt.keep)
				defer cw.Release()
				p.matchActual(&cw.decoration, r)
				h := cw.Header()
				h.Set("Link", "</a.css>; rel=preload")
				h.Set("Access-Control-Allow-Origin", "https://a")
				h.Set("access-control-allow-credentials", "true")
				h.Add("Vary", "Origin, Accept-Encoding")
				cw.WriteHeader(http.StatusEarlyHints)
				_, _ = io.WriteString(cw, "body")
			}))
			defer srv.Close()
			var hints []http.Header
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				hints = append(hints, http.Header(h))
				return nil
			}}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL+"/b/k", nil)
			req.Header.Set("Origin", "https://a")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if len(hints) != 1 || hints[0].Get("Link") == "" {
				t.Fatalf("103 not passed through: %v", hints)
			}
			kept := hints[0].Get(hdrAllowOrigin) != "" || hints[0].Get(hdrAllowCredentials) != "" || hints[0].Get(hdrVary) != "Accept-Encoding"
			if kept != tt.wantKept {
				t.Errorf("103 headers %v: store's CORS headers kept %v, want %v", hints[0], kept, tt.wantKept)
			}
		})
	}
}

// TestTrailersCarryNoStoreCORS checks that CORS headers sent as trailers
// do not get through: neither announced in a Trailer header (whose
// Access-Control-* and Vary names go) nor set after the body with
// http.TrailerPrefix (removed when the handler returns), as Caddy's
// reverse_proxy passes a store's trailers on. Other trailers stay.
func TestTrailersCarryNoStoreCORS(t *testing.T) {
	for _, tt := range []struct {
		name, rules string
	}{
		{"rule matched", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`},
		{"no rule matched", `[{"AllowedOrigins":["https://other"],"AllowedMethods":["GET"]}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.rules)
			srv := httptest.NewServer(Wrap(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Trailer", "Access-Control-Allow-Origin, X-Checksum")
				h.Add("Trailer", "vary")
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, "body")
				h.Add("Access-Control-Allow-Origin", "https://a")
				h.Set("X-Checksum", "c")
				h.Add("Vary", "Origin")
				h[http.TrailerPrefix+"Access-Control-Allow-Credentials"] = []string{"true"}
				h[http.TrailerPrefix+"access-control-expose-headers"] = []string{"ETag"}
				h[http.TrailerPrefix+"X-Other"] = []string{"o"}
			})))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/b/k", nil)
			req.Header.Set("Origin", "https://a")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != "body" {
				t.Fatalf("body %q", body)
			}
			for name, values := range res.Trailer {
				if strings.HasPrefix(strings.ToLower(name), "access-control-") || strings.EqualFold(name, hdrVary) {
					t.Errorf("trailer %s: %q", name, values)
				}
			}
			if res.Trailer.Get("X-Checksum") != "c" || res.Trailer.Get("X-Other") != "o" {
				t.Errorf("other trailers lost: %v", res.Trailer)
			}
		})
	}
}
