package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/internal/sigv4"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// StoreAuthority makes the store behind the site decide who may manage a
// bucket's CORS (s3_api's store mode): the client's `?cors` request goes to
// the store unchanged, and the store's answer is the verdict. MinIO checks
// the signature, the IAM actions s3:PutBucketCors, s3:GetBucketCors and
// s3:DeleteBucketCors and that the bucket exists, and only then answers
// NotImplemented (PUT, DELETE) or NoSuchCORSConfiguration (GET): those
// answers mean "authenticated, allowed, the bucket exists", and the module
// does the operation itself. Any other error goes back to the client as the
// store sent it (without its Access-Control-* headers) and changes nothing.
// A store that implements bucket CORS itself and answers with a success
// has done the operation: the module does the same to its own
// configurations, so that what it enforces is what the store holds (a GET
// is answered from the module's configuration). As any HTTP server answers
// a success, that verdict is trusted only after a probe made for it.
//
// It fails closed: before it acts on a verdict, it makes sure the store
// refuses a request signed with an unknown access key (a probe, repeated
// once ProbeInterval has passed). A store that answers the probe with
// anything but 403 InvalidAccessKeyId, SignatureDoesNotMatch or
// AccessDenied does not authenticate these requests, and every `?cors`
// request is then refused with 403 AccessDenied.
//
// A StoreAuthority is safe for concurrent use; it must not be copied.
type StoreAuthority struct {
	// ProbeInterval is how long a probe's verdict is trusted. Zero means
	// DefaultProbeInterval.
	ProbeInterval time.Duration
	// OnBucket, when set, learns what a verdict says about a bucket:
	// exists true when the store authorized a request on it, false when
	// it answered NoSuchBucket.
	OnBucket func(bucket string, exists bool)
	// LogUntrusted, when set, receives why the store is not trusted, once
	// per probe that found so. Nil logs with the standard logger.
	LogUntrusted func(err error)
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	mu       sync.Mutex
	probedAt time.Time // zero: no conclusive probe yet
	refusal  *s3err.Error
}

// DefaultProbeInterval is how long a probe's verdict lasts when
// StoreAuthority.ProbeInterval is zero.
const DefaultProbeInterval = time.Minute

// maxRawBody bounds the body of a `?cors` request as it arrives in store
// mode, before aws-chunked decoding: the 64 KiB a configuration may take,
// plus room for the chunk framing and trailers.
const maxRawBody = s3cors.MaxBodySize + 8<<10

// maxStoreAnswer bounds how much of the store's answer is kept.
const maxStoreAnswer = 1 << 20

// msgUntrusted is the message of the AccessDenied that refuses `?cors`
// requests while the store is not trusted.
const msgUntrusted = "Access Denied: the store did not refuse a request signed with an unknown access key, so it cannot authorize bucket CORS requests; see the server log."

