package caddys3cors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/store"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// initialSyncTimeout bounds the first read of storage at provisioning: a
// storage that does not answer must not hold up Caddy's start; the sync
// loop keeps trying.
const initialSyncTimeout = 10 * time.Second

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

// snapshot maps a bucket to its compiled policy. It is never modified once
// published: a change publishes a new copy.
type snapshot map[string]bucketEntry

// bucketEntry is one configured bucket: its policy, and its name boxed
// once so that setting the {http.s3_cors.bucket} placeholder allocates
// nothing on the request path.
type bucketEntry struct {
	policy *s3cors.Policy
	name   any
	// from is the configuration the entry stands for, as the syncer's
	// snapshot holds it: an unchanged bucket is recognised by pointer.
	from *s3cors.Configuration
}

func newEntry(bucket string, p *s3cors.Policy) bucketEntry {
	return bucketEntry{policy: p, name: bucket, from: p.Configuration()}
}

// Provision opens the storage and reads the configurations in it. Until
// that first read succeeds, the app serves the snapshot of the app it
// replaces (on a config reload), so that no bucket loses its configuration
// for a moment; a storage that cannot be read is logged and retried by the
// sync loop, it does not stop Caddy.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	if a.SyncInterval == 0 {
		a.SyncInterval = caddy.Duration(DefaultSyncInterval)
	}
	if err := metrics.register(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	initial := snapshot{}
	if prev := running.Load(); prev != nil {
		if cur := prev.snap.Load(); cur != nil {
			initial = *cur
		}
	}
	a.snap.Store(&initial)

	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	a.attach(ctx, st)
	return nil
}

// attach makes st the app's storage and reads it once.
func (a *App) attach(ctx context.Context, st store.Store) {
	a.syncer = store.NewSyncer(st, a.logger.Named("sync"), store.SyncerOptions{
		OnChange: a.publish,
		OnSync: func(err error) {
			metrics.syncRuns.Inc()
			if err != nil {
				metrics.syncErrors.Inc()
			}
		},
	})
	// From here on, writes made through an older app are handed to this
	// one (see newest); those completed before are in the storage read
	// below.
	newest.Store(a)
	syncCtx, cancel := context.WithTimeout(ctx, initialSyncTimeout)
	defer cancel()
	if objects, ok := st.(*store.ObjectStore); ok {
		if err := objects.EnsureBucket(syncCtx); err != nil {
			a.logger.Error("cannot prepare the object store bucket; retrying in the background", zap.Error(err))
		}
	}
	_, _, err := a.syncer.Sync(syncCtx)
	metrics.syncRuns.Inc()
	if err != nil {
		metrics.syncErrors.Inc()
		a.logger.Error("cannot read the bucket CORS configurations; serving the previous ones and retrying",
			zap.Error(err))
		a.initialSyncFailed = true
	} else {
		// The storage is the truth: what it lacks, the previous app's
		// snapshot must not keep.
		a.publish(a.syncer.Snapshot())
	}
}

// openStore returns the configured store: the object store, the app's
// storage module, or Caddy's storage.
func (a *App) openStore(ctx caddy.Context) (store.Store, error) {
	if a.ObjectStore != nil {
		repl := caddy.NewReplacer()
		cfg := a.ObjectStore
		prefix := cfg.Prefix
		if prefix == "" {
			prefix = store.KeyPrefix
		}
		st, err := store.NewObjectStore(store.ObjectStoreConfig{
			Endpoint:  repl.ReplaceAll(cfg.Endpoint, ""),
			AccessKey: repl.ReplaceAll(cfg.AccessKey, ""),
			SecretKey: repl.ReplaceAll(cfg.SecretKey, ""),
			Bucket:    repl.ReplaceAll(cfg.Bucket, ""),
			Prefix:    repl.ReplaceAll(prefix, ""),
			Secure:    cfg.TLS,
			Region:    repl.ReplaceAll(cfg.Region, ""),
			// The bucket is documented as created when missing, also when
			// the store was down as the node started (attach's
			// EnsureBucket then fails).
			CreateBucket: true,
		})
		if err != nil {
			return nil, fmt.Errorf("s3_cors: object_store: %w", err)
		}
		return st, nil
	}
	if a.StorageRaw != nil {
		mod, err := ctx.LoadModule(a, "StorageRaw")
		if err != nil {
			return nil, fmt.Errorf("s3_cors: loading storage module: %w", err)
		}
		conv, ok := mod.(caddy.StorageConverter)
		if !ok {
			return nil, fmt.Errorf("s3_cors: storage module %T is not a storage converter", mod)
		}
		cm, err := conv.CertMagicStorage()
		if err != nil {
			return nil, fmt.Errorf("s3_cors: creating storage: %w", err)
		}
		return store.NewCaddyStorage(cm), nil
	}
	return store.NewCaddyStorage(ctx.Storage()), nil
}

// Start makes a the running app and starts the sync loop.
func (a *App) Start() error {
	loopCtx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	a.loopDone = make(chan struct{})
	go func() {
		defer close(a.loopDone)
		if a.initialSyncFailed {
			// Try again at once, with no time bound but the app's life:
			// a storage too slow for the start-up bound (many thousands
			// of configurations) is read to the end here.
			if _, _, err := a.syncer.Sync(loopCtx); err != nil && loopCtx.Err() == nil {
				a.logger.Error("cannot read the bucket CORS configurations; retrying", zap.Error(err))
			}
		}
		a.syncer.Loop(loopCtx, time.Duration(a.SyncInterval))
	}()
	running.Store(a)
	return nil
}

// Stop ends the sync loop and forgets a as the running app, unless a newer
// one took over (on a reload, Caddy starts the new app first).
func (a *App) Stop() error {
	running.CompareAndSwap(a, nil)
	if a.stop != nil {
		a.stop()
		<-a.loopDone
		a.stop = nil
	}
	return nil
}

