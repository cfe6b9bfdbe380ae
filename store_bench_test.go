package caddys3cors

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/certmagic"

	"github.com/s3cors/caddy-s3cors/bench"
	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/internal/store"
	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// The start-up and sync benchmarks: 10,000 buckets, each with a typical
// configuration (an uploads rule and a read rule), in file-system storage.
//
//	go test . -run '^$' -bench 'Load|SyncUnchanged' -benchmem
//
// BenchmarkLoad10000Buckets is a node's first read: list and read every
// configuration into the served state (parsing and compiling wait for a
// bucket's first use). BenchmarkSyncUnchanged is one sync tick when nothing
// changed: it lists, compares versions, and reads and parses nothing (only
// the periodic full sync, one tick in store.DefaultFullEvery, reads).
// BenchmarkPut is one write among 10 and among 100,000 configured buckets:
// the same cost.

const benchBuckets = 10000

const typicalConfig = `{"CORSRules":[` +
	`{"ID":"uploads","AllowedOrigins":["https://app.example.com","https://*.example.org"],"AllowedMethods":["PUT","POST","DELETE"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag","x-amz-request-id"],"MaxAgeSeconds":3000},` +
	`{"ID":"read","AllowedOrigins":["*"],"AllowedMethods":["GET","HEAD"],"MaxAgeSeconds":3000}]}`

// writeBuckets fills dir, as a file-system storage, with n configurations.
func writeBuckets(b *testing.B, dir string, n int) {
	b.Helper()
	cfg, err := s3cors.ParseJSON([]byte(typicalConfig))
	if err != nil {
		b.Fatal(err)
	}
	keys := filepath.Join(dir, filepath.FromSlash(store.KeyPrefix))
	if err := os.MkdirAll(keys, 0o755); err != nil {
		b.Fatal(err)
	}
	xml := cfg.XML()
	for i := range n {
		if err := os.WriteFile(filepath.Join(keys, fmt.Sprintf("bucket-%05d.xml", i)), xml, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// countingStore counts the listings and the configurations read.
type countingStore struct {
	store.Store
	lists atomic.Int64
	loads atomic.Int64
}

func (c *countingStore) Load(ctx context.Context, bucket string) ([]byte, error) {
	c.loads.Add(1)
	return c.Store.Load(ctx, bucket)
}

func (c *countingStore) List(ctx context.Context) ([]store.Entry, error) {
	c.lists.Add(1)
	return c.Store.List(ctx)
}

func BenchmarkLoad10000Buckets(b *testing.B) {
	dir := b.TempDir()
	writeBuckets(b, dir, benchBuckets)
	b.ReportAllocs()
	for b.Loop() {
		a := newTestApp(b, dir)
		if got := a.state.syncer.Len(); got != benchBuckets {
			b.Fatalf("%d buckets loaded", got)
		}
	}
}

// BenchmarkSyncUnchanged times a sync when nothing changed on a storage
// without a change journal (the counting wrapper hides the file storage's):
// a listing of every key, which compares versions and reads nothing.
func BenchmarkSyncUnchanged(b *testing.B) {
	dir := b.TempDir()
	writeBuckets(b, dir, benchBuckets)
	counting := &countingStore{Store: store.NewCaddyStorage(&certmagic.FileStorage{Path: dir})}
	a := newTestAppOn(b, counting)
	counting.loads.Store(0)
	ticksReading := 0
	b.ReportAllocs()
	for b.Loop() {
		before := counting.loads.Load()
		if changed, err := a.state.syncer.Sync(context.Background()); err != nil || changed {
			b.Fatalf("sync: changed %v, %v", changed, err)
		}
		if counting.loads.Load() != before {
			ticksReading++
		}
	}
	// Every DefaultFullEvery-th sync reads everything on purpose (the
	// backstop for coarse versions); every other tick reads nothing.
	b.ReportMetric(float64(ticksReading), "full-reads")
	if allowed := b.N/store.DefaultFullEvery + 1; ticksReading > allowed {
		b.Errorf("%d of %d unchanged syncs read configurations, want at most %d", ticksReading, b.N, allowed)
	}
}

// BenchmarkSyncUnchangedJournal is BenchmarkSyncUnchanged over the
// storage itself, which keeps a change journal: an unchanged sync reads the
// journal only (one directory read), whatever the number of buckets, until
// the next full sync (every full_sync_interval; none within a benchmark).
func BenchmarkSyncUnchangedJournal(b *testing.B) {
	dir := b.TempDir()
	writeBuckets(b, dir, benchBuckets)
	a := newTestAppOn(b, store.NewCaddyStorage(&certmagic.FileStorage{Path: dir}))
	b.ReportAllocs()
	for b.Loop() {
		if changed, err := a.state.syncer.Sync(context.Background()); err != nil || changed {
			b.Fatalf("sync: changed %v, %v", changed, err)
		}
	}
}

// memStore is a Store in memory: BenchmarkPut times the node's own cost
// of a write, without the disk's.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (m *memStore) Load(_ context.Context, bucket string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[bucket]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return b, nil
}

func (m *memStore) Put(_ context.Context, bucket string, xml []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[bucket] = xml
	return nil
}

func (m *memStore) Delete(_ context.Context, bucket string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, bucket)
	return nil
}

func (m *memStore) List(context.Context) ([]store.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	entries := make([]store.Entry, 0, len(m.m))
	for bucket := range m.m {
		entries = append(entries, store.Entry{Bucket: bucket})
	}
	return entries, nil
}

func BenchmarkPut(b *testing.B) {
	cfg, err := s3cors.ParseJSON([]byte(typicalConfig))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100000} {
		b.Run(fmt.Sprintf("buckets=%d", n), func(b *testing.B) {
			a := newTestAppOn(b, &memStore{m: map[string][]byte{}})
			ctx := context.Background()
			for i := range n {
				if err := a.SetConfiguration(ctx, fmt.Sprintf("bucket-%06d", i), cfg, "bench"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := a.SetConfiguration(ctx, fmt.Sprintf("bucket-%06d", i%n), cfg, "bench"); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkAdminPut is one PUT of the admin API as bench/putbuckets sends
// it (the aws cli's JSON, three rules), from the request to the answer,
// on file-system storage under TMPDIR (/dev/shm measures the node; a disk
// adds its fsync), among 10 and among 100,000 stored configurations: the
// same cost. Besides ns/op it reports cpu-ns/op, the process's CPU time
// per PUT, steadier on a shared machine. scripts/bench-scale.sh's puts
// scenario is the same write through a real admin listener.
//
//	TMPDIR=/dev/shm go test . -run '^$' -bench AdminPut -benchmem -count 6 | benchstat -
func BenchmarkAdminPut(b *testing.B) {
	bodies := make([][]byte, 1024)
	for i := range bodies {
		bodies[i] = bench.Rules(i, 3)
	}
	for _, n := range []int{10, 100000} {
		b.Run(fmt.Sprintf("buckets=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeBuckets(b, dir, n)
			a := newTestApp(b, dir)
			admin := &api.Admin{
				Lookup:   func() api.Configs { return a },
				LogError: func(_ *http.Request, err error) { b.Error(err) },
			}
			b.ReportAllocs()
			i := 0
			cpu := testenv.ProcessCPU()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPut, api.BucketsPath+fmt.Sprintf("/bucket-%05d", i%n), bytes.NewReader(bodies[i%len(bodies)]))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				admin.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("PUT: %d %s", w.Code, w.Body)
				}
				i++
			}
			if used := testenv.ProcessCPU() - cpu; used > 0 {
				b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
