package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

const (
	testAccessKey = "AKIDEXAMPLE"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion    = "us-east-1"
	testHost      = "127.0.0.1:9000"
)

// testNow is the server clock of the tests; requests are signed at it
// unless a case says otherwise.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

var testCreds = aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}

func newTestVerifier(t testing.TB, opts Options) *Verifier {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	v, err := New([]Credentials{
		{AccessKey: "OTHERKEY", SecretKey: "other-secret"},
		{AccessKey: testAccessKey, SecretKey: testSecretKey},
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// clientRequest is a request as an SDK builds it before signing.
type clientRequest struct {
	method string
	// path is the decoded path; rawPath, when set, is its escaped form on
	// the wire (and in the signature, as S3 SDKs disable re-escaping).
	path, rawPath string
	rawQuery      string
	header        http.Header
	body          []byte
	// noContentLength keeps content-length out of the signature, as
	// botocore does.
	noContentLength bool
}

func (c clientRequest) build(t testing.TB) *http.Request {
	t.Helper()
	u := &url.URL{Scheme: "http", Host: testHost, Path: c.path, RawPath: c.rawPath, RawQuery: c.rawQuery}
	req, err := http.NewRequest(c.method, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Path, req.URL.RawPath = c.path, c.rawPath
	for k, vs := range c.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if !c.noContentLength {
		req.ContentLength = int64(len(c.body))
	}
	return req
}

// toServer turns a signed client request into the request a server
// handler sees.
func toServer(t testing.TB, req *http.Request, body []byte) *http.Request {
	t.Helper()
	target := req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	sr := httptest.NewRequest(req.Method, target, bytes.NewReader(body))
	sr.Host = req.URL.Host
	for k, vs := range req.Header {
		sr.Header[k] = append([]string(nil), vs...)
	}
	if len(body) > 0 {
		sr.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return sr
}

// sdkSign signs c with the aws-sdk-go-v2 signer as the S3 client does
// (no re-escaping of the path) and returns the server-side request.
func sdkSign(t testing.TB, c clientRequest, payloadHash string, at time.Time, creds aws.Credentials, region string) *http.Request {
	t.Helper()
	req := c.build(t)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	return toServer(t, req, c.body)
}

// sdkPresign presigns c for expires seconds and returns the server-side
// request.
func sdkPresign(t testing.TB, c clientRequest, expires string, at time.Time, creds aws.Credentials, region string) *http.Request {
	t.Helper()
	req := c.build(t)
	req.ContentLength = 0
	q := req.URL.Query()
	q.Set("X-Amz-Expires", expires)
	req.URL.RawQuery = q.Encode()
	signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, UnsignedPayload, "s3", region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	sr := httptest.NewRequest(c.method, u.RequestURI(), bytes.NewReader(c.body))
	sr.Host = u.Host
	for k, vs := range hdr {
		if k != "Host" {
			sr.Header[k] = vs
		}
	}
	return sr
}

// wantError checks that err is the S3 error with the given status and code,
// and, when msg is not empty, message.
func wantError(t testing.TB, err error, status int, code, msg string) *s3err.Error {
	t.Helper()
	var docErr *s3err.Error
	if !errors.As(err, &docErr) {
		t.Fatalf("error = %v (%T), want *s3err.Error %s", err, err, code)
	}
	if docErr.Status != status || docErr.Code != code {
		t.Fatalf("error = %d %s %q, want %d %s", docErr.Status, docErr.Code, docErr.Message, status, code)
	}
	if msg != "" && docErr.Message != msg {
		t.Fatalf("message = %q, want %q", docErr.Message, msg)
	}
	return docErr
}

func field(t testing.TB, e *s3err.Error, name string) string {
	t.Helper()
	v, ok := e.Field(name)
	if !ok {
		t.Fatalf("error %s has no %s element; fields %v", e.Code, name, e.Fields)
	}
	return v
}
