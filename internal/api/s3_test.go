package api

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// fakeVerifier stands in for the SigV4 verifier: it reads the body up to
// the limit plus one, as the real one does, and fails or hands back a
// trailer as told.
type fakeVerifier struct {
	mu      sync.Mutex
	err     error
	trailer http.Header
	calls   int
	limit   int64
}

func (f *fakeVerifier) verify(r *http.Request, _ string, limit int64) ([]byte, http.Header, error) {
	f.mu.Lock()
	f.calls++
	f.limit = limit
	f.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if f.err != nil {
		return nil, nil, f.err
	}
	return body, f.trailer, nil
}

func (f *fakeVerifier) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func errSignature() *s3err.Error {
	return &s3err.Error{Status: 403, Code: "SignatureDoesNotMatch",
		Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
}

func TestS3APIServeCORS(t *testing.T) {
	putXML := `<CORSConfiguration><CORSRule><AllowedOrigin>https://s3.example</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>`
	crc := conformance.CRC32([]byte(putXML))
	tests := []struct {
		name     string
		req      *http.Request
		bucket   string
		verifier *fakeVerifier // nil: one that accepts
		noVerify bool          // S3API.Verify left nil
		noApp    bool          // configs passed as nil
		failSet  error
		status   int
		code     string
		message  string
		fields   map[string]string
		header   map[string]string
		body     string
		stored   string // photos afterwards, "-" for none
		verified int    // how often the verifier must have run (-1: don't care)
	}{
		// PutBucketCors
		{name: "put with content-md5", req: newRequest("PUT", "/photos?cors", putXML, "Content-MD5", md5Base64(putXML)),
			status: 200, stored: putXML, verified: 1},
		{name: "put with crc32 header (aws cli)", req: newRequest("PUT", "/photos?cors=", putXML, "X-Amz-Checksum-Crc32", crc, "X-Amz-Sdk-Checksum-Algorithm", "CRC32"),
			status: 200, stored: putXML, verified: 1},
		{name: "put with crc32 in the trailer", req: newRequest("PUT", "/photos?cors", putXML, "X-Amz-Trailer", "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm", "CRC32"),
			verifier: &fakeVerifier{trailer: http.Header{"x-amz-checksum-crc32": {crc}}},
			status:   200, stored: putXML, verified: 1},
		{name: "put with a wrong crc32 in the trailer", req: newRequest("PUT", "/photos?cors", putXML, "X-Amz-Trailer", "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm", "CRC32"),
			verifier: &fakeVerifier{trailer: http.Header{"X-Amz-Checksum-Crc32": {conformance.CRC32([]byte("x"))}}},
			status:   400, code: "BadDigest", message: "The CRC32 you specified did not match the calculated checksum.", stored: photosJSON, verified: 1},
		{name: "put announcing a trailer that never came", req: newRequest("PUT", "/photos?cors", putXML, "X-Amz-Trailer", "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm", "CRC32"),
			status: 400, code: "InvalidRequest", message: "Missing required header for this request: Content-MD5 OR x-amz-checksum-*", stored: photosJSON, verified: 1},
		{name: "put without integrity header", req: newRequest("PUT", "/photos?cors", putXML),
			status: 400, code: "InvalidRequest", message: "Missing required header for this request: Content-MD5 OR x-amz-checksum-*", stored: photosJSON, verified: 1},
		{name: "put bad md5", req: newRequest("PUT", "/photos?cors", putXML, "Content-MD5", "MTIz"),
			status: 400, code: "InvalidDigest", fields: map[string]string{"Content-MD5": "MTIz"}, stored: photosJSON, verified: 1},
		{name: "put wrong md5", req: newRequest("PUT", "/photos?cors", putXML, "Content-MD5", md5Base64("x")),
			status: 400, code: "BadDigest", stored: photosJSON, verified: 1},
		{name: "put json is read as xml whatever the content-type", req: newRequest("PUT", "/photos?cors", photosJSON, "Content-Type", "application/json", "Content-MD5", md5Base64(photosJSON)),
			status: 400, code: "MalformedXML", stored: photosJSON, verified: 1},
		{name: "put too large", req: newRequest("PUT", "/photos?cors", strings.Repeat(" ", s3cors.MaxBodySize+10), "Content-MD5", md5Base64("x")),
			status: 400, code: "MaxMessageLengthExceeded", stored: photosJSON, verified: 1},
		{name: "put storage failure", req: newRequest("PUT", "/photos?cors", putXML, "Content-MD5", md5Base64(putXML)),
			failSet: errors.New("disk full"), status: 500, code: "InternalError", stored: photosJSON, verified: 1},

		// signature first: nothing changes, nothing else is looked at
		{name: "put with a bad signature", req: newRequest("PUT", "/photos?cors", putXML, "Content-MD5", md5Base64(putXML)),
			verifier: &fakeVerifier{err: errSignature()}, status: 403, code: "SignatureDoesNotMatch", stored: photosJSON, verified: 1},
		{name: "bad signature wins over owner and integrity", req: newRequest("PUT", "/photos?cors", "junk", "X-Amz-Expected-Bucket-Owner", "abcd"),
			verifier: &fakeVerifier{err: errSignature()}, status: 403, code: "SignatureDoesNotMatch", stored: photosJSON, verified: 1},
		{name: "delete with a bad signature", req: newRequest("DELETE", "/photos?cors", ""),
			verifier: &fakeVerifier{err: errSignature()}, status: 403, code: "SignatureDoesNotMatch", stored: photosJSON, verified: 1},
		{name: "get unsigned", req: newRequest("GET", "/photos?cors", ""),
			verifier: &fakeVerifier{err: s3err.AccessDenied()}, status: 403, code: "AccessDenied", stored: photosJSON, verified: 1},
		{name: "verifier failing otherwise", req: newRequest("DELETE", "/photos?cors", ""),
			verifier: &fakeVerifier{err: errors.New("clock unavailable")}, status: 500, code: "InternalError", stored: photosJSON, verified: 1},
		{name: "no verifier refuses", req: newRequest("DELETE", "/photos?cors", ""),
			noVerify: true, status: 403, code: "AccessDenied", stored: photosJSON, verified: 0},
		{name: "no live app after the signature", req: newRequest("GET", "/photos?cors", ""),
			noApp: true, status: 503, code: "ServiceUnavailable", stored: photosJSON, verified: 1},

		// then the expected owner
		{name: "put owner mismatch", req: newRequest("PUT", "/photos?cors", "junk", "X-Amz-Expected-Bucket-Owner", "999988887777"),
			status: 403, code: "AccessDenied", message: "Access Denied", stored: photosJSON, verified: 1},
		{name: "put owner invalid", req: newRequest("PUT", "/photos?cors", "junk", "X-Amz-Expected-Bucket-Owner", "abcd"),
			status: 400, code: "InvalidBucketOwnerAWSAccountID", message: "The value of the expected bucket owner parameter must be an AWS Account ID... [abcd]", stored: photosJSON, verified: 1},
		{name: "put owner matches", req: newRequest("PUT", "/photos?cors", putXML, "X-Amz-Expected-Bucket-Owner", owner, "Content-MD5", md5Base64(putXML)),
			status: 200, stored: putXML, verified: 1},
		{name: "get owner mismatch", req: newRequest("GET", "/photos?cors", "", "X-Amz-Expected-Bucket-Owner", "999988887777"),
			status: 403, code: "AccessDenied", stored: photosJSON, verified: 1},
		{name: "delete owner mismatch", req: newRequest("DELETE", "/photos?cors", "", "X-Amz-Expected-Bucket-Owner", "999988887777"),
			status: 403, code: "AccessDenied", stored: photosJSON, verified: 1},

		// GetBucketCors, DeleteBucketCors
		{name: "get", req: newRequest("GET", "/photos?cors", ""),
			status: 200, header: map[string]string{"Content-Type": "application/xml"}, body: string(mustConfig(t, photosJSON).XML()), stored: photosJSON, verified: 1},
		{name: "get ignores accept", req: newRequest("GET", "/photos?cors", "", "Accept", "application/json"),
			status: 200, header: map[string]string{"Content-Type": "application/xml"}, stored: photosJSON, verified: 1},
		{name: "get missing", req: newRequest("GET", "/other?cors", ""), bucket: "nothing-here",
			status: 404, code: "NoSuchCORSConfiguration", fields: map[string]string{"BucketName": "nothing-here"}, stored: photosJSON, verified: 1},
		{name: "delete", req: newRequest("DELETE", "/photos?cors", ""),
			status: 204, stored: "-", verified: 1},
		{name: "delete none", req: newRequest("DELETE", "/?cors", ""), bucket: "nothing-here",
			status: 204, stored: photosJSON, verified: 1},

		// before anything: method and bucket name
		{name: "post", req: newRequest("POST", "/photos?cors", putXML),
			status: 405, code: "MethodNotAllowed", fields: map[string]string{"Method": "POST", "ResourceType": "BUCKET"},
			header: map[string]string{"Allow": "GET, PUT, DELETE"}, stored: photosJSON, verified: 0},
		{name: "head", req: newRequest("HEAD", "/photos?cors", ""),
			status: 405, code: "MethodNotAllowed", stored: photosJSON, verified: 0},
		{name: "invalid bucket", req: newRequest("PUT", "/Photos?cors", putXML), bucket: "Photos",
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": "Photos"}, stored: photosJSON, verified: 0},
		{name: "empty bucket", req: newRequest("GET", "/?cors", ""), bucket: "-",
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": ""}, stored: photosJSON, verified: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMem(t, map[string]string{"photos": photosJSON})
			m.failSet = tt.failSet
			v := tt.verifier
			if v == nil {
				v = &fakeVerifier{}
			}
			logs := &errLog{}
			api := &S3API{Verify: v.verify, Owner: owner, LogError: logs.log}
			if tt.noVerify {
				api.Verify = nil
			}
			var configs Configs = m
			if tt.noApp {
				configs = nil
			}
			bucket := tt.bucket
			switch bucket {
			case "":
				bucket = "photos"
			case "-":
				bucket = ""
			}
			if !api.IsCORSRequest(tt.req) {
				t.Fatalf("%s %s is not a CORS request", tt.req.Method, tt.req.URL)
			}
			rec := httptest.NewRecorder()
			api.ServeCORS(rec, tt.req, bucket, configs, nil)
			if tt.code != "" {
				checkError(t, rec, tt.status, tt.code, tt.fields)
				if tt.message != "" {
					if doc := conformance.ParseErrorDoc(t, rec.Body.Bytes()); doc.Message != tt.message {
						t.Errorf("message %q, want %q", doc.Message, tt.message)
					}
				}
			} else {
				if rec.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
				}
				checkIDs(t, rec.Header())
				if tt.body != "" && rec.Body.String() != tt.body {
					t.Errorf("body\n%s\nwant\n%s", rec.Body, tt.body)
				}
				if tt.body == "" && tt.req.Method != "GET" && rec.Body.Len() != 0 {
					t.Errorf("body %q, want empty", rec.Body)
				}
			}
			checkHeaders(t, rec.Header(), tt.header)
			checkStored(t, m, "photos", tt.stored)
			if tt.verified >= 0 && v.callCount() != tt.verified {
				t.Errorf("verifier ran %d times, want %d", v.callCount(), tt.verified)
			}
			if v.callCount() > 0 && v.limit != s3cors.MaxBodySize {
				t.Errorf("verifier limit %d, want %d", v.limit, s3cors.MaxBodySize)
			}
			if tt.status < 300 && tt.req.Method != "GET" && (len(m.sources) != 1 || m.sources[0] != SourceS3) {
				t.Errorf("sources %q, want one %q", m.sources, SourceS3)
			}
			if tt.status == 500 && len(logs.all()) != 1 {
				t.Errorf("a 500 logged %v, want one error", logs.all())
			}
		})
	}
}

