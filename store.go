package caddys3cors

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/store"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// ObjectStoreConfig says where the configurations are kept as objects
// `<prefix>/<bucket>.xml`, in a bucket of an S3-compatible store reached with
// its own credentials. Every field takes placeholders such as
// `{env.S3_CORS_SECRET_KEY}`.
type ObjectStoreConfig struct {
	// Endpoint is the store's S3 API, as host:port (`minio:9000`).
	Endpoint string `json:"endpoint"`
	// AccessKey is the access key of the credentials the sidecar uses.
	AccessKey string `json:"access_key"`
	// SecretKey is their secret key.
	SecretKey string `json:"secret_key"`
	// Bucket holds the configuration objects. It is created when missing.
	Bucket string `json:"bucket"`
	// Prefix is the key prefix of the objects. Default: `s3_cors/buckets`.
	Prefix string `json:"prefix,omitempty"`
	// TLS connects with HTTPS instead of plain HTTP.
	TLS bool `json:"tls,omitempty"`
	// Region is the signing region; empty lets the client find it out.
	Region string `json:"region,omitempty"`
}

// bucketEntry is one configured bucket: its policy, and its name boxed
// once so that setting the {http.s3_cors.bucket} placeholder allocates
// nothing on the request path.
type bucketEntry struct {
	policy *s3cors.Policy
	name   any
}

