package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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

// maxBackoffUnloaded bounds it instead while the node has never read the
// store (it started while the store was down): until then it serves none of
// the stored configurations, so it looks again within seconds of the store's
// return, whatever the interval. A request every few seconds does not
// hammer a store that is down.
const maxBackoffUnloaded = 5 * time.Second

// Locator is implemented by stores that can say where a bucket's
// configuration lives, so that log lines name the key.
type Locator interface {
	// Locate returns the storage key or object name of bucket's
	// configuration.
	Locate(bucket string) string
}

// SyncerOptions tunes a Syncer. The zero value is usable.
type SyncerOptions struct {
	// OnChange, when set, is called with every change of a served
	// configuration: after a Sync read a new or changed key or found one
	// gone, and after Put and Delete. cfg is nil when the bucket no longer
	// has a configuration. Calls are serialized, in the order of the
	// changes, and made while the Syncer holds its lock: OnChange must be
	// quick and must not call the Syncer's methods but Lookup and Len.
	OnChange func(bucket string, cfg *Config)

	// OnSync, when set, is called by Loop after every sync with what
	// started it and its error (nil on success), for example to count sync
	// errors in a metric.
	OnSync func(Trigger, error)

	// FullEvery makes every FullEvery-th sync of a store without a
	// Journal read all keys, not only the ones whose Version changed (a
	// store with a Journal has a full sync every SetFullInterval instead). It repairs what version comparison cannot
	// see: a storage module whose modification times are too coarse to tell
	// two same-size writes apart. Zero means DefaultFullEvery; a negative
	// value disables full syncs.
	FullEvery int

	// Notifications makes Loop listen to the store's notifications, when
	// it is a Notifier: a journal entry another node writes is then read
	// at once, and the sync interval is the fallback while the stream is
	// down.
	Notifications bool

	// OnStream, when set, is called each time the notification stream
	// comes up or goes down.
	OnStream func(up bool)

	// notifyRetryMax, when positive, bounds the delay between attempts to
	// open the stream (tests).
	notifyRetryMax time.Duration
}

// Syncer turns a Store into the served configurations, one per bucket, and
// keeps them current. It is safe for concurrent use.
//
// On a store with a Journal, a Sync reads the journal and only the keys
// its new entries name (see syncJournal); with SyncerOptions.Notifications
// on a Notifier, Loop runs such a Sync as soon as another node's entry is
// announced, and at its interval otherwise. A full sync (at start and every
// SetFullInterval) lists and reads every key; when the journal may have
// lost entries (see journalStale), a Sync lists the store as on other
// stores. On other stores, each Sync lists the store and reads only the
// keys that are new or whose Version changed; keys gone from the list are
// dropped. Lookups take no lock (a sync.Map of immutable per-bucket
// states), and a change costs in
// proportion to what changed, whatever the number of buckets: a write
// replaces one bucket's state.
//
// The first successful Sync loads the store: it reads every key but parses
// none (a Config is parsed and compiled on its first use), logs one line
// with the count and the time it took, and closes Loaded. Later Syncs parse
// what they read at once, and log every change they find as coming from
// storage (another node, or a hand edit); the node's own writes are logged
// by whoever made them.
//
// A key that cannot be read or parsed by a later Sync is logged at warn
// level with its key; the other buckets are unaffected. Its bucket keeps
// the last configuration this Syncer read successfully, if any; a bucket
// that never had a good configuration in this process has one that cannot
// be read (Lookup answers nil and true), which the caller must not take
// for a bucket without CORS configuration. A failing key
// is read again, and logged again, on every sync until it is fixed or
// deleted, so that a problem stays visible and a torn read from a
// non-atomic storage module repairs itself. A key that the first Sync
// loaded and that does not parse is reported by Config.Policy when it is
// first used.
//
// Keeping the last good configuration favours availability of a running
// node over agreement between nodes: a node started after the key went bad
// cannot read that bucket's configuration while older nodes still serve
// the last good one.
//
// A failed List returns the error and leaves the configurations as they
// were, so the caller keeps serving the last good ones.
type Syncer struct {
	store   Store
	log     atomic.Pointer[zap.Logger]
	opts    SyncerOptions
	configs interner

	// syncMu makes Syncs run one at a time; Put and Delete do not take
	// it, so that a write is never held up by a slow listing.
	syncMu sync.Mutex

	// writeLocks serialize the writes to one bucket (by a hash of its
	// name): a write, the version it records and the state it leaves
	// then belong to the same write.
	writeLocks [64]sync.Mutex

	// keys maps a bucket to its *keyState. A stored keyState is never
	// modified: a change stores a new one, under mu.
	keys  sync.Map
	count atomic.Int64 // buckets with a served configuration

	mu    sync.Mutex // serializes changes of keys, and guards the fields below
	seq   uint64     // counter of the node's own writes, see keyState.noted
	syncs int        // number of Syncs, for FullEvery
	// reread holds the buckets that a journal sync reads whatever the
	// journal says, as a listing sync would: those whose latest read
	// failed, and those named by another node's journal entry that a sync
	// acted on but left to a write this node made while it ran (which of
	// the two writes the store kept is unknown, and the entry is seen).
	reread map[string]struct{}
	// seen holds the journal entries this node read or wrote that a
	// journal read may list again (made after journalRead-JournalLookback),
	// with their time, so that they are not acted on twice.
	seen map[string]time.Time

	// journal is the store's Journal, nil when it has none. journalRead,
	// guarded by syncMu, is when the latest successful sync began (zero
	// before the first): the next journal read starts JournalLookback
	// before it.
	journal     Journal
	journalRead time.Time
	// lastFull, guarded by syncMu, is when the latest successful listing
	// sync began; fullInterval (see SetFullInterval) is how long after it
	// a store with a Journal is listed and read in full again.
	lastFull     time.Time
	fullInterval atomic.Int64

	interval   atomic.Int64 // of Loop, see SetInterval
	loaded     chan struct{}
	loadedOnce sync.Once

	// kick asks Loop to sync now (a notification), wake to re-arm its
	// timer (SetInterval); each holds at most one request.
	kick, wake chan struct{}
	// For Stats: syncs and syncs that changed something, by Trigger;
	// notifications of other nodes' entries; whether the stream is up.
	syncsBy, changedBy [2]atomic.Uint64
	notifications      atomic.Uint64
	streamUp           atomic.Bool
}

