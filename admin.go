package caddys3cors

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/api"
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
//	POST   /s3_cors/validate           S3's verdict on a PutBucketCors body, nothing stored
//	GET    /s3_cors/sources            every configured bucket and where its configuration comes from
//	GET    /s3_cors/sources/<bucket>   every configuration that applies to the bucket
//	GET    /s3_cors/                   the operator page (see `caddy s3-cors page`)
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

// Interface guards
var _ caddy.AdminRouter = AdminAPI{}
