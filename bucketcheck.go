package caddys3cors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// BucketCheckConfig is how the module asks the store itself which buckets
// exist, with credentials of its own: a `?cors` request on a missing
// bucket gets 404 NoSuchBucket in the static mode, a preflight to one gets
// S3's 403 "CORSResponse: Bucket not found", and the configurations of
// buckets deleted behind the module's back (or deleted and created again)
// are removed by a periodic comparison with the store's bucket list. The
// credentials need s3:ListAllMyBuckets and s3:ListBucket (HeadBucket) on
// the buckets that have CORS configurations; a bucket the credentials
// cannot see is never taken for missing.
//
// Without it, the app's object_store settings are used when set (the
// store behind the site is then assumed to be the one holding the
// configurations); `"disabled": true` turns the checks off.
type BucketCheckConfig struct {
	// Disabled turns the bucket checks off, also those that would use
	// object_store's credentials.
	Disabled bool `json:"disabled,omitempty"`
	// Endpoint is the store's S3 API, as host:port (`minio:9000`).
	Endpoint string `json:"endpoint,omitempty"`
	// AccessKey is the access key of the credentials. Placeholders such
	// as `{env.S3_CORS_CHECK_KEY}` are replaced at provisioning.
	AccessKey string `json:"access_key,omitempty"`
	// SecretKey is their secret.
	SecretKey string `json:"secret_key,omitempty"`
	// TLS connects with HTTPS instead of plain HTTP.
	TLS bool `json:"tls,omitempty"`
	// Region is the signing region. Default: `us-east-1`.
	Region string `json:"region,omitempty"`
	// Interval is how long an answer about a bucket is kept, and how
	// often the configured buckets are compared with the store's list: a
	// bucket deleted behind the module's back loses its configuration
	// within about one interval. Default: 30s.
	Interval caddy.Duration `json:"interval,omitempty"`
}

// DefaultBucketCheckInterval is BucketCheckConfig.Interval's default.
const DefaultBucketCheckInterval = 30 * time.Second

const (
	// maxKnownBuckets bounds the answers kept about buckets.
	maxKnownBuckets = 10000
	// maxBucketLookups bounds the store requests made at once for
	// preflights of buckets with no answer kept: beyond it, a preflight
	// is decided without knowing (as if the bucket existed).
	maxBucketLookups = 8
	// bucketLookupTimeout bounds one such request.
	bucketLookupTimeout = 2 * time.Second
)

// bucketChecker knows which buckets exist in the store: from the store
// itself when it has credentials, from what the store answered to requests
// that went through the handler otherwise (a DeleteBucket, a `?cors`
// verdict). Answers are kept for the interval. It is safe for concurrent
// use.
type bucketChecker struct {
	client   *miniogo.Client // nil: no credentials, it only learns
	endpoint string          // the store's base URL, with client
	interval time.Duration
	logger   *zap.Logger
	lookups  chan struct{} // a semaphore of maxBucketLookups

	mu    sync.RWMutex
	known map[string]bucketAnswer
	// some is whether known holds anything: a checker without credentials
	// that never learnt of a bucket costs a preflight one atomic load.
	some atomic.Bool
	// created is, per configured bucket, its creation date and the
	// configuration it had at the last comparison: a bucket created again
	// under the same configuration loses it.
	created map[string]createdAs

	stop context.CancelFunc
	done chan struct{}
}

type bucketAnswer struct {
	exists bool
	at     time.Time
}

type createdAs struct {
	date time.Time
	cfg  *s3cors.Configuration
}

// check reports settings that cannot work: an endpoint without both keys
// would ask the store anonymously, and never be answered. Provision and,
// pointing at the block, the Caddyfile parser make it, before placeholders
// are replaced.
func (c *BucketCheckConfig) check() error {
	if c.Endpoint != "" && (c.AccessKey == "" || c.SecretKey == "") {
		return errors.New("endpoint needs access_key and secret_key")
	}
	return nil
}

// bucketCheckers holds the checkers with credentials, one per store and
// key, shared by the handlers that use them and across config reloads.
var bucketCheckers = caddy.NewUsagePool()