// keyState is what a Syncer knows about one bucket's key.
type keyState struct {
	// version is a hash of the Version that cfg (or failing) was read at
	// (versionHash; 8 bytes in place of a string of about 24); 0 forces a
	// read at the next sync.
	version uint64
	// cfg is the served configuration, nil when there is none: there
	// never was a good one, or this node deleted it (noted is then set: a
	// tombstone, kept until a sync that started after it confirms the key
	// is gone).
	cfg *Config
	// failing is the error of the latest read, nil when it succeeded.
	failing error
	// noted is the value of Syncer.seq when this node wrote the key itself,
	// 0 when the state comes from a sync. A Sync that started before the
	// write leaves the state alone, since its listing may predate it.
	noted uint64
	// name is the bucket name boxed once, so that a request setting the
	// {http.s3_cors.bucket} placeholder allocates nothing; it is also the
	// key in Syncer.keys.
	name any
}

// versionHash is the keyState.version of a Version: 0 for "" (unknown),
// else its FNV-1a hash (never 0). Two versions colliding would make a
// sync miss one change until the next full sync.
func versionHash(v string) uint64 {
	if v == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(v))
	return max(h.Sum64(), 1)
}

// NewSyncer returns a Syncer over st with no configuration; call Sync (or
// Loop) to load the store. A nil logger discards logs.
func NewSyncer(st Store, logger *zap.Logger, opts SyncerOptions) *Syncer {
	if opts.FullEvery == 0 {
		opts.FullEvery = DefaultFullEvery
	}
	s := &Syncer{store: st, opts: opts, loaded: make(chan struct{}),
		reread: make(map[string]struct{}), seen: make(map[string]time.Time),
		kick: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
	s.journal, _ = st.(Journal)
	s.SetFullInterval(0)
	s.SetLogger(logger)
	return s
}

// SetLogger makes logger the Syncer's logger from now on (a config reload
// may change where logs go). A nil logger discards logs.
func (s *Syncer) SetLogger(logger *zap.Logger) {
	if logger == nil {
		logger = zap.NewNop()
	}
	s.log.Store(logger)
}

// Logger returns the Syncer's logger.
func (s *Syncer) Logger() *zap.Logger { return s.log.Load() }

// Loaded is closed once the first Sync succeeded: from then on every
// configuration the store held is served.
func (s *Syncer) Loaded() <-chan struct{} { return s.loaded }

// Lookup returns the configuration served for bucket and the bucket's name
// boxed (the same value on every call), without taking a lock; ok is false
// when the bucket has none. A bucket whose key could not be read, with no
// good configuration read before to keep serving, has one all the same:
// ok is true and cfg nil. The caller must not take it for a bucket without
// configuration, which a default may govern.
func (s *Syncer) Lookup(bucket string) (cfg *Config, name any, ok bool) {
	v, ok := s.keys.Load(bucket)
	if !ok {
		return nil, nil, false
	}
	st := v.(*keyState)
	if st.cfg == nil && st.failing == nil {
		return nil, nil, false
	}
	return st.cfg, st.name, true
}

// Len returns the number of buckets with a served configuration.
func (s *Syncer) Len() int { return int(s.count.Load()) }

// Buckets returns the buckets with a configuration, sorted: those served
// and those whose key could not be read (see Lookup).
func (s *Syncer) Buckets() []string {
	buckets := make([]string, 0, s.Len())
	s.keys.Range(func(k, v any) bool {
		if st := v.(*keyState); st.cfg != nil || st.failing != nil {
			buckets = append(buckets, k.(string))
		}
		return true
	})
	slices.Sort(buckets)
	return buckets
}

// state returns the state of bucket, nil when it has none.
func (s *Syncer) state(bucket string) *keyState {
	if v, ok := s.keys.Load(bucket); ok {
		return v.(*keyState)
	}
	return nil
}

// setState makes st the state of bucket (nil removes it), keeps the count
// and tells OnChange when the served configuration changed. s.mu must be
// held.
func (s *Syncer) setState(bucket string, prev, st *keyState) {
	var before, after *Config
	if prev != nil {
		before = prev.cfg
	}
	if st == nil {
		s.keys.Delete(bucket)
	} else {
		if st.name == nil {
			if prev != nil {
				st.name = prev.name
			} else {
				st.name = bucket
			}
		}
		after = st.cfg
		s.keys.Store(st.name, st)
	}
	if before != after {
		if after != nil {
			s.configs.use(after)
		}
		if before != nil {
			s.configs.release(before)
		}
	}
	switch {
	case before == nil && after != nil:
		s.count.Add(1)
	case before != nil && after == nil:
		s.count.Add(-1)
	}
	if st != nil && st.failing != nil {
		s.reread[bucket] = struct{}{}
	} else {
		delete(s.reread, bucket)
	}
	if before != after && s.opts.OnChange != nil {
		s.opts.OnChange(bucket, after)
	}
}

// readResult is the outcome of reading one key during a Sync.
type readResult struct {
	compact string // of the content read
	version string // of the content read; "" when the store cannot tell
	policy  *s3cors.Policy
	err     error
	gone    bool // deleted between List and Load
}

// Sync brings the served configurations up to date with the store, and
// reports whether any changed. On error (the store could not be listed, or
// ctx ended) nothing changes.
func (s *Syncer) Sync(ctx context.Context) (bool, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	began := time.Now()
	initial := !s.isLoaded()

	// Writes made from here on are newer than the listing.
	s.mu.Lock()
	start := s.seq
	s.mu.Unlock()

	repair := false
	if s.journal != nil && !initial {
		repair = began.Sub(s.lastFull) >= time.Duration(s.fullInterval.Load())
		if !repair && !s.journalStale(began) {
			return s.syncJournal(ctx, began, start)
		}
	}

	var (
		journaled map[string]time.Time
		named     map[string]struct{}
	)
	if s.journal != nil {
		journaled, named = s.journalBefore(ctx)
	}

	list := s.store.List
	if nl, ok := s.store.(NameLister); ok && initial {
		if _, ok := s.store.(VersionedLoader); ok {
			list = nl.ListNames // every key is read, with its version
		}
	}
	entries, err := list(ctx)
	if err != nil {
		return false, fmt.Errorf("store sync: list: %w", err)
	}

	s.mu.Lock()
	s.syncs++
	full := repair || s.journal == nil && s.opts.FullEvery > 0 && s.syncs%s.opts.FullEvery == 0
	s.mu.Unlock()
	listed := make(map[string]struct{}, len(entries))
	var toRead []Entry
	for _, e := range entries {
		listed[e.Bucket] = struct{}{}
		st := s.state(e.Bucket)
		switch {
		case st != nil && st.noted > start:
			// this node wrote it after the listing was taken
			if _, ok := named[e.Bucket]; ok {
				s.mu.Lock()
				s.reread[e.Bucket] = struct{}{}
				s.mu.Unlock()
			}
		case full || st == nil || e.Version == "" || st.version != versionHash(e.Version) || st.failing != nil || st.cfg == nil:
			toRead = append(toRead, e)
		}
	}

	var changes atomic.Int64
	err = s.readAll(ctx, toRead, !initial, func(e Entry, r readResult) {
		if s.apply(start, e, r, initial, named) {
			changes.Add(1)
		}
	})
	if err != nil {
		return changes.Load() > 0, fmt.Errorf("store sync: %w", err)
	}

	s.mu.Lock()
	s.keys.Range(func(k, v any) bool {
		bucket, st := k.(string), v.(*keyState)
		if _, ok := listed[bucket]; ok || st.noted > start {
			return true
		}
		if st.cfg != nil {
			changes.Add(1)
			if !initial {
				s.Logger().Info("bucket CORS configuration deleted",
					zap.String("bucket", bucket), zap.String("source", "sync"))
			}
		}
		s.setState(bucket, st, nil)
		return true
	})
	s.mu.Unlock()

	if initial {
		s.loadedOnce.Do(func() { close(s.loaded) })
		s.Logger().Info("bucket CORS configurations loaded",
			zap.Int("buckets", s.Len()), zap.Duration("took", time.Since(began)))
	}
	if s.journal != nil {
		s.journalSynced(began, journaled)
		if full || initial {
			s.lastFull = began
			s.pruneJournal(ctx, began)
		}
	}
	return changes.Load() > 0, nil
}

// isLoaded reports whether the first Sync succeeded.
func (s *Syncer) isLoaded() bool {
	select {
	case <-s.loaded:
		return true
	default:
		return false
	}
}

// apply records what a Sync read for one listed key, and reports whether
// the served configuration changed. named holds the buckets named by the
// journal entries of other nodes that the Sync acts on.
func (s *Syncer) apply(start uint64, e Entry, r readResult, initial bool, named map[string]struct{}) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(e.Bucket)
	if st != nil && st.noted > start {
		// this node wrote it after the listing was taken
		if _, ok := named[e.Bucket]; ok {
			s.reread[e.Bucket] = struct{}{}
		}
		return false
	}
	log := s.Logger()
	if r.gone {
		if st == nil {
			return false
		}
		s.setState(e.Bucket, st, nil)
		if st.cfg != nil && !initial {
			log.Info("bucket CORS configuration deleted", zap.String("bucket", e.Bucket), zap.String("source", "sync"))
		}
		return st.cfg != nil
	}
	if r.err != nil {
		// Read again at the next sync: the failure may be transient, or a
		// torn read of a value being written.
		next := &keyState{failing: r.err}
		if st != nil {
			next.cfg = st.cfg
		}
		s.setState(e.Bucket, st, next)
		if next.cfg != nil {
			log.Warn("bucket CORS configuration unreadable; keeping the last good one",
				zap.String("bucket", e.Bucket), zap.String("key", s.locate(e.Bucket)), zap.Error(r.err))
		} else {
			log.Warn("bucket CORS configuration unreadable; its CORS requests are refused until it is read",
				zap.String("bucket", e.Bucket), zap.String("key", s.locate(e.Bucket)), zap.Error(r.err))
		}
		return false
	}
	v := r.version
	if v == "" {
		v = e.Version
	}
	version := versionHash(v)
	cfg := s.configs.get(r.compact, r.policy)
	if st != nil && st.failing != nil {
		log.Info("bucket CORS configuration readable again",
			zap.String("bucket", e.Bucket), zap.String("key", s.locate(e.Bucket)))
	}
	if st != nil && st.cfg == cfg {
		// Same content (a full sync, or a rewrite of equal bytes).
		if st.version != version || st.failing != nil || st.noted != 0 {
			s.setState(e.Bucket, st, &keyState{version: version, cfg: cfg})
		}
		return false
	}
	s.setState(e.Bucket, st, &keyState{version: version, cfg: cfg})
	if !initial {
		rules := 0
		if p, err := cfg.Policy(); err == nil {
			rules = len(p.Configuration().Rules)
		}
		log.Info("bucket CORS configuration set",
			zap.String("bucket", e.Bucket), zap.Int("rules", rules), zap.String("source", "sync"))
	}
	return true
}

