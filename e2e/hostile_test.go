package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// hostileBodyTimeout is the s3_api body_timeout of the hostile tests.
const hostileBodyTimeout = 2 * time.Second

// startHostile runs the sidecar the hostile tests attack: headers up to
// 128 KiB, the S3 API with a short body timeout, and a static bucket
// "hostile" whose rule echoes origins under *.example.com and any header.
func startHostile(t *testing.T) *testenv.Caddy {
	t.Helper()
	up := startUpstream(t)
	return testenv.StartCaddy(t, `{
	admin {{ADMIN}}
	servers {
		max_header_size 128KiB
	}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		s3_api {
			access_key `+accessKey+`
			secret_key `+secretKey+`
			body_timeout `+hostileBodyTimeout.String()+`
		}
		bucket_config hostile {
			rule {
				origins https://*.example.com
				methods GET PUT
				headers *
				expose ETag
				max_age 60
			}
		}
	}
	reverse_proxy `+up.Addr()+`
}
`, testenv.CaddyOptions{Ports: 1})
}

// rawResponse is one HTTP/1.1 response as bytes.
type rawResponse struct {
	status int
	head   string // status line and header lines, CRLF separated
	body   string
}

// parseRaw splits the first response out of what a server sent.
func parseRaw(t testing.TB, b []byte) rawResponse {
	t.Helper()
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no complete response in %q", b)
	}
	var r rawResponse
	r.head, r.body = string(head), string(body)
	if _, err := fmt.Sscanf(r.head, "HTTP/1.1 %d", &r.status); err != nil {
		t.Fatalf("status line of %q: %v", r.head, err)
	}
	return r
}

// checkHead fails when the response's header section has a line break
// that is not CRLF, or a header line an attacker tried to inject.
func checkHead(t testing.TB, head string) {
	t.Helper()
	for _, line := range strings.Split(head, "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("bare CR or LF in response header line %q", line)
		}
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "x-injected", "set-cookie":
			t.Errorf("injected header line %q", line)
		}
	}
}

// TestHostileHeaders sends CORS headers net/http would not send (raw
// bytes on a socket): control and non-ASCII characters, line breaks
// meant to inject headers, `Origin: null`, encoded line breaks in the
// bucket. Nothing echoed may break a header line or add one.
func TestHostileHeaders(t *testing.T) {
	t.Parallel()
	c := startHostile(t)
	addr := strings.TrimPrefix(c.URL(0), "http://")
	tests := []struct {
		name    string
		path    string
		headers string // raw header lines, each ending in CRLF unless the attack says otherwise
		status  int    // 0: any
		acao    string // wanted Access-Control-Allow-Origin, "" for none
	}{
		{"plain allowed", "/hostile/k", "Origin: https://a.example.com\r\nAccess-Control-Request-Method: GET\r\n", 200, "https://a.example.com"},
		{"non-ASCII origin", "/hostile/k", "Origin: https://\xc3\xa9t\xc3\xa9.example.com\r\nAccess-Control-Request-Method: GET\r\n", 200, "https://\xc3\xa9t\xc3\xa9.example.com"},
		{"Latin-1 byte in origin", "/hostile/k", "Origin: https://\xe9.example.com\r\nAccess-Control-Request-Method: GET\r\n", 200, "https://\xe9.example.com"},
		{"control character in origin", "/hostile/k", "Origin: https://a\x01.example.com\r\nAccess-Control-Request-Method: GET\r\n", 400, ""},
		{"DEL in origin", "/hostile/k", "Origin: https://a\x7f.example.com\r\nAccess-Control-Request-Method: GET\r\n", 400, ""},
		{"NUL in request headers", "/hostile/k", "Origin: https://a.example.com\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-a\x00b\r\n", 400, ""},
		{"bare CR in origin", "/hostile/k", "Origin: https://a.example.com\rX-Injected: 1\r\nAccess-Control-Request-Method: GET\r\n", 400, ""},
		{"bare LF after origin", "/hostile/k", "Origin: https://a.example.com\nX-Injected: 1\r\nAccess-Control-Request-Method: GET\r\n", 0, ""},
		{"bare LF in request headers", "/hostile/k", "Origin: https://a.example.com\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-a\nSet-Cookie: a=b\r\n", 0, ""},
		{"folded origin", "/hostile/k", "Origin: https://a.example.com\r\n X-Injected: 1\r\nAccess-Control-Request-Method: GET\r\n", 0, ""},
		{"bare CR in method", "/hostile/k", "Origin: https://a.example.com\r\nAccess-Control-Request-Method: GET\rX-Injected: 1\r\n", 400, ""},
		{"encoded CRLF in bucket", "/hostile%0d%0aX-Injected:%201/k", "Origin: https://a.example.com\r\nAccess-Control-Request-Method: GET\r\n", 403, ""},
		{"encoded CRLF in key", "/hostile/k%0d%0aX-Injected:%201", "Origin: https://a.example.com\r\nAccess-Control-Request-Method: GET\r\n", 200, "https://a.example.com"},
		{"origin null", "/hostile/k", "Origin: null\r\nAccess-Control-Request-Method: GET\r\n", 403, ""},
		{"empty origin", "/hostile/k", "Origin: \r\nAccess-Control-Request-Method: GET\r\n", 400, ""},
		{"injection in request headers, allowed", "/hostile/k", "Origin: https://a.example.com\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-a, Set-Cookie: a=b, x-b\r\n", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := "OPTIONS " + tc.path + " HTTP/1.1\r\nHost: " + addr + "\r\n" + tc.headers + "Connection: close\r\n\r\n"
			r := parseRaw(t, rawExchange(t, addr, []byte(raw), 5*time.Second))
			checkHead(t, r.head)
			if tc.status != 0 && r.status != tc.status {
				t.Errorf("status %d, want %d\n%s", r.status, tc.status, r.head)
			}
			m := regexp.MustCompile(`(?m)^Access-Control-Allow-Origin: ([^\r]*)\r?$`).FindAllStringSubmatch(r.head, -1)
			switch {
			case tc.acao == "" && tc.status != 0 && len(m) != 0:
				t.Errorf("Access-Control-Allow-Origin %q, want none", m)
			case tc.acao != "" && (len(m) != 1 || m[0][1] != tc.acao):
				t.Errorf("Access-Control-Allow-Origin %q, want %q", m, tc.acao)
			}
		})
	}
}

