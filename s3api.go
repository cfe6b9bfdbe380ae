package caddys3cors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/internal/sigv4"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// S3APIConfig enables the S3 API on the site: `PUT`, `GET` and `DELETE
// /<bucket>?cors` (or `/?cors` in virtual-hosted style) are answered by the
// handler with S3's PutBucketCors, GetBucketCors and DeleteBucketCors.
// Other requests go on to the store. Without it, `?cors` requests go to
// the store too.
//
// Who may manage a bucket's CORS is decided in one of two ways:
//
//   - `static` (the default): the request must be signed with AWS
//     Signature Version 4 with one of the key pairs given here
//     (AccessKey/SecretKey, and Keys), each optionally limited to some
//     buckets. For stores that do not authenticate these calls.
//   - `store`: the store decides, with its own users and policies. The
//     client's signed request is sent unchanged to the store through the
//     handlers that follow s3_cors on the route (the site's
//     reverse_proxy), and the store's answer is the verdict: MinIO answers
//     NotImplemented (PUT, DELETE) or NoSuchCORSConfiguration (GET) only to
//     a caller it authenticated, whose policy allows s3:PutBucketCors,
//     s3:GetBucketCors or s3:DeleteBucketCors, on a bucket that exists;
//     then the module does the operation. Any other answer
//     (AccessDenied, SignatureDoesNotMatch, NoSuchBucket, ...) goes back to
//     the client as the store sent it and changes nothing. A store that
//     implements bucket CORS and answers with a success has done the
//     operation: the module does the same, so that what it enforces is
//     what the store holds (once a probe made for that success shows the
//     store refusing an unknown key). Before acting, the module checks
//     that the store refuses a request signed with an unknown access key
//     (again every ProbeInterval); when it does not, every `?cors` request
//     is refused with 403 AccessDenied and an error is logged.
type S3APIConfig struct {
	// Authorize is `static` (key pairs given here) or `store` (the
	// store's users and policies). Default: `static`.
	Authorize string `json:"authorize,omitempty"`
	// AccessKey is the access key id clients sign with, in the static
	// mode. Placeholders such as `{env.S3_CORS_ACCESS_KEY}` are replaced
	// at provisioning.
	AccessKey string `json:"access_key,omitempty"`
	// SecretKey is its secret. Placeholders such as
	// `{env.S3_CORS_SECRET_KEY}` are replaced at provisioning.
	SecretKey string `json:"secret_key,omitempty"`
	// Keys are more key pairs for the static mode, each optionally
	// limited to some buckets, so that one team's key cannot touch
	// another team's buckets.
	Keys []S3APIKey `json:"keys,omitempty"`
	// Region, when set, is the only signing region accepted in the static
	// mode; empty accepts any.
	Region string `json:"region,omitempty"`
	// BodyTimeout bounds how long a `?cors` request body may take to
	// arrive once its headers are read; a slower one is answered 400
	// RequestTimeout and changes nothing. Default: 10s. It applies to
	// these requests only, so that uploads going to the store keep the
	// server's own `timeouts`.
	BodyTimeout caddy.Duration `json:"body_timeout,omitempty"`
	// ProbeInterval is, in the store mode, how long the finding that the
	// store refuses a request signed with an unknown access key is
	// trusted before it is checked again (on the next `?cors` request).
	// Default: 1m.
	ProbeInterval caddy.Duration `json:"probe_interval,omitempty"`
	// BucketCheck gives the module credentials to ask the store which
	// buckets exist (see BucketCheckConfig). Default: the app's
	// object_store credentials, when set. Sites without s3_api never ask
	// the store.
	BucketCheck *BucketCheckConfig `json:"bucket_check,omitempty"`
}

// S3APIKey is one key pair of the static mode.
type S3APIKey struct {
	// AccessKey is the access key id. Placeholders are replaced at
	// provisioning.
	AccessKey string `json:"access_key"`
	// SecretKey is its secret. Placeholders are replaced at
	// provisioning.
	SecretKey string `json:"secret_key"`
	// Buckets limits the key to these buckets: names, or patterns in
	// which `*` stands for any run of characters (`team-a-*`). A request
	// on another bucket is refused with 403 AccessDenied. Default: every
	// bucket.
	Buckets []string `json:"buckets,omitempty"`
}

// The Authorize values.
const (
	authorizeStatic = "static"
	authorizeStore  = "store"
)

