package store

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// fullStore is a Store with the optional interfaces CaddyStorage and
// ObjectStore both have.
type fullStore interface {
	Store
	VersionedPutter
	VersionedLoader
	Journal
}

// callCounter wraps a store and counts the calls the Syncer makes to it,
// and the entries its listings return, forwarding every optional
// interface so that the Syncer behaves as it does over the store itself.
// Over ObjectStore, each call but a listing is one request; a listing is
// one request a 1,000 entries.
type callCounter struct {
	fullStore
	mu     sync.Mutex
	calls  map[string]int
	listed int      // entries returned by List and ListNames
	loaded []string // buckets read, sorted by take
}

func newCallCounter(s fullStore) *callCounter {
	return &callCounter{fullStore: s, calls: make(map[string]int)}
}

func (c *callCounter) count(call string, listed int, bucket string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[call]++
	c.listed += listed
	if bucket != "" {
		c.loaded = append(c.loaded, bucket)
	}
}

// take returns the calls counted since the previous take, the entries
// listed and the buckets read, and resets them.
func (c *callCounter) take() (map[string]int, int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls, listed, loaded := c.calls, c.listed, c.loaded
	c.calls, c.listed, c.loaded = make(map[string]int), 0, nil
	slices.Sort(loaded)
	return calls, listed, loaded
}

func (c *callCounter) Load(ctx context.Context, bucket string) ([]byte, error) {
	c.count("Load", 0, bucket)
	return c.fullStore.Load(ctx, bucket)
}

func (c *callCounter) LoadVersion(ctx context.Context, bucket string) ([]byte, string, error) {
	c.count("Load", 0, bucket)
	return c.fullStore.LoadVersion(ctx, bucket)
}

func (c *callCounter) List(ctx context.Context) ([]Entry, error) {
	entries, err := c.fullStore.List(ctx)
	c.count("List", len(entries), "")
	return entries, err
}

func (c *callCounter) ListNames(ctx context.Context) ([]Entry, error) {
	list := c.fullStore.List
	if nl, ok := c.fullStore.(NameLister); ok {
		list = nl.ListNames
	}
	entries, err := list(ctx)
	c.count("List", len(entries), "")
	return entries, err
}

func (c *callCounter) ReadJournal(ctx context.Context, after string) ([]string, error) {
	c.count("ReadJournal", 0, "")
	return c.fullStore.ReadJournal(ctx, after)
}

func (c *callCounter) PruneJournal(ctx context.Context, before string) (int, error) {
	c.count("PruneJournal", 0, "")
	return c.fullStore.PruneJournal(ctx, before)
}

// TestJournalSyncCost counts the store calls of a sync over file storage
// with 10 and with 10,000 buckets: see checkJournalSyncCost.
func TestJournalSyncCost(t *testing.T) {
	for _, n := range []int{10, 10_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			keys := filepath.Join(dir, KeyPrefix)
			if err := os.MkdirAll(keys, 0o700); err != nil {
				t.Fatal(err)
			}
			// Written directly: certmagic's atomic writes (an fsync a key)
			// would make the set-up slow.
			checkJournalSyncCost(t, newFileStore(dir), newFileStore(dir), n, func(bucket string, xml []byte) error {
				return os.WriteFile(filepath.Join(keys, bucket+keySuffix), xml, 0o600)
			})
		})
	}
}

// checkJournalSyncCost stores n configurations directly (as a node that
// ran before would have), starts node A over store0 counting its calls and
// node B over store1 (the same storage), and checks: a sync when nothing
// changed makes one call, a journal read, and lists or reads nothing,
// whatever n; B's writes cost A one journal read and one read per bucket
// written; B's delete is seen; A never reads its own writes back.
func checkJournalSyncCost(t *testing.T, store0, store1 fullStore, n int, put func(bucket string, xml []byte) error) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if err := put(fmt.Sprintf("bucket-%05d", i), testXML("https://a.example")); err != nil {
			t.Fatal(err)
		}
	}
	counter := newCallCounter(store0)
	a := NewSyncer(counter, zap.NewNop(), SyncerOptions{})
	b := NewSyncer(store1, zap.NewNop(), SyncerOptions{})
	mustSync(t, a)
	mustSync(t, b)
	if calls, listed, _ := counter.take(); calls["List"] != 1 || listed != n {
		t.Fatalf("first sync: calls %v, %d listed; want one listing of %d", calls, listed, n)
	}

	idle := map[string]int{"ReadJournal": 1}
	steps := []struct {
		name      string
		action    func() error
		wantCalls map[string]int
		wantRead  []string
		wantLen   int
	}{
		{"idle", nil, idle, nil, n},
		{"idle again", nil, idle, nil, n},
		{"B writes three buckets", func() error {
			for _, bucket := range []string{"bucket-00001", "bucket-00002", "new-one"} {
				if err := b.Put(ctx, bucket, mustParse(t, testXML("https://b.example"))); err != nil {
					return err
				}
			}
			return nil
		}, map[string]int{"ReadJournal": 1, "Load": 3}, []string{"bucket-00001", "bucket-00002", "new-one"}, n + 1},
		{"idle after the change", nil, idle, nil, n + 1},
		{"B deletes one", func() error { return b.Delete(ctx, "bucket-00003") },
			map[string]int{"ReadJournal": 1, "Load": 1}, []string{"bucket-00003"}, n},
		{"A writes one", func() error { return a.Put(ctx, "bucket-00004", mustParse(t, testXML("https://own.example"))) },
			idle, nil, n},
		{"idle at the end", nil, idle, nil, n},
	}
	for _, step := range steps {
		if step.action != nil {
			if err := step.action(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			counter.take() // A's own write, not its sync
		}
		mustSync(t, a)
		calls, listed, read := counter.take()
		if !maps.Equal(calls, step.wantCalls) || listed != 0 || !slices.Equal(read, step.wantRead) {
			t.Errorf("%s, %d buckets: calls %v, %d listed, read %v; want calls %v, 0 listed, read %v",
				step.name, n, calls, listed, read, step.wantCalls, step.wantRead)
		}
		if got := a.Len(); got != step.wantLen {
			t.Errorf("%s: A serves %d buckets, want %d", step.name, got, step.wantLen)
		}
	}
	mustSync(t, b)
	if got, want := contents(a.Snapshot()), contents(b.Snapshot()); !maps.Equal(got, want) {
		t.Errorf("A and B disagree after the journal syncs")
	}
	t.Logf("%d buckets: an idle sync makes 1 call (a journal read), lists 0 entries, reads 0 keys", n)
}

