package api

import (
	"fmt"
	"net/http"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// bucketConfig serves one bucket's configuration once a route's own checks
// (method, bucket name, authentication, owner) have passed. The admin
// routes and the S3 API differ only in what they record as the source of a
// change, how their errors are prefixed and where internal errors go, so
// both answer GetBucketCors, PutBucketCors and DeleteBucketCors through it.
type bucketConfig struct {
	configs Configs
	bucket  string
	source  string      // SourceAdmin or SourceS3
	what    string      // prefixes internal errors: "s3_cors admin", "s3_cors s3 api"
	logErr  errorLogger // where internal errors go
}

// get answers GetBucketCors: 200 with the configuration in the media type
// accept prefers among offers (the first when it names none of them), 404
// NoSuchCORSConfiguration without one, 500 InternalError (logged) when
// storage holds one that cannot be read. offers are "application/xml" and
// "application/json".
func (b bucketConfig) get(w http.ResponseWriter, r *http.Request, accept string, offers ...string) {
	cfg, ok := b.configs.Configuration(b.bucket)
	if !ok {
		s3err.NoSuchCORSConfiguration(b.bucket).WriteTo(w)
		return
	}
	if cfg == nil {
		// Neither "none" (a default might govern it) nor a document:
		// storage holds one this node cannot read. A PUT or DELETE mends it.
		writeError(w, r, b.logErr, fmt.Errorf("%s: get %s: the stored configuration cannot be read (see the warning logged for it); "+
			"set it again or delete it", b.what, b.bucket))
		return
	}
	if negotiate(accept, offers...) == "application/json" {
		write(w, http.StatusOK, "application/json", cfg.JSON())
		return
	}
	write(w, http.StatusOK, "application/xml", cfg.XML())
}

// put stores a decoded PutBucketCors body, or answers the error decoding
// it gave, and answers 200.
func (b bucketConfig) put(w http.ResponseWriter, r *http.Request, cfg *s3cors.Configuration, decodeErr error) {
	err := decodeErr
	if err == nil {
		err = b.configs.SetConfiguration(r.Context(), b.bucket, cfg, b.source)
	}
	if err != nil {
		writeError(w, r, b.logErr, fmt.Errorf("%s: put %s: %w", b.what, b.bucket, err))
		return
	}
	write(w, http.StatusOK, "", nil)
}

// delete answers DeleteBucketCors: 204, also when the bucket had no
// configuration.
func (b bucketConfig) delete(w http.ResponseWriter, r *http.Request) {
	if err := b.configs.DeleteConfiguration(r.Context(), b.bucket, b.source); err != nil {
		writeError(w, r, b.logErr, fmt.Errorf("%s: delete %s: %w", b.what, b.bucket, err))
		return
	}
	write(w, http.StatusNoContent, "", nil)
}

// checkBucketRequest begins a bucket's configuration route, the admin's and
// the S3 API's alike: 405 MethodNotAllowed for a method other than GET,
// PUT and DELETE, then 400 InvalidBucketName for a name S3 would refuse, so
// that no such name reaches Configs. It reports whether the request goes
// on; when not, it has answered w.
func checkBucketRequest(w http.ResponseWriter, r *http.Request, bucket string) bool {
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
	default:
		methodNotAllowed(w, r, "BUCKET", http.MethodGet, http.MethodPut, http.MethodDelete)
		return false
	}
	if !s3cors.ValidBucketName(bucket) {
		s3err.InvalidBucketName(bucket).WriteTo(w)
		return false
	}
	return true
}