// provision builds the S3 API endpoint from the configuration. buckets,
// when not nil, tells whether buckets exist in the store.
func (c *S3APIConfig) provision(owner string, logger *zap.Logger, buckets api.BucketExistence) (*api.S3API, error) {
	s := &api.S3API{
		Owner:       owner,
		Buckets:     buckets,
		BodyTimeout: time.Duration(c.BodyTimeout),
		LogError: func(r *http.Request, err error) {
			logger.Error("s3_cors S3 API request failed", zap.String("method", r.Method),
				zap.String("uri", r.RequestURI), zap.Error(err))
		},
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.Authorize == authorizeStore {
		s.Store = &api.StoreAuthority{
			ProbeInterval: time.Duration(c.ProbeInterval),
			LogUntrusted: func(err error) {
				logger.Error("s3_cors S3 API: the store is not trusted to authorize ?cors requests", zap.Error(err))
			},
		}
		if c, ok := buckets.(*bucketChecker); ok {
			s.Store.OnBucket = c.noteBucket
			if c.endpoint != "" {
				go probeAtStart(c.endpoint, logger)
			}
		}
		return s, nil
	}
	verify, err := c.staticVerifier()
	if err != nil {
		return nil, err
	}
	s.Verify = verify
	return s, nil
}

// check reports a contradiction in the settings: the one check of how
// they fit together, made by provision and, pointing at the block, by the
// Caddyfile parser.
func (c *S3APIConfig) check() error {
	switch c.Authorize {
	case authorizeStore:
		if c.AccessKey != "" || c.SecretKey != "" || len(c.Keys) > 0 || c.Region != "" {
			return errors.New("authorize store takes no access_key, secret_key, keys or region: the store's own users sign")
		}
		return nil
	case "", authorizeStatic:
	default:
		return fmt.Errorf("authorize %q is not %s or %s", c.Authorize, authorizeStatic, authorizeStore)
	}
	if c.ProbeInterval != 0 {
		return errors.New("probe_interval applies to authorize store only")
	}
	if (c.AccessKey == "") != (c.SecretKey == "") || c.AccessKey == "" && len(c.Keys) == 0 {
		return errors.New("access_key and secret_key are required (or keys, or authorize store)")
	}
	return nil
}

// probeAtStart checks, when the module knows the store's endpoint, that
// the store refuses a request signed with an unknown key, and logs an
// error at once when it does not. Requests are decided by the probes sent
// through the route (the site may reach the store another way); this one
// only tells the operator early.
func probeAtStart(endpoint string, logger *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), startProbeTimeout)
	defer cancel()
	err := api.ProbeEndpoint(ctx, &http.Client{Timeout: startProbeTimeout}, endpoint, "s3cors-probe")
	switch {
	case err == nil:
		logger.Info("s3_cors S3 API: the store refuses unknown keys; it may authorize ?cors requests", zap.String("endpoint", endpoint))
	case errors.Is(err, api.ErrNotAuthenticating):
		logger.Error("s3_cors S3 API: the store does not authenticate ?cors requests; they will be refused", zap.Error(err))
	default:
		logger.Warn("s3_cors S3 API: cannot probe the store at start; the first ?cors request will", zap.Error(err))
	}
}

// startProbeTimeout bounds the probe at start.
const startProbeTimeout = 10 * time.Second

// staticVerifier returns the Verify hook of the static mode: SigV4 with
// one of the key pairs, then the key's bucket limits.
func (c *S3APIConfig) staticVerifier() (func(*http.Request, string, int64) ([]byte, http.Header, error), error) {
	repl := caddy.NewReplacer()
	keys := c.Keys
	if c.AccessKey != "" || c.SecretKey != "" {
		keys = append([]S3APIKey{{AccessKey: c.AccessKey, SecretKey: c.SecretKey}}, keys...)
	}
	creds := make([]sigv4.Credentials, 0, len(keys))
	limits := map[string][]string{}
	for i, k := range keys {
		access := repl.ReplaceAll(k.AccessKey, "")
		creds = append(creds, sigv4.Credentials{AccessKey: access, SecretKey: repl.ReplaceAll(k.SecretKey, "")})
		for _, pattern := range k.Buckets {
			if _, err := path.Match(pattern, ""); err != nil || pattern == "" {
				return nil, fmt.Errorf("key %d: bad bucket pattern %q", i, pattern)
			}
		}
		if len(k.Buckets) > 0 {
			limits[access] = k.Buckets
		}
	}
	verifier, err := sigv4.New(creds, sigv4.Options{Region: repl.ReplaceAll(c.Region, "")})
	if err != nil {
		return nil, err
	}
	return func(r *http.Request, bucket string, limit int64) ([]byte, http.Header, error) {
		res, err := verifier.Verify(r, limit+1)
		if err != nil {
			return nil, nil, err
		}
		if patterns, limited := limits[res.AccessKey]; limited && !bucketAllowed(patterns, bucket) {
			return nil, nil, s3err.AccessDenied()
		}
		if res.Truncated {
			return nil, nil, s3err.TooLarge(s3cors.MaxBodySize)
		}
		return res.Body, res.Trailer, nil
	}, nil
}

// bucketAllowed reports whether bucket matches one of the patterns.
func bucketAllowed(patterns []string, bucket string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, bucket); ok {
			return true
		}
	}
	return false
}

// serveS3API answers a `?cors` request; in the store mode the request
// goes through next to the store first.
func (h *Handler) serveS3API(w http.ResponseWriter, r *http.Request, bucket string, next caddyhttp.Handler) {
	var configs api.Configs
	if h.app != nil {
		configs = h.app
	}
	h.s3api.ServeCORS(w, r, bucket, configs, next.ServeHTTP)
}
