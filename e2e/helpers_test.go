package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
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

// send sends a request and reads its whole body, failing the test on a
// transport error.
func send(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
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

// awsCLI runs the aws cli against one endpoint with fixed credentials and
// nothing from the user's configuration.
type awsCLI struct {
	bin      string
	endpoint string
	env      []string
	dir      string
}

// newAWSCLI returns an aws cli for endpoint (a base URL) with the given
// credentials, region us-east-1, no configuration files, no instance
// metadata and no retries (a failure must show at once).
func newAWSCLI(t *testing.T, endpoint, accessKey, secretKey string) *awsCLI {
	t.Helper()
	return &awsCLI{bin: testenv.RequireAWSCLI(t), endpoint: endpoint, env: awsEnv(accessKey, secretKey), dir: t.TempDir()}
}

// awsEnv is the environment of an aws cli run: the test's own without any
// AWS_ setting, plus the credentials, region us-east-1, no configuration
// files, no instance metadata and no retries (a failure must show at once).
func awsEnv(accessKey, secretKey string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+accessKey,
		"AWS_SECRET_ACCESS_KEY="+secretKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_RETRY_MODE=standard",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
	)
}

// file writes content to a file in the cli's directory and returns its
// file:// argument.
func (a *awsCLI) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(a.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

// run runs `aws s3api <args> --endpoint-url <endpoint>` and returns stdout,
// stderr and the exit code.
func (a *awsCLI) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append(append([]string{"s3api"}, args...), "--endpoint-url", a.endpoint)
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = a.env
	cmd.Dir = a.dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// mustRun is run that fails the test on a non-zero exit.
func (a *awsCLI) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := a.run(t, args...)
	if code != 0 {
		t.Fatalf("aws s3api %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// serviceErrorExit is the exit status of the aws cli when the service
// answered with an error: 254 for aws cli v2, which documents it, and 255
// for v1, whose clidriver turns every exception (a ClientError included)
// into 255.
func (a *awsCLI) serviceErrorExit(t *testing.T) int {
	t.Helper()
	out, err := exec.Command(a.bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("aws --version: %v\n%s", err, out)
	}
	if strings.HasPrefix(string(out), "aws-cli/1.") {
		return 255
	}
	return 254
}