// authorize sends r to store and reads the verdict. When the caller may go
// on, it returns the request's payload (decoded from aws-chunked) and
// trailing headers; otherwise it has answered w and returns ok false.
// lift lifts the body's read deadline once the body was read whole.
func (a *StoreAuthority) authorize(w http.ResponseWriter, r *http.Request, bucket string, store Store,
	lift func(), logErr errorLogger,
) (body []byte, trailer http.Header, ok bool) {
	if store == nil {
		writeError(w, r, logErr, errors.New("s3_cors s3 api: authorize store: no handler follows s3_cors on this route"))
		return nil, nil, false
	}
	if err := checkStoreQuery(r.URL.RawQuery); err != nil {
		err.WriteTo(w)
		return nil, nil, false
	}
	if r.Method != http.MethodGet && !isSigned(r) {
		// A store may let anonymous callers in (a public bucket policy),
		// but a write nobody authenticated is never accepted.
		s3err.AccessDenied().WriteTo(w)
		return nil, nil, false
	}
	raw, err := readRaw(r)
	if err != nil {
		readError(w, r, logErr, err)
		return nil, nil, false
	}
	lift()
	rec, err := roundTrip(store, withBody(r, raw))
	if err != nil {
		logErr.report(r, fmt.Errorf("s3_cors s3 api: authorize store: %s %s?cors: %w", r.Method, bucket, err))
		s3err.ServiceUnavailable().WriteTo(w)
		return nil, nil, false
	}
	if named := rec.bucketName(); named != "" && named != bucket {
		// The store took the request for another bucket than the module
		// did (virtual-hosted style set up differently on each side, say):
		// its verdict is not about this bucket.
		logErr.report(r, fmt.Errorf("s3_cors s3 api: authorize store: %s %s?cors: the store answered about bucket %q; "+
			"the module and the store must resolve buckets alike", r.Method, bucket, named))
		s3err.AccessDenied().WriteTo(w)
		return nil, nil, false
	}
	verdict := verdictOf(r.Method, rec)
	switch verdict {
	case verdictRefused:
		if rec.code() == "NoSuchBucket" && a.OnBucket != nil {
			a.OnBucket(bucket, false)
		}
		rec.replay(w)
		return nil, nil, false
	case verdictStoreFailed:
		logErr.report(r, fmt.Errorf("s3_cors s3 api: authorize store: %s %s?cors: the store answered %d %s",
			r.Method, bucket, rec.status, rec.code()))
		rec.replay(w)
		return nil, nil, false
	}
	if verdict == verdictStoreDid {
		if other := rec.otherOperation(r.Method); other != "" {
			// The store took the request for another operation than bucket
			// CORS, which says nothing about this bucket's: see
			// otherOperation.
			logErr.report(r, fmt.Errorf("s3_cors s3 api: authorize store: %s %s?cors: the store answered %d %s; "+
				"the module and the store must resolve buckets alike", r.Method, bucket, rec.status, other))
			s3err.AccessDenied().WriteTo(w)
			return nil, nil, false
		}
	}
	// Any HTTP server answers a success (a proxy's page while the store is
	// down): that verdict is trusted only on a probe made for it, which
	// also shows which bucket the store read (a success names none).
	if refusal := a.trust(r, bucket, store, logErr, verdict == verdictStoreDid); refusal != nil {
		refusal.WriteTo(w)
		return nil, nil, false
	}
	if a.OnBucket != nil {
		a.OnBucket(bucket, true)
	}
	res, err := sigv4.ReadPayload(withPayloadHash(withBody(r, raw)), s3cors.MaxBodySize+1)
	if err != nil {
		writeError(w, r, logErr, fmt.Errorf("s3_cors s3 api: %s %s?cors: %w", r.Method, bucket, err))
		return nil, nil, false
	}
	if res.Truncated {
		s3err.TooLarge(s3cors.MaxBodySize).WriteTo(w)
		return nil, nil, false
	}
	return res.Body, res.Trailer, true
}

// checkStoreQuery refuses a `?cors` query that the store could route to
// another operation than bucket CORS, whose success (or NotImplemented)
// would then be taken for the verdict on this one: MinIO routes PUT
// `?cors&acl` to PutBucketAcl (200 for a user with s3:PutBucketPolicy) and
// GET `?cors&location` to GetBucketLocation, ahead of bucket CORS; its
// router also splits the query at `;` and skips a key or value that does
// not unescape (GET `?cors=%zz` lists the objects). So the query may hold
// only `cors` and the parameters of a presigned URL (`X-Amz-*`, and
// SigV2's AWSAccessKeyId, Expires and Signature), each one unescaping.
func checkStoreQuery(query string) *s3err.Error {
	for query != "" {
		var part string
		part, query, _ = strings.Cut(query, "&")
		if part == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(part, "=")
		key, kerr := url.QueryUnescape(rawKey)
		_, verr := url.QueryUnescape(rawValue)
		if kerr == nil && verr == nil && !strings.Contains(part, ";") && (key == "cors" || isSignatureParam(key)) {
			continue
		}
		return s3err.InvalidArgument(msgStoreQuery, s3err.Field{Name: "ArgumentName", Value: rawKey})
	}
	return nil
}

// msgStoreQuery is the message of the InvalidArgument that refuses a
// query checkStoreQuery does not take.
const msgStoreQuery = "A bucket CORS request the store authorizes takes no query parameter but cors and those of a presigned URL."