// TestHostileSizes sends oversized and repeated CORS request headers
// through the real stack: up to the configured max_header_size they are
// evaluated (repeated Origin lines: the first counts; repeated
// Access-Control-Request-Headers: one list), beyond it Caddy answers 431.
func TestHostileSizes(t *testing.T) {
	t.Parallel()
	c := startHostile(t)
	site := c.URL(0)
	list := func(size int) string {
		var b strings.Builder
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "x-h-%06d, ", i)
		}
		return strings.TrimSuffix(b.String(), ", ")
	}
	tests := []struct {
		name    string
		headers map[string][]string
		status  int
		check   func(t *testing.T, h http.Header)
	}{
		// The engine evaluates at most 8 KiB of request headers (S3's
		// limit for a header section): a documented 400.
		{"100 KiB request headers", map[string][]string{"Access-Control-Request-Headers": {list(100 << 10)}}, 400, nil},
		{"8 KiB request headers", map[string][]string{"Access-Control-Request-Headers": {list(8<<10 - 16)}}, 200,
			func(t *testing.T, h http.Header) {
				if got := h.Get("Access-Control-Allow-Headers"); got != list(8<<10-16) {
					t.Errorf("Access-Control-Allow-Headers of %d bytes, want the list echoed", len(got))
				}
			}},
		{"200 KiB request headers", map[string][]string{"Access-Control-Request-Headers": {list(200 << 10)}}, 431, nil},
		{"100 KiB origin", map[string][]string{"Origin": {"https://" + strings.Repeat("a", 100<<10) + ".example.com"}}, 200,
			func(t *testing.T, h http.Header) {
				if got := h.Get("Access-Control-Allow-Origin"); len(got) < 100<<10 {
					t.Errorf("Access-Control-Allow-Origin of %d bytes", len(got))
				}
			}},
		{"600 request headers lines", map[string][]string{"Access-Control-Request-Headers": strings.Split(list(7<<10), ", ")}, 200,
			func(t *testing.T, h http.Header) {
				if got := h.Get("Access-Control-Allow-Headers"); got != list(7<<10) {
					t.Errorf("Access-Control-Allow-Headers %.80q..., want the lines as one list", got)
				}
			}},
		{"repeated origin, allowed first", map[string][]string{"Origin": {"https://a.example.com", "https://evil.test"}}, 200,
			func(t *testing.T, h http.Header) {
				if got := h.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://a.example.com" {
					t.Errorf("Access-Control-Allow-Origin %q", got)
				}
			}},
		{"repeated origin, denied first", map[string][]string{"Origin": {"https://evil.test", "https://a.example.com"}}, 403, nil},
		{"5000 origin lines", map[string][]string{"Origin": slicesRepeat("https://evil.test", 5000)}, 403, nil},
		{"1000 request headers lines over 8 KiB", map[string][]string{"Access-Control-Request-Headers": strings.Split(list(10<<10), ", ")}, 400, nil},
	}
	t.Run("actual request with 100 KiB request headers", func(t *testing.T) {
		req, _ := http.NewRequest("GET", site+"/hostile/k", nil)
		req.Header.Set("Origin", "https://a.example.com")
		req.Header.Set("Access-Control-Request-Headers", list(100<<10))
		res, _ := mustSend(t, req)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%d, Access-Control-Allow-Origin %q: want the object without CORS headers",
				res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := appPreflight(t, site+"/hostile/k", "GET")
			req.Header.Set("Origin", "https://a.example.com")
			for k, v := range tc.headers {
				req.Header[k] = v
			}
			res, body := mustSend(t, req)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %.200s", res.StatusCode, tc.status, body)
			}
			for name, values := range res.Header {
				for _, v := range values {
					if strings.ContainsAny(v, "\r\n") {
						t.Errorf("%s has a line break", name)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, res.Header)
			}
		})
	}
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestHostileBucketNames tries to escape the storage directory with bucket
// names through both APIs: every one is refused, nothing is stored, and no
// file appears outside the storage directory.
func TestHostileBucketNames(t *testing.T) {
	t.Parallel()
	c := startHostile(t)
	site := c.URL(0)
	names := []string{"..", "..%2F..%2F..%2Fescape", "%2E%2E%2Fescape", "a%2Fescape", "escape%2F..%2F..%2Fx",
		"Escape", "UPPER", "es..cape", "-escape", "escape%00", "escape%0d%0a",
		// Prefixes and suffixes S3 reserves.
		"xn--escape", "sthree-escape", "escape-s3alias", "escape--ol-s3"}
	// On the S3 API, path style, the first segment of the decoded path is
	// the bucket: these address an object of a valid bucket, not an invalid
	// name, and `?cors` on an object is the store's business: the request
	// goes on to the store and nothing is stored.
	toStore := map[string]bool{"escape%2F..%2F..%2Fx": true}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest("PUT", "http://"+c.Admin+"/s3_cors/buckets/"+name, strings.NewReader(cfgA))
			if err != nil {
				t.Fatal(err)
			}
			res, body, err := sendWith(noRedirect, req)
			if err != nil {
				t.Fatal(err)
			}
			// Go's router redirects paths with dot segments before any
			// handler runs; everything that reaches the module is refused.
			if !(res.StatusCode == 400 && s3Code(string(body)) == "InvalidBucketName") && res.StatusCode != 301 && res.StatusCode != 307 {
				t.Errorf("admin put: %d %s", res.StatusCode, body)
			}
			sreq := signedCORS(t, "PUT", site, name, cfgA, accessKey, secretKey, time.Now())
			res, body, err = sendWith(noRedirect, sreq)
			if err != nil {
				t.Fatal(err)
			}
			if toStore[name] {
				if !strings.HasPrefix(string(body), "object /escape/") {
					t.Errorf("S3 API put to an object path did not reach the store: %d %s", res.StatusCode, body)
				}
			} else if res.StatusCode != 400 || s3Code(string(body)) != "InvalidBucketName" {
				t.Errorf("S3 API put: %d %s", res.StatusCode, body)
			}
		})
	}
	if st, body := adminGet(t, c.Admin, ""); st != 200 || strings.TrimSpace(body) != `{"buckets":[]}` {
		t.Errorf("bucket list after the attempts: %d %s", st, body)
	}
	buckets := filepath.Join(c.Home, "data", "caddy", "s3_cors", "buckets")
	_ = filepath.WalkDir(filepath.Dir(c.Home), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(strings.ToLower(d.Name()), "escape") {
			t.Errorf("file created: %s", p)
		}
		return nil
	})
	if entries, err := os.ReadDir(buckets); err == nil && len(entries) != 0 {
		t.Errorf("storage directory holds %v", entries)
	}
}