// readAll reads the keys of entries, several at a time (a remote store's
// latency hides behind the others), and gives each result to done. parse
// makes each read parse and compile what it read, so that a bad key is
// found (and the last good configuration kept) at once. It returns ctx's
// error if ctx ends first.
func (s *Syncer) readAll(ctx context.Context, entries []Entry, parse bool, done func(Entry, readResult)) error {
	workers := min(max(runtime.GOMAXPROCS(0), minReaders), len(entries))
	if workers <= 1 {
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			done(e, s.read(ctx, e.Bucket, parse))
		}
		return ctx.Err()
	}
	var (
		wg   sync.WaitGroup
		next = make(chan Entry)
	)
	for range workers {
		wg.Go(func() {
			for e := range next {
				r := s.read(ctx, e.Bucket, parse)
				if ctx.Err() == nil {
					done(e, r)
				}
			}
		})
	}
feed:
	for _, e := range entries {
		select {
		case next <- e:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

// minReaders is the least number of keys a Sync reads at a time (more on
// machines with more cores): enough to hide a remote store's latency.
const minReaders = 8

// read loads bucket's key and, if parse is set, parses and compiles it.
func (s *Syncer) read(ctx context.Context, bucket string, parse bool) readResult {
	var (
		b       []byte
		version string
		err     error
	)
	if vl, ok := s.store.(VersionedLoader); ok {
		b, version, err = vl.LoadVersion(ctx, bucket)
	} else {
		b, err = s.store.Load(ctx, bucket)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return readResult{gone: true}
	}
	if err != nil {
		return readResult{err: err}
	}
	r := readResult{compact: compact(b), version: version}
	if parse {
		cfg, err := s3cors.ParseStoredXML(b)
		if err != nil {
			return readResult{err: fmt.Errorf("store sync: parse %s: %w", s.locate(bucket), err)}
		}
		r.policy = s3cors.Compile(cfg)
	}
	return r
}

// locate names bucket's key for logs.
func (s *Syncer) locate(bucket string) string {
	if l, ok := s.store.(Locator); ok {
		return l.Locate(bucket)
	}
	return bucket
}

// writeLock returns the lock that serializes the writes to bucket.
func (s *Syncer) writeLock(bucket string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	return &s.writeLocks[h.Sum32()%uint32(len(s.writeLocks))]
}

// Put stores cfg as bucket's configuration (as cfg.XML(), the engine's
// canonical form, which GetBucketCors returns) and, once the store has it,
// serves it at once. Writes to one bucket through one Syncer are applied
// one at a time, so the configuration served after concurrent writes is
// the one stored last. Put returns an error only when the store does not
// have the write: once it landed, Put succeeds, even if the store cannot
// tell its version (the next sync then reads the key back).
func (s *Syncer) Put(ctx context.Context, bucket string, cfg *s3cors.Configuration) error {
	if cfg == nil {
		return fmt.Errorf("store sync: put %q: nil configuration", bucket)
	}
	xml := cfg.XML()
	lock := s.writeLock(bucket)
	lock.Lock()
	defer lock.Unlock()
	var version string
	var err error
	if vp, ok := s.store.(VersionedPutter); ok {
		version, err = vp.PutVersion(ctx, bucket, xml)
	} else {
		err = s.store.Put(ctx, bucket, xml)
	}
	if err != nil {
		// A failed write may still have changed the key (in part, on a
		// module whose writes are not atomic): other nodes read it again.
		s.appendJournal(ctx, bucket, false)
		return err // already prefixed by the store
	}
	// Compiled on first use, as a loaded configuration is: a node that
	// takes 100,000 writes keeps their compact forms, not 100,000
	// compiled policies nobody asked for yet.
	s.note(bucket, version, compact(xml), true)
	// An unknown version means another node wrote the key since, or the
	// store cannot tell: this node reads it back at its next sync too.
	s.appendJournal(ctx, bucket, version != "")
	return nil
}

// Delete removes bucket's configuration from the store and, once done, from
// the served configurations.
func (s *Syncer) Delete(ctx context.Context, bucket string) error {
	lock := s.writeLock(bucket)
	lock.Lock()
	defer lock.Unlock()
	if err := s.store.Delete(ctx, bucket); err != nil {
		s.appendJournal(ctx, bucket, false)
		return err // already prefixed by the store
	}
	s.note(bucket, "", "", false)
	s.appendJournal(ctx, bucket, true)
	return nil
}

// note records a write this node made to the store, so that it is served at
// once and the next sync does not read it back: the compact form of the
// configuration written (put is false for a delete), and the Version List
// will report for it ("" when unknown, which makes the next sync read it
// once).
func (s *Syncer) note(bucket, version, compactForm string, put bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	var cfg *Config
	if put {
		cfg = s.configs.get(compactForm, nil)
	}
	s.setState(bucket, s.state(bucket), &keyState{version: versionHash(version), cfg: cfg, noted: s.seq})
}

// DefaultFullInterval is how often a Syncer over a store with a Journal
// lists the store and reads every key, when SetFullInterval was given no
// positive duration: the repair that finds keys changed by hand (not through
// a Syncer) and anything the journal missed.
const DefaultFullInterval = 5 * time.Minute

// SetFullInterval sets how often a Syncer over a store with a Journal
// makes a full sync (DefaultFullInterval if not positive), from its next
// Sync. Stores without a Journal use SyncerOptions.FullEvery instead.
func (s *Syncer) SetFullInterval(d time.Duration) {
	if d <= 0 {
		d = DefaultFullInterval
	}
	s.fullInterval.Store(int64(d))
}

// SetInterval changes the interval of a running Loop: its next tick comes
// one new interval from now (a reload from 1h to 1s does not wait an hour).
func (s *Syncer) SetInterval(d time.Duration) {
	if d <= 0 {
		d = DefaultInterval
	}
	if time.Duration(s.interval.Swap(int64(d))) == d {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Loop runs Sync every interval (DefaultInterval if not positive; see
// SetInterval) until ctx ends, the first one at once if the store was never
// loaded. A failed sync is logged and retried sooner at first, then with
// exponential backoff up to a minute (or the interval, if longer), so that a
// store that is down is not hammered; the snapshot stays the last good one
// meanwhile. A node that has never read the store backs off up to five
// seconds only (see maxBackoffUnloaded). Delays carry ±10% jitter so that
// nodes started together do not sync in lockstep. With
// SyncerOptions.Notifications on a Notifier, Loop also listens to the
// store's notifications and syncs as soon as another node's write is
// announced (see listen). Loop returns when ctx ends; run it in a
// goroutine.
func (s *Syncer) Loop(ctx context.Context, interval time.Duration) {
	s.SetInterval(interval)
	select {
	case <-s.wake: // not a change of a running Loop's interval
	default:
	}
	if n, ok := s.store.(Notifier); ok && s.opts.Notifications && s.journal != nil {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			s.listen(ctx, n)
		}()
	}
	failures := 0
	first := jitter(time.Duration(s.interval.Load()))
	if !s.isLoaded() {
		first = 0
	}
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		trigger := ByTick
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.kick:
			trigger = ByNotification
		case <-s.wake:
			timer.Reset(jitter(time.Duration(s.interval.Load())))
			continue
		}
		s.syncsBy[trigger].Add(1)
		changed, err := s.Sync(ctx)
		if err != nil && ctx.Err() != nil {
			return // canceled, not failed
		}
		if changed {
			s.changedBy[trigger].Add(1)
		}
		if s.opts.OnSync != nil {
			s.opts.OnSync(trigger, err)
		}
		interval := time.Duration(s.interval.Load())
		delay := interval
		if err != nil {
			failures++
			delay = backoff(interval, failures, s.isLoaded())
			s.Logger().Warn("bucket CORS configuration sync failed; serving the last good snapshot",
				zap.Int("consecutive_failures", failures), zap.Duration("retry_in", delay), zap.Error(err))
		} else if failures > 0 {
			s.Logger().Info("bucket CORS configuration sync recovered", zap.Int("failed_attempts", failures))
			failures = 0
		}
		timer.Reset(jitter(delay))
	}
}

// backoff returns the delay before retry number n (from 1) of a failing
// sync: the first retry comes after at most a second, then the delay
// doubles up to maxBackoff, or up to interval if that is longer; up to
// maxBackoffUnloaded while the node has never loaded the store.
func backoff(interval time.Duration, n int, loaded bool) time.Duration {
	d := min(interval, time.Second)
	limit := max(interval, maxBackoff)
	if !loaded {
		limit = maxBackoffUnloaded
	}
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
