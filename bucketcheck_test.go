package caddys3cors

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.uber.org/zap"
)

// fakeBuckets is a store's bucket API as the bucket checker uses it:
// ListBuckets (GET /), which may leave buckets out as a store does for
// credentials that may not see them, and HeadBucket.
type fakeBuckets struct {
	mu      sync.Mutex
	created map[string]time.Time // the buckets that exist
	hidden  map[string]bool      // left out of the list; HEAD is 403
	heads   int
}

func (f *fakeBuckets) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bucket := strings.Trim(r.URL.Path, "/")
	if bucket == "" {
		var b strings.Builder
		b.WriteString(`<ListAllMyBucketsResult><Owner><ID>x</ID></Owner><Buckets>`)
		for name, at := range f.created {
			if !f.hidden[name] {
				fmt.Fprintf(&b, "<Bucket><Name>%s</Name><CreationDate>%s</CreationDate></Bucket>", name, at.UTC().Format(time.RFC3339Nano))
			}
		}
		b.WriteString(`</Buckets></ListAllMyBucketsResult>`)
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(b.String()))
		return
	}
	f.heads++
	switch _, ok := f.created[bucket]; {
	case f.hidden[bucket]:
		w.WriteHeader(http.StatusForbidden)
	case ok:
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeBuckets) headCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.heads
}

func newFakeChecker(t *testing.T, f *fakeBuckets, interval time.Duration) *bucketChecker {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	client, err := miniogo.New(strings.TrimPrefix(srv.URL, "http://"), &miniogo.Options{
		Creds: credentials.NewStaticV4("k", "s", ""), Region: "us-east-1", BucketLookup: miniogo.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return newBucketChecker(client, interval, zap.NewNop())
}

// TestBucketReconcile checks the comparison with the store's bucket list:
// only a bucket the store confirms missing, or one created again under an
// unchanged configuration, loses its configuration; one the credentials
// cannot see keeps it.
func TestBucketReconcile(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeBuckets{
		created: map[string]time.Time{"kept": t0, "hidden": t0, "again": t0, "reset": t0},
		hidden:  map[string]bool{"hidden": true},
	}
	c := newFakeChecker(t, f, time.Minute)
	a := newTestApp(t, t.TempDir())
	ctx := context.Background()
	for _, b := range []string{"kept", "hidden", "gone", "again", "reset"} {
		if err := a.SetConfiguration(ctx, b, mustParse(t, `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`), "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.reconcile(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Buckets(), ","); got != "again,hidden,kept,reset" {
		t.Fatalf("after the first comparison: %s, want gone removed only", got)
	}
	// "again" is created anew behind the module's back; "reset" too, but
	// its owner set a new configuration since: that one is the new
	// bucket's.
	f.mu.Lock()
	f.created["again"] = t0.Add(time.Hour)
	f.created["reset"] = t0.Add(time.Hour)
	f.mu.Unlock()
	if err := a.SetConfiguration(ctx, "reset", mustParse(t, `{"CORSRules":[{"AllowedOrigins":["https://new.example"],"AllowedMethods":["GET"]}]}`), "test"); err != nil {
		t.Fatal(err)
	}
	if err := c.reconcile(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Buckets(), ","); got != "hidden,kept,reset" {
		t.Fatalf("after the second comparison: %s, want again removed", got)
	}
	if exists, known := c.cached("gone"); !known || exists {
		t.Errorf("gone not remembered as missing: exists %v known %v", exists, known)
	}
}

// TestBucketMissing checks the preflight lookups: the store is asked once
// per bucket and interval, and its answer kept.
func TestBucketMissing(t *testing.T) {
	f := &fakeBuckets{created: map[string]time.Time{"photos": time.Now()}, hidden: map[string]bool{}}
	c := newFakeChecker(t, f, time.Minute)
	ctx := context.Background()
	steps := []struct {
		bucket  string
		missing bool
		heads   int
	}{
		{"photos", false, 1},
		{"photos", false, 1},
		{"ghost", true, 2},
		{"ghost", true, 2},
	}
	for i, st := range steps {
		if got := c.missing(ctx, st.bucket); got != st.missing {
			t.Errorf("step %d: missing(%s) = %v", i, st.bucket, got)
		}
		if got := f.headCount(); got != st.heads {
			t.Errorf("step %d: %d store requests, want %d", i, got, st.heads)
		}
	}
	c.noteBucket("ghost", true) // created through the sidecar
	if c.missing(ctx, "ghost") {
		t.Error("a bucket created through the sidecar is still missing")
	}
}

// BenchmarkPreflightBucketCheck times a preflight to a bucket that falls
// back to the default configuration, which is the one kind of request the
// bucket check looks at: without a checker, with a checker that knows
// nothing (no credentials), and with one whose kept answer says the bucket
// exists (the store is not asked).
func BenchmarkPreflightBucketCheck(b *testing.B) {
	for _, tc := range []struct {
		name    string
		checker func() *bucketChecker
	}{
		{"none", func() *bucketChecker { return nil }},
		{"empty", func() *bucketChecker { return newBucketChecker(nil, time.Minute, zap.NewNop()) }},
		{"answer-kept", func() *bucketChecker {
			c := newBucketChecker(nil, time.Hour, zap.NewNop())
			c.noteBucket("other", true)
			return c
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, _, r := benchSetup(b, http.MethodOptions, preflightHeaders)
			h.Default = json.RawMessage(`{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]}`)
			if err := h.compile(); err != nil {
				b.Fatal(err)
			}
			h.buckets = tc.checker()
			r = r.Clone(r.Context())
			r.URL.Path = "/other/a.jpg"
			w := &benchWriter{h: http.Header{}}
			next := caddyhttp.HandlerFunc(nextCaddy)
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				_ = h.ServeHTTP(w, r, next)
			}
			if w.h.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
				b.Fatalf("not allowed by the default: %v", w.h)
			}
		})
	}
}

// TestBucketCheckNeedsKeys: a bucket_check endpoint without both keys is
// refused in JSON as the Caddyfile parser refuses it, instead of a checker
// asking the store anonymously; placeholders count as given.
func TestBucketCheckNeedsKeys(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	for _, tc := range []struct {
		name string
		cfg  BucketCheckConfig
		err  string
	}{
		{"no keys", BucketCheckConfig{Endpoint: "127.0.0.1:1"}, "s3_api: bucket_check: endpoint needs access_key and secret_key"},
		{"no secret", BucketCheckConfig{Endpoint: "127.0.0.1:1", AccessKey: "k"}, "s3_api: bucket_check: endpoint needs access_key and secret_key"},
		{"placeholders", BucketCheckConfig{Endpoint: "127.0.0.1:1", AccessKey: "{env.S3CORS_TEST_UNSET_K}", SecretKey: "{env.S3CORS_TEST_UNSET_S}"}, ""},
		{"no endpoint", BucketCheckConfig{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			h := &Handler{S3API: &S3APIConfig{Authorize: authorizeStore, BucketCheck: &cfg}}
			err := h.provisionBuckets(ctx)
			t.Cleanup(func() { _ = h.cleanupBuckets() })
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("provisionBuckets = %v, want %q", err, tc.err)
			}
			if tc.err != "" && h.buckets != nil {
				t.Error("a checker was made for refused settings")
			}
		})
	}
}
