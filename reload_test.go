package caddys3cors

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/s3cors/caddy-s3cors/internal/store"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// TestReloadDuringWrites reloads the app (a new App provisioned on the same
// storage while the old one runs) while the old app keeps taking writes to
// one bucket. Once the writes end, the new app must serve exactly what
// storage holds: a write that lands while the new app loads must never be
// overwritten by an older view of storage.
//
// Each round's writes end at a random moment of the new app's loading, so
// that some round's last write lands inside whatever window loading has.
// Before the app state moved into a caddy.UsagePool, a new app published
// its syncer's snapshot outside the syncer's serialized change callback: a
// write handed over between taking that snapshot and publishing it was
// overwritten, and the new app served the older configuration. With a
// 50 ms pause put in that window, this test failed on that code (round 33
// of 40); without the pause the window was too narrow to hit. The shared
// state has no such window: old and new app use one syncer.
func TestReloadDuringWrites(t *testing.T) {
	dir := t.TempDir()
	// Many other buckets make loading take a while, so that writes land
	// during it.
	keys := filepath.Join(dir, filepath.FromSlash(store.KeyPrefix))
	if err := os.MkdirAll(keys, 0o755); err != nil {
		t.Fatal(err)
	}
	filler := mustParse(t, getRuleJSON).XML()
	for i := range 2000 {
		if err := os.WriteFile(filepath.Join(keys, fmt.Sprintf("filler-%04d.xml", i)), filler, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	storage := json.RawMessage(`{"module":"file_system","root":` + strconv.Quote(dir) + `}`)
	configs := make([]*s3cors.Configuration, 50)
	for i := range configs {
		configs[i] = mustParse(t, fmt.Sprintf(`{"CORSRules":[{"AllowedOrigins":["https://o%d.example"],"AllowedMethods":["GET"]}]}`, i))
	}

	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	old := &App{StorageRaw: storage}
	if err := old.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	var loadTime time.Duration
	for round := range 40 {
		if err := old.SetConfiguration(context.Background(), "photos", configs[round%len(configs)], "test"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := old.SetConfiguration(context.Background(), "photos", configs[i%len(configs)], "test"); err != nil {
					t.Error(err)
					return
				}
			}
		})
		// The writes end at a random moment while the new app loads, so
		// that in some rounds the last write lands just as loading ends.
		stopAfter := time.Duration(0)
		if loadTime > 0 {
			stopAfter = time.Duration(rand.Int64N(int64(loadTime)))
		}
		time.AfterFunc(stopAfter, func() { close(stop) })
		nctx, ncancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		next := &App{StorageRaw: storage}
		began := time.Now()
		err := next.Provision(nctx)
		if err == nil {
			err = next.Start()
		}
		if round == 0 {
			loadTime = time.Since(began)
		}
		wg.Wait()
		if err != nil {
			ncancel()
			t.Fatal(err)
		}
		stored, err := os.ReadFile(filepath.Join(keys, "photos.xml"))
		if err != nil {
			t.Fatal(err)
		}
		served, ok := next.Configuration("photos")
		if !ok || string(served.XML()) != string(stored) {
			t.Errorf("round %d: the new app serves %s, storage holds %s", round, served.XML(), stored)
		}
		// The reload completes: the old app stops, the new one runs.
		_ = old.Stop()
		_ = old.Cleanup()
		cancel()
		old, cancel = next, ncancel
	}
	_ = old.Stop()
	_ = old.Cleanup()
	cancel()
}
