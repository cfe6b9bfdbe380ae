package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/internal/sigv4"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// fakeStore stands in for MinIO behind the sidecar, answering `?cors`
// requests as MinIO's community edition does: the access key (its
// signature is not checked here: the module never checks it in the store
// mode, the store does), then the user's allowed methods, then the
// bucket, then NotImplemented or NoSuchCORSConfiguration. Like MinIO's
// router, it takes a request whose query also names acl (or location, for
// a GET), or whose cors key it cannot read, for another operation, which
// the users whose methods include "OTHER" may do: 200. Every answer
// carries MinIO's own permissive CORS headers.
type fakeStore struct {
	mu       sync.Mutex
	users    map[string][]string // access key -> methods allowed
	buckets  map[string]bool
	skipAuth bool // answer as if every request were allowed
	public   bool // a bucket policy lets anonymous callers do anything
	corsImpl bool // implement bucket CORS: answer with a success
	down     bool // unreachable: return an error, write nothing
	okToAll  bool // behind a proxy that answers every request 200 (its maintenance page)
	seen     []*seenRequest
}

type seenRequest struct {
	method, path, query string
	header              http.Header
	body                string
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		users: map[string][]string{
			"CORSADMIN": {"PUT", "GET", "DELETE"},
			"READER":    {"GET"},
			"NOBODY":    nil,
			"OTHERS":    {"OTHER"}, // may do what MinIO routes ahead of ?cors
		},
		buckets: map[string]bool{"photos": true},
	}
}

