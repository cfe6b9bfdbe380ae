package store

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// contents maps a snapshot to bucket → XML, comparable with maps.Equal.
func contents(snap map[string]*s3cors.Configuration) map[string]string {
	m := make(map[string]string, len(snap))
	for bucket, cfg := range snap {
		m[bucket] = string(cfg.XML())
	}
	return m
}

// canonical returns the XML the engine writes for body, which is what
// contents reports for a configuration parsed from body.
func canonical(t *testing.T, body []byte) string {
	t.Helper()
	cfg, err := s3cors.ParseXML(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(cfg.XML())
}

// mustParse parses a test configuration.
func mustParse(t *testing.T, body []byte) *s3cors.Configuration {
	t.Helper()
	cfg, err := s3cors.ParseXML(body)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// mustSync syncs and fails the test on error.
func mustSync(t *testing.T, s *Syncer) (map[string]*s3cors.Configuration, bool) {
	t.Helper()
	changed, err := s.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Snapshot(), changed
}

// TestSyncersConverge runs two nodes, each with its own certmagic
// FileStorage over one shared directory.
func TestSyncersConverge(t *testing.T) {
	dir := t.TempDir()
	checkConvergence(t, newFileStore(dir), newFileStore(dir))
}

// checkConvergence runs two nodes, one Syncer over each store, both stores
// reaching the same storage: a write on one is in its own snapshot at once
// and in the other's after its next sync, and the writer does not read its
// own write back.
func checkConvergence(t *testing.T, store0, store1 Store) {
	ctx := context.Background()
	counting := []*countingStore{newCountingStore(store0), newCountingStore(store1)}
	nodes := []*Syncer{
		NewSyncer(counting[0], zap.NewNop(), SyncerOptions{}),
		NewSyncer(counting[1], zap.NewNop(), SyncerOptions{}),
	}
	a, b := testXML("https://a.example"), testXML("https://b.example") // same size
	c := testXML("https://" + strings.Repeat("c", 100) + ".example")

	steps := []struct {
		name   string
		writer int
		write  func(s *Syncer) error
		want   map[string][]byte
	}{
		{"0 puts photos", 0, func(s *Syncer) error { return s.Put(ctx, "photos", mustParse(t, a)) },
			map[string][]byte{"photos": a}},
		{"1 puts docs", 1, func(s *Syncer) error { return s.Put(ctx, "docs", mustParse(t, c)) },
			map[string][]byte{"photos": a, "docs": c}},
		{"0 rewrites photos, same size", 0, func(s *Syncer) error { return s.Put(ctx, "photos", mustParse(t, b)) },
			map[string][]byte{"photos": b, "docs": c}},
		{"1 rewrites photos back, same size", 1, func(s *Syncer) error { return s.Put(ctx, "photos", mustParse(t, a)) },
			map[string][]byte{"photos": a, "docs": c}},
		{"1 deletes photos", 1, func(s *Syncer) error { return s.Delete(ctx, "photos") },
			map[string][]byte{"docs": c}},
		{"0 deletes photos again", 0, func(s *Syncer) error { return s.Delete(ctx, "photos") },
			map[string][]byte{"docs": c}},
		{"0 deletes docs", 0, func(s *Syncer) error { return s.Delete(ctx, "docs") }, map[string][]byte{}},
		{"1 recreates docs", 1, func(s *Syncer) error { return s.Put(ctx, "docs", mustParse(t, b)) },
			map[string][]byte{"docs": b}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			want := make(map[string]string)
			for bucket, body := range step.want {
				want[bucket] = canonical(t, body)
			}
			if err := step.write(nodes[step.writer]); err != nil {
				t.Fatal(err)
			}
			if got := contents(nodes[step.writer].Snapshot()); !maps.Equal(got, want) {
				t.Errorf("writer's snapshot before any sync = %v, want %v", got, want)
			}
			for i, n := range nodes {
				counting[i].takeLoads()
				snap, _ := mustSync(t, n)
				if got := contents(snap); !maps.Equal(got, want) {
					t.Errorf("node %d after sync = %v, want %v", i, got, want)
				}
				if loads := counting[i].takeLoads(); i == step.writer && len(loads) != 0 {
					t.Errorf("writer read its own write back: %v", loads)
				}
			}
		})
	}
}

// TestSyncerReadsOnlyChanged counts Loads: a sync reads new and changed keys
// only, never a key this node wrote itself, and everything on a full sync.
func TestSyncerReadsOnlyChanged(t *testing.T) {
	ctx := context.Background()
	raw := newFileStore(t.TempDir())
	for _, bucket := range []string{"alpha", "bravo", "charlie"} {
		if err := raw.Put(ctx, bucket, testXML("https://"+bucket+".example")); err != nil {
			t.Fatal(err)
		}
	}
	counting := newCountingStore(raw)
	s := NewSyncer(counting, zap.NewNop(), SyncerOptions{FullEvery: 6})

	steps := []struct {
		name      string
		action    func() error
		wantLoads map[string]int
	}{
		{"first sync reads all", nil, map[string]int{"alpha": 1, "bravo": 1, "charlie": 1}},
		{"unchanged: nothing read", nil, map[string]int{}},
		{"another node changes bravo", func() error { return raw.Put(ctx, "bravo", testXML("https://other.example")) },
			map[string]int{"bravo": 1}},
		{"another node adds delta", func() error { return raw.Put(ctx, "delta", testXML("https://d.example")) },
			map[string]int{"delta": 1}},
		{"this node writes charlie", func() error {
			return s.Put(ctx, "charlie", mustParse(t, testXML("https://mine.example")))
		}, map[string]int{}},
		{"sixth sync is full", nil, map[string]int{"alpha": 1, "bravo": 1, "charlie": 1, "delta": 1}},
		{"this node deletes alpha", func() error { return s.Delete(ctx, "alpha") }, map[string]int{}},
		{"another node deletes delta", func() error { return raw.Delete(ctx, "delta") }, map[string]int{}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.action != nil {
				if err := step.action(); err != nil {
					t.Fatal(err)
				}
			}
			mustSync(t, s)
			if got := counting.takeLoads(); !maps.Equal(got, step.wantLoads) {
				t.Errorf("loads = %v, want %v", got, step.wantLoads)
			}
		})
	}
	if got, want := len(s.Snapshot()), 2; got != want {
		t.Errorf("%d buckets at the end, want %d (bravo, charlie)", got, want)
	}
}

