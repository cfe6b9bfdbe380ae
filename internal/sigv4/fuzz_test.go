package sigv4

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// fuzzLimit is the body limit of the fuzz target.
const fuzzLimit = 1024

var fuzzModes = []string{"", UnsignedPayload, StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer}

// fuzzRequest builds a PutBucketCors-like request. With an empty authz the
// headers are signed for real (so a chunked body reaches the decoder with a
// valid seed signature); mode picks x-amz-content-sha256 (0: the body's
// hash) and declared is x-amz-decoded-content-length.
func fuzzRequest(t testing.TB, authz, rawQuery string, body []byte, mode uint8, declared uint16) *http.Request {
	payload := fuzzModes[int(mode)%len(fuzzModes)]
	if payload == "" {
		payload = sha256Hex(body)
	}
	h := http.Header{}
	if payload != UnsignedPayload && payload != sha256Hex(body) {
		h.Set("Content-Encoding", "aws-chunked")
		h.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(int(declared)))
		h.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	}
	var r *http.Request
	if authz == "" {
		c := clientRequest{method: http.MethodPut, path: "/photos", rawQuery: rawQuery, header: h, noContentLength: true}
		r = sdkSign(t, c, payload, testNow, testCreds, testRegion)
		r.Body = http.NoBody
	} else {
		target := "/photos"
		r = httptest.NewRequest(http.MethodPut, target, nil)
		r.URL.RawQuery = rawQuery
		for k, v := range h {
			r.Header[k] = v
		}
		r.Header.Set("X-Amz-Date", testNow.Format(iso8601))
		r.Header.Set("X-Amz-Content-Sha256", payload)
		r.Header.Set("Authorization", authz)
	}
	r.Body = readCloser{bytes.NewReader(body)}
	return r
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func FuzzVerify(f *testing.F) {
	sig := strings.Repeat("0", 64)
	f.Add("", "cors", []byte(corsXML), uint8(0), uint16(0))
	f.Add("", "cors", []byte(corsXML), uint8(1), uint16(0))
	f.Add("", "cors", []byte("400;chunk-signature="+sig+"\r\n"), uint8(2), uint16(1024))
	f.Add("", "cors", []byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), uint8(4), uint16(5))
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="+sig,
		"cors", []byte(corsXML), uint8(0), uint16(0))
	f.Add("AWS4-HMAC-SHA256 Credential=/", "", []byte{}, uint8(3), uint16(7))
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260314%2Fus-east-1%2Fs3%2Faws4_request"+
		"&X-Amz-Date=20260314T150926Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature="+sig, []byte{}, uint8(1), uint16(0))
	v := newTestVerifier(f, Options{})
	f.Fuzz(func(t *testing.T, authz, rawQuery string, body []byte, mode uint8, declared uint16) {
		if strings.ContainsAny(authz, "\r\n") || strings.ContainsFunc(rawQuery, func(c rune) bool { return c <= ' ' || c == 0x7f || c == '#' }) {
			return // not a request net/http would deliver
		}
		r := fuzzRequest(t, authz, rawQuery, body, mode, declared)
		res, err := v.Verify(r, fuzzLimit)
		if err != nil {
			var docErr *s3err.Error
			if !errors.As(err, &docErr) || docErr.Status < 400 || docErr.Code == "" || docErr.Message == "" {
				t.Fatalf("error %v (%T) is not an S3 error document", err, err)
			}
			return
		}
		if res == nil || len(res.Body) > fuzzLimit || (res.Truncated && len(res.Body) != fuzzLimit) {
			t.Fatalf("result %+v", res)
		}
	})
}

// TestBoundedAllocation announces huge bodies and chunks and checks that
// Verify allocates in proportion to its limit, not to what the client
// claims.
func TestBoundedAllocation(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		mode     uint8
		declared uint16
	}{
		{"huge chunk size", "7fffffffffffffff\r\n" + strings.Repeat("a", 4096), 4, 65535},
		{"many tiny chunks", strings.Repeat("1\r\na\r\n", 5000), 4, 65535},
		{"long chunk line", strings.Repeat("0", 1<<20), 4, 65535},
		{"many trailers", "0\r\n" + strings.Repeat("x-amz-checksum-crc32:AAAAAA==\r\n", 10000), 4, 0},
		{"plain body over the limit", strings.Repeat("a", 4<<20), 1, 0},
	}
	v := newTestVerifier(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fuzzRequest(t, "", "cors", []byte(tt.body), tt.mode, tt.declared)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, err := v.Verify(r, fuzzLimit)
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<10 {
				t.Fatalf("Verify allocated %d bytes (res %v, err %v)", grew, res != nil, err)
			}
		})
	}
}

// TestWriteFuzzCorpus rewrites testdata/fuzz/FuzzVerify with valid signed
// chunked bodies, which the fuzzer could not find by itself. Run with
// SIGV4_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("SIGV4_WRITE_CORPUS") == "" {
		t.Skip("set SIGV4_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	body := []byte(strings.Repeat(corsXML, 3))
	key := testSigningKey(testSecretKey, testNow.Format("20060102"), testRegion)
	prefix := testNow.Format(iso8601) + "\n" + testNow.Format("20060102") + "/" + testRegion + "/s3/aws4_request\n"
	crc := []trailerKV{{"x-amz-checksum-crc32", crc32B64(body)}}
	seed := func(mode uint8) string {
		r := fuzzRequest(t, "", "cors", nil, mode, uint16(len(body)))
		auth := r.Header.Get("Authorization")
		return auth[len(auth)-64:]
	}
	seeds := map[string]struct {
		authz, query string
		body         []byte
		mode         uint8
		declared     uint16
	}{
		"signed-chunks":         {"", "cors", encodeSigned(t, body, 200, key, seed(2), prefix, nil), 2, uint16(len(body))},
		"signed-chunks-trailer": {"", "cors", encodeSigned(t, body, 200, key, seed(3), prefix, crc), 3, uint16(len(body))},
		"unsigned-trailer":      {"", "cors", encodeUnsigned(body, 200, crc), 4, uint16(len(body))},
		"hex-payload":           {"", "cors", body, 0, 0},
		"unsigned-payload":      {"", "cors", body, 1, 0},
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range seeds {
		content := fmt.Sprintf("go test fuzz v1\nstring(%s)\nstring(%s)\n[]byte(%s)\nbyte(%s)\nuint16(%d)\n",
			strconv.Quote(s.authz), strconv.Quote(s.query), strconv.Quote(string(s.body)), strconv.QuoteRune(rune(s.mode)), s.declared)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
