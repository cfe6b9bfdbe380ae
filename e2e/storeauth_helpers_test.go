package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// storeAuthSite is a site with s3_cors whose S3 API lets the store
// authorize `?cors` requests (`s3_api { authorize store }`), in front of
// upstream (host:port). Lines given go into the s3_api block as they are
// (such as "probe_interval 1s", or a bucket_check block from
// bucketCheck).
func storeAuthSite(upstream string, s3api ...string) string {
	block := "\t\t\tauthorize store\n"
	for _, l := range s3api {
		block += "\t\t\t" + l + "\n"
	}
	return `http://127.0.0.1:{{PORT0}} {
	s3_cors {
		s3_api {
` + block + `		}
	}
	reverse_proxy ` + upstream + `
}
`
}

// bucketCheck is the s3_api bucket_check block that asks the store at
// endpoint (host:port) with m's root credentials, every interval.
func bucketCheck(endpoint string, m *testenv.MinIO, interval string) string {
	return "bucket_check {\n\t\t\t\tendpoint " + endpoint +
		"\n\t\t\t\taccess_key " + m.AccessKey +
		"\n\t\t\t\tsecret_key " + m.SecretKey +
		"\n\t\t\t\tinterval " + interval + "\n\t\t\t}"
}

// startStoreSidecar starts MinIO and a sidecar in front of it in which
// MinIO's users and policies decide who manages CORS (the store mode);
// make users with m.AddUser and testenv.BucketPolicy. The tests of the S3
// API's clients run in both modes with it and startS3Sidecar.
func startStoreSidecar(t *testing.T) (*testenv.MinIO, *testenv.Caddy) {
	t.Helper()
	m := testenv.StartMinIO(t)
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s", "owner 123456789012")+storeAuthSite(m.Endpoint),
		testenv.CaddyOptions{Ports: 1})
	return m, c
}

// countingProxy is a reverse proxy in front of a store that counts the
// requests it passes, keeping their Host (MinIO checks the signed Host).
type countingProxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path?query"
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host
	}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.URL.RequestURI())
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// Addr is host:port of the proxy.
func (p *countingProxy) Addr() string { return strings.TrimPrefix(p.URL, "http://") }

// reset forgets the requests seen so far.
func (p *countingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = nil
}

// count returns how many of the requests seen were exactly request
// ("GET /").
func (p *countingProxy) count(request string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.seen {
		if s == request {
			n++
		}
	}
	return n
}

// requests returns the requests seen whose path starts with prefix.
func (p *countingProxy) requests(prefix string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range p.seen {
		_, target, _ := strings.Cut(s, " ")
		if strings.HasPrefix(target, prefix) {
			out = append(out, s)
		}
	}
	return out
}

// httptestStore starts a stand-in store answering with handle, and
// returns its host:port.
func httptestStore(t *testing.T, handle http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(handle)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