// signedRaw is a signed S3 API request as the bytes a client sends.
func signedRaw(t testing.TB, req *http.Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	req.Close = true // not signed: the server closes after answering
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHostileBodies sends bodies larger than announced, over 64 KiB, and
// too slow, to both APIs: each is refused with S3's error (or cut off
// within its bound) and nothing is stored.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	c := startHostile(t)
	site := c.URL(0)
	adminAddr := c.Admin
	siteAddr := strings.TrimPrefix(site, "http://")
	big := strings.Replace(cfgA, "<CORSRule>", "<CORSRule><ID>"+strings.Repeat("x", 70<<10)+"</ID>", 1)
	stored := func(t *testing.T) bool {
		st, _ := adminGet(t, adminAddr, "photos")
		return st == 200
	}

	t.Run("admin body longer than announced", func(t *testing.T) {
		raw := fmt.Sprintf("PUT /s3_cors/buckets/photos HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: 40\r\n\r\n%s", adminAddr, cfgA)
		r := parseRaw(t, rawExchange(t, adminAddr, []byte(raw), 3*time.Second))
		if r.status != 400 || s3Code(r.body) != "MalformedXML" {
			t.Errorf("answer %d %s, want 400 MalformedXML (the announced 40 bytes)", r.status, r.body)
		}
	})
	t.Run("S3 API body longer than announced", func(t *testing.T) {
		b := signedRaw(t, signedCORS(t, "PUT", site, "photos", cfgA, accessKey, secretKey, time.Now()))
		b = bytes.Replace(b, []byte(fmt.Sprintf("Content-Length: %d", len(cfgA))), []byte("Content-Length: 40"), 1)
		r := parseRaw(t, rawExchange(t, siteAddr, b, 3*time.Second))
		// Content-Length is one of the signed headers.
		if r.status != 403 || s3Code(r.body) != "SignatureDoesNotMatch" {
			t.Errorf("answer %d %.200s, want 403 SignatureDoesNotMatch", r.status, r.body)
		}
	})
	t.Run("admin body over 64 KiB", func(t *testing.T) {
		for _, chunked := range []bool{false, true} {
			req, _ := http.NewRequest("PUT", "http://"+adminAddr+"/s3_cors/buckets/photos", strings.NewReader(big))
			if chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(strings.NewReader(big))
			}
			res, body := mustSend(t, req)
			if res.StatusCode != 400 || s3Code(body) != "MaxMessageLengthExceeded" {
				t.Errorf("chunked %v: %d %s", chunked, res.StatusCode, body)
			}
		}
	})
	t.Run("S3 API body over 64 KiB", func(t *testing.T) {
		res, body := mustSend(t, signedCORS(t, "PUT", site, "photos", big, accessKey, secretKey, time.Now()))
		if res.StatusCode != 400 || s3Code(body) != "MaxMessageLengthExceeded" {
			t.Errorf("%d %s", res.StatusCode, body)
		}
	})
	if t.Failed() {
		return
	}

	// Slow bodies, in parallel: each is cut off within its bound.
	slow := []struct {
		name     string
		addr     string
		raw      []byte
		min, max time.Duration
		code     string
	}{
		{"S3 API slow body", siteAddr, signedRaw(t, signedCORS(t, "PUT", site, "photos", cfgA, accessKey, secretKey, time.Now())),
			hostileBodyTimeout - 200*time.Millisecond, hostileBodyTimeout + 2*time.Second, "RequestTimeout"},
		{"S3 API slow body, invalid bucket", siteAddr, signedRaw(t, signedCORS(t, "PUT", site, "Photos", cfgA, accessKey, secretKey, time.Now())),
			hostileBodyTimeout - 200*time.Millisecond, hostileBodyTimeout + 2*time.Second, "InvalidBucketName"},
		// Caddy's admin listener reads a request within 10 s.
		{"admin slow body", adminAddr, []byte(fmt.Sprintf("PUT /s3_cors/buckets/photos HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", adminAddr, len(cfgA), cfgA)),
			9 * time.Second, 12 * time.Second, "RequestTimeout"},
	}
	for _, tc := range slow {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A kept-alive connection: net/http drains an unread body
			// before answering, which the deadline must bound too.
			raw := bytes.Replace(tc.raw, []byte("Connection: close\r\n"), nil, 1)
			head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
			start := time.Now()
			// The headers and the first 10 bytes of the body, then nothing.
			out := rawExchange(t, tc.addr, append(append(head, "\r\n\r\n"...), raw[len(head)+4:len(head)+14]...), tc.max+5*time.Second)
			took := time.Since(start)
			if took < tc.min || took > tc.max {
				t.Errorf("cut off after %v, want within [%v, %v]", took, tc.min, tc.max)
			}
			if r := parseRaw(t, out); r.status != 400 || s3Code(r.body) != tc.code {
				t.Errorf("answer %d %s, want 400 %s", r.status, r.body, tc.code)
			}
		})
	}
	t.Cleanup(func() {
		if stored(t) {
			t.Error("a refused body was stored")
		}
	})
}

