package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// The s3_api credentials of the sidecar: distinct from MinIO's, which only
// the store checks (presigned URLs).
const (
	sidecarAccessKey = "cors-admin"
	sidecarSecretKey = "cors-admin-secret"
)

// failedToFetch is what Chromium's fetch throws when CORS blocks a request.
const failedToFetch = "TypeError: Failed to fetch"

// browserStep is one call of the single Chromium run, and the check of its
// result, run as a subtest after the browser is done.
type browserStep struct {
	name  string
	call  browserCall
	check func(t *testing.T, r fetchResult)
}

// TestBrowser drives headless Chromium on a page of origin A (a Go server)
// that fetches from and uploads to MinIO through the sidecar (origin B), in
// one Chromium launch: the browser reads an exposed ETag when the bucket
// allows origin A, is blocked when it does not, uploads with a presigned
// PUT URL of the Go SDK after a preflight, and follows configurations put
// and deleted with the aws cli through the sidecar's S3 API.
func TestBrowser(t *testing.T) {
	testenv.RequireChromium(t)
	testenv.RequireNode(t, "e2e/browser", "playwright-core")
	awsBin := testenv.RequireAWSCLI(t)
	ctx := context.Background()

	m := testenv.StartMinIO(t)
	mc, err := minio.New(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	etags := map[string]string{}
	for _, bucket := range []string{"photos", "private", "swap"} {
		if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
		body := "meow from " + bucket
		info, err := mc.PutObject(ctx, bucket, "cat.txt", strings.NewReader(body), int64(len(body)),
			minio.PutObjectOptions{ContentType: "text/plain"})
		if err != nil {
			t.Fatal(err)
		}
		etags[bucket] = `"` + info.ETag + `"`
		// Anonymous reads, as for a public site's assets: the browser's
		// GETs carry no credentials.
		if err := mc.SetBucketPolicy(ctx, bucket, publicReadPolicy(bucket)); err != nil {
			t.Fatal(err)
		}
	}

	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
	s3_cors {
		sync_interval 1s
	}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		s3_api {
			access_key `+sidecarAccessKey+`
			secret_key `+sidecarSecretKey+`
		}
	}
	reverse_proxy `+m.Endpoint+`
}
`, testenv.CaddyOptions{Ports: 1})
	sidecar := c.URL(0)

	// Origin A: the page, and the control steps the page asks for between
	// two fetches.
	controls := map[string]func(ctx context.Context) (string, error){}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, fetchPage)
	})
	mux.HandleFunc("POST /control/{step}", func(w http.ResponseWriter, r *http.Request) {
		f := controls[r.PathValue("step")]
		if f == nil {
			http.Error(w, "no such step", http.StatusNotFound)
			return
		}
		out, err := f(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, out)
	})
	// Started only once every control step is set: the handlers read the
	// map without a lock.
	pageSrv := httptest.NewUnstartedServer(mux)
	t.Cleanup(pageSrv.Close)
	originA := "http://" + pageSrv.Listener.Addr().String()

	adminOf(t, c).mustPut("photos", `{"CORSRules":[{"AllowedOrigins":["`+originA+`"],"AllowedMethods":["GET","PUT"],`+
		`"AllowedHeaders":["content-type","x-amz-meta-test"],"ExposeHeaders":["ETag"]}]}`)
	adminOf(t, c).mustPut("private", `{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET","PUT"],"AllowedHeaders":["*"]}]}`)

	awsRun := func(ctx context.Context, args ...string) (string, error) {
		return runAWS(ctx, awsBin, sidecar, sidecarAccessKey, sidecarSecretKey, args...)
	}
	controls["put-cors-no-expose"] = func(ctx context.Context) (string, error) {
		return awsRun(ctx, "s3api", "put-bucket-cors", "--bucket", "swap", "--cors-configuration",
			`{"CORSRules":[{"AllowedOrigins":["`+originA+`"],"AllowedMethods":["GET"]}]}`)
	}
	controls["put-cors-expose-etag"] = func(ctx context.Context) (string, error) {
		if _, err := awsRun(ctx, "s3api", "put-bucket-cors", "--bucket", "swap", "--cors-configuration",
			`{"CORSRules":[{"AllowedOrigins":["`+originA+`"],"AllowedMethods":["GET"],"ExposeHeaders":["ETag"]}]}`); err != nil {
			return "", err
		}
		return awsRun(ctx, "s3api", "get-bucket-cors", "--bucket", "swap")
	}
	controls["delete-cors"] = func(ctx context.Context) (string, error) {
		return awsRun(ctx, "s3api", "delete-bucket-cors", "--bucket", "swap")
	}

	// Presigned PUT URLs of the Go SDK, for the sidecar's address (the
	// Host MinIO checks), signed with MinIO's credentials. Content-Type
	// application/octet-stream (not CORS-safelisted) and x-amz-meta-test
	// are signed headers the browser must send, so it preflights.
	presign := s3.NewPresignClient(s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(sidecar),
		UsePathStyle: true,
		Credentials:  awsStaticCredentials{m.AccessKey, m.SecretKey},
	}))
	presignPut := func(bucket, key string) map[string]any {
		req, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(bucket),
			Key:         aws.String(key),
			ContentType: aws.String("application/octet-stream"),
			Metadata:    map[string]string{"test": "from-chromium"},
		}, s3.WithPresignExpires(15*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		headers := map[string]string{}
		for name, values := range req.SignedHeader {
			if !strings.EqualFold(name, "Host") {
				headers[name] = strings.Join(values, ",")
			}
		}
		t.Logf("presigned PUT %s, headers to send %v", req.URL, headers)
		return map[string]any{"url": req.URL, "headers": headers}
	}
	upload := []byte("uploaded by chromium through the sidecar\n")
	putPhotos := presignPut("photos", "upload.bin")
	putPhotos["body"] = string(upload)
	putPrivate := presignPut("private", "upload.bin")
	putPrivate["body"] = string(upload)

	get := func(bucket string) browserCall {
		return browserCall{"getObject", map[string]string{"url": sidecar + "/" + bucket + "/cat.txt"}}
	}
	control := func(step string) browserStep {
		return browserStep{"control " + step, browserCall{"control", map[string]string{"step": step}}, nil}
	}
	allowedWithETag := func(bucket string) func(t *testing.T, r fetchResult) {
		return func(t *testing.T, r fetchResult) {
			if r.Error != "" || r.Status != 200 || r.Body != "meow from "+bucket {
				t.Fatalf("want 200 with the object, got %v", r)
			}
			if r.ETag == nil || *r.ETag != etags[bucket] {
				t.Errorf("ETag read from JS: want %s, got %v", etags[bucket], r)
			}
		}
	}
	blocked := func(t *testing.T, r fetchResult) {
		if r.Error != failedToFetch {
			t.Errorf("want the browser to block the request (%s), got %v", failedToFetch, r)
		}
	}

	steps := []browserStep{
		{"GET allowed origin reads exposed ETag", get("photos"), allowedWithETag("photos")},
		{"GET origin not allowed is blocked", get("private"), func(t *testing.T, r fetchResult) {
			blocked(t, r)
			// The store still serves the object; only the browser is
			// kept from reading it.
			res, body := fetch(t, "GET", sidecar+"/private/cat.txt", nil)
			if res.StatusCode != 200 || body != "meow from private" {
				t.Errorf("GET without Origin from Go: %d %q", res.StatusCode, body)
			}
			res, _ = fetch(t, "GET", sidecar+"/private/cat.txt", http.Header{"Origin": {originA}})
			if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("GET with Origin A from Go: %d, Access-Control-Allow-Origin %q (MinIO's must be stripped)",
					res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
			}
		}},
		{"presigned PUT after preflight lands in MinIO", browserCall{"putObject", putPhotos}, func(t *testing.T, r fetchResult) {
			if r.Error != "" || r.Status != 200 {
				t.Fatalf("want 200, got %v", r)
			}
			obj, err := mc.GetObject(ctx, "photos", "upload.bin", minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(obj)
			if err != nil {
				t.Fatalf("object not in MinIO: %v", err)
			}
			if !bytes.Equal(got, upload) {
				t.Errorf("object in MinIO: %q, want %q", got, upload)
			}
			info, err := obj.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if info.ContentType != "application/octet-stream" || info.UserMetadata["Test"] != "from-chromium" {
				t.Errorf("object in MinIO: content type %q, metadata %v", info.ContentType, info.UserMetadata)
			}
			if r.ETag == nil || *r.ETag != `"`+info.ETag+`"` {
				t.Errorf("ETag of the PUT read from JS: %v, want %q", r, info.ETag)
			}
		}},
		{"presigned PUT origin not allowed is blocked at the preflight", browserCall{"putObject", putPrivate}, func(t *testing.T, r fetchResult) {
			blocked(t, r)
			if _, err := mc.StatObject(ctx, "private", "upload.bin", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
				t.Errorf("the PUT reached MinIO although its preflight failed: stat: %v", err)
			}
		}},
		{"GET bucket without configuration is blocked", get("swap"), blocked},
		control("put-cors-no-expose"),
		{"GET after aws put-bucket-cors is allowed, ETag not exposed", get("swap"), func(t *testing.T, r fetchResult) {
			if r.Error != "" || r.Status != 200 || r.Body != "meow from swap" {
				t.Fatalf("want 200 with the object, got %v", r)
			}
			if r.ETag != nil || slices.Contains(r.Headers, "etag") {
				t.Errorf("ETag readable from JS although not exposed: %v", r)
			}
		}},
		control("put-cors-expose-etag"),
		{"GET after the configuration is replaced reads ETag", get("swap"), allowedWithETag("swap")},
		control("delete-cors"),
		{"GET after aws delete-bucket-cors is blocked again", get("swap"), blocked},
	}

	calls := make([]browserCall, len(steps))
	for i, s := range steps {
		calls[i] = s.call
	}
	pageSrv.Start()
	results, _ := runBrowser(t, originA+"/", calls)
	for i, s := range steps {
		if s.call.Fn == "control" {
			var r struct {
				Status int    `json:"status"`
				Body   string `json:"body"`
			}
			if err := json.Unmarshal(results[i], &r); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d %s", s.name, r.Status, strings.TrimSpace(r.Body))
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", s.name, r.Status, r.Body)
			}
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			var r fetchResult
			if err := json.Unmarshal(results[i], &r); err != nil {
				t.Fatalf("result %s: %v", results[i], err)
			}
			t.Logf("chromium saw: %v", r)
			s.check(t, r)
		})
	}
}

// publicReadPolicy is a bucket policy letting anyone GET the bucket's
// objects.
func publicReadPolicy(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
		`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + bucket + `/*"]}]}`
}

// fetch sends a request from Go (no browser, no CORS enforcement) and
// returns the response and its body.
func fetch(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return mustSend(t, req)
}

// awsStaticCredentials are fixed credentials for the Go SDK.
type awsStaticCredentials struct{ accessKey, secretKey string }

// Retrieve implements aws.CredentialsProvider.
func (c awsStaticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: c.accessKey, SecretAccessKey: c.secretKey, Source: "e2e"}, nil
}
