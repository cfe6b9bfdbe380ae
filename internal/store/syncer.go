package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// DefaultInterval is the sync interval Loop uses when given none: a write on
// one node is visible on every other node within about this long.
const DefaultInterval = 5 * time.Second

// DefaultFullEvery is how many syncs pass between two full syncs, which read
// every key whatever its Version, when SyncerOptions.FullEvery is zero: with
// DefaultInterval, every five minutes.
const DefaultFullEvery = 60

// maxBackoff bounds the delay between retries of a failing sync, unless the
// interval itself is longer.
const maxBackoff = time.Minute

// Locator is implemented by stores that can say where a bucket's
// configuration lives, so that log lines name the key.
type Locator interface {
	// Locate returns the storage key or object name of bucket's
	// configuration.
	Locate(bucket string) string
}

// SyncerOptions tunes a Syncer. The zero value is usable.
type SyncerOptions struct {
	// OnChange, when set, is called with every new snapshot: after a Sync
	// that changed something, and after Put, Delete and Note. Calls are
	// serialized and in order, so the last call always carries the latest
	// snapshot; snapshots that were superseded before their turn are
	// skipped. The map must not be modified. OnChange must not call Put,
	// Delete, Note or Sync of the same Syncer (it would deadlock); Snapshot
	// is fine.
	OnChange func(map[string]*s3cors.Configuration)

	// OnSync, when set, is called by Loop after every sync with its error
	// (nil on success), for example to count sync errors in a metric.
	OnSync func(error)

	// FullEvery makes every FullEvery-th sync read all keys, not only the
	// ones whose Version changed. It repairs what version comparison cannot
	// see: a storage module whose modification times are too coarse to tell
	// two same-size writes apart, or a version taken by PutVersion that
	// belonged to another node's racing write. Zero means DefaultFullEvery;
	// a negative value disables full syncs.
	FullEvery int
}

// Syncer turns a Store into a snapshot of parsed configurations, one per
// bucket, and keeps it current. It is safe for concurrent use.
//
// Each Sync lists the store and reads only the keys that are new or whose
// Version changed; keys gone from the list are dropped. Every snapshot is a
// new map, never modified afterwards, so readers may use it without locks
// (the caller compiles it and publishes it behind an atomic pointer).
//
// A key that cannot be read or parsed is logged at warn level with its key
// and skipped; the other buckets are unaffected. Its bucket keeps the last
// configuration this Syncer read successfully, if any; a bucket that never
// had a good configuration in this process has none (it behaves as a bucket
// without CORS configuration). A failing key is read again, and logged
// again, on every sync until it is fixed or deleted, so that a problem stays
// visible and a torn read from a non-atomic storage module repairs itself.
//
// Keeping the last good configuration favours availability of a running
// node over agreement between nodes: a node started after the key went bad
// has no configuration for that bucket while older nodes still serve the
// last good one. Both states are logged on every sync.
//
// A failed List returns the error and leaves the snapshot as it was, so the
// caller keeps serving the last good snapshot.
type Syncer struct {
	store Store
	log   *zap.Logger
	opts  SyncerOptions

	// syncMu makes Syncs run one at a time; Put, Delete and Note do not
	// take it, so that a write is never held up by a slow listing.
	syncMu sync.Mutex

	mu    sync.Mutex // guards the fields below
	keys  map[string]*keyState
	snap  map[string]*s3cors.Configuration
	gen   uint64 // generation of snap, incremented on each change
	seq   uint64 // counter of Notes, see keyState.noted
	syncs int    // number of Syncs, for FullEvery

	pubMu  sync.Mutex // serializes OnChange calls
	pubGen uint64     // generation last given to OnChange
}

