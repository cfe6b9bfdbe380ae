package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// fakeStream is a store whose notification stream the test drives: it
// announces the journal's entries when told to, drops the stream, and
// refuses new ones while down (with refusal, or a transient error).
type fakeStream struct {
	fullStore
	announce chan announcement
	drop     chan struct{}
	mu       sync.Mutex
	down     error // what Notify returns at once, nil to stream
	attempts atomic.Int64
}

// announcement is an entry name to announce; done is closed once the
// Syncer was told.
type announcement struct {
	name string
	done chan struct{}
}

func newFakeStream(s fullStore) *fakeStream {
	return &fakeStream{fullStore: s, announce: make(chan announcement), drop: make(chan struct{})}
}

func (f *fakeStream) setDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = err
}

func (f *fakeStream) Notify(ctx context.Context, state func(bool), entry func(string)) error {
	f.attempts.Add(1)
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down != nil {
		return down
	}
	state(true)
	for {
		select {
		case a := <-f.announce:
			entry(a.name)
			close(a.done)
		case <-f.drop:
			state(false)
			return errors.New("fake stream: connection reset")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// announceAll announces every entry of the journal, as the stream of a
// store would have, and returns once the Syncer was told.
func (f *fakeStream) announceAll(t *testing.T) {
	t.Helper()
	names, err := f.ReadJournal(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		a := announcement{name: name, done: make(chan struct{})}
		f.announce <- a
		<-a.done
	}
}

// waitFor polls cond until it holds, failing t after a generous bound (a
// stuck test, not a slow one).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	defer func(start time.Time) { t.Logf("waited %v for %s", time.Since(start), what) }(time.Now())
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serves reports whether s serves a configuration for bucket.
func serves(s *Syncer, bucket string) func() bool {
	return func() bool { _, _, ok := s.Lookup(bucket); return ok }
}

// runLoop runs s.Loop until the test ends.
func runLoop(t *testing.T, s *Syncer, interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Loop(ctx, interval)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// logCount counts the entries of logs at level whose message contains
// part.
func logCount(logs *observer.ObservedLogs, level zapcore.Level, part string) int {
	n := 0
	for _, e := range logs.All() {
		if e.Level == level && strings.Contains(e.Message, part) {
			n++
		}
	}
	return n
}

// streamControl is how a test drives node B's notification stream.
type streamControl struct {
	// announced returns once B was told of A's latest write (a fake
	// stream announces by hand; a real one needs nothing).
	announced func()
	// cut takes the stream down, and keeps new ones from opening, until
	// restore.
	cut, restore func()
}

// checkNotifiedAndFallback runs node B (running its Loop with an interval
// of an hour, listening) while node A writes: only a notification explains
// B serving A's write; with the stream cut, B's ticks (its interval made
// short) still bring A's writes and the outage is logged once however many
// times B tries again; with the stream back, notifications deliver again
// and that is logged once. Which path delivered each change is read from
// B's counters.
func checkNotifiedAndFallback(t *testing.T, a, b *Syncer, logs *observer.ObservedLogs, ctl streamControl) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, "B loaded and listening", func() bool { return b.isLoaded() && b.Stats().StreamUp })

	before := b.Stats()
	if err := a.Put(ctx, "photos", mustParse(t, testXML("https://a.example"))); err != nil {
		t.Fatal(err)
	}
	ctl.announced()
	waitNotified(t, b, before)
	if !serves(b, "photos")() {
		t.Fatal("B does not serve photos after a notified sync changed something")
	}

	ctl.cut()
	waitFor(t, "B's stream down", func() bool { return !b.Stats().StreamUp })
	before = b.Stats()
	b.SetInterval(5 * time.Millisecond)
	if err := a.Put(ctx, "videos", mustParse(t, testXML("https://a.example"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B serving videos after a tick changed something", func() bool {
		return serves(b, "videos")() && b.Stats().Changed[ByTick] > before.Changed[ByTick]
	})
	if after := b.Stats(); after.Syncs[ByNotification] != before.Syncs[ByNotification] {
		t.Fatalf("a notification started a sync while the stream was cut: before %+v, after %+v", before, after)
	}

	b.SetInterval(time.Hour)
	quiesce(b)
	ctl.restore()
	waitFor(t, "B's stream back", func() bool { return b.Stats().StreamUp })
	before = b.Stats()
	if err := a.Delete(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	ctl.announced()
	waitNotified(t, b, before)
	if serves(b, "photos")() {
		t.Fatal("B still serves photos after a notified sync changed something")
	}
	if n := logCount(logs, zapcore.WarnLevel, "notification"); n != 1 {
		t.Errorf("%d warnings about the stream, want 1:\n%v", n, logs.All())
	}
	if n := logCount(logs, zapcore.InfoLevel, "notifications back"); n != 1 {
		t.Errorf("%d lines about the stream coming back, want 1", n)
	}
}

// TestNotifiedSync runs checkNotifiedAndFallback with a stream the test
// announces by hand, which fails at once while cut; then checks that
// neither B's own writes nor entries B already read make it sync.
func TestNotifiedSync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := NewSyncer(newFileStore(dir), nil, SyncerOptions{})
	if _, err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	stream := newFakeStream(newFileStore(dir))
	core, logs := observer.New(zapcore.DebugLevel)
	b := NewSyncer(stream, zap.New(core), SyncerOptions{Notifications: true, notifyRetryMax: 10 * time.Millisecond})
	runLoop(t, b, time.Hour)
	var attempts int64
	checkNotifiedAndFallback(t, a, b, logs, streamControl{
		announced: func() { stream.announceAll(t) },
		cut: func() {
			stream.setDown(errors.New("fake stream: connection refused"))
			stream.drop <- struct{}{}
			attempts = stream.attempts.Load()
		},
		restore: func() {
			// Several attempts failed meanwhile, logged once (checked
			// at the end).
			waitFor(t, "B trying to listen again", func() bool { return stream.attempts.Load() >= attempts+3 })
			stream.setDown(nil)
		},
	})

	if err := b.Put(ctx, "own", mustParse(t, testXML("https://b.example"))); err != nil {
		t.Fatal(err)
	}
	before := b.Stats()
	stream.announceAll(t)
	if after := b.Stats(); after.Notifications != before.Notifications {
		t.Fatalf("B acted on its own or already read entries: before %+v, after %+v", before, after)
	}
}

// waitNotified waits until a sync started by a notification changed
// something on s since before, and checks that no tick started a sync
// meanwhile.
func waitNotified(t *testing.T, s *Syncer, before SyncStats) {
	t.Helper()
	waitFor(t, "a notified sync that changes something", func() bool {
		return s.Stats().Changed[ByNotification] > before.Changed[ByNotification]
	})
	if after := s.Stats(); after.Syncs[ByTick] != before.Syncs[ByTick] {
		t.Fatalf("a tick started a sync meanwhile: before %+v, after %+v", before, after)
	}
}

// quiesce returns once a sync running now (a tick started before the
// interval was made long) has ended.
func quiesce(s *Syncer) {
	s.syncMu.Lock()
	//lint:ignore SA2001 an empty critical section: waiting is the point
	s.syncMu.Unlock()
}

// TestNotificationsRefused runs B over a store that refuses to notify (as
// AWS, or credentials without the listen permission): B syncs at its
// interval, says so once at info level, and warns about nothing.
func TestNotificationsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := NewSyncer(newFileStore(dir), nil, SyncerOptions{})
	stream := newFakeStream(newFileStore(dir))
	stream.setDown(fmt.Errorf("fake stream: %w", ErrNotificationsRefused))
	core, logs := observer.New(zapcore.InfoLevel)
	b := NewSyncer(stream, zap.New(core), SyncerOptions{Notifications: true, notifyRetryMax: 10 * time.Millisecond})
	runLoop(t, b, 5*time.Millisecond)
	if err := a.Put(ctx, "photos", mustParse(t, testXML("https://a.example"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B serving photos", serves(b, "photos"))
	waitFor(t, "B trying to listen again", func() bool { return stream.attempts.Load() >= 3 })
	checkRefused(t, b, logs)
}

// checkRefused checks node B, whose store refuses to notify: no stream,
// no sync started by a notification, one line at info level saying that
// notifications are not available, and no warning.
func checkRefused(t *testing.T, b *Syncer, logs *observer.ObservedLogs) {
	t.Helper()
	if st := b.Stats(); st.StreamUp || st.Syncs[ByNotification] != 0 {
		t.Fatalf("stats %+v: no stream expected", st)
	}
	if n := logCount(logs, zapcore.InfoLevel, "notifications not available"); n != 1 {
		t.Errorf("%d lines saying notifications are not available, want 1", n)
	}
	for _, e := range logs.All() {
		if e.Level >= zapcore.WarnLevel {
			t.Errorf("warning: %s %v", e.Message, e.Context)
		}
	}
}
