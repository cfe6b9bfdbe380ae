package caddys3cors

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/store"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

func mustParse(t testing.TB, body string) *s3cors.Configuration {
	t.Helper()
	cfg, err := s3cors.ParseJSON([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newTestApp returns an app keeping its configurations in a temporary
// directory, as a provisioned app with file-system storage does.
func newTestApp(t testing.TB, dir string) *App {
	t.Helper()
	return newTestAppOn(t, store.NewCaddyStorage(&certmagic.FileStorage{Path: dir}))
}

// newTestAppOn returns an app on st, loaded (with no sync loop).
func newTestAppOn(t testing.TB, st store.Store) *App {
	t.Helper()
	a := &App{logger: zap.NewNop(), state: newAppState(st, zap.NewNop(), false)}
	if _, err := a.state.syncer.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAppConfigurations(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t, t.TempDir())
	get := mustParse(t, getRuleJSON)

	if p := a.Policy("photos"); p != nil {
		t.Fatalf("empty app has a policy %v", p)
	}
	if err := a.SetConfiguration(ctx, "photos", get, "test"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetConfiguration(ctx, "docs", get, "test"); err != nil {
		t.Fatal(err)
	}

	cfg, ok := a.Configuration("photos")
	if !ok || !cfg.Equal(get) {
		t.Errorf("Configuration(photos) = %v, %v", cfg, ok)
	}
	if a.Policy("photos") == nil {
		t.Error("Policy(photos) is nil")
	}
	if got := a.Buckets(); !slices.Equal(got, []string{"docs", "photos"}) {
		t.Errorf("Buckets = %v", got)
	}
	if err := a.DeleteConfiguration(ctx, "photos", "test"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteConfiguration(ctx, "never", "test"); err != nil {
		t.Errorf("deleting a missing configuration: %v", err)
	}
	if _, ok := a.Configuration("photos"); ok {
		t.Error("photos still configured after delete")
	}
	if got := a.Buckets(); !slices.Equal(got, []string{"docs"}) {
		t.Errorf("Buckets = %v", got)
	}

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"set empty bucket", a.SetConfiguration(ctx, "", get, "test"), "empty bucket name"},
		{"set nil configuration", a.SetConfiguration(ctx, "b", nil, "test"), "no configuration"},
		{"delete empty bucket", a.DeleteConfiguration(ctx, "", "test"), "empty bucket name"},
	} {
		if tc.err == nil || !strings.HasPrefix(tc.err.Error(), "s3_cors: ") || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

// TestAppConcurrent runs readers against writers; -race checks that
// lookups need no lock.
func TestAppConcurrent(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t, t.TempDir())
	get := mustParse(t, getRuleJSON)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if p := a.Policy("b1"); p != nil && p.Configuration() == nil {
					t.Error("policy without configuration")
				}
				_ = a.Buckets()
			}
		})
	}
	for i := range 200 {
		bucket := []string{"b1", "b2", "b3"}[i%3]
		if i%4 == 3 {
			_ = a.DeleteConfiguration(ctx, bucket, "test")
		} else {
			_ = a.SetConfiguration(ctx, bucket, get, "test")
		}
	}
	close(stop)
	wg.Wait()
}

func TestAppValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval caddy.Duration
		full     caddy.Duration
		owner    string
		err      string
	}{
		{name: "zero"},
		{name: "settings", interval: caddy.Duration(time.Second), owner: "123456789012"},
		{name: "negative interval", interval: -1, err: "s3_cors: sync_interval -1ns is negative"},
		{name: "negative full sync interval", full: -1, err: "s3_cors: full_sync_interval -1ns is negative"},
		{name: "short owner", owner: "12345", err: `s3_cors: owner "12345" is not a 12-digit account id`},
		{name: "letters in owner", owner: "12345678901a", err: "is not a 12-digit account id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &App{SyncInterval: tc.interval, FullSyncInterval: tc.full, Owner: tc.owner}
			err := app.Validate()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("Validate = %v, want %q", err, tc.err)
			}
		})
	}
}

