package caddys3cors

import (
	"context"
	"encoding/json"
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

// newTestAppOn returns an app on st, read once as at provisioning.
func newTestAppOn(t testing.TB, st store.Store) *App {
	t.Helper()
	a := &App{logger: zap.NewNop()}
	empty := snapshot{}
	a.snap.Store(&empty)
	a.attach(context.Background(), st)
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
	before := a.snap.Load()

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
	if _, ok := (*before)["photos"]; !ok {
		t.Error("a published snapshot was modified")
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
		owner    string
		err      string
	}{
		{name: "zero"},
		{name: "settings", interval: caddy.Duration(time.Second), owner: "123456789012"},
		{name: "negative interval", interval: -1, err: "s3_cors: sync_interval -1ns is negative"},
		{name: "short owner", owner: "12345", err: `s3_cors: owner "12345" is not a 12-digit account id`},
		{name: "letters in owner", owner: "12345678901a", err: "is not a 12-digit account id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &App{SyncInterval: tc.interval, Owner: tc.owner}
			err := app.Validate()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("Validate = %v, want %q", err, tc.err)
			}
		})
	}
}

// TestAppLifecycle checks the package-level pointer across a reload: the
// new app starts before the old one stops, and takes over its buckets.
func TestAppLifecycle(t *testing.T) {
	t.Cleanup(func() { running.Store(nil) })
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
	if running.Load() != old {
		t.Fatal("Start did not publish the app")
	}
	if err := old.SetConfiguration(context.Background(), "photos", mustParse(t, getRuleJSON), "test"); err != nil {
		t.Fatal(err)
	}

	next := &App{StorageRaw: storage}
	if err := next.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if next.Policy("photos") == nil {
		t.Error("the new app lost the running app's configurations")
	}
	_ = next.Start()
	_ = old.Stop()
	if running.Load() != next {
		t.Error("stopping the old app cleared the new one")
	}
	_ = next.Stop()
	if running.Load() != nil {
		t.Error("Stop left the app published")
	}
}

// TestAppWriteDuringReload: a write taken by the old app after the new one
// read storage (a reload in progress) is served by the new app at once,
// a delete too, without waiting for a sync.
func TestAppWriteDuringReload(t *testing.T) {
	t.Cleanup(func() { running.Store(nil); newest.Store(nil) })
	dir := t.TempDir()
	old := newTestApp(t, dir)
	next := newTestApp(t, dir) // provisioned: it read storage already
	ctx := context.Background()
	if err := old.SetConfiguration(ctx, "photos", mustParse(t, getRuleJSON), "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := next.Configuration("photos"); !ok {
		t.Error("the new app does not serve a write the old app took after it read storage")
	}
	if err := old.DeleteConfiguration(ctx, "photos", "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := next.Configuration("photos"); ok {
		t.Error("the new app still serves a configuration the old app deleted")
	}
	// The other way round, nothing is handed back to an older app.
	if err := next.SetConfiguration(ctx, "docs", mustParse(t, getRuleJSON), "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := old.Configuration("docs"); ok {
		t.Error("a write of the new app reached the old one")
	}
}
