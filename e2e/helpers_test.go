package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// corsVary is the one Vary value S3 sends with every CORS response.
const corsVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// requestTimeout bounds every HTTP request of these tests, so that a hung
// server fails the test instead of stalling the package.
const requestTimeout = 20 * time.Second

// client is the HTTP client of the tests.
var client = &http.Client{Timeout: requestTimeout}

// response is an HTTP response with its body read.
type response struct {
	status int
	header http.Header
	body   string
}

// send sends a request with the tests' client and reads its whole body,
// failing the test on a transport error.
func send(t *testing.T, req *http.Request) response {
	t.Helper()
	res, body := mustSend(t, req)
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// newRequest is http.NewRequest that fails the test on a malformed URL.
func newRequest(t *testing.T, method, url, body string, header ...string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// admin is the s3_cors admin API of one Caddy process.
type admin struct {
	t    *testing.T
	addr string
}

func adminOf(t *testing.T, c *testenv.Caddy) admin { return admin{t: t, addr: c.Admin} }

func (a admin) url(bucket string) string {
	if bucket == "" {
		return "http://" + a.addr + "/s3_cors/buckets"
	}
	return "http://" + a.addr + "/s3_cors/buckets/" + bucket
}

// put sends a configuration, as JSON when it starts with '{'.
func (a admin) put(bucket, body string) response {
	a.t.Helper()
	req := newRequest(a.t, http.MethodPut, a.url(bucket), body)
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(a.t, req)
}

// mustPut puts a configuration and fails the test unless it is stored.
func (a admin) mustPut(bucket, body string) {
	a.t.Helper()
	if res := a.put(bucket, body); res.status != http.StatusOK {
		a.t.Fatalf("admin put %s: %d %s", bucket, res.status, res.body)
	}
}

// getJSON returns the bucket's configuration in the aws cli JSON shape,
// decoded for comparison, and the status.
func (a admin) getJSON(bucket string) (any, response) {
	a.t.Helper()
	res := send(a.t, newRequest(a.t, http.MethodGet, a.url(bucket), "", "Accept", "application/json"))
	if res.status != http.StatusOK {
		return nil, res
	}
	return decodeJSON(a.t, res.body), res
}

func (a admin) del(bucket string) response {
	a.t.Helper()
	return send(a.t, newRequest(a.t, http.MethodDelete, a.url(bucket), ""))
}

// decodeJSON decodes s into generic values, so that two documents compare
// with reflect.DeepEqual whatever their key order and spacing.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode JSON %q: %v", s, err)
	}
	return v
}

// wantConfig fails the test unless the admin API serves want (aws cli JSON)
// for bucket.
func wantConfig(t *testing.T, a admin, bucket, want string) {
	t.Helper()
	got, res := a.getJSON(bucket)
	if res.status != http.StatusOK {
		t.Fatalf("admin get %s: %d %s", bucket, res.status, res.body)
	}
	if w := decodeJSON(t, want); !reflect.DeepEqual(got, w) {
		t.Fatalf("admin get %s:\n got %v\nwant %v", bucket, got, w)
	}
}

// preflight sends OPTIONS for bucket/key with an Origin and
// Access-Control-Request-Method (and -Headers when given).
func preflight(t *testing.T, base, path, origin, method, headers string) response {
	t.Helper()
	req := newRequest(t, http.MethodOptions, base+path, "", "Origin", origin, "Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	return send(t, req)
}

// corsHeaders returns the CORS part of a response's headers: every
// Access-Control-* header (lines joined with " | " to expose duplicates),
// and "Vary" with the lines of Vary that name a CORS request header. Other
// Vary lines, such as MinIO's Accept-Encoding, are not CORS and are left
// out.
func corsHeaders(h http.Header) map[string]string {
	got := map[string]string{}
	for name, values := range h {
		if strings.HasPrefix(name, "Access-Control-") {
			got[name] = strings.Join(values, " | ")
		}
	}
	var vary []string
	for _, v := range h.Values("Vary") {
		l := strings.ToLower(v)
		if strings.Contains(l, "origin") || strings.Contains(l, "access-control-") {
			vary = append(vary, v)
		}
	}
	if len(vary) > 0 {
		got["Vary"] = strings.Join(vary, " | ")
	}
	return got
}

// checkCORS fails the test unless the CORS headers of h are exactly want
// (nil or empty: none at all).
func checkCORS(t *testing.T, what string, h http.Header, want map[string]string) {
	t.Helper()
	got := corsHeaders(h)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: CORS headers\n got %s\nwant %s", what, formatHeaders(got), formatHeaders(want))
	}
}

func formatHeaders(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("\n  " + k + ": " + m[k])
	}
	return b.String()
}

// s3Code returns the <Code> of an S3 XML error document.
func s3Code(body string) string {
	_, after, ok := strings.Cut(body, "<Code>")
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(after, "</Code>")
	return code
}

