package cli

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/api"
)

// checkingAdmin records what the bridge forwards and checks it as Caddy's
// admin listener does: the Host, and an Origin naming it when one is sent.
type checkingAdmin struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (f *checkingAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen = append(f.seen, r.Clone(r.Context()))
	f.mu.Unlock()
	_, hasSec := r.Header["Sec-Fetch-Mode"]
	if o := r.Header.Get("Origin"); hasSec || (o != "" && o != "http://"+r.Host) {
		http.Error(w, `{"error":"client is not allowed"}`, http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, r.Method+" "+r.URL.Path)
}

func (f *checkingAdmin) last() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		return nil
	}
	return f.seen[len(f.seen)-1]
}

func TestPageBridge(t *testing.T) {
	admin := &checkingAdmin{}
	adminSrv := httptest.NewServer(admin)
	defer adminSrv.Close()
	b, err := newPageBridge(strings.TrimPrefix(adminSrv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	b.host = "127.0.0.1:4242"
	token := api.PageTokenHeader

	tests := []struct {
		name     string
		method   string
		target   string
		header   []string
		status   int
		location string
		forward  bool // the request reached the admin API
	}{
		{name: "page, without the secret", method: "GET", target: "/s3_cors/", header: []string{"Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "none"},
			status: 200, forward: true},
		{name: "its script", method: "GET", target: "/s3_cors/page.js", status: 200, forward: true},
		{name: "its stylesheet", method: "HEAD", target: "/s3_cors/page.css", status: 200, forward: true},
		{name: "a route without the secret", method: "GET", target: "/s3_cors/sources", status: http.StatusUnauthorized},
		{name: "a route with a wrong secret", method: "GET", target: "/s3_cors/sources", header: []string{token, "x" + b.token}, status: http.StatusUnauthorized},
		// A browser sends a cookie of 127.0.0.1 to every port of it: the
		// secret is never taken from one.
		{name: "the secret in a cookie", method: "GET", target: "/s3_cors/sources", header: []string{"Cookie", "s3cors_page=" + b.token}, status: http.StatusUnauthorized},
		{name: "the secret in the query", method: "GET", target: "/s3_cors/sources?token=" + b.token, status: http.StatusUnauthorized},
		{name: "a route", method: "GET", target: "/s3_cors/sources", header: []string{token, b.token, "Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "same-origin"},
			status: 200, forward: true},
		{name: "another Host (DNS rebinding)", method: "GET", target: "/s3_cors/", header: []string{token, b.token, "Host", "evil.example:4242"}, status: http.StatusForbidden},
		{name: "another Host for a route", method: "GET", target: "/s3_cors/sources", header: []string{token, b.token, "Host", "evil.example:4242"}, status: http.StatusForbidden},
		{name: "same-origin write", method: "PUT", target: "/s3_cors/buckets/photos",
			header: []string{token, b.token, "Origin", "http://127.0.0.1:4242", "Sec-Fetch-Mode", "cors", "Referer", "http://127.0.0.1:4242/s3_cors/"}, status: 200, forward: true},
		{name: "same-origin write without the secret", method: "PUT", target: "/s3_cors/buckets/photos",
			header: []string{"Origin", "http://127.0.0.1:4242"}, status: http.StatusUnauthorized},
		{name: "cross-origin write", method: "PUT", target: "/s3_cors/buckets/photos", header: []string{token, b.token, "Origin", "https://evil.example"}, status: http.StatusForbidden},
		{name: "write without Origin", method: "DELETE", target: "/s3_cors/buckets/photos", header: []string{token, b.token}, status: http.StatusForbidden},
		{name: "a write to the page's path", method: "POST", target: "/s3_cors/", status: http.StatusUnauthorized},
		{name: "outside the admin routes", method: "GET", target: "/config/", header: []string{token, b.token}, status: http.StatusSeeOther, location: "/s3_cors/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := admin.last()
			req := httptest.NewRequest(tt.method, "http://"+b.host+tt.target, nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				if tt.header[i] == "Host" {
					req.Host = tt.header[i+1]
					continue
				}
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			rec := httptest.NewRecorder()
			b.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if c := rec.Header().Values("Set-Cookie"); len(c) != 0 {
				t.Errorf("Set-Cookie %q: a cookie of 127.0.0.1 reaches every port of it", c)
			}
			if tt.location != "" && rec.Header().Get("Location") != tt.location {
				t.Errorf("Location %q", rec.Header().Get("Location"))
			}
			got := admin.last()
			if !tt.forward {
				if got != before {
					t.Errorf("forwarded %s %s", got.Method, got.URL)
				}
				return
			}
			if got == before {
				t.Fatal("not forwarded")
			}
			if got.Method != tt.method || got.URL.Path != strings.Split(tt.target, "?")[0] {
				t.Errorf("forwarded %s %s", got.Method, got.URL.Path)
			}
			for _, h := range []string{"Cookie", "Referer", "Sec-Fetch-Mode", "Sec-Fetch-Site", api.PageTokenHeader} {
				if v := got.Header.Get(h); v != "" {
					t.Errorf("forwarded %s: %q", h, v)
				}
			}
		})
	}
	t.Run("printed URL", func(t *testing.T) {
		// The secret is in the fragment, which a browser sends to no server.
		u, err := url.Parse(b.loginURL())
		if err != nil {
			t.Fatal(err)
		}
		if u.Host != b.host || u.Path != "/s3_cors/" || u.RawQuery != "" || u.Fragment != "token="+b.token {
			t.Errorf("printed URL %s", u)
		}
	})
}

func TestListenLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0", "nonsense"} {
		if ln, err := listenLoopback(addr); err == nil {
			ln.Close()
			t.Errorf("listenLoopback(%q) accepted", addr)
		}
	}
	ln, err := listenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// TestPageBridgeDefaultPort: on port 80 a browser names the address
// without the port, in Host, in Origin and in the URL it shows; the
// bridge must take those as its own.
func TestPageBridgeDefaultPort(t *testing.T) {
	admin := &checkingAdmin{}
	adminSrv := httptest.NewServer(admin)
	defer adminSrv.Close()
	for _, tt := range []struct{ listen, host string }{
		{"127.0.0.1:80", "127.0.0.1"},
		{"[::1]:80", "[::1]"},
		{"127.0.0.1:8019", "127.0.0.1:8019"},
	} {
		t.Run(tt.listen, func(t *testing.T) {
			b, err := newPageBridge(strings.TrimPrefix(adminSrv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			addr, err := net.ResolveTCPAddr("tcp", tt.listen)
			if err != nil {
				t.Fatal(err)
			}
			b.host = bridgeHost(addr)
			if want := "http://" + tt.host + "/s3_cors/#token=" + b.token; b.loginURL() != want {
				t.Errorf("printed URL %s, want %s", b.loginURL(), want)
			}
			req := httptest.NewRequest("PUT", "http://"+tt.host+"/s3_cors/buckets/photos", nil)
			req.Header.Set(api.PageTokenHeader, b.token)
			req.Header.Set("Origin", "http://"+tt.host)
			rec := httptest.NewRecorder()
			b.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("a write from the page at http://%s: %d %s", tt.host, rec.Code, rec.Body)
			}
		})
	}
}