// isSignatureParam reports whether key is a query parameter of a
// presigned URL (SigV4's X-Amz-*, SigV2's), which no store routes on.
func isSignatureParam(key string) bool {
	return len(key) > len("x-amz-") && strings.EqualFold(key[:len("x-amz-")], "x-amz-") ||
		key == "AWSAccessKeyId" || key == "Expires" || key == "Signature"
}

// withPayloadHash sets r's X-Amz-Content-Sha256 header to the payload
// hash the store's signature check covered, as MinIO takes it, so that the
// body is checked against what was signed: for a header-signed SigV4
// request the header, or else the empty body's hash; for a presigned one
// the X-Amz-Content-Sha256 query parameter, or else the header, or else
// UNSIGNED-PAYLOAD. Other requests (anonymous, SigV2) keep their header.
func withPayloadHash(r *http.Request) *http.Request {
	const name = "X-Amz-Content-Sha256"
	_, hasHeader := r.Header[name]
	query := r.URL.Query()
	switch {
	case strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256"):
		if !hasHeader {
			r.Header.Set(name, sigv4.EmptyPayload)
		}
	case query.Has("X-Amz-Credential"):
		if v, ok := query[name]; ok {
			r.Header.Set(name, v[0])
		} else if !hasHeader {
			r.Header.Set(name, sigv4.UnsignedPayload)
		}
	}
	return r
}

// isSigned reports whether r carries a signature for the store to check:
// an AWS Authorization header (SigV4's AWS4-HMAC-SHA256, SigV2's AWS), or
// a presigned URL's credential and signature (SigV4's X-Amz-Credential
// and X-Amz-Signature, SigV2's AWSAccessKeyId and Signature). Anything
// less is not enough: MinIO takes a signature without its credential, or
// a bearer token, for an anonymous request, which a bucket policy may let
// in.
func isSigned(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS") {
		return true
	}
	q := r.URL.Query()
	return q.Get("X-Amz-Credential") != "" && q.Get("X-Amz-Signature") != "" ||
		q.Get("AWSAccessKeyId") != "" && q.Get("Signature") != ""
}

// readRaw reads the body as it arrives, at most maxRawBody bytes: a
// longer one (by Content-Length or by what arrives) is refused with
// MaxMessageLengthExceeded.
func readRaw(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxRawBody {
		return nil, s3err.TooLarge(s3cors.MaxBodySize)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRawBody+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxRawBody {
		return nil, s3err.TooLarge(s3cors.MaxBodySize)
	}
	return raw, nil
}

// withBody returns a copy of r, same context, method, URL and headers,
// whose body is raw.
func withBody(r *http.Request, raw []byte) *http.Request {
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(raw))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	c.ContentLength = int64(len(raw))
	c.TransferEncoding = nil
	return c
}

// roundTrip serves r with store into a recorder. An error the store
// returned without writing an answer (a reverse proxy that cannot reach
// the store) is returned.
func roundTrip(store Store, r *http.Request) (*recorder, error) {
	rec := &recorder{header: http.Header{}}
	err := store(rec, r)
	if rec.status == 0 {
		if err != nil {
			return nil, err
		}
		return nil, errors.New("the store wrote no answer")
	}
	return rec, nil
}

// Store sends a request on to the object store, as the handlers after
// s3_cors on the route do (a reverse_proxy), writing its answer to w. An
// error returned without an answer written means the store could not be
// reached.
type Store func(w http.ResponseWriter, r *http.Request) error

// verdict is what the store's answer to a `?cors` request means.
type verdict int

const (
	// verdictAllowed: authenticated, allowed, the bucket exists, and the
	// store leaves bucket CORS to the module.
	verdictAllowed verdict = iota
	// verdictStoreDid: the store implements bucket CORS and did it.
	verdictStoreDid
	// verdictRefused: an S3 error the client must see.
	verdictRefused
	// verdictStoreFailed: a 5xx other than NotImplemented.
	verdictStoreFailed
)

// verdictOf reads the store's answer to a `?cors` request of method.
func verdictOf(method string, rec *recorder) verdict {
	code := rec.code()
	switch {
	case rec.status == http.StatusNotImplemented && code == "NotImplemented":
		return verdictAllowed
	case method == http.MethodGet && rec.status == http.StatusNotFound && code == "NoSuchCORSConfiguration":
		return verdictAllowed
	case rec.status >= 200 && rec.status < 300:
		return verdictStoreDid
	case rec.status >= 500:
		return verdictStoreFailed
	}
	return verdictRefused
}