func TestS3APIIsCORSRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		want   bool
	}{
		{"cors", "PUT", "/photos?cors", true},
		{"cors with empty value", "PUT", "/photos?cors=", true},
		{"cors with a value", "GET", "/photos?cors=1", true},
		{"cors then another key", "GET", "/photos?cors&x=1", true},
		{"another key then cors", "GET", "/photos?x=1&cors", true},
		{"presigned cors", "GET", "/photos?cors&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc", true},
		{"escaped key", "GET", "/photos?%63ors", true},
		{"virtual-hosted root", "DELETE", "/?cors", true},
		{"prefix of a key", "GET", "/photos?corsx", false},
		{"cors as a value", "GET", "/photos?x-id=cors", false},
		{"upper case", "GET", "/photos?CORS", false},
		{"presigned object url", "GET", "/photos/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc", false},
		{"presigned signature only", "GET", "/photos/a.jpg?X-Amz-Signature=cors", false},
		{"other sub-resource", "GET", "/photos?acl", false},
		{"no query", "GET", "/photos", false},
		{"empty query", "GET", "/photos?", false},
		{"cors in the path", "GET", "/cors", false},
		{"preflight with cors", "OPTIONS", "/photos?cors", false},
	}
	api := &S3API{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := api.IsCORSRequest(httptest.NewRequest(tt.method, tt.target, nil)); got != tt.want {
				t.Errorf("IsCORSRequest(%s %s) = %v, want %v", tt.method, tt.target, got, tt.want)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   string
	}{
		{"", "application/xml"},
		{"*/*", "application/xml"},
		{"application/json", "application/json"},
		{"text/html", "application/xml"},
		{"application/json, application/xml", "application/xml"},
		{"application/json;q=0.9, application/xml;q=0.8", "application/json"},
		{"application/*;q=0.5, application/json", "application/json"},
		{"application/json;q=0, */*", "application/xml"},
		{"application/xml;q=0, application/json;q=0.1", "application/json"},
		{"garbage;;, application/json", "application/json"},
	}
	for _, tt := range tests {
		if got := negotiate(tt.accept, "application/xml", "application/json"); got != tt.want {
			t.Errorf("negotiate(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}

// TestS3APIBodyReadError: a body the verifier cannot read to its end (the
// client went away) is the client's doing, answered 400 IncompleteBody as
// on the admin API and in the store mode, not 500; the error is logged and
// nothing changes.
func TestS3APIBodyReadError(t *testing.T) {
	m := newMem(t, map[string]string{"photos": photosJSON})
	logs := &errLog{}
	s := &S3API{Verify: (&fakeVerifier{}).verify, LogError: logs.log}
	req := httptest.NewRequest("PUT", "/photos?cors", &failingReader{})
	rec := httptest.NewRecorder()
	s.ServeCORS(rec, req, "photos", m, nil)
	checkError(t, rec, 400, "IncompleteBody", nil)
	if errs := logs.all(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "connection reset") {
		t.Errorf("logged %v", errs)
	}
	if cfg, _ := m.Configuration("photos"); !cfg.Equal(mustConfig(t, photosJSON)) {
		t.Error("the configuration changed")
	}
}
