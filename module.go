// Package caddys3cors gives any S3-compatible object store (MinIO, Ceph,
// legacy storage) Amazon S3's per-bucket CORS, as Caddy modules:
//
//   - http.handlers.s3_cors (Caddyfile directive `s3_cors`, ordered before
//     `basic_auth`) answers CORS preflights itself and decorates the store's
//     responses with the matched rule's Access-Control-* headers;
//   - http.matchers.s3_cors matches preflights, configured buckets or
//     allowed CORS requests;
//   - the s3_cors app (global option `s3_cors`) holds the bucket CORS
//     configurations set at run time.
//
// The CORS behaviour itself lives in the engine, package
// github.com/s3cors/caddy-s3cors/s3cors; this package resolves the bucket,
// finds its policy and calls the engine.
package caddys3cors

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

func init() {
	caddy.RegisterModule(new(App))
	caddy.RegisterModule(Handler{})
	caddy.RegisterModule(MatchS3CORS{})
	httpcaddyfile.RegisterHandlerDirective("s3_cors", parseHandlerCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("s3_cors", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterGlobalOption("s3_cors", parseGlobalOption)
}

// DefaultSyncInterval is how often a node picks up the configurations other
// nodes wrote to shared storage, when sync_interval is not set.
const DefaultSyncInterval = 5 * time.Second

// running is the s3_cors app of the running configuration, nil while none
// runs. Modules that Caddy recreates on every load without cleaning them up
// (the admin API) find the live state here at request time.
var running atomic.Pointer[App]

// App is the s3_cors app: it holds the bucket CORS configurations set at run
// time (through the admin API or the S3 API), which every s3_cors handler
// and matcher of the configuration consults before its own static ones.
// Caddy instantiates it when the configuration does not mention it.
//
// Reads take no lock: the configurations are an immutable snapshot behind
// an atomic pointer, replaced as a whole on every change.
type App struct {
	// SyncInterval is how often configurations written by other nodes to
	// shared storage are picked up. Default: 5s.
	SyncInterval caddy.Duration `json:"sync_interval,omitempty"`

	// Owner is the 12-digit AWS account id that plays the bucket owner:
	// PutBucketCors and GetBucketCors requests carrying
	// x-amz-expected-bucket-owner are checked against it. When empty, any
	// such expectation is refused, since it cannot be confirmed.
	Owner string `json:"owner,omitempty"`

	writeMu sync.Mutex // serializes writers; readers never take it
	snap    atomic.Pointer[snapshot]
	logger  *zap.Logger
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
}

func newEntry(bucket string, p *s3cors.Policy) bucketEntry {
	return bucketEntry{policy: p, name: bucket}
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "s3_cors",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision sets up the app. Until durable storage backs it, the app takes
// over the configurations of the app it replaces, so that a config reload
// keeps the buckets configured at run time.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	if a.SyncInterval == 0 {
		a.SyncInterval = caddy.Duration(DefaultSyncInterval)
	}
	initial := snapshot{}
	if prev := running.Load(); prev != nil {
		initial = *prev.snap.Load()
	}
	a.snap.Store(&initial)
	return nil
}

// Validate checks the app's settings.
func (a *App) Validate() error {
	if a.SyncInterval < 0 {
		return fmt.Errorf("s3_cors: sync_interval %s is negative", time.Duration(a.SyncInterval))
	}
	if a.Owner != "" && !isAccountID(a.Owner) {
		return fmt.Errorf("s3_cors: owner %q is not a 12-digit account id", a.Owner)
	}
	return nil
}

// Start makes a the running app.
func (a *App) Start() error {
	running.Store(a)
	return nil
}

// Stop forgets a as the running app, unless a newer one took over.
func (a *App) Stop() error {
	running.CompareAndSwap(a, nil)
	return nil
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

// SetConfiguration sets the CORS configuration of bucket, replacing any it
// had; requests see it as soon as it returns. source names who made the
// change (such as "admin" or "s3_api") for the log.
func (a *App) SetConfiguration(ctx context.Context, bucket string, cfg *s3cors.Configuration, source string) error {
	if bucket == "" {
		return fmt.Errorf("s3_cors: set configuration: empty bucket name")
	}
	if cfg == nil {
		return fmt.Errorf("s3_cors: set configuration of %s: no configuration", bucket)
	}
	p := s3cors.Compile(cfg)
	a.update(func(next snapshot) { next[bucket] = newEntry(bucket, p) })
	a.log().Info("bucket CORS configuration set",
		zap.String("bucket", bucket), zap.Int("rules", len(cfg.Rules)), zap.String("source", source))
	return nil
}

// DeleteConfiguration removes the CORS configuration of bucket; removing
// one that does not exist is not an error, as with DeleteBucketCors.
func (a *App) DeleteConfiguration(ctx context.Context, bucket, source string) error {
	if bucket == "" {
		return fmt.Errorf("s3_cors: delete configuration: empty bucket name")
	}
	a.update(func(next snapshot) { delete(next, bucket) })
	a.log().Info("bucket CORS configuration deleted", zap.String("bucket", bucket), zap.String("source", source))
	return nil
}

// update publishes a changed copy of the snapshot. Writers are serialized;
// readers keep using the snapshot they loaded.
func (a *App) update(change func(next snapshot)) {
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	next := snapshot{}
	if cur := a.snap.Load(); cur != nil {
		next = make(snapshot, len(*cur)+1)
		for b, e := range *cur {
			next[b] = e
		}
	}
	change(next)
	a.snap.Store(&next)
}

func (a *App) log() *zap.Logger {
	if a.logger == nil {
		return zap.NewNop()
	}
	return a.logger
}

// isAccountID reports whether s is a 12-digit AWS account id.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Interface guards
var (
	_ caddy.App         = (*App)(nil)
	_ caddy.Provisioner = (*App)(nil)
	_ caddy.Validator   = (*App)(nil)
)