// trust answers nil when the last probe showed that the store refuses a
// request signed with an unknown access key and is younger than the
// interval (and fresh is false); otherwise it probes again (one probe at a
// time) and answers the error that refuses the client's request when the
// store is not trusted. A fresh probe (made for a success, which names no
// bucket) that the store refused naming another bucket than bucket refuses
// the request too: the store took it for another bucket's operation (MinIO
// with MINIO_DOMAIN before a path-style module reads `DELETE /photos?cors`
// on `api.s3.example` as DeleteObject of photos in bucket api, answered
// 204 as DeleteBucketCors is).
func (a *StoreAuthority) trust(r *http.Request, bucket string, store Store, logErr errorLogger, fresh bool) *s3err.Error {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	interval := a.ProbeInterval
	if interval <= 0 {
		interval = DefaultProbeInterval
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !fresh && !a.probedAt.IsZero() && now().Sub(a.probedAt) < interval {
		return a.refusal
	}
	rec, err := roundTrip(store, probeRequest(r, now()))
	if err != nil {
		logErr.report(r, fmt.Errorf("s3_cors s3 api: authorize store: probe: %w", err))
		return s3err.ServiceUnavailable() // inconclusive: probe again next time
	}
	code := rec.code()
	a.probedAt = now()
	if probeRefused(rec.status, code) {
		a.refusal = nil
		if named := rec.bucketName(); fresh && named != "" && named != bucket {
			logErr.report(r, fmt.Errorf("s3_cors s3 api: authorize store: %s %s?cors: the store's success was another bucket's operation: "+
				"its answer to the probe made for it names bucket %q; the module and the store must resolve buckets alike", r.Method, bucket, named))
			return s3err.AccessDenied()
		}
		return nil
	}
	if rec.status >= 500 && code != "NotImplemented" {
		a.probedAt = time.Time{} // inconclusive
		logErr.report(r, fmt.Errorf("s3_cors s3 api: authorize store: probe: the store answered %d %s", rec.status, code))
		return s3err.ServiceUnavailable()
	}
	a.refusal = &s3err.Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: msgUntrusted}
	err = fmt.Errorf("s3_cors s3 api: authorize store: %w: "+
		"it answered GET %s?cors signed with an unknown access key with %d %s instead of 403 InvalidAccessKeyId; "+
		"every ?cors request is refused until a probe shows otherwise", ErrNotAuthenticating, r.URL.EscapedPath(), rec.status, code)
	if a.LogUntrusted != nil {
		a.LogUntrusted(err)
	} else {
		logErr.report(r, err)
	}
	return a.refusal
}

// probeRefused reports whether a store's answer to the probe is the
// refusal of an authenticating store.
func probeRefused(status int, code string) bool {
	return status == http.StatusForbidden && (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied")
}

// ErrNotAuthenticating is the error of a probe that the store did not
// refuse.
var ErrNotAuthenticating = errors.New("the store does not authenticate ?cors requests")

// ProbeEndpoint sends the probe straight to the store at baseURL
// (`http://minio:9000`), as `GET /<bucket>?cors` signed with an unknown
// key, and returns nil when the store refuses it as an authenticating
// store does, an error saying what it answered otherwise. It lets a
// misconfigured store be reported at start; requests are still decided by
// the probes through the route.
func ProbeEndpoint(ctx context.Context, client *http.Client, baseURL, bucket string) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/"+bucket+"?cors=", nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", baseURL, err)
	}
	p := probeRequest(r, time.Now())
	p.RequestURI = ""
	res, err := client.Do(p)
	if err != nil {
		return fmt.Errorf("probe %s: %w", baseURL, err)
	}
	defer res.Body.Close()
	rec := &recorder{header: res.Header, status: res.StatusCode}
	if _, err := io.Copy(rec, io.LimitReader(res.Body, maxStoreAnswer)); err != nil {
		return fmt.Errorf("probe %s: %w", baseURL, err)
	}
	if code := rec.code(); !probeRefused(res.StatusCode, code) {
		return fmt.Errorf("%w: the store at %s answered GET /%s?cors signed with an unknown access key with %d %s instead of 403 InvalidAccessKeyId",
			ErrNotAuthenticating, baseURL, bucket, res.StatusCode, code)
	}
	return nil
}