func (f *fakeStore) serve(w http.ResponseWriter, r *http.Request) error {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("dial tcp: connection refused")
	}
	f.seen = append(f.seen, &seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
	if f.okToAll {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>Down for maintenance</html>")
		return nil
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Add("Vary", "Origin")
	w.Header().Add("Vary", "Accept-Encoding")
	w.Header().Set("Server", "FakeMinIO")
	bucket := strings.Trim(r.URL.Path, "/")
	if r.Host == objectHost {
		bucket = "api" // the key being the path: MinIO names the bucket in its errors
	}
	fail := func(status int, code string) error {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>x</Message><BucketName>`+bucket+`</BucketName></Error>`)
		return nil
	}
	if !f.skipAuth {
		auth := r.Header.Get("Authorization")
		if c := r.URL.Query().Get("X-Amz-Credential"); auth == "" && c != "" {
			auth = "AWS4-HMAC-SHA256 Credential=" + c // presigned
		}
		if strings.HasPrefix(auth, "Bearer") {
			auth = "" // MinIO's S3 API takes a bearer token for anonymous
		}
		if auth == "" && !f.public {
			return fail(403, "AccessDenied")
		}
		key, _, _ := strings.Cut(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 Credential="), "/")
		methods, ok := f.users[key]
		if auth == "" {
			methods, ok = []string{"PUT", "GET", "DELETE"}, true
		}
		if !ok {
			return fail(403, "InvalidAccessKeyId")
		}
		if routedElsewhere(r) {
			if !slices.Contains(methods, "OTHER") {
				return fail(403, "AccessDenied")
			}
			if objectWrite(r) {
				w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
			}
			if objectDelete(r) {
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
			w.WriteHeader(http.StatusOK)
			if r.URL.Path == "/" {
				_, _ = io.WriteString(w, `<ListAllMyBucketsResult><Buckets><Bucket><Name>photos</Name></Bucket></Buckets></ListAllMyBucketsResult>`)
			}
			return nil
		}
		allowed := false
		for _, m := range methods {
			allowed = allowed || m == r.Method
		}
		if !allowed {
			return fail(403, "AccessDenied")
		}
	}
	if !f.buckets[bucket] {
		return fail(404, "NoSuchBucket")
	}
	if f.corsImpl {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
				`<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`)
			return nil
		}
		w.WriteHeader(map[string]int{"PUT": 200, "DELETE": 204}[r.Method])
		return nil
	}
	if r.Method == http.MethodGet {
		return fail(404, "NoSuchCORSConfiguration")
	}
	return fail(501, "NotImplemented")
}

// routedElsewhere reports whether MinIO's router takes r for another
// operation than bucket CORS: PutBucketAcl and GetBucketAcl, and
// GetBucketLocation, are routed ahead of it, a cors key whose value does
// not unescape is not seen at all (a GET lists the objects), and a GET
// whose path names no bucket (virtual-hosted style, with MinIO not set up
// for it) lists the buckets.
func routedElsewhere(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("acl") || r.Method == http.MethodGet && (q.Has("location") || r.URL.Path == "/") || !q.Has("cors") ||
		objectWrite(r) || objectDelete(r)
}

// objectDelete reports whether MinIO takes r for DeleteObject, as
// objectWrite for PutObject: 204 without any header that tells it from
// DeleteBucketCors on a bucket without versioning.
func objectDelete(r *http.Request) bool {
	return r.Method == http.MethodDelete && r.Host == objectHost
}

// objectWrite reports whether MinIO takes r for PutObject: it reads the
// host objectHost (under its MINIO_DOMAIN) as bucket api, so `PUT
// /photos?cors` there writes the object photos of bucket api.
func objectWrite(r *http.Request) bool {
	return r.Method == http.MethodPut && r.Host == objectHost
}

// objectHost is a host the fake store reads virtual-hosted style while
// the module reads it path style.
const objectHost = "api.s3.example"

// probes counts the requests the store saw that were signed with the
// module's probe key.
func (f *fakeStore) probes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.seen {
		if strings.Contains(s.header.Get("Authorization"), "Credential=S3CORSPROBE") {
			n++
		}
	}
	return n
}

// clientRequests returns the requests the store saw that were not probes.
func (f *fakeStore) clientRequests() []*seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*seenRequest
	for _, s := range f.seen {
		if !strings.Contains(s.header.Get("Authorization"), "Credential=S3CORSPROBE") {
			out = append(out, s)
		}
	}
	return out
}

// signedAs builds a `?cors` request as a client signs it with key: the
// store checks the key; the payload hash covers body.
func signedAs(key, method, target, body string, kv ...string) *http.Request {
	sum := sha256.Sum256([]byte(body))
	kv = append([]string{
		"X-Amz-Date", "20261130T120000Z",
		"X-Amz-Content-Sha256", hex.EncodeToString(sum[:]),
	}, kv...)
	if key != "" {
		kv = append(kv, "Authorization", "AWS4-HMAC-SHA256 Credential="+key+
			"/20261130/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0123")
	}
	return newRequest(method, target, body, kv...)
}

// presignedAs builds a `?cors` request presigned with key, its signed
// query carrying X-Amz-Content-Sha256=payloadHash when not empty, as
// MinIO takes it; no payload hash header unless given.
func presignedAs(key, method, target, body, payloadHash string, kv ...string) *http.Request {
	target += "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + key + "%2F20261130%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20261130T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=0123"
	if payloadHash != "" {
		target += "&X-Amz-Content-Sha256=" + payloadHash
	}
	return newRequest(method, target, body, kv...)
}

// sha256Hex is the hex SHA-256 of s.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestStoreAuthority(t *testing.T) {
	putXML := `<CORSConfiguration><CORSRule><AllowedOrigin>https://s3.example</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>`
	putMD5 := md5Base64(putXML)
	evilXML := `<CORSConfiguration><CORSRule><AllowedOrigin>https://evil.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	evilMD5 := md5Base64(evilXML)
	tests := []struct {
		name   string
		store  func(*fakeStore)
		req    *http.Request
		status int
		code   string // the error code; "" for a success
		stored string // the configuration photos must have after, "" none
		// forwarded is whether the client's request reached the store.
		forwarded bool
		probes    int
		logged    string // part of an error logged, "" none
		onBucket  string // "exists" or "missing" when OnBucket must hear about photos
		// bucket is the bucket the module resolved, when not the path's.
		bucket string
	}{
		{name: "put by a user allowed to", req: signedAs("CORSADMIN", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 200, stored: putXML, forwarded: true, probes: 1, onBucket: "exists"},
		{name: "get by a reader, none set", req: signedAs("READER", "GET", "/photos?cors", ""),
			status: 404, code: "NoSuchCORSConfiguration", forwarded: true, probes: 1, onBucket: "exists"},
		{name: "delete by a user allowed to", req: signedAs("CORSADMIN", "DELETE", "/photos?cors", ""),
			status: 204, forwarded: true, probes: 1},
		{name: "put by a reader", req: signedAs("READER", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 403, code: "AccessDenied", forwarded: true},
		{name: "put by a user with no policy", req: signedAs("NOBODY", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 403, code: "AccessDenied", forwarded: true},
		{name: "put with an unknown key", req: signedAs("STRANGER", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 403, code: "InvalidAccessKeyId", forwarded: true},
		{name: "anonymous put", req: signedAs("", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 403, code: "AccessDenied"},
		{name: "anonymous put that a public bucket policy allows", store: func(f *fakeStore) { f.public = true },
			req:    signedAs("", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 403, code: "AccessDenied"},
		{name: "anonymous delete that a public bucket policy allows", store: func(f *fakeStore) { f.public = true },
			req:    signedAs("", "DELETE", "/photos?cors", ""),
			status: 403, code: "AccessDenied"},
		{name: "anonymous put with a lone presigned signature, which the store takes for anonymous", store: func(f *fakeStore) { f.public = true },
			req:    signedAs("", "PUT", "/photos?cors&X-Amz-Signature=0123", putXML, "Content-MD5", putMD5),
			status: 403, code: "AccessDenied"},
		{name: "anonymous delete with a lone SigV2 signature, which the store takes for anonymous", store: func(f *fakeStore) { f.public = true },
			req:    signedAs("", "DELETE", "/photos?cors&Signature=0123", ""),
			status: 403, code: "AccessDenied"},
		{name: "anonymous put with a bearer token, which the store takes for anonymous", store: func(f *fakeStore) { f.public = true },
			req:    signedAs("", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5, "Authorization", "Bearer x"),
			status: 403, code: "AccessDenied"},
		{name: "anonymous get that a public bucket policy allows", store: func(f *fakeStore) { f.public = true },
			req:    signedAs("", "GET", "/photos?cors", ""),
			status: 404, code: "NoSuchCORSConfiguration", forwarded: true, probes: 1, onBucket: "exists"},
		{name: "put on a missing bucket", req: signedAs("CORSADMIN", "PUT", "/ghost?cors", putXML, "Content-MD5", putMD5),
			status: 404, code: "NoSuchBucket", forwarded: true, onBucket: "missing"},
		{name: "a store that skips authentication", store: func(f *fakeStore) { f.skipAuth = true },
			req:    signedAs("STRANGER", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 403, code: "AccessDenied", forwarded: true, probes: 1, logged: "does not authenticate ?cors requests"},
		{name: "a store that implements bucket CORS", store: func(f *fakeStore) { f.corsImpl = true },
			req:    signedAs("CORSADMIN", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 200, stored: putXML, forwarded: true, probes: 1},
		{name: "a store that cannot be reached", store: func(f *fakeStore) { f.down = true },
			req:    signedAs("CORSADMIN", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5),
			status: 503, code: "ServiceUnavailable", logged: "connection refused"},
		{name: "body over 64 KiB", req: signedAs("CORSADMIN", "PUT", "/photos?cors", strings.Repeat(" ", maxRawBody+1), "Content-MD5", putMD5),
			status: 400, code: "MaxMessageLengthExceeded"},
		{name: "body not the one signed", req: func() *http.Request {
			r := signedAs("CORSADMIN", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5)
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
			return r
		}(), status: 400, code: "XAmzContentSHA256Mismatch", forwarded: true, probes: 1},
		{name: "signed chunks cannot be checked", req: signedAs("CORSADMIN", "PUT", "/photos?cors", "", "X-Amz-Content-Sha256", sigv4.StreamingPayload),
			status: 501, code: "NotImplemented", forwarded: true, probes: 1},
		{name: "the store answers about another bucket", bucket: "photos",
			req:    signedAs("CORSADMIN", "PUT", "/other?cors", putXML, "Content-MD5", putMD5),
			store:  func(f *fakeStore) { f.buckets["other"] = true },
			status: 403, code: "AccessDenied", forwarded: true, logged: `the store answered about bucket "other"`},
		{name: "put that the store takes for PutBucketAcl", req: signedAs("OTHERS", "PUT", "/photos?cors&acl", putXML, "Content-MD5", putMD5),
			status: 400, code: "InvalidArgument"},
		{name: "put that the store takes for PutBucketAcl, escaped", req: signedAs("OTHERS", "PUT", "/photos?cors&%61cl", putXML, "Content-MD5", putMD5),
			status: 400, code: "InvalidArgument"},
		{name: "get that the store takes for GetBucketLocation", req: signedAs("OTHERS", "GET", "/photos?location&cors", ""),
			status: 400, code: "InvalidArgument"},
		{name: "anonymous get that the store takes for GetBucketLocation", store: func(f *fakeStore) { f.public = true },
			req:    signedAs("", "GET", "/photos?cors&location", ""),
			status: 400, code: "InvalidArgument"},
		{name: "get whose cors key the store cannot read", req: signedAs("OTHERS", "GET", "/photos?cors=%zz", ""),
			status: 400, code: "InvalidArgument"},
		{name: "get with a key the store splits off at a semicolon", req: signedAs("OTHERS", "GET", "/photos?cors&x;acl", ""),
			status: 400, code: "InvalidArgument"},
		{name: "presigned put by a user allowed to", req: signedAs("", "PUT",
			"/photos?cors&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=CORSADMIN%2F20261130%2Fus-east-1%2Fs3%2Faws4_request"+
				"&X-Amz-Date=20261130T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=0123", putXML,
			"Content-MD5", putMD5),
			status: 200, stored: putXML, forwarded: true, probes: 1, onBucket: "exists"},
		{name: "presigned put whose signed payload hash is not the body's",
			req:    presignedAs("CORSADMIN", "PUT", "/photos?cors", evilXML, sha256Hex(putXML), "Content-MD5", evilMD5),
			status: 400, code: "XAmzContentSHA256Mismatch", forwarded: true, probes: 1},
		{name: "presigned put whose signed payload hash is not the body's, the body's in the header",
			req: presignedAs("CORSADMIN", "PUT", "/photos?cors", evilXML, sha256Hex(putXML),
				"Content-MD5", evilMD5, "X-Amz-Content-Sha256", sha256Hex(evilXML)),
			status: 400, code: "XAmzContentSHA256Mismatch", forwarded: true, probes: 1},
		{name: "presigned put with its payload hash in the query",
			req:    presignedAs("CORSADMIN", "PUT", "/photos?cors", putXML, sha256Hex(putXML), "Content-MD5", putMD5),
			status: 200, stored: putXML, forwarded: true, probes: 1, onBucket: "exists"},
		{name: "header-signed put without x-amz-content-sha256: the store took the body for empty", req: func() *http.Request {
			r := signedAs("CORSADMIN", "PUT", "/photos?cors", putXML, "Content-MD5", putMD5)
			r.Header.Del("X-Amz-Content-Sha256")
			return r
		}(), status: 400, code: "XAmzContentSHA256Mismatch", forwarded: true, probes: 1},
		{name: "put without integrity header", req: signedAs("CORSADMIN", "PUT", "/photos?cors", putXML),
			status: 400, code: "InvalidRequest", forwarded: true, probes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			if tt.store != nil {
				tt.store(store)
			}
			configs := newMem(t, nil)
			logs := &errLog{}
			var heard []string
			auth := &StoreAuthority{OnBucket: func(bucket string, exists bool) {
				heard = append(heard, bucket+map[bool]string{true: " exists", false: " missing"}[exists])
			}}
			s := &S3API{Store: auth, LogError: logs.log}
			rec := httptest.NewRecorder()
			body := ""
			if tt.req.Body != nil {
				b, _ := io.ReadAll(tt.req.Body)
				body = string(b)
				tt.req.Body = io.NopCloser(strings.NewReader(body))
			}
			bucket := strings.Trim(tt.req.URL.Path, "/")
			if tt.bucket != "" {
				bucket = tt.bucket
			}
			s.ServeCORS(rec, tt.req, bucket, configs, store.serve)

			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.code != "" {
				if doc := conformance.ParseErrorDoc(t, rec.Body.Bytes()); doc.Code != tt.code {
					t.Errorf("code %q, want %q: %s", doc.Code, tt.code, rec.Body)
				}
			}
			for name := range rec.Header() {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("the store's %s reached the client", name)
				}
			}
			if v := rec.Header().Values("Vary"); strings.Contains(strings.Join(v, ","), "Origin") {
				t.Errorf("the store's Vary: Origin reached the client: %q", v)
			}
			cfg, ok := configs.get("photos")
			switch {
			case tt.stored == "" && ok:
				t.Errorf("photos has a configuration: %s", cfg.XML())
			case tt.stored != "" && (!ok || !cfg.Equal(mustConfig(t, tt.stored))):
				t.Errorf("photos configuration %v (present %v), want %s", cfg, ok, tt.stored)
			}
			client := store.clientRequests()
			if got := len(client) == 1; got != tt.forwarded {
				t.Fatalf("store saw %d client requests, want forwarded %v", len(client), tt.forwarded)
			}
			if tt.forwarded {
				got := client[0]
				if got.method != tt.req.Method || got.path != tt.req.URL.Path || got.query != tt.req.URL.RawQuery || got.body != body {
					t.Errorf("store saw %s %s?%s %q, want the client's request unchanged", got.method, got.path, got.query, got.body)
				}
				for name, v := range tt.req.Header {
					if strings.Join(got.header[name], ",") != strings.Join(v, ",") {
						t.Errorf("store saw %s %q, want %q", name, got.header[name], v)
					}
				}
			}
			if got := store.probes(); got != tt.probes {
				t.Errorf("%d probes, want %d", got, tt.probes)
			}
			var logged []string
			for _, err := range logs.all() {
				logged = append(logged, err.Error())
			}
			if all := strings.Join(logged, "\n"); (tt.logged == "") != (all == "") || !strings.Contains(all, tt.logged) {
				t.Errorf("logged %q, want %q", all, tt.logged)
			}
			if tt.onBucket != "" && (len(heard) != 1 || heard[0] != "photos "+tt.onBucket && heard[0] != "ghost "+tt.onBucket) {
				t.Errorf("OnBucket heard %q, want photos/ghost %s", heard, tt.onBucket)
			}
		})
	}
}

// TestStoreAuthorityDeleteAndGet checks that an authorized GET answers
// the module's configuration and DELETE removes it.
func TestStoreAuthorityDeleteAndGet(t *testing.T) {
	store := newFakeStore()
	configs := newMem(t, map[string]string{"photos": photosJSON})
	s := &S3API{Store: &StoreAuthority{}}
	rec := httptest.NewRecorder()
	s.ServeCORS(rec, signedAs("READER", "GET", "/photos?cors", ""), "photos", configs, store.serve)
	if rec.Code != 200 {
		t.Fatalf("get: %d %s", rec.Code, rec.Body)
	}
	if got, err := s3cors.ParseXML(rec.Body.Bytes()); err != nil || !got.Equal(mustConfig(t, photosJSON)) {
		t.Errorf("get answered %s (%v), want the configuration", rec.Body, err)
	}
	rec = httptest.NewRecorder()
	s.ServeCORS(rec, signedAs("READER", "DELETE", "/photos?cors", ""), "photos", configs, store.serve)
	if rec.Code != 403 {
		t.Fatalf("delete by a reader: %d %s", rec.Code, rec.Body)
	}
	if _, ok := configs.get("photos"); !ok {
		t.Fatal("a reader's delete removed the configuration")
	}
	rec = httptest.NewRecorder()
	s.ServeCORS(rec, signedAs("CORSADMIN", "DELETE", "/photos?cors", ""), "photos", configs, store.serve)
	if rec.Code != 204 {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if _, ok := configs.get("photos"); ok {
		t.Fatal("the configuration is still there")
	}
}

// TestStoreAuthorityProbeInterval checks that a probe's finding lasts the
// interval, in both directions: a store that learns to authenticate is
// trusted after the next probe, one that stops is distrusted.
func TestStoreAuthorityProbeInterval(t *testing.T) {
	store := newFakeStore()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	auth := &StoreAuthority{ProbeInterval: time.Minute, Now: func() time.Time { return now }}
	s := &S3API{Store: auth, LogError: (&errLog{}).log}
	get := func() int {
		rec := httptest.NewRecorder()
		s.ServeCORS(rec, signedAs("READER", "GET", "/photos?cors", ""), "photos", newMem(t, nil), store.serve)
		return rec.Code
	}
	steps := []struct {
		name     string
		advance  time.Duration
		skipAuth bool
		status   int
		probes   int
	}{
		{"first request probes", 0, false, 404, 1},
		{"within the interval, no probe", 30 * time.Second, false, 404, 1},
		{"the store stops authenticating; still within the interval", 20 * time.Second, true, 404, 1},
		{"after the interval, the probe finds out", 20 * time.Second, true, 403, 2},
		{"distrust lasts the interval", 30 * time.Second, false, 403, 2},
		{"after it, a new probe trusts again", 40 * time.Second, false, 404, 3},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		store.mu.Lock()
		store.skipAuth = st.skipAuth
		store.mu.Unlock()
		if got := get(); got != st.status {
			t.Errorf("%s: status %d, want %d", st.name, got, st.status)
		}
		if got := store.probes(); got != st.probes {
			t.Errorf("%s: %d probes, want %d", st.name, got, st.probes)
		}
	}
}

// TestStoreAuthorityGetAnswer checks that a GET is answered from the
// module's configuration only when the store answered GetBucketCors: a
// store that takes the request for another operation (MinIO lists the
// buckets of a virtual-hosted `GET /?cors` when it is not set up for
// virtual-hosted style) tells nothing about the bucket.
func TestStoreAuthorityGetAnswer(t *testing.T) {
	tests := []struct {
		name   string
		store  func(*fakeStore)
		req    *http.Request
		status int
		logged string
	}{
		{name: "a store that implements bucket CORS", store: func(f *fakeStore) { f.corsImpl = true },
			req: signedAs("READER", "GET", "/photos?cors", ""), status: 200},
		{name: "a store that lists its buckets", req: signedAs("OTHERS", "GET", "http://photos.s3.example/?cors", ""),
			status: 403, logged: "not a CORS configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			if tt.store != nil {
				tt.store(store)
			}
			logs := &errLog{}
			s := &S3API{Store: &StoreAuthority{}, LogError: logs.log}
			rec := httptest.NewRecorder()
			s.ServeCORS(rec, tt.req, "photos", newMem(t, map[string]string{"photos": photosJSON}), store.serve)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			got, err := s3cors.ParseXML(rec.Body.Bytes())
			if answered := err == nil && got.Equal(mustConfig(t, photosJSON)); answered != (tt.status == 200) {
				t.Errorf("answered %s, want the configuration %v", rec.Body, tt.status == 200)
			}
			var logged []string
			for _, err := range logs.all() {
				logged = append(logged, err.Error())
			}
			if all := strings.Join(logged, "\n"); (tt.logged == "") != (all == "") || !strings.Contains(all, tt.logged) {
				t.Errorf("logged %q, want %q", all, tt.logged)
			}
		})
	}
}

// TestStoreAuthorityObjectOperation checks that a success the store
// answered to an object operation (MinIO reads the host as another bucket,
// the module path style) is not taken for its bucket CORS verdict, which
// would let a user who may write or delete objects of one bucket set or
// delete another's CORS configuration: a PUT's 200 carries an ETag; a
// DELETE's 204 carries nothing that tells it from DeleteBucketCors's, but
// the probe made for the success, sent to the same host and path, names
// the bucket the store read.
func TestStoreAuthorityObjectOperation(t *testing.T) {
	putXML := `<CORSConfiguration><CORSRule><AllowedOrigin>https://evil.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	tests := []struct {
		name, logged string
		req          *http.Request
	}{
		{"object write", "as to an object write",
			signedAs("OTHERS", "PUT", "http://"+objectHost+"/photos?cors", putXML, "Content-MD5", md5Base64(putXML))},
		{"object delete", `names bucket "api"`, signedAs("OTHERS", "DELETE", "http://"+objectHost+"/photos?cors", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			logs := &errLog{}
			s := &S3API{Store: &StoreAuthority{}, LogError: logs.log}
			configs := newMem(t, map[string]string{"photos": photosJSON})
			rec := httptest.NewRecorder()
			s.ServeCORS(rec, tt.req, "photos", configs, store.serve)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "<Code>AccessDenied</Code>") {
				t.Errorf("answer %d %s, want 403 AccessDenied", rec.Code, rec.Body)
			}
			if got, ok := configs.Configuration("photos"); !ok || !got.Equal(mustConfig(t, photosJSON)) {
				t.Errorf("photos' configuration is now %v, %v", got, ok)
			}
			if all := logs.all(); len(all) != 1 || !strings.Contains(all[0].Error(), tt.logged) {
				t.Errorf("logged %v, want one line with %q", all, tt.logged)
			}
			// The store's verdict on a bucket it reads alike still counts.
			store.corsImpl = true
			rec = httptest.NewRecorder()
			s.ServeCORS(rec, signedAs("CORSADMIN", "DELETE", "/photos?cors", ""), "photos", configs, store.serve)
			if _, ok := configs.Configuration("photos"); rec.Code != http.StatusNoContent || ok {
				t.Errorf("delete the store did: answer %d %s, configuration kept %v", rec.Code, rec.Body, ok)
			}
		})
	}
}