// TestJournalRepair: a key changed by hand, not through a Syncer, is not in
// the journal and is picked up by the next full sync; a node whose last
// sync is older than the journal keeps lists the store instead; a full
// sync prunes entries older than JournalRetention; an entry named up to
// JournalLookback before the previous read (a writer whose clock is behind)
// is still read.
func TestJournalRepair(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, other := newFileStore(dir), newFileStore(dir)
	if err := raw.Put(ctx, "photos", testXML("https://a.example")); err != nil {
		t.Fatal(err)
	}
	counter := newCallCounter(raw)
	s := NewSyncer(counter, zap.NewNop(), SyncerOptions{})
	mustSync(t, s)
	counter.take()

	// By hand: the journal does not tell.
	if err := other.Put(ctx, "photos", testXML("https://hand.example")); err != nil {
		t.Fatal(err)
	}
	snap, _ := mustSync(t, s)
	if got := contents(snap)["photos"]; got != canonical(t, testXML("https://a.example")) {
		t.Errorf("a journal sync picked up a hand edit: %s", got)
	}
	s.SetFullInterval(time.Nanosecond)
	snap, _ = mustSync(t, s)
	if got := contents(snap)["photos"]; got != canonical(t, testXML("https://hand.example")) {
		t.Errorf("the full sync missed the hand edit: %s", got)
	}
	if calls, _, _ := counter.take(); calls["List"] != 1 {
		t.Errorf("full sync: calls %v, want a listing", calls)
	}
	s.SetFullInterval(0)

	// A writer whose clock is 30 s behind.
	if err := other.Put(ctx, "late", testXML("https://late.example")); err != nil {
		t.Fatal(err)
	}
	if _, err := other.AppendJournal(ctx, "late", time.Now().Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	snap, _ = mustSync(t, s)
	if _, ok := snap["late"]; !ok {
		t.Errorf("an entry 30 s older than the previous read was missed")
	}
	if calls, _, read := counter.take(); calls["List"] != 0 || !slices.Equal(read, []string{"late"}) {
		t.Errorf("late entry: calls %v, read %v; want a journal sync reading late", calls, read)
	}

	// Down for longer than the journal keeps: the store is listed.
	s.journalRead = time.Now().Add(-JournalRetention)
	mustSync(t, s)
	if calls, _, _ := counter.take(); calls["List"] != 1 {
		t.Errorf("stale journal: calls %v, want a listing", calls)
	}

	// Pruning, by the next full sync.
	old, err := other.AppendJournal(ctx, "photos", time.Now().Add(-JournalRetention-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := other.AppendJournal(ctx, "photos", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.SetFullInterval(time.Nanosecond)
	mustSync(t, s)
	names, err := raw.ReadJournal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, old) || !slices.Contains(names, fresh) {
		t.Errorf("after a full sync the journal holds %v; want %s pruned and %s kept", names, old, fresh)
	}
}

func TestJournalName(t *testing.T) {
	at := time.Unix(1_700_000_000, 123)
	name := journalName(at, "my.bucket-1")
	got, bucket, ok := parseJournalName(name)
	if !ok || !got.Equal(at) || bucket != "my.bucket-1" {
		t.Errorf("parseJournalName(%q) = %v %q %v", name, got, bucket, ok)
	}
	if b := journalBound(at); !(b < name) || !(journalBound(at.Add(-1)) < b) || !(name < journalBound(at.Add(1))) {
		t.Errorf("bounds do not order around %q", name)
	}
	for _, bad := range []string{"", "123", "0000000000000000001-zzzzzzzz-bucket", "0000000000000000001-00000000-..",
		"0000000000000000001-00000000-UPPER", "x000000000000000001-00000000-ok"} {
		if _, _, ok := parseJournalName(bad); ok {
			t.Errorf("parseJournalName(%q) accepted", bad)
		}
	}
}

// checkJournalPrune appends an old and a new entry to j's journal and
// checks what ReadJournal and PruneJournal make of them.
func checkJournalPrune(t *testing.T, j Journal) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	old, err := j.AppendJournal(ctx, "old", now.Add(-JournalRetention-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := j.AppendJournal(ctx, "fresh", now)
	if err != nil {
		t.Fatal(err)
	}
	names, err := j.ReadJournal(ctx, journalBound(now.Add(-time.Second)))
	if err != nil || !slices.Equal(names, []string{fresh}) {
		t.Errorf("ReadJournal after a second ago = %v, %v; want [%s]", names, err, fresh)
	}
	if _, err := j.PruneJournal(ctx, journalBound(now.Add(-JournalRetention))); err != nil {
		t.Fatal(err)
	}
	names, err = j.ReadJournal(ctx, "")
	if err != nil || slices.Contains(names, old) || !slices.Contains(names, fresh) {
		t.Errorf("after pruning, the journal holds %v (%v); want %s gone and %s kept", names, err, old, fresh)
	}
}

func TestCaddyStorageJournal(t *testing.T) {
	checkJournalPrune(t, newFileStore(t.TempDir()))
	checkJournalPrune(t, NewCaddyStorage(newMemStorage()))
}

// gatedStore calls afterPut once a PutVersion landed and before it
// returns, afterList after each List, and beforeLoad before each
// LoadVersion, when they are set.
type gatedStore struct {
	fullStore
	afterPut, afterList, beforeLoad func()
}

func (g *gatedStore) PutVersion(ctx context.Context, bucket string, xml []byte) (string, error) {
	v, err := g.fullStore.PutVersion(ctx, bucket, xml)
	if g.afterPut != nil {
		g.afterPut()
	}
	return v, err
}

func (g *gatedStore) List(ctx context.Context) ([]Entry, error) {
	entries, err := g.fullStore.List(ctx)
	if g.afterList != nil {
		g.afterList()
	}
	return entries, err
}

func (g *gatedStore) LoadVersion(ctx context.Context, bucket string) ([]byte, string, error) {
	if g.beforeLoad != nil {
		g.beforeLoad()
	}
	return g.fullStore.LoadVersion(ctx, bucket)
}

// TestSyncOwnWriteRacingAnother: node B's write lands, then node A's write
// of the same bucket lands over it and A's journal entry is written, and a
// sync of B that began before B's write returned reads the journal and
// lists or reads the key. That sync leaves the bucket to B's write (what
// it read may predate it), so the next journal sync must read the key
// again: storage holds A's configuration. Before the fix the sync took
// A's entry as dealt with, and B served its own configuration, overwritten
// in storage, until its next full sync.
func TestSyncOwnWriteRacingAnother(t *testing.T) {
	tests := []struct {
		name string
		full bool // the racing sync is a full sync
		// gate returns the hook of gatedStore during which B's write
		// returns.
		gate func(g *gatedStore) *func()
	}{
		{"journal sync, write returns before the read", false, func(g *gatedStore) *func() { return &g.beforeLoad }},
		{"full sync, write returns after the listing", true, func(g *gatedStore) *func() { return &g.afterList }},
		{"full sync, write returns before the read", true, func(g *gatedStore) *func() { return &g.beforeLoad }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			gated := &gatedStore{fullStore: newFileStore(dir)}
			a := NewSyncer(newFileStore(dir), zap.NewNop(), SyncerOptions{})
			b := NewSyncer(gated, zap.NewNop(), SyncerOptions{})
			mustSync(t, b)

			landed, release, written := make(chan struct{}), make(chan struct{}), make(chan error)
			gated.afterPut = func() {
				close(landed)
				<-release
			}
			go func() { written <- b.Put(ctx, "photos", mustParse(t, testXML("https://b.example"))) }()
			<-landed
			gated.afterPut = nil
			if err := a.Put(ctx, "photos", mustParse(t, testXML("https://a.example"))); err != nil {
				t.Fatal(err)
			}
			hook := tt.gate(gated)
			*hook = func() {
				*hook = nil
				close(release)
				if err := <-written; err != nil {
					t.Error(err)
				}
			}
			if tt.full {
				b.SetFullInterval(time.Nanosecond)
			}
			mustSync(t, b)
			if *hook != nil {
				t.Fatal("B's write did not return during the sync")
			}
			b.SetFullInterval(0) // the next sync is a journal sync

			stored, err := gated.Load(ctx, "photos")
			if err != nil {
				t.Fatal(err)
			}
			snap, _ := mustSync(t, b)
			if got, want := contents(snap)["photos"], canonical(t, stored); got != want {
				t.Errorf("B serves %s, storage holds %s", got, want)
			}
		})
	}
}