// waitUntil polls cond every 50 ms until it holds or timeout passes, and
// returns how long it took; on timeout it fails the test with what.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// s3APISite is a site with s3_cors and the S3 API, in front of upstream
// (host:port), credentials from the environment (see s3Env).
func s3APISite(upstream string) string {
	return `http://127.0.0.1:{{PORT0}} {
	s3_cors {
		s3_api {
			access_key {env.S3_CORS_ACCESS_KEY}
			secret_key {env.S3_CORS_SECRET_KEY}
		}
	}
	reverse_proxy ` + upstream + `
}
`
}

// proxySite is a site with a bare s3_cors in front of upstream (host:port).
func proxySite(upstream string) string {
	return "http://127.0.0.1:{{PORT0}} {\n\ts3_cors\n\treverse_proxy " + upstream + "\n}\n"
}

// globalOptions is the global options block with the admin endpoint and
// the s3_cors app settings given (one per line, tab-indented twice).
func globalOptions(s3cors ...string) string {
	b := "{\n\tadmin {{ADMIN}}\n\ts3_cors {\n"
	for _, l := range s3cors {
		b += "\t\t" + l + "\n"
	}
	return b + "\t}\n}\n"
}

// objectStore is the s3_cors object_store block for m, bucket caddy-s3cors
// prefix cors.
func objectStore(m *testenv.MinIO) string {
	return "object_store {\n\t\t\tendpoint " + m.Endpoint +
		"\n\t\t\taccess_key " + m.AccessKey +
		"\n\t\t\tsecret_key " + m.SecretKey +
		"\n\t\t\tbucket caddy-s3cors\n\t\t\tprefix cors\n\t\t}"
}

// s3Env is the environment that gives the S3 API the credentials; the
// tests use MinIO's root credentials for both, so that one aws cli profile
// manages CORS and objects through the sidecar, as a user of S3 does.
func s3Env(accessKey, secretKey string) []string {
	return []string{"S3_CORS_ACCESS_KEY=" + accessKey, "S3_CORS_SECRET_KEY=" + secretKey}
}

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
	return signedURL(t, method, base+"/"+bucket+"?cors", body, key, secret, at)
}

// signedURL is signedCORS for any URL, with the headers given (name,
// value, ...; "Host" sets the Host sent) signed too.
func signedURL(t testing.TB, method, url, body, key, secret string, at time.Time, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
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

// mustSend is send for the tests that read the *http.Response.
func mustSend(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, b, err := sendWith(client, req)
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

// storedConfig reads the configuration object of bucket from MinIO.
func storedConfig(t *testing.T, m *testenv.MinIO, bucket string) *s3cors.Configuration {
	t.Helper()
	cfg, err := s3cors.ParseXML([]byte(getObject(t, minioClient(t, m), "caddy-s3cors", "cors/"+bucket+".xml")))
	if err != nil {
		t.Fatalf("stored configuration of %s: %v", bucket, err)
	}
	return cfg
}

func mustParseJSON(t *testing.T, doc string) *s3cors.Configuration {
	t.Helper()
	cfg, err := s3cors.ParseJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// servesPreflight reports whether the sidecar at base allows a GET
// preflight from origin to bucket.
func servesPreflight(t *testing.T, base, bucket, origin string) bool {
	t.Helper()
	res := preflight(t, base, "/"+bucket+"/k", origin, "GET", "")
	return res.status == http.StatusOK && res.header.Get("Access-Control-Allow-Origin") == origin
}

// startS3Sidecar starts MinIO and the sidecar in front of it with the S3
// API on MinIO's root credentials, so that one set of credentials manages
// objects (forwarded to MinIO) and CORS (answered by the sidecar).
func startS3Sidecar(t *testing.T) (*testenv.MinIO, *testenv.Caddy) {
	t.Helper()
	m := testenv.StartMinIO(t)
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s", "owner 123456789012")+s3APISite(m.Endpoint),
		testenv.CaddyOptions{Ports: 1, Env: s3Env(m.AccessKey, m.SecretKey)})
	return m, c
}

// minioClient is a minio-go client on m's root credentials.
func minioClient(t *testing.T, m *testenv.MinIO) *minio.Client {
	t.Helper()
	mc, err := minio.New(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// makeBucket creates a bucket in MinIO.
func makeBucket(t *testing.T, mc *minio.Client, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s: %v", bucket, err)
	}
}

// putObject stores an object in MinIO.
func putObject(t *testing.T, mc *minio.Client, bucket, key, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if _, err := mc.PutObject(ctx, bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put object %s/%s: %v", bucket, key, err)
	}
}

// getObject reads an object from MinIO.
func getObject(t *testing.T, mc *minio.Client, bucket, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	obj, err := mc.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get object %s/%s: %v", bucket, key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("get object %s/%s: %v", bucket, key, err)
	}
	return string(b)
}
