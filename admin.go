package caddys3cors

import (
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/internal/sigv4"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI is the admin.api.s3_cors module: bucket CORS configurations on
// Caddy's admin listener, under /s3_cors/.
//
//	PUT    /s3_cors/buckets/<bucket>   PutBucketCors XML, or the aws cli JSON with Content-Type: application/json
//	GET    /s3_cors/buckets/<bucket>   GetBucketCors XML (JSON with Accept: application/json)
//	DELETE /s3_cors/buckets/<bucket>   204, also when none existed
//	GET    /s3_cors/buckets            {"buckets": [...]}
//	POST   /s3_cors/explain            the decision for a request, explained
//
// Every answer is S3's: its XML error documents and statuses. Caddy
// creates this module anew on every config load and never cleans it up, so
// it owns no state: it finds the running s3_cors app at request time.
type AdminAPI struct{}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.s3_cors",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Routes returns the admin routes.
func (AdminAPI) Routes() []caddy.AdminRoute {
	admin := &api.Admin{
		Lookup: func() api.Configs {
			if a := liveApp(); a != nil {
				return a
			}
			return nil // not a typed nil: the routes answer 503
		},
		Owner: func() string {
			if a := liveApp(); a != nil {
				return a.Owner
			}
			return ""
		},
		LogError: func(r *http.Request, err error) {
			caddy.Log().Named("admin.api.s3_cors").Error("s3_cors admin request failed",
				zap.String("method", r.Method), zap.String("uri", r.RequestURI), zap.Error(err))
		},
	}
	return []caddy.AdminRoute{{
		Pattern: api.AdminPrefix,
		Handler: caddy.AdminHandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			admin.ServeHTTP(w, r)
			return nil // the routes write S3's answers themselves
		}),
	}}
}

// S3APIConfig enables the S3 API on the site: `PUT`, `GET` and `DELETE
// /<bucket>?cors` (or `/?cors` in virtual-hosted style) are answered by the
// handler with S3's PutBucketCors, GetBucketCors and DeleteBucketCors,
// after verifying AWS Signature Version 4 with these credentials. Other
// requests go on to the store. Without it, `?cors` requests go to the
// store too.
type S3APIConfig struct {
	// AccessKey is the access key id clients sign with. Placeholders such
	// as `{env.S3_CORS_ACCESS_KEY}` are replaced at provisioning.
	AccessKey string `json:"access_key"`
	// SecretKey is its secret. Placeholders such as
	// `{env.S3_CORS_SECRET_KEY}` are replaced at provisioning.
	SecretKey string `json:"secret_key"`
	// Region, when set, is the only signing region accepted; empty
	// accepts any.
	Region string `json:"region,omitempty"`
	// BodyTimeout bounds how long a `?cors` request body may take to
	// arrive once its headers are read; a slower one is answered 400
	// RequestTimeout and changes nothing. Default: 10s. It applies to
	// these requests only, so that uploads going to the store keep the
	// server's own `timeouts`.
	BodyTimeout caddy.Duration `json:"body_timeout,omitempty"`
}

// provision builds the S3 API endpoint from the configuration.
func (c *S3APIConfig) provision(owner string, logger *zap.Logger) (*api.S3API, error) {
	repl := caddy.NewReplacer()
	creds := sigv4.Credentials{AccessKey: repl.ReplaceAll(c.AccessKey, ""), SecretKey: repl.ReplaceAll(c.SecretKey, "")}
	verifier, err := sigv4.New([]sigv4.Credentials{creds}, sigv4.Options{Region: repl.ReplaceAll(c.Region, "")})
	if err != nil {
		return nil, err
	}
	return &api.S3API{
		Verify: func(r *http.Request, limit int64) ([]byte, http.Header, error) {
			res, err := verifier.Verify(r, limit+1)
			if err != nil {
				return nil, nil, err
			}
			if res.Truncated {
				return nil, nil, s3err.TooLarge(s3cors.MaxBodySize)
			}
			return res.Body, res.Trailer, nil
		},
		Owner:       owner,
		BodyTimeout: time.Duration(c.BodyTimeout),
		LogError: func(r *http.Request, err error) {
			logger.Error("s3_cors S3 API request failed", zap.String("method", r.Method),
				zap.String("uri", r.RequestURI), zap.Error(err))
		},
	}, nil
}

// Interface guards
var _ caddy.AdminRouter = AdminAPI{}
