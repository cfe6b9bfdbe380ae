package api

import (
	"net/http"
	"strings"

	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// Admin routes, all under AdminPrefix.
const (
	// AdminPrefix is the path prefix of every admin route, the pattern
	// the Caddy admin module registers.
	AdminPrefix = "/s3_cors/"
	// BucketsPath lists the configured buckets; BucketsPath + "/<bucket>"
	// addresses one bucket's configuration.
	BucketsPath = "/s3_cors/buckets"
	// ExplainPath explains how a configuration decides a request.
	ExplainPath = "/s3_cors/explain"
	// SourcesPath lists every configured bucket with where its
	// configuration comes from; SourcesPath + "/<bucket>" shows one.
	SourcesPath = "/s3_cors/sources"
)

// Admin serves the operator endpoints of the Caddy admin API:
//
//	PUT    /s3_cors/buckets/<bucket>  PutBucketCors XML, or the aws cli JSON with
//	                                  Content-Type application/json: 200, empty
//	GET    /s3_cors/buckets/<bucket>  200 GetBucketCors XML, or the JSON with
//	                                  Accept: application/json; 404 NoSuchCORSConfiguration
//	DELETE /s3_cors/buckets/<bucket>  204, also when none existed
//	GET    /s3_cors/buckets           200 {"buckets": ["a", "b"]}, sorted by name
//	POST   /s3_cors/explain           200 the engine's Explanation (see ExplainRequest)
//	POST   /s3_cors/validate          200 a Validation: the PUT's verdict, nothing stored
//	GET    /s3_cors/sources           200 a SourceList: run-time, static and default configurations
//	GET    /s3_cors/sources/<bucket>  200 BucketSources: every configuration that applies to it
//	GET    /s3_cors/                  the operator page (page.css, page.js beside it)
//
// Content-MD5 and x-amz-checksum-* are verified when present, and
// x-amz-expected-bucket-owner is checked against Owner. Every failure is
// S3's XML error document with its status. Caddy re-creates its admin
// modules on every config load, so Admin owns nothing: it finds the live
// configurations through Lookup on every request.
type Admin struct {
	// Lookup returns the live configurations, or nil when the app is not
	// running (the routes then answer 503 ServiceUnavailable). Required.
	Lookup func() Configs
	// Owner returns the account id x-amz-expected-bucket-owner is checked
	// against. Nil, or an empty id, is no owner: any expectation is then
	// refused with AccessDenied, since it cannot be confirmed.
	Owner func() string
	// LogError receives the errors the client is not told about, such as
	// a storage failure behind a 500. Nil logs with the standard logger.
	LogError func(r *http.Request, err error)
}

// ServeHTTP routes an admin request under AdminPrefix.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == BucketsPath || path == BucketsPath+"/":
		a.serveList(w, r)
	case strings.HasPrefix(path, BucketsPath+"/"):
		a.serveBucket(w, r, strings.TrimPrefix(path, BucketsPath+"/"))
	case path == ExplainPath:
		a.serveExplain(w, r)
	case path == ValidatePath:
		a.serveValidate(w, r)
	case path == SourcesPath || path == SourcesPath+"/":
		a.serveSources(w, r)
	case strings.HasPrefix(path, SourcesPath+"/"):
		a.serveBucketSources(w, r, strings.TrimPrefix(path, SourcesPath+"/"))
	case a.servePage(w, r):
	default:
		(&s3err.Error{Status: http.StatusNotFound, Code: "NotFound",
			Message: "The specified admin route does not exist.",
			Fields:  []s3err.Field{{Name: "Resource", Value: path}}}).WriteTo(w)
	}
}

// configs returns the live configurations; without them it answers 503
// and returns nil.
func (a *Admin) configs(w http.ResponseWriter) Configs {
	var c Configs
	if a.Lookup != nil {
		c = a.Lookup()
	}
	if c == nil {
		s3err.ServiceUnavailable().WriteTo(w)
	}
	return c
}

func (a *Admin) owner() string {
	if a.Owner == nil {
		return ""
	}
	return a.Owner()
}

func (a *Admin) serveList(w http.ResponseWriter, r *http.Request) {
	c := a.readConfigs(w, r, "SERVICE")
	if c == nil {
		return
	}
	a.writeJSON(w, r, "bucket list", BucketList{Buckets: sortedBuckets(c)})
}

// BucketList is the answer of GET /s3_cors/buckets: the buckets that have
// a configuration, sorted by name, an empty list for none.
type BucketList struct {
	// Buckets are the bucket names.
	Buckets []string `json:"buckets"`
}

func (a *Admin) serveBucket(w http.ResponseWriter, r *http.Request, bucket string) {
	if !checkBucketRequest(w, r, bucket) {
		return
	}
	c := a.configs(w)
	if c == nil {
		return
	}
	owner := a.owner()
	if err := putcors.CheckExpectedOwner(r.Header, owner); err != nil {
		err.WriteTo(w)
		return
	}
	b := bucketConfig{configs: c, bucket: bucket, source: SourceAdmin, what: "s3_cors admin", logErr: a.LogError}
	switch r.Method {
	case http.MethodGet:
		b.get(w, r, r.Header.Get("Accept"), "application/xml", "application/json")
	case http.MethodPut:
		body, ok := a.readBody(w, r, "put "+bucket)
		if !ok {
			return
		}
		cfg, err := putcors.Decode(r.Header, body, putcors.Options{Owner: owner})
		b.put(w, r, cfg, err)
	case http.MethodDelete:
		b.delete(w, r)
	}
}