// keyState is what a Syncer knows about one bucket's key.
type keyState struct {
	// version is the Version that cfg (or failing) was read at; "" forces
	// a read at the next sync.
	version string
	// cfg is the last good configuration, nil if there never was one or if
	// the bucket was deleted by this node (deleted).
	cfg *s3cors.Configuration
	// failing is the error of the latest read, nil when it succeeded.
	failing error
	// noted is the value of Syncer.seq when this node wrote the key itself
	// (Note), 0 when the state comes from a sync. A Sync that started
	// before the Note leaves the state alone, since its listing may predate
	// the write.
	noted uint64
	// deleted marks a tombstone of this node's own Delete, kept until a
	// sync that started after it confirms the key is gone.
	deleted bool
}

// NewSyncer returns a Syncer over st with an empty snapshot; call Sync to
// fill it. A nil logger discards logs.
func NewSyncer(st Store, logger *zap.Logger, opts SyncerOptions) *Syncer {
	if logger == nil {
		logger = zap.NewNop()
	}
	if opts.FullEvery == 0 {
		opts.FullEvery = DefaultFullEvery
	}
	return &Syncer{
		store: st,
		log:   logger,
		opts:  opts,
		keys:  make(map[string]*keyState),
		snap:  map[string]*s3cors.Configuration{},
	}
}

// Snapshot returns the current configurations by bucket. The map is never
// modified; do not modify it.
func (s *Syncer) Snapshot() map[string]*s3cors.Configuration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}

// Failures returns the buckets whose key failed to load or parse at the
// latest sync, with the error.
func (s *Syncer) Failures() map[string]error {
	s.mu.Lock()
	defer s.mu.Unlock()
	failures := make(map[string]error)
	for bucket, st := range s.keys {
		if st.failing != nil {
			failures[bucket] = st.failing
		}
	}
	return failures
}

// readResult is the outcome of reading one key during a Sync.
type readResult struct {
	cfg  *s3cors.Configuration
	err  error
	gone bool // deleted between List and Load
}

// Sync brings the snapshot up to date with the store and returns it, with
// whether it changed. On error (the store could not be listed, or ctx ended)
// the snapshot is unchanged and returned with the error.
func (s *Syncer) Sync(ctx context.Context) (map[string]*s3cors.Configuration, bool, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()

	// Notes made from here on are newer than the listing.
	s.mu.Lock()
	start := s.seq
	s.mu.Unlock()

	entries, err := s.store.List(ctx)
	if err != nil {
		return s.Snapshot(), false, fmt.Errorf("store sync: list: %w", err)
	}

	s.mu.Lock()
	s.syncs++
	full := s.opts.FullEvery > 0 && s.syncs%s.opts.FullEvery == 0
	var toRead []Entry
	for _, e := range entries {
		st := s.keys[e.Bucket]
		if full || st == nil || e.Version == "" || st.version != e.Version || st.failing != nil {
			toRead = append(toRead, e)
		}
	}
	s.mu.Unlock()

	// Read without holding mu: Snapshot, Put and Note stay responsive
	// while a slow store is read.
	results, err := s.readAll(ctx, toRead)
	if err != nil {
		return s.Snapshot(), false, fmt.Errorf("store sync: %w", err)
	}

	s.mu.Lock()
	changed := s.merge(start, entries, results)
	snap := s.snap
	s.mu.Unlock()
	if changed {
		s.publish()
	}
	return snap, changed, nil
}