func newEntry(bucket string, p *s3cors.Policy) bucketEntry {
	return bucketEntry{policy: p, name: bucket}
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

// newAppState returns the state of st, loading nothing yet (see run).
func newAppState(st store.Store, logger *zap.Logger) *appState {
	s := &appState{st: st, done: make(chan struct{})}
	s.syncer = store.NewSyncer(st, logger, store.SyncerOptions{
		OnChange: func(string, *store.Config) {
			metrics.bucketsConfigured.Set(float64(s.syncer.Len()))
		},
		OnSync: func(err error) {
			metrics.syncRuns.Inc()
			if err != nil {
				metrics.syncErrors.Inc()
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

// Provision opens the storage and finds or makes its state (see states).
// It reads nothing: a new state loads storage in the background, so that a
// node with many configurations listens at once.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	if a.SyncInterval == 0 {
		a.SyncInterval = caddy.Duration(DefaultSyncInterval)
	}
	if err := metrics.register(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	st, key, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	val, _, err := states.LoadOrNew(key, func() (caddy.Destructor, error) {
		s := newAppState(st, a.logger.Named("sync"))
		s.run(time.Duration(a.SyncInterval))
		return s, nil
	})
	if err != nil {
		return err
	}
	a.key, a.state = key, val.(*appState)
	return nil
}

// openStore returns the configured store (the object store, the app's
// storage module, or Caddy's storage) and its identity, the key of its
// state in states.
func (a *App) openStore(ctx caddy.Context) (store.Store, string, error) {
	if a.ObjectStore != nil {
		repl := caddy.NewReplacer()
		cfg := a.ObjectStore
		prefix := cfg.Prefix
		if prefix == "" {
			prefix = store.KeyPrefix
		}
		oc := store.ObjectStoreConfig{
			Endpoint:  repl.ReplaceAll(cfg.Endpoint, ""),
			AccessKey: repl.ReplaceAll(cfg.AccessKey, ""),
			SecretKey: repl.ReplaceAll(cfg.SecretKey, ""),
			Bucket:    repl.ReplaceAll(cfg.Bucket, ""),
			Prefix:    repl.ReplaceAll(prefix, ""),
			Secure:    cfg.TLS,
			Region:    repl.ReplaceAll(cfg.Region, ""),
			// The bucket is documented as created when missing, also when
			// the store was down as the node started.
			CreateBucket: true,
		}
		st, err := store.NewObjectStore(oc)
		if err != nil {
			return nil, "", fmt.Errorf("s3_cors: object_store: %w", err)
		}
		secret := sha256.Sum256([]byte(oc.SecretKey))
		key := fmt.Sprintf("object_store %s tls=%t region=%s %s/%s key=%s secret=%x",
			oc.Endpoint, oc.Secure, oc.Region, oc.Bucket, oc.Prefix, oc.AccessKey, secret[:8])
		return st, key, nil
	}
	if a.StorageRaw != nil {
		key := "storage " + string(a.StorageRaw)
		mod, err := ctx.LoadModule(a, "StorageRaw")
		if err != nil {
			return nil, "", fmt.Errorf("s3_cors: loading storage module: %w", err)
		}
		conv, ok := mod.(caddy.StorageConverter)
		if !ok {
			return nil, "", fmt.Errorf("s3_cors: storage module %T is not a storage converter", mod)
		}
		cm, err := conv.CertMagicStorage()
		if err != nil {
			return nil, "", fmt.Errorf("s3_cors: creating storage: %w", err)
		}
		return store.NewCaddyStorage(cm), key, nil
	}
	cm := ctx.Storage()
	return store.NewCaddyStorage(cm), "caddy " + storageIdentity(cm), nil
}

// storageIdentity names a certmagic storage: its String when it has one
// (the file system's names its path), else its type and JSON form.
func storageIdentity(cm certmagic.Storage) string {
	if s, ok := cm.(fmt.Stringer); ok {
		return fmt.Sprintf("%T %s", cm, s.String())
	}
	b, err := json.Marshal(cm)
	if err != nil {
		return fmt.Sprintf("%T %p", cm, cm)
	}
	return fmt.Sprintf("%T %s", cm, b)
}

// Start applies the app's sync interval and logger to its state (shared
// with the app it replaces, when the storage did not change).
func (a *App) Start() error {
	a.state.syncer.SetInterval(time.Duration(a.SyncInterval))
	a.state.syncer.SetFullInterval(time.Duration(a.FullSyncInterval))
	a.state.syncer.SetLogger(a.logger.Named("sync"))
	a.state.run(time.Duration(a.SyncInterval))
	return nil
}

// Stop does nothing: the state outlives the app while another app uses
// it, and ends with the last one's Cleanup.
func (a *App) Stop() error { return nil }

// Cleanup releases the app's use of its state. Handlers of the app may
// still finish requests: they keep reading the state's configurations.
func (a *App) Cleanup() error {
	if a.key == "" || !a.cleaned.CompareAndSwap(false, true) {
		return nil
	}
	_, err := states.Delete(a.key)
	return err
}

// lookup returns the entry of a bucket configured at run time. A bucket
// not found while storage is still being read for the first time waits
// for that read (at most maxLoadWait), so that a stored configuration is
// never answered as missing because loading has not finished.
func (a *App) lookup(bucket string) (bucketEntry, bool) {
	s := a.state
	if s == nil {
		return bucketEntry{}, false
	}
	cfg, name, ok := s.syncer.Lookup(bucket)
	if !ok {
		if !s.waitLoaded() {
			return bucketEntry{}, false
		}
		if cfg, name, ok = s.syncer.Lookup(bucket); !ok {
			return bucketEntry{}, false
		}
	}
	p, err := cfg.Policy()
	if err != nil {
		if cfg.FirstReport() {
			a.logger.Warn("bucket CORS configuration unreadable; bucket skipped",
				zap.String("bucket", bucket), zap.Error(err))
		}
		return bucketEntry{}, false
	}
	return bucketEntry{policy: p, name: name}, true
}

// Policy returns the compiled policy of bucket, nil when the bucket has
// no configuration set at run time.
func (a *App) Policy(bucket string) *s3cors.Policy {
	e, _ := a.lookup(bucket)
	return e.policy
}

// Configuration returns the configuration of bucket as it was set, and
// whether there is one.
func (a *App) Configuration(bucket string) (*s3cors.Configuration, bool) {
	e, ok := a.lookup(bucket)
	if !ok {
		return nil, false
	}
	return e.policy.Configuration(), true
}

// Buckets returns the buckets that have a configuration, sorted.
func (a *App) Buckets() []string {
	if a.state == nil {
		return nil
	}
	a.state.waitLoaded()
	return a.state.syncer.Buckets()
}

// SetConfiguration stores the CORS configuration of bucket, replacing any
// it had. A storage failure is returned, not logged: the caller (the admin
// or S3 API) logs it with the request. It returns once storage has it;
// requests on this node see it at once, other nodes at their next sync.
// An error means storage did not take the write, and the served
// configuration is unchanged. Concurrent writes to one bucket on this node
// are applied one at a time: the configuration served after them is the
// one stored last. source names who made the change ("admin" or "s3") for
// the log and the metrics.
func (a *App) SetConfiguration(ctx context.Context, bucket string, cfg *s3cors.Configuration, source string) error {
	if bucket == "" {
		return errors.New("s3_cors: set configuration: empty bucket name")
	}
	if cfg == nil {
		return fmt.Errorf("s3_cors: set configuration of %s: no configuration", bucket)
	}
	if a.state == nil {
		return fmt.Errorf("s3_cors: set configuration of %s: the app is not provisioned", bucket)
	}
	if err := a.state.syncer.Put(ctx, bucket, cfg); err != nil {
		metrics.configWrites.WithLabelValues("put", source, "error").Inc()
		return fmt.Errorf("s3_cors: set configuration of %s: %w", bucket, err)
	}
	metrics.configWrites.WithLabelValues("put", source, "ok").Inc()
	a.logger.Info("bucket CORS configuration set",
		zap.String("bucket", bucket), zap.Int("rules", len(cfg.Rules)), zap.String("source", source))
	return nil
}

// DeleteConfiguration removes the CORS configuration of bucket; removing
// one that does not exist is not an error, as with DeleteBucketCors. An
// error means storage did not take the delete.
func (a *App) DeleteConfiguration(ctx context.Context, bucket, source string) error {
	if bucket == "" {
		return errors.New("s3_cors: delete configuration: empty bucket name")
	}
	if a.state == nil {
		return fmt.Errorf("s3_cors: delete configuration of %s: the app is not provisioned", bucket)
	}
	if err := a.state.syncer.Delete(ctx, bucket); err != nil {
		metrics.configWrites.WithLabelValues("delete", source, "error").Inc()
		return fmt.Errorf("s3_cors: delete configuration of %s: %w", bucket, err)
	}
	metrics.configWrites.WithLabelValues("delete", source, "ok").Inc()
	a.logger.Info("bucket CORS configuration deleted", zap.String("bucket", bucket), zap.String("source", source))
	return nil
}

// liveApp returns the s3_cors app of the running configuration, nil when
// none runs. Modules that Caddy recreates on every load without cleaning
// them up (the admin API) find the live state through it at request time.
func liveApp() *App {
	app, err := caddy.ActiveContext().AppIfConfigured("s3_cors")
	if err != nil {
		return nil
	}
	a, _ := app.(*App)
	return a
}
