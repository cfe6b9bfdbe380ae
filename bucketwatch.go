package caddys3cors

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// deleteTimeout bounds deleting a configuration after its bucket.
const deleteTimeout = 30 * time.Second

// watchBucket returns next, wrapped when r, a DELETE or PUT on a bucket
// (not an object), is S3's DeleteBucket or CreateBucket (no subresource). When
// the store answers DeleteBucket with 204, the bucket is gone, and so is
// its CORS configuration, on every node (through storage), as on S3; a
// bucket created again under the name starts with none. When it answers
// CreateBucket with 200, the bucket exists, whatever the module knew of
// it. The handler calls it for DELETE and PUT on a bucket only.
func (h *Handler) watchBucket(r *http.Request, bucket string, next caddyhttp.Handler) caddyhttp.Handler {
	if h.app == nil || !noSubresource(r.URL.RawQuery) {
		return next
	}
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		sw := &statusWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
		err := next.ServeHTTP(sw, r)
		switch {
		case r.Method == http.MethodDelete && sw.status == http.StatusNoContent:
			h.bucketDeleted(r, bucket)
		case r.Method == http.MethodPut && sw.status == http.StatusOK && h.buckets != nil:
			h.buckets.noteBucket(bucket, true)
		}
		return err
	})
}

// noSubresource reports whether a bucket request with this query is on
// the bucket itself (DeleteBucket, CreateBucket): no query key but the
// presigning parameters and the SDKs' x-id.
func noSubresource(query string) bool {
	for query != "" {
		var part string
		part, query, _ = strings.Cut(query, "&")
		key, _, _ := strings.Cut(part, "=")
		if key != "" && key != "x-id" && !strings.HasPrefix(strings.ToLower(key), "x-amz-") {
			return false
		}
	}
	return true
}

// bucketDeleted deletes the configuration of a bucket the store deleted.
func (h *Handler) bucketDeleted(r *http.Request, bucket string) {
	if h.buckets != nil {
		h.buckets.noteBucket(bucket, false)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), deleteTimeout)
	defer cancel()
	if err := h.app.DeleteConfiguration(ctx, bucket, sourceBucketGone); err != nil {
		h.logger.Error("the store deleted a bucket, but not its CORS configuration; the bucket comparison will retry",
			zap.String("bucket", bucket), zap.Error(err))
	}
}

// statusWriter records the final status of a response.
type statusWriter struct {
	*caddyhttp.ResponseWriterWrapper
	status int
}

// WriteHeader records a final status and passes every status on.
func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}