// probeRequest is GET ?cors on the path and host of r, signed with an
// access key no store has, in r's context (so that it takes r's route).
func probeRequest(r *http.Request, at time.Time) *http.Request {
	p := r.Clone(r.Context())
	p.Method = http.MethodGet
	p.Header = http.Header{}
	u := *r.URL
	u.RawQuery = "cors="
	p.URL = &u
	p.RequestURI = u.EscapedPath() + "?cors="
	p.Body, p.GetBody, p.ContentLength, p.TransferEncoding = http.NoBody, nil, 0, nil
	region := sigv4.SigningRegion(r)
	if region == "" {
		region = "us-east-1"
	}
	sigv4.Sign(p, sigv4.Credentials{AccessKey: "S3CORSPROBE" + randomHex(5), SecretKey: randomHex(20)}, region, at)
	return p
}

// randomHex returns 2n random upper-case hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return strings.ToUpper(hex.EncodeToString(b))
}

// recorder keeps the store's answer to a request the module made on the
// client's behalf: status, headers, and at most maxStoreAnswer bytes of
// body.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(status int) {
	if rec.status != 0 || status < 200 {
		return // a 1xx is not the answer
	}
	rec.status = status
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if room := maxStoreAnswer - rec.body.Len(); room < len(b) {
		rec.body.Write(b[:max(room, 0)])
		return len(b), nil
	}
	return rec.body.Write(b)
}

// Flush does nothing: the answer is read once complete.
func (rec *recorder) Flush() {}

// code returns the S3 error code of the answer, "" when it is not an S3
// error document.
func (rec *recorder) code() string {
	return rec.errorDoc().Code
}

// bucketName returns the BucketName of the answer's S3 error document, ""
// when it names none.
func (rec *recorder) bucketName() string {
	return rec.errorDoc().BucketName
}

// otherOperation tells, for a success answered to a `?cors` request of
// method, why the store did another operation than bucket CORS: a GET
// answered with anything but a CORS configuration (MinIO lists the buckets
// of a virtual-hosted GET /?cors when it is not set up for virtual-hosted
// style), or a PUT answered with an object's ETag or version (MinIO writes
// the object of `PUT /photos?cors` when it reads the host as another
// bucket, `photos` then being a key). It returns "" for an answer bucket
// CORS may give.
func (rec *recorder) otherOperation(method string) string {
	switch method {
	case http.MethodGet:
		if root := rec.rootElement(); root != "CORSConfiguration" {
			return fmt.Sprintf("with %q, not a CORS configuration", root)
		}
	case http.MethodPut:
		for _, name := range []string{"ETag", "X-Amz-Version-Id"} {
			if rec.header.Get(name) != "" {
				return "with an object's " + name + ", as to an object write"
			}
		}
	}
	return ""
}

// rootElement returns the name of the answer body's root XML element, ""
// when it has none.
func (rec *recorder) rootElement() string {
	d := xml.NewDecoder(bytes.NewReader(rec.body.Bytes()))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if start, ok := tok.(xml.StartElement); ok {
			return start.Name.Local
		}
	}
}

// errorDoc parses the answer's S3 error document; zero when it is none.
func (rec *recorder) errorDoc() (doc struct{ Code, BucketName string }) {
	if rec.status < 300 {
		return doc
	}
	if err := xml.Unmarshal(rec.body.Bytes(), &doc); err != nil {
		return struct{ Code, BucketName string }{}
	}
	return doc
}

// replay answers w with the recorded answer, without the store's CORS
// headers (the handler's rules decide those) and with its own
// Content-Length.
func (rec *recorder) replay(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range rec.header {
		h[k] = v
	}
	s3cors.StripCORS(h)
	h.Del("Transfer-Encoding")
	h.Set("Content-Length", strconv.Itoa(rec.body.Len()))
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes()) // the client went away; there is no one left to tell
}