// provisionBuckets sets up the handler's bucket checker: shared through
// bucketCheckers when there are credentials (the comparison loop runs
// once per store and key), the handler's own otherwise. Credentials are a
// setting of s3_api (its bucket_check, or object_store's by default), so
// that a site without the S3 API never asks the store anything and keeps
// every configuration it is given.
func (h *Handler) provisionBuckets(ctx caddy.Context) error {
	var cfg BucketCheckConfig
	switch {
	case h.S3API != nil && h.S3API.BucketCheck != nil:
		cfg = *h.S3API.BucketCheck
		if cfg.Disabled {
			return nil
		}
		if err := cfg.check(); err != nil {
			return fmt.Errorf("s3_api: bucket_check: %v", err)
		}
	case h.S3API != nil && h.app != nil && h.app.ObjectStore != nil:
		o := h.app.ObjectStore
		cfg = BucketCheckConfig{Endpoint: o.Endpoint, AccessKey: o.AccessKey, SecretKey: o.SecretKey, TLS: o.TLS, Region: o.Region}
	}
	repl := caddy.NewReplacer()
	cfg.Endpoint = repl.ReplaceAll(cfg.Endpoint, "")
	cfg.AccessKey = repl.ReplaceAll(cfg.AccessKey, "")
	cfg.SecretKey = repl.ReplaceAll(cfg.SecretKey, "")
	cfg.Region = repl.ReplaceAll(cfg.Region, "")
	interval := time.Duration(cfg.Interval)
	if interval <= 0 {
		interval = DefaultBucketCheckInterval
	}
	logger := ctx.Logger().Named("buckets")
	if cfg.Endpoint == "" {
		h.buckets = newBucketChecker(nil, interval, logger)
		return nil
	}
	key := fmt.Sprintf("%t|%s|%s|%s|%s", cfg.TLS, cfg.Endpoint, cfg.Region, cfg.AccessKey, interval)
	val, _, err := bucketCheckers.LoadOrNew(key, func() (caddy.Destructor, error) {
		region := cfg.Region
		if region == "" {
			region = "us-east-1"
		}
		client, err := miniogo.New(cfg.Endpoint, &miniogo.Options{
			Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure:       cfg.TLS,
			Region:       region,
			BucketLookup: miniogo.BucketLookupPath,
			MaxRetries:   1,
		})
		if err != nil {
			return nil, fmt.Errorf("bucket check: client for %s: %w", cfg.Endpoint, err)
		}
		c := newBucketChecker(client, interval, logger)
		c.endpoint = "http://" + cfg.Endpoint
		if cfg.TLS {
			c.endpoint = "https://" + cfg.Endpoint
		}
		c.start()
		return c, nil
	})
	if err != nil {
		return err
	}
	h.buckets = val.(*bucketChecker)
	h.bucketsKey = key
	return nil
}

// cleanupBuckets releases the handler's hold on a shared checker.
func (h *Handler) cleanupBuckets() error {
	if h.bucketsKey == "" {
		return nil
	}
	_, err := bucketCheckers.Delete(h.bucketsKey)
	return err
}

func newBucketChecker(client *miniogo.Client, interval time.Duration, logger *zap.Logger) *bucketChecker {
	return &bucketChecker{
		client:   client,
		interval: interval,
		logger:   logger,
		lookups:  make(chan struct{}, maxBucketLookups),
		known:    map[string]bucketAnswer{},
		created:  map[string]createdAs{},
	}
}

// noteBucket records what the store said about bucket.
func (c *bucketChecker) noteBucket(bucket string, exists bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.known) >= maxKnownBuckets {
		now := time.Now()
		for b, a := range c.known {
			if now.Sub(a.at) >= c.interval {
				delete(c.known, b)
			}
		}
		if len(c.known) >= maxKnownBuckets {
			clear(c.known)
		}
	}
	c.known[bucket] = bucketAnswer{exists: exists, at: time.Now()}
	c.some.Store(true)
}

// cached returns the answer kept about bucket, if it is fresh.
func (c *bucketChecker) cached(bucket string) (exists, known bool) {
	if !c.some.Load() {
		return false, false
	}
	c.mu.RLock()
	a, ok := c.known[bucket]
	c.mu.RUnlock()
	if !ok || time.Since(a.at) >= c.interval {
		return false, false
	}
	return a.exists, true
}

// BucketExists implements api.BucketExistence: the answer kept, or the
// store's (kept for next time).
func (c *bucketChecker) BucketExists(ctx context.Context, bucket string) (exists, known bool) {
	if exists, known := c.cached(bucket); known {
		return exists, true
	}
	if c.client == nil {
		return false, false
	}
	return c.ask(ctx, bucket)
}