// TestStoreAuthoritySuccessProbesAgain checks that a success, which any
// HTTP server answers, is trusted only after a probe made for it: a proxy
// in front of the store that starts answering every request 200 within
// the probe interval gets no write or read through.
func TestStoreAuthoritySuccessProbesAgain(t *testing.T) {
	putXML := `<CORSConfiguration><CORSRule><AllowedOrigin>https://s3.example</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>`
	evilXML := `<CORSConfiguration><CORSRule><AllowedOrigin>https://evil.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	store := newFakeStore()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := &S3API{Store: &StoreAuthority{Now: func() time.Time { return now }}, LogError: (&errLog{}).log}
	configs := newMem(t, nil)
	steps := []struct {
		name    string
		okToAll bool
		req     *http.Request
		status  int
		probes  int
	}{
		{"a user allowed to puts", false, signedAs("CORSADMIN", "PUT", "/photos?cors", putXML, "Content-MD5", md5Base64(putXML)), 200, 1},
		{"a stranger puts through the proxy's 200", true, signedAs("STRANGER", "PUT", "/photos?cors", evilXML, "Content-MD5", md5Base64(evilXML)), 403, 2},
		{"a stranger deletes through the proxy's 200", true, signedAs("STRANGER", "DELETE", "/photos?cors", ""), 403, 2},
		{"anonymous get through the proxy's 200", true, signedAs("", "GET", "/photos?cors", ""), 403, 2},
	}
	for _, st := range steps {
		now = now.Add(time.Second)
		store.mu.Lock()
		store.okToAll = st.okToAll
		store.mu.Unlock()
		rec := httptest.NewRecorder()
		s.ServeCORS(rec, st.req, "photos", configs, store.serve)
		if rec.Code != st.status {
			t.Errorf("%s: status %d, want %d: %s", st.name, rec.Code, st.status, rec.Body)
		}
		if got := store.probes(); got < st.probes {
			t.Errorf("%s: %d probes, want at least %d", st.name, got, st.probes)
		}
		if cfg, ok := configs.get("photos"); !ok || !cfg.Equal(mustConfig(t, putXML)) {
			t.Fatalf("%s: photos has %v (present %v), want the allowed user's", st.name, cfg, ok)
		}
	}
}

// TestProbeRequest checks the probe: GET ?cors on the client's path and
// host, signed with SigV4 by a key that is not the client's.
func TestProbeRequest(t *testing.T) {
	r := signedAs("CORSADMIN", "PUT", "http://photos.s3.example/?cors", "x")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=CORSADMIN/20261130/eu-west-3/s3/aws4_request, SignedHeaders=host, Signature=0")
	p := probeRequest(r, time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	if p.Method != "GET" || p.Host != "photos.s3.example" || p.URL.Path != "/" || p.URL.RawQuery != "cors=" || p.ContentLength != 0 {
		t.Errorf("probe %s %s %s?%s (%d bytes)", p.Method, p.Host, p.URL.Path, p.URL.RawQuery, p.ContentLength)
	}
	auth := p.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=S3CORSPROBE") || !strings.Contains(auth, "/20261130/eu-west-3/s3/aws4_request") {
		t.Errorf("probe Authorization %q", auth)
	}
	if p.Header.Get("X-Amz-Date") != "20261130T120000Z" {
		t.Errorf("probe X-Amz-Date %q", p.Header.Get("X-Amz-Date"))
	}
	// The key is random, and a new one every time.
	key := strings.TrimPrefix(strings.SplitN(auth, "/", 2)[0], "AWS4-HMAC-SHA256 Credential=")
	if len(key) != len("S3CORSPROBE")+10 {
		t.Errorf("probe key %q", key)
	}
	if again := probeRequest(r, time.Now()).Header.Get("Authorization"); strings.Contains(again, key+"/") {
		t.Errorf("two probes signed with the same key %q", key)
	}
}

// TestProbeEndpoint checks the probe sent straight to a store at start.
func TestProbeEndpoint(t *testing.T) {
	for _, tt := range []struct {
		name     string
		skipAuth bool
		want     error
	}{
		{"authenticating store", false, nil},
		{"store that skips authentication", true, ErrNotAuthenticating},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.skipAuth = tt.skipAuth
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = store.serve(w, r) }))
			defer srv.Close()
			err := ProbeEndpoint(t.Context(), srv.Client(), srv.URL, "photos")
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
			if store.probes() != 1 {
				t.Errorf("%d probes reached the store", store.probes())
			}
		})
	}
}