// readAll reads the keys of entries, several at a time: parsing is CPU
// bound and a remote store latency bound, and a node starting with 10,000
// configurations must read them all within the initial sync's timeout. It
// returns ctx's error if ctx ends first.
func (s *Syncer) readAll(ctx context.Context, entries []Entry) (map[string]readResult, error) {
	results := make(map[string]readResult, len(entries))
	workers := min(max(runtime.GOMAXPROCS(0), minReaders), len(entries))
	if workers <= 1 {
		for _, e := range entries {
			results[e.Bucket] = s.read(ctx, e.Bucket)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		return results, nil
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan string)
	)
	for range workers {
		wg.Go(func() {
			for bucket := range next {
				r := s.read(ctx, bucket)
				mu.Lock()
				results[bucket] = r
				mu.Unlock()
			}
		})
	}
feed:
	for _, e := range entries {
		select {
		case next <- e.Bucket:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// minReaders is the least number of keys a Sync reads at a time (more on
// machines with more cores): enough to hide a remote store's latency.
const minReaders = 8

// read loads and parses the configuration of bucket.
func (s *Syncer) read(ctx context.Context, bucket string) readResult {
	b, err := s.store.Load(ctx, bucket)
	if errors.Is(err, fs.ErrNotExist) {
		return readResult{gone: true}
	}
	if err != nil {
		return readResult{err: err}
	}
	cfg, err := s3cors.ParseStoredXML(b)
	if err != nil {
		return readResult{err: fmt.Errorf("store sync: parse %s: %w", s.locate(bucket), err)}
	}
	return readResult{cfg: cfg}
}

// merge applies a listing and the keys read for it to s.keys, logs the keys
// that failed, and rebuilds the snapshot. It reports whether the snapshot
// changed. s.mu must be held.
func (s *Syncer) merge(start uint64, entries []Entry, results map[string]readResult) bool {
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		st := s.keys[e.Bucket]
		if st != nil && st.noted > start {
			listed[e.Bucket] = true
			continue // this node wrote it after the listing was taken
		}
		r, read := results[e.Bucket]
		if !read {
			listed[e.Bucket] = true
			continue // unchanged
		}
		if r.gone {
			continue // handled as not listed
		}
		listed[e.Bucket] = true
		if r.err != nil {
			if st == nil || st.deleted {
				st = &keyState{}
				s.keys[e.Bucket] = st
			}
			// Read again at the next sync: the failure may be transient,
			// or a torn read of a value being written.
			st.version, st.failing, st.noted = "", r.err, 0
			if st.cfg != nil {
				s.log.Warn("bucket CORS configuration unreadable; keeping the last good one",
					zap.String("bucket", e.Bucket), zap.String("key", s.locate(e.Bucket)), zap.Error(r.err))
			} else {
				s.log.Warn("bucket CORS configuration unreadable; bucket skipped",
					zap.String("bucket", e.Bucket), zap.String("key", s.locate(e.Bucket)), zap.Error(r.err))
			}
			continue
		}
		if st != nil && st.cfg != nil && !st.deleted && st.cfg.Equal(r.cfg) {
			// Same content (a full sync, or a rewrite of equal XML): keep
			// the old pointer so the snapshot does not change needlessly.
			st.version, st.failing, st.noted = e.Version, nil, 0
			continue
		}
		if st != nil && st.failing != nil {
			s.log.Info("bucket CORS configuration readable again",
				zap.String("bucket", e.Bucket), zap.String("key", s.locate(e.Bucket)))
		}
		s.keys[e.Bucket] = &keyState{version: e.Version, cfg: r.cfg}
	}
	for bucket, st := range s.keys {
		if !listed[bucket] && st.noted <= start {
			delete(s.keys, bucket)
		}
	}
	return s.rebuild()
}

// rebuild makes a new snapshot from s.keys if it differs from the current
// one, and reports whether it did. s.mu must be held.
func (s *Syncer) rebuild() bool {
	snap := make(map[string]*s3cors.Configuration, len(s.keys))
	for bucket, st := range s.keys {
		if st.cfg != nil && !st.deleted {
			snap[bucket] = st.cfg
		}
	}
	if len(snap) == len(s.snap) {
		same := true
		for bucket, cfg := range snap {
			if s.snap[bucket] != cfg {
				same = false
				break
			}
		}
		if same {
			return false
		}
	}
	s.snap = snap
	s.gen++
	return true
}

// publish hands the latest snapshot to OnChange unless it already had it.
func (s *Syncer) publish() {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	snap, gen := s.snap, s.gen
	s.mu.Unlock()
	if gen <= s.pubGen {
		return
	}
	s.pubGen = gen
	if s.opts.OnChange != nil {
		s.opts.OnChange(snap)
	}
}

// locate names bucket's key for logs.
func (s *Syncer) locate(bucket string) string {
	if l, ok := s.store.(Locator); ok {
		return l.Locate(bucket)
	}
	return bucket
}

// Put stores cfg as bucket's configuration (as cfg.XML(), the engine's
// canonical form, which GetBucketCors returns) and, once the store has it,
// puts it in the snapshot at once. When the store is a VersionedPutter, the new
// Version is noted so that the next sync does not read the key back.
func (s *Syncer) Put(ctx context.Context, bucket string, cfg *s3cors.Configuration) error {
	if cfg == nil {
		return fmt.Errorf("store sync: put %q: nil configuration", bucket)
	}
	xml := cfg.XML()
	var version string
	var err error
	if vp, ok := s.store.(VersionedPutter); ok {
		version, err = vp.PutVersion(ctx, bucket, xml)
	} else {
		err = s.store.Put(ctx, bucket, xml)
	}
	if err != nil {
		return err // already prefixed by the store
	}
	s.Note(bucket, version, cfg)
	return nil
}

// Delete removes bucket's configuration from the store and, once done, from
// the snapshot.
func (s *Syncer) Delete(ctx context.Context, bucket string) error {
	if err := s.store.Delete(ctx, bucket); err != nil {
		return err // already prefixed by the store
	}
	s.Note(bucket, "", nil)
	return nil
}

// Note records a write this node made to the store itself, so that the
// snapshot has it at once and the next sync does not read it back: cfg is
// the configuration written and version the Version List will report for it
// ("" when unknown, which makes the next sync read it once). A nil cfg
// records a delete. Put and Delete call Note; call it directly only for
// writes made to the Store without the Syncer.
func (s *Syncer) Note(bucket, version string, cfg *s3cors.Configuration) {
	s.mu.Lock()
	s.seq++
	s.keys[bucket] = &keyState{version: version, cfg: cfg, noted: s.seq, deleted: cfg == nil}
	changed := s.rebuild()
	s.mu.Unlock()
	if changed {
		s.publish()
	}
}

// Loop runs Sync every interval (DefaultInterval if not positive) until ctx
// ends. A failed sync is logged and retried sooner at first, then with
// exponential backoff up to a minute (or the interval, if longer), so that a
// store that is down is not hammered; the snapshot stays the last good one
// meanwhile. Delays carry ±10% jitter so that nodes started together do not
// sync in lockstep. Loop returns when ctx ends; run it in a goroutine.
func (s *Syncer) Loop(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	failures := 0
	timer := time.NewTimer(jitter(interval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		_, _, err := s.Sync(ctx)
		if err != nil && ctx.Err() != nil {
			return // canceled, not failed
		}
		if s.opts.OnSync != nil {
			s.opts.OnSync(err)
		}
		delay := interval
		if err != nil {
			failures++
			delay = backoff(interval, failures)
			s.log.Warn("bucket CORS configuration sync failed; serving the last good snapshot",
				zap.Int("consecutive_failures", failures), zap.Duration("retry_in", delay), zap.Error(err))
		} else if failures > 0 {
			s.log.Info("bucket CORS configuration sync recovered", zap.Int("failed_attempts", failures))
			failures = 0
		}
		timer.Reset(jitter(delay))
	}
}

// backoff returns the delay before retry number n (from 1) of a failing
// sync: the first retry comes after at most a second, then the delay
// doubles up to maxBackoff, or up to interval if that is longer.
func backoff(interval time.Duration, n int) time.Duration {
	d := min(interval, time.Second)
	limit := max(interval, maxBackoff)
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// jitter returns d changed by a random amount of up to ±10%.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	spread := int64(d) / 5
	if spread == 0 {
		return d
	}
	return d - time.Duration(spread/2) + time.Duration(rand.Int64N(spread+1))
}