// ask asks the store whether bucket exists and keeps the answer.
func (c *bucketChecker) ask(ctx context.Context, bucket string) (exists, known bool) {
	ctx, cancel := context.WithTimeout(ctx, bucketLookupTimeout)
	defer cancel()
	exists, err := c.client.BucketExists(ctx, bucket)
	if err != nil {
		c.logger.Debug("cannot tell whether a bucket exists", zap.String("bucket", bucket), zap.Error(err))
		return false, false
	}
	c.noteBucket(bucket, exists)
	return exists, true
}

// missing reports whether bucket is known not to exist, for a preflight:
// the answer kept, or the store's when a lookup slot is free (a flood of
// preflights to unknown buckets cannot queue up store requests).
func (c *bucketChecker) missing(ctx context.Context, bucket string) bool {
	if exists, known := c.cached(bucket); known {
		return !exists
	}
	if c.client == nil {
		return false
	}
	select {
	case c.lookups <- struct{}{}:
		defer func() { <-c.lookups }()
	default:
		return false
	}
	exists, known := c.ask(ctx, bucket)
	return known && !exists
}

// start runs the comparison loop, when there are credentials.
func (c *bucketChecker) start() {
	if c.client == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if a := liveApp(); a != nil {
				if err := c.reconcile(ctx, a); err != nil && ctx.Err() == nil {
					c.logger.Error("cannot compare the configured buckets with the store's", zap.Error(err))
				}
			}
		}
	}()
}

// Destruct stops the comparison loop; the pool calls it when no handler
// uses the checker any more.
func (c *bucketChecker) Destruct() error {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	return nil
}

// reconcile compares the buckets that have a configuration in a with the
// store's bucket list: the configuration of a bucket the store no longer
// has (confirmed with HeadBucket, so that a list the credentials only see
// part of deletes nothing), or of a bucket created again since the last
// comparison under an unchanged configuration, is deleted.
func (c *bucketChecker) reconcile(ctx context.Context, a *App) error {
	configured := a.Buckets()
	if len(configured) == 0 {
		return nil
	}
	list, err := c.client.ListBuckets(ctx)
	if err != nil {
		return fmt.Errorf("list buckets: %w", err)
	}
	have := make(map[string]time.Time, len(list))
	for _, b := range list {
		have[b.Name] = b.CreationDate
	}
	for _, bucket := range configured {
		cfg, _ := a.Configuration(bucket)
		created, listed := have[bucket]
		reason := ""
		switch {
		case !listed:
			exists, err := c.client.BucketExists(ctx, bucket)
			if err != nil || exists {
				continue // cannot tell, or invisible to these credentials
			}
			reason = "the bucket no longer exists"
			c.noteBucket(bucket, false)
		default:
			c.mu.Lock()
			prev, seen := c.created[bucket]
			c.created[bucket] = createdAs{date: created, cfg: cfg}
			c.mu.Unlock()
			if seen && prev.cfg == cfg && !prev.date.Equal(created) {
				reason = "the bucket was deleted and created again"
			}
		}
		if reason == "" {
			continue
		}
		if err := a.DeleteConfiguration(ctx, bucket, sourceBucketGone); err != nil {
			c.logger.Error("cannot delete the configuration of a deleted bucket", zap.String("bucket", bucket), zap.Error(err))
			continue
		}
		c.mu.Lock()
		delete(c.created, bucket)
		c.mu.Unlock()
		c.logger.Info("bucket CORS configuration deleted with its bucket", zap.String("bucket", bucket), zap.String("reason", reason))
	}
	return nil
}

// sourceBucketGone is the source of configuration deletions that follow a
// bucket's deletion.
const sourceBucketGone = "bucket_deleted"

// bucketExistence is the checker as the S3 API sees it: nil (not a typed
// nil) when there is none.
func (h *Handler) bucketExistence() api.BucketExistence {
	if h.buckets == nil {
		return nil
	}
	return h.buckets
}

// preflightPolicy returns the policy a preflight to bucket is decided
// with: that of a missing bucket when the bucket has no configuration of
// its own (p is none, or the default) and is known not to exist. A bucket
// with a configuration is never looked up: its configuration dies with it.
// The handler calls it when it has a checker.
func (h *Handler) preflightPolicy(r *http.Request, bucket string, p *s3cors.Policy) *s3cors.Policy {
	if p != nil && p != h.def {
		return p
	}
	if h.buckets.missing(r.Context(), bucket) {
		return missingBucket
	}
	return p
}

// Interface guards
var (
	_ caddy.Destructor = (*bucketChecker)(nil)
)