// Cleanup stops the sync loop of an app that was provisioned but never
// stopped (a config load that failed after provisioning never starts it).
func (a *App) Cleanup() error {
	return a.Stop()
}

// publish compiles a snapshot of configurations and makes it the one
// requests see. A configuration that did not change keeps its compiled
// policy (an equal one read back from storage, too). Changes that did not
// come from this node's own writes came from other nodes through storage,
// and are logged as such.
func (a *App) publish(configs map[string]*s3cors.Configuration) {
	prev := a.snap.Load()
	next := make(snapshot, len(configs))
	a.ownMu.Lock()
	for bucket, cfg := range configs {
		if e, ok := (*prev)[bucket]; ok && (e.from == cfg || e.policy.Configuration().Equal(cfg)) {
			e.from = cfg
			next[bucket] = e
			continue
		}
		next[bucket] = newEntry(bucket, s3cors.Compile(cfg))
		if own, ok := a.ownWrite[bucket]; !ok || own != cfg {
			a.logger.Info("bucket CORS configuration set",
				zap.String("bucket", bucket), zap.Int("rules", len(cfg.Rules)), zap.String("source", "sync"))
		}
	}
	for bucket := range *prev {
		if _, ok := configs[bucket]; ok {
			continue
		}
		if own, ok := a.ownWrite[bucket]; !ok || own != nil {
			a.logger.Info("bucket CORS configuration deleted", zap.String("bucket", bucket), zap.String("source", "sync"))
		}
	}
	a.ownMu.Unlock()
	a.snap.Store(&next)
	metrics.bucketsConfigured.Set(float64(len(next)))
}

// lookup returns the entry of a bucket configured at run time.
func (a *App) lookup(bucket string) (bucketEntry, bool) {
	snap := a.snap.Load()
	if snap == nil {
		return bucketEntry{}, false
	}
	e, ok := (*snap)[bucket]
	return e, ok
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
	snap := a.snap.Load()
	if snap == nil {
		return nil
	}
	buckets := make([]string, 0, len(*snap))
	for b := range *snap {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	return buckets
}

// SetConfiguration stores the CORS configuration of bucket, replacing any
// it had. A storage failure is returned, not logged: the caller (the admin
// or S3 API) logs it with the request. It returns once storage has it; requests on this node see it at
// once, other nodes at their next sync. When storage fails, the error is
// returned and the served configuration is unchanged. source names who
// made the change ("admin" or "s3") for the log and the metrics.
func (a *App) SetConfiguration(ctx context.Context, bucket string, cfg *s3cors.Configuration, source string) error {
	if bucket == "" {
		return errors.New("s3_cors: set configuration: empty bucket name")
	}
	if cfg == nil {
		return fmt.Errorf("s3_cors: set configuration of %s: no configuration", bucket)
	}
	if a.syncer == nil {
		return fmt.Errorf("s3_cors: set configuration of %s: the app is not provisioned", bucket)
	}
	a.markOwn(bucket, cfg)
	defer a.unmarkOwn(bucket)
	if err := a.syncer.Put(ctx, bucket, cfg); err != nil {
		metrics.configWrites.WithLabelValues("put", source, "error").Inc()
		return fmt.Errorf("s3_cors: set configuration of %s: %w", bucket, err)
	}
	a.handOver(bucket, cfg)
	metrics.configWrites.WithLabelValues("put", source, "ok").Inc()
	a.logger.Info("bucket CORS configuration set",
		zap.String("bucket", bucket), zap.Int("rules", len(cfg.Rules)), zap.String("source", source))
	return nil
}

// DeleteConfiguration removes the CORS configuration of bucket; removing
// one that does not exist is not an error, as with DeleteBucketCors.
func (a *App) DeleteConfiguration(ctx context.Context, bucket, source string) error {
	if bucket == "" {
		return errors.New("s3_cors: delete configuration: empty bucket name")
	}
	if a.syncer == nil {
		return fmt.Errorf("s3_cors: delete configuration of %s: the app is not provisioned", bucket)
	}
	a.markOwn(bucket, nil)
	defer a.unmarkOwn(bucket)
	if err := a.syncer.Delete(ctx, bucket); err != nil {
		metrics.configWrites.WithLabelValues("delete", source, "error").Inc()
		return fmt.Errorf("s3_cors: delete configuration of %s: %w", bucket, err)
	}
	a.handOver(bucket, nil)
	metrics.configWrites.WithLabelValues("delete", source, "ok").Inc()
	a.logger.Info("bucket CORS configuration deleted", zap.String("bucket", bucket), zap.String("source", source))
	return nil
}

// handOver tells the app provisioned after a (a config reload in
// progress, or done while a's handlers still finish requests) about a
// write a just stored, nil cfg for a delete: it may have read storage
// before the write landed, and would otherwise serve the old
// configuration until its next sync.
func (a *App) handOver(bucket string, cfg *s3cors.Configuration) {
	if n := newest.Load(); n != nil && n != a && n.syncer != nil {
		n.syncer.Note(bucket, "", cfg)
	}
}

// markOwn records a write in flight on this node, so that publish does not
// log it a second time as a change from another node.
func (a *App) markOwn(bucket string, cfg *s3cors.Configuration) {
	a.ownMu.Lock()
	defer a.ownMu.Unlock()
	if a.ownWrite == nil {
		a.ownWrite = map[string]*s3cors.Configuration{}
	}
	a.ownWrite[bucket] = cfg
}

func (a *App) unmarkOwn(bucket string) {
	a.ownMu.Lock()
	defer a.ownMu.Unlock()
	delete(a.ownWrite, bucket)
}
