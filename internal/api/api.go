// Package api serves the bucket CORS configuration endpoints of
// caddy-s3cors as plain net/http: the operator routes under /s3_cors/ on
// Caddy's admin listener (Admin) and S3's own PutBucketCors, GetBucketCors
// and DeleteBucketCors (`?cors`) on the site (S3API). It holds no state:
// configurations live behind the Configs interface, which the Caddy app
// implements, and every answer, success or failure, is written here, with
// S3's XML error document for every failure.
//
// # Choices
//
//   - A bucket name is checked with S3's rules (s3cors.ValidBucketName) before it
//     reaches Configs, so that a decoded `..%2F` never becomes a storage key.
//   - Requests are checked in this order: route and method (405
//     MethodNotAllowed with an Allow header), bucket name (400
//     InvalidBucketName), on the S3 API the signature, then the live app (503
//     ServiceUnavailable when it is not running), x-amz-expected-bucket-owner,
//     and for a PUT the body size, the integrity headers and the document.
//   - A body over 64 KiB is refused with 400 MaxMessageLengthExceeded: at
//     once when Content-Length says so, otherwise after reading at most
//     64 KiB + 1 bytes.
//   - A request body must arrive within a bound: the S3 API sets a read
//     deadline of S3API.BodyTimeout (DefaultBodyTimeout when zero) on the
//     connection while it reads the body, and Caddy's admin listener has its
//     own 10 s read timeout. A body cut off by a deadline is answered 400
//     RequestTimeout, as S3 does, and changes nothing.
//   - A storage failure is 500 InternalError; the error itself goes to the
//     LogError hook, never to the client.
//   - Successful answers carry x-amz-request-id and x-amz-id-2 too, as S3's
//     do, so that a log line can be matched with a client's report.
package api

import (
	"context"
	"errors"
	"fmt"
	"log"
	"mime"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Configs is the live store of bucket CORS configurations, which the Caddy
// app implements. Bucket names reaching it have passed s3cors.ValidBucketName.
type Configs interface {
	// Configuration returns the bucket's configuration and whether it has
	// one. A nil configuration with true: storage holds one that cannot be
	// read, and the bucket's CORS requests are refused (SourceUnreadable).
	Configuration(bucket string) (*s3cors.Configuration, bool)
	// SetConfiguration replaces the bucket's configuration, returning only
	// once storage holds it; on failure the previous configuration stays.
	// source is "admin" or "s3", for the logs.
	SetConfiguration(ctx context.Context, bucket string, cfg *s3cors.Configuration, source string) error
	// DeleteConfiguration removes the bucket's configuration; removing
	// one that does not exist is not an error.
	DeleteConfiguration(ctx context.Context, bucket, source string) error
	// Buckets lists the buckets that have a configuration.
	Buckets() []string
}

// The source values passed to Configs.
const (
	// SourceAdmin marks a change made through the admin API.
	SourceAdmin = "admin"
	// SourceS3 marks a change made through the S3 API on the site.
	SourceS3 = "s3"
)

// DefaultBodyTimeout is how long the S3 API waits for a request body when
// S3API.BodyTimeout is zero: the read timeout of Caddy's admin listener,
// ample for the 64 KiB a configuration may take.
const DefaultBodyTimeout = 10 * time.Second

// isTimeout reports whether err comes from a read deadline.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// bodyDeadline sets a read deadline d from now on the connection of w, so
// that a client sending its body slowly (or not at all) cannot hold the
// handler forever, and returns the function that lifts it once the body
// has been read to its end: a deadline left in place would cancel the
// request's context while the handler still writes to storage. When the
// body was not read whole, leave the deadline: net/http drains what is
// left of it after the handler, and that drain has no other bound. A writer that cannot set deadlines
// (an HTTP/2 or HTTP/3 stream in some stacks) leaves the server's own
// timeouts as the only bound; d <= 0 sets none.
func bodyDeadline(w http.ResponseWriter, d time.Duration) (lift func()) {
	if d <= 0 {
		return func() {}
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return func() {}
	}
	return func() { _ = rc.SetReadDeadline(time.Time{}) }
}

// methodNotAllowed writes 405 MethodNotAllowed with the Allow header.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, resourceType string, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s3err.MethodNotAllowed(r.Method, resourceType).WriteTo(w)
}

// errorLogger is where internal errors go.
type errorLogger func(r *http.Request, err error)

// report hands err to the hook, or to the standard logger without one.
func (l errorLogger) report(r *http.Request, err error) {
	if l != nil {
		l(r, err)
		return
	}
	log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
}

// writeError answers err: an *s3err.Error (possibly wrapped) as it is,
// anything else as 500 InternalError after reporting it.
func writeError(w http.ResponseWriter, r *http.Request, logErr errorLogger, err error) {
	var docErr *s3err.Error
	if errors.As(err, &docErr) {
		docErr.WriteTo(w)
		return
	}
	logErr.report(r, err)
	s3err.InternalError().WriteTo(w)
}

// readError answers a failure to read a request body: the S3 error when
// it is one (a body too large), 400 RequestTimeout when a read deadline
// cut it off, 400 IncompleteBody otherwise, since a body
// that cannot be read is the client's doing.
func readError(w http.ResponseWriter, r *http.Request, logErr errorLogger, err error) {
	var docErr *s3err.Error
	if errors.As(err, &docErr) {
		docErr.WriteTo(w)
		return
	}
	if isTimeout(err) {
		s3err.RequestTimeout().WriteTo(w)
		return
	}
	logErr.report(r, fmt.Errorf("read request body: %w", err))
	s3err.IncompleteBody().WriteTo(w)
}

// write answers a success: status, the request ids, and body with its
// Content-Type (none for 204).
func write(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	requestID, hostID := s3err.NewRequestIDs()
	h.Set("X-Amz-Request-Id", requestID)
	h.Set("X-Amz-Id-2", hostID)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	if status != http.StatusNoContent {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body) // the client went away; there is no one left to tell
	}
}

// negotiate picks the media type of offers that accept (an Accept header
// value) prefers, by quality and then by the order of offers. An absent
// Accept, or one that accepts none of them, gets the first offer.
func negotiate(accept string, offers ...string) string {
	best, bestQ := offers[0], 0.0
	if strings.TrimSpace(accept) == "" {
		return best
	}
	for _, offer := range offers {
		q := acceptQuality(accept, offer)
		if q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

// acceptQuality is the quality accept gives offer: that of the most
// specific matching range (type/subtype, then type/*, then */*), 0 when
// none matches.
func acceptQuality(accept, offer string) float64 {
	offerType, _, _ := strings.Cut(offer, "/")
	q, specificity := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		s := -1
		switch {
		case mediaType == offer:
			s = 2
		case mediaType == offerType+"/*":
			s = 1
		case mediaType == "*/*":
			s = 0
		}
		if s <= specificity {
			continue
		}
		specificity, q = s, 1
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
	}
	return q
}

// sortedBuckets returns a sorted copy of the buckets, never nil.
func sortedBuckets(c Configs) []string {
	buckets := append([]string{}, c.Buckets()...)
	sort.Strings(buckets)
	return buckets
}
