package caddys3cors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/store"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// DefaultSyncInterval is how often a node picks up the configurations other
// nodes wrote to shared storage, when sync_interval is not set: the
// syncer's own default.
const DefaultSyncInterval = store.DefaultInterval

// App is the s3_cors app: it holds the bucket CORS configurations set at run
// time (through the admin API or the S3 API), keeps them in storage, and
// picks up those other nodes sharing the storage write. Every s3_cors
// handler and matcher consults it before its own static configurations.
// Caddy instantiates it when the configuration does not mention it.
//
// Reads take no lock (see store.Syncer), and the configurations outlive
// the app: they belong to the storage, and a config reload that keeps the
// storage keeps them without reading storage again.
type App struct {
	// StorageRaw is the storage module that keeps the configurations, one
	// key per bucket (`s3_cors/buckets/<bucket>.xml`). Default: Caddy's
	// configured storage (the file system in Caddy's data directory).
	// Several sidecars share configurations through a shared storage: a
	// shared volume, Redis, Consul, or the object store below.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=caddy.storage inline_key=module"`

	// ObjectStore keeps the configurations as objects in a bucket of an
	// S3-compatible store (typically the MinIO behind the sidecars), so
	// that every sidecar in front of one MinIO cluster shares them with no
	// extra infrastructure. It takes precedence over StorageRaw.
	ObjectStore *ObjectStoreConfig `json:"object_store,omitempty"`

	// SyncInterval is how often configurations written by other nodes to
	// shared storage are picked up. Default: 5s.
	SyncInterval caddy.Duration `json:"sync_interval,omitempty"`

	// FullSyncInterval is how often a node lists the whole storage and
	// reads every configuration again. Between these full syncs a sync
	// reads only the change journal that every write through this module
	// appends to (beside the configurations, under .journal/) and the keys
	// it names, so a key changed by hand, not through this module, is
	// picked up by the next full sync only. Default: 5m.
	FullSyncInterval caddy.Duration `json:"full_sync_interval,omitempty"`

	// Owner is the 12-digit AWS account id that plays the bucket owner:
	// PutBucketCors and GetBucketCors requests carrying
	// x-amz-expected-bucket-owner are checked against it. When empty, any
	// such expectation is refused, since it cannot be confirmed.
	Owner string `json:"owner,omitempty"`

	statics staticSets // the handlers' static configurations, for the admin API
	logger  *zap.Logger
	// key and state: the configurations of the storage, shared with every
	// app on the same storage (see states).
	key     string
	state   *appState
	cleaned atomic.Bool
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "s3_cors",
		New: func() caddy.Module { return new(App) },
	}
}

// Validate checks the app's settings.
func (a *App) Validate() error {
	if a.SyncInterval < 0 {
		return fmt.Errorf("s3_cors: sync_interval %s is negative", time.Duration(a.SyncInterval))
	}
	if a.FullSyncInterval < 0 {
		return fmt.Errorf("s3_cors: full_sync_interval %s is negative", time.Duration(a.FullSyncInterval))
	}
	if a.Owner != "" {
		if err := checkOwner(a.Owner); err != nil {
			return fmt.Errorf("s3_cors: %v", err)
		}
	}
	return nil
}

// checkOwner checks the owner setting, for Validate and for the Caddyfile
// parser, which points at the token.
func checkOwner(owner string) error {
	if !putcors.IsAccountID(owner) {
		return fmt.Errorf("owner %q is not a 12-digit account id", owner)
	}
	return nil
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
		s := newAppState(st, a.logger.Named("sync"), a.ObjectStore != nil && a.ObjectStore.notifications())
		s.run(time.Duration(a.SyncInterval))
		return s, nil
	})
	if err != nil {
		return err
	}
	a.key, a.state = key, val.(*appState)
	return nil
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
	if cfg == nil { // stored, but its key could not be read (the syncer logged it)
		return unreadableEntry(name), true
	}
	p, err := cfg.Policy()
	if err != nil {
		if cfg.FirstReport() {
			a.logger.Warn("bucket CORS configuration unreadable; its CORS requests are refused until it is set again",
				zap.String("bucket", bucket), zap.Error(err))
		}
		return unreadableEntry(name), true
	}
	return bucketEntry{policy: p, name: bucketName{name}}, true
}

// Configuration returns the configuration of bucket as it was set, and
// whether there is one: nil and true when storage holds one this node
// cannot read (see unreadableEntry).
func (a *App) Configuration(bucket string) (*s3cors.Configuration, bool) {
	e, ok := a.lookup(bucket)
	if !ok {
		return nil, false
	}
	if e.unreadable {
		return nil, true
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

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