// TestHostileSignatures: a replayed request within S3's 15-minute window
// is accepted (as by S3: SigV4 does not prevent replay, TLS does); its
// signature with another body, an expired or too old signature, wrong
// credentials and no signature are refused, and leave the configuration
// as it was.
func TestHostileSignatures(t *testing.T) {
	t.Parallel()
	c := startHostile(t)
	site := c.URL(0)
	siteAddr := strings.TrimPrefix(site, "http://")
	first := signedRaw(t, signedCORS(t, "PUT", site, "photos", cfgA, accessKey, secretKey, time.Now()))
	if r := parseRaw(t, rawExchange(t, siteAddr, first, 3*time.Second)); r.status != 200 {
		t.Fatalf("signed put: %d %s", r.status, r.body)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		if st, body := adminGet(t, c.Admin, "photos"); st != 200 || !strings.Contains(body, "x-amz-a") {
			t.Errorf("configuration changed: %d %s", st, body)
		}
		res, _ := mustSend(t, appPreflight(t, site+"/photos/k", "GET"))
		if which, err := whichConfig(res.Header); which != "A" {
			t.Errorf("served configuration changed: %q %v", which, err)
		}
	}
	presignedExpired := func() []byte {
		req, _ := http.NewRequest("PUT", site+"/photos?cors", nil)
		sum := md5.Sum([]byte(cfgB))
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		q := req.URL.Query()
		q.Set("X-Amz-Expires", "60")
		req.URL.RawQuery = q.Encode()
		signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1",
			time.Now().Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := http.NewRequest("PUT", signed, strings.NewReader(cfgB))
		for k, v := range hdr {
			out.Header[k] = v
		}
		out.Header.Set("Content-MD5", req.Header.Get("Content-MD5"))
		return signedRaw(t, out)
	}
	tests := []struct {
		name   string
		raw    []byte
		status int
		code   string
	}{
		{"replay", first, 200, ""},
		{"replay with another body", bytes.Replace(first, []byte("x-amz-a"), []byte("x-amz-b"), 1), 400, "XAmzContentSHA256Mismatch"},
		{"signed 20 minutes ago", signedRaw(t, signedCORS(t, "PUT", site, "photos", cfgB, accessKey, secretKey, time.Now().Add(-20*time.Minute))), 403, "RequestTimeTooSkewed"},
		{"signed 20 minutes ahead", signedRaw(t, signedCORS(t, "PUT", site, "photos", cfgB, accessKey, secretKey, time.Now().Add(20*time.Minute))), 403, "RequestTimeTooSkewed"},
		{"presigned, expired", presignedExpired(), 403, "AccessDenied"},
		{"wrong secret", signedRaw(t, signedCORS(t, "PUT", site, "photos", cfgB, accessKey, "not-the-secret", time.Now())), 403, "SignatureDoesNotMatch"},
		{"unknown access key", signedRaw(t, signedCORS(t, "PUT", site, "photos", cfgB, "NOTTHEKEY", secretKey, time.Now())), 403, "InvalidAccessKeyId"},
		{"unsigned", []byte(fmt.Sprintf("PUT /photos?cors HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", siteAddr, len(cfgB), cfgB)), 403, "AccessDenied"},
		{"wrong credentials, delete", signedRaw(t, signedCORS(t, "DELETE", site, "photos", "", accessKey, "not-the-secret", time.Now())), 403, "SignatureDoesNotMatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := parseRaw(t, rawExchange(t, siteAddr, tc.raw, 3*time.Second))
			if r.status != tc.status || s3Code(r.body) != tc.code {
				t.Errorf("answer %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			unchanged(t)
		})
	}
}

// TestHostileAttribution attacks bucket resolution against real MinIO
// (MINIO_DOMAIN=s3.test): requests the store may read as another bucket
// than the sidecar, or as none, must carry neither a rule's CORS headers
// nor MinIO's own (which echo any origin with credentials), and such
// preflights are refused by the sidecar, never forwarded. `photos` lets
// appOrigin read with credentials; `private` has no CORS configuration
// and is readable anonymously, so MinIO serves its data to anyone.
func TestHostileAttribution(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIOWithEnv(t, "MINIO_DOMAIN=s3.test")
	mc := minioClient(t, m)
	for _, bucket := range []string{"photos", "private"} {
		makeBucket(t, mc, bucket)
		putObject(t, mc, bucket, "s.txt", "secret of "+bucket)
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		err := mc.SetBucketPolicy(ctx, bucket, publicReadPolicy(bucket))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	rule := `
		bucket_config photos {
			rule {
				origins ` + appOrigin + `
				methods GET
			}
		}`
	// Sites that take any Host, as a catch-all sidecar does.
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
}
http://:{{PORT0}} {
	bind 127.0.0.1
	s3_cors {
		bucket host s3.test`+rule+`
	}
	reverse_proxy `+m.Endpoint+`
}
http://:{{PORT1}} {
	bind 127.0.0.1
	s3_cors {`+rule+`
	}
	reverse_proxy `+m.Endpoint+`
}
`, testenv.CaddyOptions{Ports: 2})
	hostSite, pathSite := c.URL(0), c.URL(1)
	const evil = "https://evil.example"
	tests := []struct {
		name, site, method, host, target, origin string
		status                                   int    // 0: any
		body                                     string // a part of the body; "" not checked
		acao                                     string // wanted Access-Control-Allow-Origin, "" for none
	}{
		// Controls: what the sidecar must keep doing.
		{"host style allowed", hostSite, "GET", "photos.s3.test", "/s.txt", appOrigin, 200, "secret of photos", appOrigin},
		{"host style preflight allowed", hostSite, "OPTIONS", "photos.s3.test", "/s.txt", appOrigin, 200, "", appOrigin},
		{"path style allowed", pathSite, "GET", "", "/photos/s.txt", appOrigin, 200, "secret of photos", appOrigin},
		{"path style other bucket", pathSite, "GET", "", "/private/s.txt", appOrigin, 200, "secret of private", ""},

		// Issue 14 item 1: MinIO serves these path style or as another
		// bucket; photos' rule must not decorate them.
		{"trailing-dot host", hostSite, "GET", "photos.s3.test.", "/private/s.txt", appOrigin, 200, "secret of private", ""},
		{"trailing-dot host preflight", hostSite, "OPTIONS", "photos.s3.test.", "/private/s.txt", appOrigin, 403, "Bucket not found", ""},
		{"upper-case host", hostSite, "GET", "PHOTOS.s3.test", "/s.txt", appOrigin, 0, "", ""},
		{"upper-case base", hostSite, "GET", "photos.S3.TEST", "/private/s.txt", appOrigin, 200, "secret of private", ""},
		{"upper-case host preflight", hostSite, "OPTIONS", "PHOTOS.s3.test", "/s.txt", appOrigin, 403, "Bucket not found", ""},

		// Issue 14 item 2: MinIO's own CORS headers never get through.
		{"double slash preflight", pathSite, "OPTIONS", "", "//photos/s.txt", evil, 403, "Bucket not found", ""},
		{"double slash actual", pathSite, "GET", "", "//photos/s.txt", evil, 0, "", ""},
		{"encoded slash actual", pathSite, "GET", "", "/%2Fphotos/s.txt", evil, 0, "", ""},
		{"encoded slash preflight", pathSite, "OPTIONS", "", "/%2Fphotos/s.txt", evil, 403, "Bucket not found", ""},
		{"dot-dot actual", pathSite, "GET", "", "/photos/../private/s.txt", appOrigin, 0, "", ""},
		{"service endpoint", pathSite, "GET", "", "/", evil, 0, "", ""},
		{"service endpoint preflight", pathSite, "OPTIONS", "", "/", evil, 403, "Bucket not found", ""},
		{"foreign host on a catch-all site", hostSite, "GET", "other.example", "/private/s.txt", evil, 200, "secret of private", ""},
		{"foreign host preflight", hostSite, "OPTIONS", "other.example", "/private/s.txt", evil, 403, "Bucket not found", ""},
		{"allowed bucket, other origin", pathSite, "GET", "", "/photos/s.txt", evil, 200, "secret of photos", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.site+tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			req.Header.Set("Origin", tc.origin)
			if tc.method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "GET")
			}
			res, body := mustSend(t, req)
			if tc.status != 0 && res.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %.300s", res.StatusCode, tc.status, body)
			}
			if !strings.Contains(body, tc.body) {
				t.Errorf("body %.300q, want %q in it", body, tc.body)
			}
			got := res.Header.Values("Access-Control-Allow-Origin")
			if tc.acao == "" {
				for name, v := range res.Header {
					if strings.HasPrefix(name, "Access-Control-") {
						t.Errorf("%s: %q (status %d, body %.200q)", name, v, res.StatusCode, body)
					}
				}
			} else if len(got) != 1 || got[0] != tc.acao {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.acao)
			}
		})
	}
}

// TestHostileCredentials sends ?cors writes carrying two credentials, one
// valid: two Authorization lines, a presigned URL with X-Amz-Signature
// twice. Each is refused with S3's 400 InvalidArgument and nothing is
// stored, whichever credential comes first.
func TestHostileCredentials(t *testing.T) {
	t.Parallel()
	c := startHostile(t)
	site := c.URL(0)
	bogus := "AWS4-HMAC-SHA256 Credential=AKIAOTHER/20260314/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("0", 64)
	presigned := func(t *testing.T) *http.Request {
		u := presignCORS(t, http.MethodPut, site, "creds", accessKey, secretKey, time.Now(), 5*time.Minute)
		out := newRequest(t, http.MethodPut, u, cfgA)
		sum := md5.Sum([]byte(cfgA))
		out.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		return out
	}
	tests := []struct {
		name    string
		request func(t *testing.T) *http.Request
	}{
		{"Authorization twice, valid first", func(t *testing.T) *http.Request {
			req := signedCORS(t, "PUT", site, "creds", cfgA, accessKey, secretKey, time.Now())
			req.Header.Add("Authorization", bogus)
			return req
		}},
		{"Authorization twice, valid last", func(t *testing.T) *http.Request {
			req := signedCORS(t, "PUT", site, "creds", cfgA, accessKey, secretKey, time.Now())
			req.Header["Authorization"] = append([]string{bogus}, req.Header["Authorization"]...)
			return req
		}},
		{"X-Amz-Signature twice, valid first", func(t *testing.T) *http.Request {
			req := presigned(t)
			req.URL.RawQuery += "&X-Amz-Signature=" + strings.Repeat("0", 64)
			return req
		}},
		{"X-Amz-Signature twice, valid last", func(t *testing.T) *http.Request {
			req := presigned(t)
			req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "X-Amz-Signature=", "X-Amz-Signature="+strings.Repeat("0", 64)+"&X-Amz-Signature=", 1)
			return req
		}},
	}
	// The presigned URL itself is accepted: the refusals are not about it.
	res, body := mustSend(t, presigned(t))
	if res.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d %s", res.StatusCode, body)
	}
	if res, body := mustSend(t, signedCORS(t, "DELETE", site, "creds", "", accessKey, secretKey, time.Now())); res.StatusCode != 204 {
		t.Fatalf("DELETE: %d %s", res.StatusCode, body)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := mustSend(t, tc.request(t))
			if res.StatusCode != 400 || s3Code(body) != "InvalidArgument" {
				t.Errorf("got %d %s, want 400 InvalidArgument", res.StatusCode, body)
			}
			if st, got := adminGet(t, c.Admin, "creds"); st != 404 {
				t.Errorf("configuration stored: %d %s", st, got)
			}
		})
	}
}