// TestSyncerCorruptKey checks that a key that does not parse is skipped,
// that the other buckets load, and what the bucket gets: nothing if it
// never had a good configuration, else the last good one, until the key is
// fixed or deleted. The first sync parses nothing: its bad keys report
// their error on first use; later syncs log them with their key.
func TestSyncerCorruptKey(t *testing.T) {
	corrupt := map[string][]byte{
		"not xml":                []byte("this is not xml"),
		"truncated":              testXML("https://a.example")[:40],
		"empty":                  {},
		"invalid method":         []byte(`<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>`),
		"over 64 KiB":            testXML("https://" + strings.Repeat("x", 70000) + ".example"),
		"no rules":               []byte(`<CORSConfiguration></CORSConfiguration>`),
		"unknown element":        []byte(`<CORSConfiguration><Foo/></CORSConfiguration>`),
		"binary garbage":         {0xff, 0xfe, 0x00, 0x01},
		"two documents appended": append(testXML("https://a.example"), testXML("https://b.example")...),
	}
	good := testXML("https://good.example")
	previous := testXML("https://previous.example")

	for name, body := range corrupt {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			raw := newFileStore(dir)
			core, logs := observer.New(zapcore.WarnLevel)
			s := NewSyncer(raw, zap.New(core), SyncerOptions{})
			s.SetFullInterval(time.Nanosecond) // hand edits: every sync is full
			writeRaw := func(bucket string, b []byte) {
				t.Helper()
				// Written as a file directly: the store would accept it too,
				// but this is how a corrupt key usually arrives.
				p := filepath.Join(dir, filepath.FromSlash(Key(bucket)))
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			writeRaw("good", good)
			writeRaw("previous", previous)
			writeRaw("broken", body)
			snap, _ := mustSync(t, s)
			want := map[string]string{"good": canonical(t, good), "previous": canonical(t, previous)}
			if got := contents(snap); !maps.Equal(got, want) {
				t.Fatalf("never-good corrupt key: snapshot = %v, want %v", got, want)
			}
			if cfg, _, ok := s.Lookup("broken"); !ok {
				t.Error("the loaded corrupt key is not kept for its first use")
			} else if _, err := cfg.Policy(); err == nil {
				t.Error("the corrupt key compiles")
			}
			// Changed, still corrupt: parsed and logged by the sync.
			writeRaw("broken", append(body, ' '))
			if _, changed := mustSync(t, s); changed {
				t.Error("a corrupt change changed the served configurations")
			}
			if _, ok := s.Failures()["broken"]; !ok {
				t.Errorf("Failures() = %v, want broken", s.Failures())
			}
			// Still a bucket with a configuration, one that cannot be read:
			// not one without, which a default would govern.
			if cfg, _, ok := s.Lookup("broken"); !ok {
				t.Error("Lookup(broken): no configuration, want one that cannot be read")
			} else if cfg != nil {
				if _, err := cfg.Policy(); err == nil {
					t.Error("Lookup(broken) gives a configuration that compiles")
				}
			}
			// A corrupt key that appears after the first read is read (and
			// fails) at once: it has no configuration to serve, but one.
			writeRaw("late", body)
			mustSync(t, s)
			if cfg, _, ok := s.Lookup("late"); !ok || cfg != nil {
				t.Errorf("Lookup(late) = %v, %v; want nil, true", cfg, ok)
			}
			for _, b := range []string{"broken", "late"} {
				if !slices.Contains(s.Buckets(), b) {
					t.Errorf("Buckets() = %v, want %s among them", s.Buckets(), b)
				}
			}
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(Key("late")))); err != nil {
				t.Fatal(err)
			}
			mustSync(t, s)
			if _, _, ok := s.Lookup("late"); ok {
				t.Error("Lookup(late) after its key was deleted: still a configuration")
			}
			assertWarned(t, logs, "s3_cors/buckets/broken.xml")

			// A corrupt version of a good key keeps the last good one,
			// logged at every sync.
			writeRaw("previous", body)
			for range 2 {
				snap, _ = mustSync(t, s)
				if got := contents(snap); !maps.Equal(got, want) {
					t.Fatalf("corrupt after good: snapshot = %v, want %v", got, want)
				}
				assertWarned(t, logs, "s3_cors/buckets/previous.xml")
			}

			// Fixing a key loads it and clears its failure.
			writeRaw("broken", good)
			snap, changed := mustSync(t, s)
			want["broken"] = canonical(t, good)
			if got := contents(snap); !changed || !maps.Equal(got, want) {
				t.Fatalf("fixed key: snapshot = %v (changed %v), want %v", got, changed, want)
			}
			if _, ok := s.Failures()["broken"]; ok {
				t.Errorf("fixed key still in Failures()")
			}

			// Deleting a corrupt key drops its last good configuration too.
			if err := raw.Delete(ctx, "previous"); err != nil {
				t.Fatal(err)
			}
			snap, _ = mustSync(t, s)
			delete(want, "previous")
			if got := contents(snap); !maps.Equal(got, want) {
				t.Fatalf("deleted corrupt key: snapshot = %v, want %v", got, want)
			}
			if f := s.Failures(); len(f) != 0 {
				t.Errorf("Failures() after delete = %v", f)
			}
		})
	}
}

