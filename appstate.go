package caddys3cors

import (
	"context"
	"runtime/debug"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/store"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// bucketEntry is one configured bucket: its policy, and its name as the
// {http.s3_cors.bucket} placeholder gives it (boxed once, so that setting
// the placeholder allocates nothing on the request path).
type bucketEntry struct {
	policy *s3cors.Policy
	name   bucketName
	// unreadable: storage holds a configuration for the bucket that this
	// node cannot read (see unreadableEntry).
	unreadable bool
}

// unreadableEntry is the entry of a bucket whose stored configuration
// this node cannot read and has no good one of to keep serving (a hand
// edit, a torn write, or a newer node's format during an upgrade). It
// fails closed: a policy without rules, so that every preflight is refused
// as one no rule allows and actual responses carry no CORS header, rather
// than the bucket falling to the handler's bucket_config or default, which
// may allow what its own configuration refused.
func unreadableEntry(name any) bucketEntry {
	return bucketEntry{policy: refuseAll, name: bucketName{name}, unreadable: true}
}

// refuseAll is the policy of an unreadable configuration: no rule.
var refuseAll = s3cors.Compile(&s3cors.Configuration{})

func newEntry(bucket string, p *s3cors.Policy) bucketEntry {
	return bucketEntry{policy: p, name: bucketName{bucket}}
}

// maxLoadWait bounds how long a request for a bucket that has no
// configuration yet waits for the first read of storage to end: the
// bucket's configuration may be among those not read yet, and answering
// "not configured" then would be wrong. Past the bound (a storage that
// does not answer), the request is answered with what is loaded.
const maxLoadWait = 10 * time.Second

// states holds the configurations across config loads, one appState per
// storage (by storageKey): a reload that keeps the storage finds its state
// here, loaded and current, and reads nothing; a reload that changes the
// storage makes a new state, and the old one ends with the last app using
// it.
var states = caddy.NewUsagePool()

// appState is the bucket configurations of one storage: the Syncer that
// serves and syncs them, and its loop.
type appState struct {
	syncer *store.Syncer
	st     store.Store
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// newAppState returns the state of st, loading nothing yet (see run);
// notify makes it listen to the store's notifications.
func newAppState(st store.Store, logger *zap.Logger, notify bool) *appState {
	s := &appState{st: st, done: make(chan struct{})}
	s.syncer = store.NewSyncer(st, logger, store.SyncerOptions{
		OnChange: func(string, *store.Config) {
			metrics.bucketsConfigured.Set(float64(s.syncer.Len()))
		},
		OnSync: func(trigger store.Trigger, err error) {
			metrics.syncRuns.Inc()
			if trigger == store.ByNotification {
				metrics.notifiedSyncs.Inc()
			}
			if err != nil {
				metrics.syncErrors.Inc()
			}
		},
		Notifications: notify,
		OnStream: func(up bool) {
			if up {
				metrics.notificationsUp.Set(1)
			} else {
				metrics.notificationsUp.Set(0)
			}
		},
	})
	return s
}

// run starts loading storage, then syncing it every interval, in the
// background: Caddy starts listening at once, and requests wait for the
// load when they must (see lookup).
func (s *appState) run(interval time.Duration) {
	s.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		go func() {
			defer close(s.done)
			s.removeStaleTemp()
			if objects, ok := s.st.(*store.ObjectStore); ok {
				// Also retried before each operation while it fails.
				_ = objects.EnsureBucket(ctx)
			}
			s.syncer.Loop(ctx, interval)
		}()
		go func() {
			select {
			case <-s.syncer.Loaded():
				// Reading thousands of keys left garbage several times the
				// size of what is kept: give it back now rather than let
				// the process keep that peak as its size.
				if s.syncer.Len() >= bigLoad {
					debug.FreeOSMemory()
				}
			case <-ctx.Done():
			}
		}()
	})
}

// bigLoad is the number of configurations from which the first load is
// followed by returning freed memory to the system.
const bigLoad = 10000

// removeStaleTemp removes what killed processes left in a file-system
// storage.
func (s *appState) removeStaleTemp() {
	cs, ok := s.st.(*store.CaddyStorage)
	if !ok {
		return
	}
	n, err := cs.RemoveStaleTemp(time.Now())
	log := s.syncer.Logger()
	if err != nil {
		log.Warn("cannot remove stale temporary files", zap.Error(err))
	}
	if n > 0 {
		log.Info("removed stale temporary files left by an interrupted write", zap.Int("files", n))
	}
}

// Destruct implements caddy.Destructor: the last app using the state is
// gone, the loop ends.
func (s *appState) Destruct() error {
	s.once.Do(func() { close(s.done) }) // never ran
	if s.cancel != nil {
		s.cancel()
	}
	<-s.done
	return nil
}

// waitLoaded waits, at most maxLoadWait, for the first read of storage to
// end, and reports whether it had to wait and the read ended.
func (s *appState) waitLoaded() bool {
	loaded := s.syncer.Loaded()
	select {
	case <-loaded:
		return false
	default:
	}
	t := time.NewTimer(maxLoadWait)
	defer t.Stop()
	select {
	case <-loaded:
		return true
	case <-t.C:
		return false
	}
}
