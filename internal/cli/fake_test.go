package cli

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// recorded is one request the fake admin API received.
type recorded struct {
	Method, Path        string
	ContentType, Accept string
	ContentMD5, Origin  string
	Body                string
}

// fakeAdmin implements the /s3_cors/ admin routes minimally, with the
// engine, and records the requests it gets.
type fakeAdmin struct {
	mu       sync.Mutex
	configs  map[string]*s3cors.Configuration
	requests []recorded
}

// newFakeAdmin starts a fake admin API on 127.0.0.1 (or on a unix socket)
// holding the given configurations, and returns it with its address in
// Caddy's network address syntax.
func newFakeAdmin(t *testing.T, unix bool, configs map[string]string) (*fakeAdmin, string) {
	t.Helper()
	f := &fakeAdmin{configs: map[string]*s3cors.Configuration{}}
	for bucket, body := range configs {
		cfg, err := s3cors.Parse([]byte(body))
		if err != nil {
			t.Fatalf("seeding bucket %s: %v", bucket, err)
		}
		f.configs[bucket] = cfg
	}
	srv := httptest.NewUnstartedServer(f)
	addr := ""
	if unix {
		sock := filepath.Join(t.TempDir(), "admin.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatalf("listening on %s: %v", sock, err)
		}
		srv.Listener.Close()
		srv.Listener = ln
		addr = "unix/" + sock
	}
	srv.Start()
	t.Cleanup(srv.Close)
	if !unix {
		addr = srv.Listener.Addr().String()
	}
	return f, addr
}

// recorded returns the requests received so far.
func (f *fakeAdmin) recorded() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, recorded{
		Method:      r.Method,
		Path:        r.URL.EscapedPath(),
		ContentType: r.Header.Get("Content-Type"),
		Accept:      r.Header.Get("Accept"),
		ContentMD5:  r.Header.Get("Content-MD5"),
		Origin:      r.Header.Get("Origin"),
		Body:        string(body),
	})

	switch {
	case r.URL.Path == "/s3_cors/buckets" && r.Method == http.MethodGet:
		list := []string{}
		for b := range f.configs {
			list = append(list, b)
		}
		sort.Strings(list)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string][]string{"buckets": list})

	case r.URL.Path == "/s3_cors/explain" && r.Method == http.MethodPost:
		var req struct {
			Bucket  string            `json:"bucket"`
			Method  string            `json:"method"`
			Path    string            `json:"path"`
			Origin  string            `json:"origin"`
			Headers map[string]string `json:"headers"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, `{"error":"decoding request: `+err.Error()+`"}`, http.StatusBadRequest)
			return
		}
		cfg, ok := f.configs[req.Bucket]
		if !ok {
			s3err.NoSuchCORSConfiguration(req.Bucket).WriteTo(w)
			return
		}
		er := httptest.NewRequest(req.Method, "/"+req.Bucket+req.Path, nil)
		if req.Origin != "" {
			er.Header.Set("Origin", req.Origin)
		}
		for k, v := range req.Headers {
			er.Header.Set(k, v)
		}
		e := s3cors.Compile(cfg).Explain(er, req.Path != "/")
		if r.Header.Get("Accept") == "text/plain" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, e.String())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e)

	case strings.HasPrefix(r.URL.Path, "/s3_cors/buckets/"):
		bucket := strings.TrimPrefix(r.URL.Path, "/s3_cors/buckets/")
		if bucket == "caddy-error" {
			// Caddy's own error answer, as the admin listener gives for
			// a refused Origin.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":"client is not allowed to access from origin 'http://example.com'"}`)
			return
		}
		switch r.Method {
		case http.MethodPut:
			var cfg *s3cors.Configuration
			var err error
			if r.Header.Get("Content-Type") == "application/json" {
				cfg, err = s3cors.ParseJSON(body)
			} else {
				cfg, err = s3cors.ParseXML(body)
			}
			if err != nil {
				err.(*s3err.Error).WriteTo(w)
				return
			}
			f.configs[bucket] = cfg
		case http.MethodGet:
			cfg, ok := f.configs[bucket]
			if !ok {
				s3err.NoSuchCORSConfiguration(bucket).WriteTo(w)
				return
			}
			if r.Header.Get("Accept") == "application/json" {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(cfg.JSON())
				return
			}
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write(cfg.XML())
		case http.MethodDelete:
			delete(f.configs, bucket)
			w.WriteHeader(http.StatusNoContent)
		default:
			s3err.MethodNotAllowed(r.Method, "BUCKET").WriteTo(w)
		}

	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"not found"}`)
	}
}
