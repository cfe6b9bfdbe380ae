package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// S3API answers S3's own bucket CORS operations on the site, with S3's
// behaviour: PutBucketCors, GetBucketCors and DeleteBucketCors, that is
// PUT, GET and DELETE on a bucket with the `cors` query key. The caller
// routes the requests IsCORSRequest accepts to ServeCORS, with the bucket
// it resolved (path or virtual-hosted style); every other request goes on
// to the store.
type S3API struct {
	// Verify authenticates a request to bucket, as the AWS Signature
	// Version 4 verifier does, and checks that its key may manage the
	// bucket. It reads the body, at most bodyLimit bytes plus one (a
	// longer body may be returned as read: it is refused as too large),
	// decoded from aws-chunked when needed, and returns it with the
	// trailing headers (such as x-amz-checksum-crc32) of a chunked body.
	// An authentication failure is an *s3err.Error (AccessDenied,
	// SignatureDoesNotMatch, ...), answered as it is; an error of reading
	// the body (wrapped with %w) is 400 RequestTimeout for the read
	// deadline, else 400 IncompleteBody; any other error is a 500. Nil
	// refuses every request with AccessDenied, unless Store is set.
	Verify func(r *http.Request, bucket string, bodyLimit int64) (body []byte, trailer http.Header, err error)
	// Store, when set, makes the store authorize every request (the
	// store mode): the request goes to the store given to ServeCORS and
	// the store's answer decides; Verify is not used.
	Store *StoreAuthority
	// Buckets, when set, tells whether a bucket exists in the store. In
	// the static mode a `?cors` request on a bucket it knows to be missing
	// is answered 404 NoSuchBucket, after authentication, as S3 does. (In
	// the store mode the store says so itself.)
	Buckets BucketExistence
	// Owner is the account id x-amz-expected-bucket-owner is checked
	// against; empty is no owner, and any expectation is then refused
	// with AccessDenied.
	Owner string
	// LogError receives the errors the client is not told about, such as
	// a storage failure behind a 500. Nil logs with the standard logger.
	LogError func(r *http.Request, err error)
	// BodyTimeout bounds how long the request body may take to arrive,
	// counted from when ServeCORS starts reading it: a slower body is
	// answered 400 RequestTimeout and changes nothing. Zero means
	// DefaultBodyTimeout; negative, no bound of its own (the server's
	// timeouts still apply).
	BodyTimeout time.Duration
}

// BucketExistence tells whether a bucket exists in the store.
type BucketExistence interface {
	// BucketExists reports whether the store has bucket; known is false
	// when it cannot tell (no credentials to ask with, the store did not
	// answer).
	BucketExists(ctx context.Context, bucket string) (exists, known bool)
}

// IsCORSRequest reports whether r is one of S3's bucket CORS operations:
// its query has the exact key `cors` (`?cors`, `?cors=`, `?cors&...`), so
// that presigned object URLs and other sub-resources pass through. OPTIONS
// is never one: with or without `cors`, it is a CORS preflight, which the
// handler answers from the bucket's configuration as S3 does.
func (s *S3API) IsCORSRequest(r *http.Request) bool {
	if r.Method == http.MethodOptions || r.URL == nil {
		return false
	}
	query := r.URL.RawQuery
	for query != "" {
		var part string
		part, query, _ = strings.Cut(query, "&")
		key, _, _ := strings.Cut(part, "=")
		if key == "cors" {
			return true
		}
		if k, err := url.QueryUnescape(key); err == nil && k == "cors" {
			return true
		}
	}
	return false
}

// ServeCORS answers a request IsCORSRequest accepted, for bucket, with
// configs the live configurations (a nil interface: the app is not
// running, 503) and store the handler the request would reach without
// the S3 API (used in the store mode only). In order: a method other than
// PUT, GET and DELETE is 405 MethodNotAllowed; an invalid bucket name 400
// InvalidBucketName; then the request is authenticated, by Verify or by
// the store (a failure is answered and changes nothing); in the static
// mode a bucket Buckets knows to be missing is 404 NoSuchBucket; then
// x-amz-expected-bucket-owner; a PUT must carry Content-MD5 or an
// x-amz-checksum-* header (in the headers or the chunked body's trailer),
// which must match, and its body is always read as XML, as S3 does
// whatever the Content-Type. Every answer carries x-amz-request-id and
// x-amz-id-2.
func (s *S3API) ServeCORS(w http.ResponseWriter, r *http.Request, bucket string, configs Configs, store Store) {
	// Bound the body from the start: even a request refused before its
	// body is read has the rest of it drained by net/http afterwards, and
	// that must not wait forever either. The deadline is lifted only once
	// the body was read whole.
	timeout := s.BodyTimeout
	if timeout == 0 {
		timeout = DefaultBodyTimeout
	}
	lift := bodyDeadline(w, timeout)
	if !checkBucketRequest(w, r, bucket) {
		return
	}
	body, trailer, ok := s.authenticate(w, r, bucket, store, lift)
	if !ok {
		return
	}
	if configs == nil {
		s3err.ServiceUnavailable().WriteTo(w)
		return
	}
	if s.Store == nil && s.Buckets != nil {
		if exists, known := s.Buckets.BucketExists(r.Context(), bucket); known && !exists {
			s3err.NoSuchBucket(bucket).WriteTo(w)
			return
		}
	}
	if err := putcors.CheckExpectedOwner(r.Header, s.Owner); err != nil {
		err.WriteTo(w)
		return
	}
	b := bucketConfig{configs: configs, bucket: bucket, source: SourceS3, what: "s3_cors s3 api", logErr: s.LogError}
	switch r.Method {
	case http.MethodGet:
		b.get(w, r, "", "application/xml") // S3 answers XML whatever Accept says
	case http.MethodPut:
		h := r.Header.Clone()
		for name, values := range trailer {
			h[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
		}
		h.Del("Content-Type") // S3 reads the body as XML whatever it says
		cfg, err := putcors.Decode(h, body, putcors.Options{Owner: s.Owner, RequireIntegrity: true})
		b.put(w, r, cfg, err)
	case http.MethodDelete:
		b.delete(w, r)
	}
}

// authenticate authenticates r, by the store in the store mode, by Verify
// otherwise, and returns its payload and trailing headers; on failure it
// has answered w. lift lifts the body's read deadline.
func (s *S3API) authenticate(w http.ResponseWriter, r *http.Request, bucket string, store Store, lift func(),
) (body []byte, trailer http.Header, ok bool) {
	if s.Store != nil {
		return s.Store.authorize(w, r, bucket, store, lift, s.LogError)
	}
	if s.Verify == nil {
		s3err.AccessDenied().WriteTo(w)
		return nil, nil, false
	}
	read := &readRecorder{}
	if r.Body != nil {
		read.ReadCloser = r.Body
		r.Body = read
	}
	body, trailer, err := s.Verify(r, bucket, s3cors.MaxBodySize)
	if err != nil {
		err = fmt.Errorf("s3_cors s3 api: verify %s %s?cors: %w", r.Method, bucket, err)
		if isTimeout(err) || read.err != nil && errors.Is(err, read.err) {
			readError(w, r, s.LogError, err) // the client's doing, as on the other routes
			return nil, nil, false
		}
		writeError(w, r, s.LogError, err)
		return nil, nil, false
	}
	lift() // the body was read to its end
	return body, trailer, true
}

// readRecorder keeps the error reading a request body failed with, so that
// a Verify error caused by it is answered as a failed read (400
// IncompleteBody or RequestTimeout), not as the server's failure.
type readRecorder struct {
	io.ReadCloser
	err error
}

func (b *readRecorder) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}