// assertWarned checks that a warning naming key was logged since the last
// call, and consumes the logs.
func assertWarned(t *testing.T, logs *observer.ObservedLogs, key string) {
	t.Helper()
	for _, entry := range logs.TakeAll() {
		if entry.Level == zapcore.WarnLevel && entry.ContextMap()["key"] == key && entry.ContextMap()["error"] != nil {
			return
		}
	}
	t.Errorf("no warning with key %s and an error", key)
}

func TestSyncerStoreFailures(t *testing.T) {
	ctx := context.Background()
	old := testXML("https://old.example")
	newer := testXML("https://new.example")

	tests := []struct {
		name string
		run  func(t *testing.T, f *faultStore, s *Syncer)
	}{
		{"list fails: error, last good snapshot kept", func(t *testing.T, f *faultStore, s *Syncer) {
			before := s.Snapshot()
			f.setListErr(errInjected)
			changed, err := s.Sync(ctx)
			snap := s.Snapshot()
			if !errors.Is(err, errInjected) || changed {
				t.Fatalf("Sync = changed %v, err %v; want unchanged, the injected error", changed, err)
			}
			if !maps.Equal(contents(snap), contents(before)) {
				t.Errorf("snapshot changed on a failed list")
			}
		}},
		{"put fails: error, old content and snapshot kept", func(t *testing.T, f *faultStore, s *Syncer) {
			f.mu.Lock()
			f.putErr = errInjected
			f.mu.Unlock()
			err := s.Put(ctx, "photos", mustParse(t, newer))
			if !errors.Is(err, errInjected) {
				t.Fatalf("Put err = %v, want the injected error", err)
			}
			if got := string(s.Snapshot()["photos"].XML()); got != canonical(t, old) {
				t.Errorf("snapshot after failed Put = %s", got)
			}
			stored, err := f.Load(ctx, "photos")
			if err != nil || string(stored) != string(old) {
				t.Errorf("stored after failed Put = %q, %v", stored, err)
			}
		}},
		{"context canceled during sync", func(t *testing.T, f *faultStore, s *Syncer) {
			if err := f.Store.Put(ctx, "other", newer); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Sync(cctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if _, ok := s.Snapshot()["other"]; ok {
				t.Errorf("canceled sync changed the snapshot")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &faultStore{Store: newFileStore(t.TempDir())}
			if err := f.Put(ctx, "photos", old); err != nil {
				t.Fatal(err)
			}
			s := NewSyncer(f, zap.NewNop(), SyncerOptions{})
			mustSync(t, s)
			tt.run(t, f, s)
		})
	}
}

// TestSyncerTornWriteOfNonAtomicModule simulates a storage module that
// writes a value in pieces and fails half way: the writing node gets the
// error and keeps its snapshot, the other node reads the torn value, logs
// it and keeps the last good configuration, and both recover with the next
// complete write.
func TestSyncerTornWriteOfNonAtomicModule(t *testing.T) {
	ctx := context.Background()
	mem := newMemStorage()
	core, logs := observer.New(zapcore.WarnLevel)
	writer := NewSyncer(NewCaddyStorage(mem), zap.NewNop(), SyncerOptions{})
	reader := NewSyncer(NewCaddyStorage(mem), zap.New(core), SyncerOptions{})
	first, second := testXML("https://first.example"), testXML("https://second.example")

	if err := writer.Put(ctx, "photos", mustParse(t, first)); err != nil {
		t.Fatal(err)
	}
	mustSync(t, reader)

	mem.mu.Lock()
	mem.torn = true
	mem.mu.Unlock()
	if err := writer.Put(ctx, "photos", mustParse(t, second)); !errors.Is(err, errInjected) {
		t.Fatalf("torn Put err = %v, want the injected error", err)
	}
	if got := string(writer.Snapshot()["photos"].XML()); got != canonical(t, first) {
		t.Errorf("writer's snapshot after failed Put = %s", got)
	}
	snap, _ := mustSync(t, reader)
	if got := string(snap["photos"].XML()); got != canonical(t, first) {
		t.Errorf("reader's snapshot after torn read = %s, want the last good", got)
	}
	assertWarned(t, logs, "s3_cors/buckets/photos.xml")

	mem.mu.Lock()
	mem.torn = false
	mem.mu.Unlock()
	if err := writer.Put(ctx, "photos", mustParse(t, second)); err != nil {
		t.Fatal(err)
	}
	snap, _ = mustSync(t, reader)
	if got := string(snap["photos"].XML()); got != canonical(t, second) {
		t.Errorf("reader's snapshot after repair = %s", got)
	}
}

// TestSyncerOwnWriteDuringSync writes while a Sync is between its listing
// and its merge: the listing predates the write, and must not undo it.
func TestSyncerOwnWriteDuringSync(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		write func(s *Syncer) error
		want  []string
	}{
		{"put of a new bucket", func(s *Syncer) error {
			return s.Put(ctx, "fresh", mustParse(t, testXML("https://fresh.example")))
		}, []string{"fresh", "photos"}},
		{"delete of a listed bucket", func(s *Syncer) error { return s.Delete(ctx, "photos") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &faultStore{Store: newFileStore(t.TempDir())}
			if err := f.Put(ctx, "photos", testXML("https://photos.example")); err != nil {
				t.Fatal(err)
			}
			s := NewSyncer(f, zap.NewNop(), SyncerOptions{})
			mustSync(t, s)

			gate := make(chan struct{})
			f.mu.Lock()
			f.listGate = gate
			f.mu.Unlock()
			done := make(chan error)
			go func() {
				_, err := s.Sync(ctx)
				done <- err
			}()
			// The Sync is blocked after listing; the write does not wait
			// for it.
			time.Sleep(20 * time.Millisecond)
			if err := tt.write(s); err != nil {
				t.Fatal(err)
			}
			close(gate)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			f.listGate = nil
			f.mu.Unlock()
			for round := range 2 {
				var got []string
				for bucket := range s.Snapshot() {
					got = append(got, bucket)
				}
				if !sameSet(got, tt.want) {
					t.Fatalf("round %d: buckets = %v, want %v", round, got, tt.want)
				}
				mustSync(t, s)
			}
		})
	}
}

// sameSet reports whether a and b hold the same strings, ignoring order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

func TestSyncerOnChange(t *testing.T) {
	ctx := context.Background()
	raw := newFileStore(t.TempDir())
	var mu sync.Mutex
	var published []string
	s := NewSyncer(raw, zap.NewNop(), SyncerOptions{OnChange: func(bucket string, cfg *Config) {
		mu.Lock()
		defer mu.Unlock()
		if cfg == nil {
			published = append(published, "-"+bucket)
		} else {
			published = append(published, bucket+"="+canonical(t, cfg.Stored()))
		}
	}})
	s.SetFullInterval(time.Nanosecond) // raw writes are not journaled: every sync is full
	a := testXML("https://a.example")

	mustSync(t, s) // empty to empty: no call
	if err := s.Put(ctx, "photos", mustParse(t, a)); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s) // own write: no change
	if err := raw.Put(ctx, "docs", a); err != nil {
		t.Fatal(err)
	}
	mustSync(t, s)
	if err := raw.Put(ctx, "docs", a); err != nil { // same content, new version
		t.Fatal(err)
	}
	mustSync(t, s) // no change
	if err := s.Delete(ctx, "photos"); err != nil {
		t.Fatal(err)
	}

	// Stored is the bytes read (raw.Put stores a as given), canonical the
	// engine's form of both.
	ca := canonical(t, a)
	want := []string{"photos=" + ca, "docs=" + ca, "-photos"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(published, want) {
		t.Fatalf("OnChange calls %v, want %v", published, want)
	}
}

func TestSyncerLoop(t *testing.T) {
	f := &faultStore{Store: newFileStore(t.TempDir())}
	if err := f.Store.Put(context.Background(), "photos", testXML("https://a.example")); err != nil {
		t.Fatal(err)
	}
	f.setListErr(errInjected)

	changes := make(chan string, 10)
	// recovered is closed once a sync succeeded: OnChange runs inside
	// that sync, before OnSync reports it, so the change alone does not
	// say that the result is recorded.
	recovered := make(chan struct{})
	var mu sync.Mutex
	var results []error
	s := NewSyncer(f, zap.NewNop(), SyncerOptions{
		OnChange: func(bucket string, _ *Config) { changes <- bucket },
		OnSync: func(_ Trigger, err error) {
			mu.Lock()
			defer mu.Unlock()
			results = append(results, err)
			if len(results) == 2 {
				f.setListErr(nil) // the store comes back after two failures
			}
			if err == nil && len(results) == 3 {
				close(recovered)
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Loop(ctx, 10*time.Millisecond)
		close(done)
	}()

	select {
	case bucket := <-changes:
		if bucket != "photos" {
			t.Errorf("change of %s, want photos", bucket)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot from Loop")
	}
	select {
	case <-recovered:
	case <-time.After(10 * time.Second):
		t.Fatal("no successful sync reported after the store came back")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Loop did not stop with its context")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) < 3 || !errors.Is(results[0], errInjected) || !errors.Is(results[1], errInjected) || results[2] != nil {
		t.Errorf("sync results = %v, want two injected errors then success", results)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		n        int
		unloaded bool // the node never read the store
		want     time.Duration
	}{
		{"first retry after a second", 5 * time.Second, 1, false, time.Second},
		{"doubles", 5 * time.Second, 3, false, 4 * time.Second},
		{"capped at a minute", 5 * time.Second, 7, false, time.Minute},
		{"stays capped", 5 * time.Second, 1000, false, time.Minute},
		{"short interval: first retry after the interval", 100 * time.Millisecond, 1, false, 100 * time.Millisecond},
		{"short interval doubles", 100 * time.Millisecond, 4, false, 800 * time.Millisecond},
		{"long interval: cap is the interval", 5 * time.Minute, 1000, false, 5 * time.Minute},
		{"long interval: first retry still soon", 5 * time.Minute, 1, false, time.Second},
		{"never loaded: doubles as well", 5 * time.Second, 3, true, 4 * time.Second},
		{"never loaded: capped at five seconds", 5 * time.Second, 1000, true, 5 * time.Second},
		{"never loaded, long interval: five seconds too", time.Hour, 1000, true, 5 * time.Second},
		{"never loaded, short interval", 100 * time.Millisecond, 1000, true, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backoff(tt.interval, tt.n, !tt.unloaded); got != tt.want {
				t.Errorf("backoff(%v, %d, loaded %v) = %v, want %v", tt.interval, tt.n, !tt.unloaded, got, tt.want)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 10, time.Second, time.Minute} {
		for range 100 {
			got := jitter(d)
			if got < d-d/10 || got > d+d/10 {
				t.Fatalf("jitter(%v) = %v, beyond ±10%%", d, got)
			}
		}
	}
}
