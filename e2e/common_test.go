package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Credentials of the s3_api block in the tests' Caddyfiles.
const (
	accessKey = "SOAKACCESSKEY"
	secretKey = "soak-secret-key"
)

// Two configurations of one bucket whose headers differ in every part a
// response shows: methods, expose headers and max age.
const (
	cfgA      = `<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>x-amz-a</ExposeHeader><MaxAgeSeconds>100</MaxAgeSeconds></CORSRule></CORSConfiguration>`
	cfgB      = `<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>x-amz-b</ExposeHeader><ExposeHeader>etag</ExposeHeader><MaxAgeSeconds>200</MaxAgeSeconds></CORSRule></CORSConfiguration>`
	appOrigin = "https://app.example"
)

// headerSet is the CORS part of a response that tells A from B.
type headerSet struct {
	methods, expose, maxAge string
}

var (
	setA = headerSet{"GET, HEAD", "x-amz-a", "100"}
	setB = headerSet{"GET, PUT", "x-amz-b, etag", "200"}
)

// whichConfig says whether h carries exactly A's or B's headers for an
// allowed request from appOrigin, and an error describing any mix.
func whichConfig(h http.Header) (string, error) {
	got := headerSet{
		strings.Join(h.Values("Access-Control-Allow-Methods"), ","),
		strings.Join(h.Values("Access-Control-Expose-Headers"), ","),
		strings.Join(h.Values("Access-Control-Max-Age"), ","),
	}
	if o := h.Values("Access-Control-Allow-Origin"); len(o) != 1 || o[0] != appOrigin {
		return "", fmt.Errorf("Access-Control-Allow-Origin %q", o)
	}
	switch got {
	case setA:
		return "A", nil
	case setB:
		return "B", nil
	}
	return "", fmt.Errorf("neither A nor B: %+v", got)
}

// upstream is a stand-in for the store: every response carries MinIO's
// permissive CORS headers, which the sidecar must replace. A path with a
// segment "slow" waits until release is closed (or the client leaves).
type upstream struct {
	*httptest.Server
	release chan struct{}
	once    sync.Once
}

func startUpstream(t testing.TB) *upstream {
	t.Helper()
	u := &upstream{release: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/slow") {
			select {
			case <-u.release:
			case <-r.Context().Done():
				return
			}
		}
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
		h.Add("Vary", "Accept-Encoding")
		h.Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "object "+r.URL.Path)
	}))
	t.Cleanup(func() { u.Release(); u.Close() })
	return u
}

// Release lets the slow requests finish.
func (u *upstream) Release() { u.once.Do(func() { close(u.release) }) }

// Addr is host:port of the upstream.
func (u *upstream) Addr() string { return strings.TrimPrefix(u.URL, "http://") }

// signedCORS returns a PUT, GET or DELETE of base/<bucket>?cors signed
// with SigV4 at time at, as the Go SDK signs it (Content-MD5 on a PUT).
func signedCORS(t testing.TB, method, base, bucket, body, key, secret string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, base+"/"+bucket+"?cors", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if method == http.MethodPut {
		sum := md5.Sum([]byte(body))
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	hash := sha256.Sum256([]byte(body))
	payload := hex.EncodeToString(hash[:])
	req.Header.Set("X-Amz-Content-Sha256", payload)
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// appPreflight builds an OPTIONS request from appOrigin for method.
func appPreflight(t testing.TB, url, method string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", appOrigin)
	req.Header.Set("Access-Control-Request-Method", method)
	return req
}

// adminPut stores doc as bucket's configuration through the admin API and
// returns the status.
func adminPut(t testing.TB, client *http.Client, admin, bucket, doc string) (int, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+admin+"/s3_cors/buckets/"+bucket, strings.NewReader(doc))
	if err != nil {
		return 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// adminGet returns the status and body of GET /s3_cors/buckets/<bucket>.
func adminGet(t testing.TB, admin, bucket string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + admin + "/s3_cors/buckets/" + bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// sendWith does req with client and returns the response with its body read.
func sendWith(client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// mustSend is send that fails the test on a transport error.
func mustSend(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, b, err := sendWith(http.DefaultClient, req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return res, string(b)
}

// goroutines returns the goroutine count of the Caddy process from its
// admin pprof endpoint.
func goroutines(t testing.TB, admin string) int {
	t.Helper()
	res, err := http.Get("http://" + admin + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	m := regexp.MustCompile(`goroutine profile: total (\d+)`).FindSubmatch(line)
	if m == nil {
		t.Fatalf("goroutine profile: %q", line)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// rssKiB returns the resident set size of process pid in KiB.
func rssKiB(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// rawExchange writes raw to addr and returns everything the server sends
// until it closes the connection or wait passes.
func rawExchange(t testing.TB, addr string, raw []byte, wait time.Duration) []byte {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	var out bytes.Buffer
	_, _ = io.Copy(&out, conn)
	return out.Bytes()
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