// TestAppLifecycle: apps on one storage share its state across a reload
// (the new app provisioned and started before the old one stops and is
// cleaned up), and the state ends with the last app.
func TestAppLifecycle(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	storage := json.RawMessage(`{"module":"file_system","root":` + strconv.Quote(t.TempDir()) + `}`)
	old := &App{StorageRaw: storage}
	if err := old.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if old.SyncInterval != caddy.Duration(DefaultSyncInterval) {
		t.Errorf("default sync interval %v", old.SyncInterval)
	}
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	if err := old.SetConfiguration(context.Background(), "photos", mustParse(t, getRuleJSON), "test"); err != nil {
		t.Fatal(err)
	}

	next := &App{StorageRaw: storage}
	if err := next.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if next.state != old.state {
		t.Fatal("a reload on the same storage made a new state")
	}
	if next.Policy("photos") == nil {
		t.Error("the new app lost the running app's configurations")
	}
	_ = next.Start()
	_ = old.Stop()
	_ = old.Cleanup()
	_ = old.Cleanup() // twice: still one reference released
	if refs, ok := states.References(next.key); !ok || refs != 1 {
		t.Errorf("state references after the reload = %d, %v; want 1", refs, ok)
	}
	// A write through either app is served by both.
	if err := old.SetConfiguration(context.Background(), "docs", mustParse(t, getRuleJSON), "test"); err != nil {
		t.Fatal(err)
	}
	if next.Policy("docs") == nil {
		t.Error("a write through the old app is not served by the new one")
	}

	other := &App{StorageRaw: json.RawMessage(`{"module":"file_system","root":` + strconv.Quote(t.TempDir()) + `}`)}
	if err := other.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if other.state == next.state || other.Policy("photos") != nil {
		t.Error("an app on another storage shares the state of the first")
	}
	_ = other.Cleanup()
	_ = next.Stop()
	_ = next.Cleanup()
	if _, ok := states.References(next.key); ok {
		t.Error("the state outlived its last app")
	}
}

// TestReloadReadsNothing: a reload that keeps the storage does not read
// it again; one that changes it reads the new one.
func TestReloadReadsNothing(t *testing.T) {
	dir := t.TempDir()
	counting := &countingStore{Store: store.NewCaddyStorage(&certmagic.FileStorage{Path: dir})}
	if err := counting.Put(context.Background(), "photos", mustParse(t, getRuleJSON).XML()); err != nil {
		t.Fatal(err)
	}
	key := "test " + dir
	provision := func() *App {
		val, _, err := states.LoadOrNew(key, func() (caddy.Destructor, error) {
			s := newAppState(counting, zap.NewNop(), false)
			s.run(time.Hour)
			return s, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return &App{logger: zap.NewNop(), key: key, state: val.(*appState)}
	}
	old := provision()
	if old.Policy("photos") == nil { // waits for the load
		t.Fatal("photos not loaded")
	}
	lists, loads := counting.lists.Load(), counting.loads.Load()
	next := provision()
	_ = old.Cleanup()
	if next.Policy("photos") == nil {
		t.Error("the new app does not serve photos")
	}
	if l, n := counting.lists.Load()-lists, counting.loads.Load()-loads; l != 0 || n != 0 {
		t.Errorf("the reload listed storage %d times and read %d keys, want none", l, n)
	}
	_ = next.Cleanup()
}

// TestStartRemovesStaleTemp: a node starting on a file-system storage
// removes the temporary files a SIGKILL left beside the keys (old enough
// not to be another node's write in progress), before its first load.
func TestStartRemovesStaleTemp(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, filepath.FromSlash(store.KeyPrefix))
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(keys, "2718281828")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-store.StaleTempAge - time.Minute)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	a := &App{StorageRaw: json.RawMessage(`{"module":"file_system","root":` + strconv.Quote(dir) + `}`)}
	if err := a.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Cleanup() })
	<-a.state.syncer.Loaded()
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file still there: %v", err)
	}
}

// gatedStore holds every listing until gate is closed: a storage slow to
// read at start.
type gatedStore struct {
	store.Store
	gate chan struct{}
}

func (g *gatedStore) List(ctx context.Context) ([]store.Entry, error) {
	<-g.gate
	return g.Store.List(ctx)
}

// TestLookupWaitsForTheFirstLoad: while storage is read for the first time,
// a request for a bucket not loaded yet waits for the read to end instead
// of getting the not-configured answer; the app does not wait to start.
func TestLookupWaitsForTheFirstLoad(t *testing.T) {
	fsStore := store.NewCaddyStorage(&certmagic.FileStorage{Path: t.TempDir()})
	if err := fsStore.Put(context.Background(), "photos", mustParse(t, getRuleJSON).XML()); err != nil {
		t.Fatal(err)
	}
	gated := &gatedStore{Store: fsStore, gate: make(chan struct{})}
	a := &App{logger: zap.NewNop(), state: newAppState(gated, zap.NewNop(), false)}
	a.state.run(time.Hour)
	t.Cleanup(func() { _ = a.state.Destruct() })

	got := make(chan *s3cors.Policy, 1)
	go func() { got <- a.Policy("photos") }()
	select {
	case p := <-got:
		t.Fatalf("answered %v before the first read ended", p)
	case <-time.After(50 * time.Millisecond):
	}
	close(gated.gate)
	if p := <-got; p == nil {
		t.Error("the stored configuration was answered as missing")
	}
	if a.Policy("other") != nil {
		t.Error("a bucket with no configuration has one")
	}
}
