package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// docsOrigin is the origin of the configurations in
// docs/browser-uploads.md; the tests put them with their page's origin.
const docsOrigin = "https://app.example.com"

// docsPage returns docs/browser-uploads.md.
func docsPage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "browser-uploads.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docsRules returns the CORS configuration of the JSON block marked
// `<!-- rules: name -->` in docs/browser-uploads.md, with origin in place of
// docsOrigin: the page documents exactly what these tests put.
func docsRules(t *testing.T, name, origin string) string {
	t.Helper()
	marker := "<!-- rules: " + name + " -->\n```json\n"
	_, rest, ok := strings.Cut(docsPage(t), marker)
	if !ok {
		t.Fatalf("docs/browser-uploads.md has no %q block", marker)
	}
	doc, _, ok := strings.Cut(rest, "```")
	if !ok || !strings.Contains(doc, docsOrigin) {
		t.Fatalf("docs/browser-uploads.md: block %q is unterminated or lacks the origin %s", name, docsOrigin)
	}
	return strings.ReplaceAll(doc, docsOrigin, origin)
}

// docsLine returns the line of docs/browser-uploads.md that starts with
// prefix.
func docsLine(t *testing.T, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(docsPage(t), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("docs/browser-uploads.md has no line starting with %q", prefix)
	return ""
}

// editRules decodes a CORS configuration document, applies edit to every
// rule and encodes it again: the variants of a documented configuration
// that the tests show failing.
func editRules(t *testing.T, doc string, edit func(rule map[string]any)) string {
	t.Helper()
	var cfg struct {
		CORSRules []map[string]any
	}
	if err := json.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatalf("configuration %s: %v", doc, err)
	}
	for _, r := range cfg.CORSRules {
		edit(r)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// uploadsPage is the page of origin A: the bundle of e2e/browser/uploads.js
// defines the window functions the test calls.
const uploadsPage = `<!doctype html>
<meta charset="utf-8">
<title>caddy-s3cors uploads test</title>
<link rel="icon" href="data:,">
<script src="/uploads.js"></script>
<p>caddy-s3cors uploads test page</p>
`

// uppyResult is what window.uppyUpload returns.
type uppyResult struct {
	Successful []struct {
		Location string `json:"location"`
		Key      string `json:"key"`
	} `json:"successful"`
	Failed []string `json:"failed"`
	Parts  []struct {
		PartNumber int    `json:"PartNumber"`
		ETag       string `json:"ETag"`
	} `json:"parts"`
	Log []string `json:"log"`
}

// formResult is what window.formUpload returns.
type formResult struct {
	Status   int      `json:"status"`
	ETag     *string  `json:"etag"`
	Location *string  `json:"location"`
	Headers  []string `json:"headers"`
	Body     string   `json:"body"`
	Error    string   `json:"error"`
}

// sdkResult is what window.sdkPutGet returns.
type sdkResult struct {
	Sent [][]string `json:"sent"`
	Put  *struct {
		Status        int     `json:"status"`
		ETag          *string `json:"etag"`
		ChecksumCRC32 *string `json:"checksumCRC32"`
	} `json:"put"`
	PutError string `json:"putError"`
	Get      *struct {
		Status int     `json:"status"`
		ETag   *string `json:"etag"`
		Body   string  `json:"body"`
	} `json:"get"`
	GetError string `json:"getError"`
}

// uploadStep is one call of the Chromium run and the check of its result,
// run as a subtest once the browser is done.
type uploadStep struct {
	name  string
	call  browserCall
	check func(t *testing.T, raw json.RawMessage)
}

// TestBrowserUploads uploads from headless Chromium, on a page of origin A,
// through the sidecar to MinIO, with the libraries web apps use and the
// configurations of docs/browser-uploads.md: Uppy's multipart upload with
// presigned parts (and its failure when ETag is not exposed), an S3 POST
// policy form upload (simple and preflighted), and the AWS SDK for
// JavaScript v3 signing in the page (and its refused preflight when the
// rule lists too few headers, with the reason in the log).
func TestBrowserUploads(t *testing.T) {
	testenv.RequireChromium(t)
	testenv.RequireNode(t, "e2e/browser", "playwright-core", "esbuild", "@uppy/core", "@uppy/aws-s3", "@aws-sdk/client-s3")
	bundle := bundlePage(t, "uploads.js")
	ctx := context.Background()

	m := testenv.StartMinIO(t)
	// debug: a refused preflight is logged with its reason.
	c := testenv.StartCaddy(t, "{\n\tdebug\n"+strings.TrimPrefix(globalOptions("sync_interval 1s"), "{\n")+proxySite(m.Endpoint),
		testenv.CaddyOptions{Ports: 1})
	sidecar := c.URL(0)
	mc := minioClient(t, m)
	// The signing endpoint's presigner: MinIO's credentials, the sidecar's
	// address (the Host MinIO checks). The region is fixed, so presigning
	// asks nothing of the store.
	signer, err := minio.New(strings.TrimPrefix(sidecar, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""), Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}

	// 22 MiB in 5 MiB parts: five parts, the last one short.
	const chunkSize = 5 << 20
	big := make([]byte, 22<<20)
	rng := rand.New(rand.NewPCG(15, 22))
	for i := 0; i < len(big); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < len(big); j++ {
			big[i+j] = byte(v >> (8 * j))
		}
	}

	var signedMu sync.Mutex
	var signed []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, uploadsPage)
	})
	mux.HandleFunc("GET /uploads.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(bundle)
	})
	mux.HandleFunc("GET /data/big.bin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(big)
	})
	// The signing endpoint of the app's server, as Uppy's signRequest
	// calls it: one presigned URL per S3 request.
	mux.HandleFunc("POST /sign", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Bucket     string `json:"bucket"`
			Method     string `json:"method"`
			Key        string `json:"key"`
			UploadID   string `json:"uploadId"`
			PartNumber int    `json:"partNumber"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		params := url.Values{}
		switch {
		case req.Method == http.MethodPost && req.UploadID == "":
			params.Set("uploads", "") // CreateMultipartUpload
		case req.UploadID != "":
			params.Set("uploadId", req.UploadID)
			if req.PartNumber != 0 {
				params.Set("partNumber", strconv.Itoa(req.PartNumber))
			}
		}
		u, err := signer.Presign(r.Context(), req.Method, req.Bucket, req.Key, 15*time.Minute, params)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		signedMu.Lock()
		signed = append(signed, req.Method+" "+req.Bucket+"/"+req.Key+"?"+params.Encode())
		signedMu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"url": u.String()})
	})
	pageSrv := httptest.NewUnstartedServer(mux)
	t.Cleanup(pageSrv.Close)
	originA := "http://" + pageSrv.Listener.Addr().String()

	// Each bucket gets a configuration of the docs page, or a variant of
	// one that the docs say fails.
	uppyRules := docsRules(t, "uppy", originA)
	formRules := docsRules(t, "form", originA)
	sdkAny := docsRules(t, "sdk-any", originA)
	narrowHeaders := []any{"authorization", "content-type", "x-amz-date", "x-amz-content-sha256"}
	configs := map[string]string{
		"uppy":        uppyRules,
		"uppy-hidden": editRules(t, uppyRules, func(r map[string]any) { delete(r, "ExposeHeaders") }),
		"forms":       formRules,
		"forms-plain": editRules(t, formRules, func(r map[string]any) { delete(r, "ExposeHeaders"); delete(r, "AllowedHeaders") }),
		"sdk-any":     sdkAny,
		"sdk-listed":  docsRules(t, "sdk-listed", originA),
		"sdk-narrow":  editRules(t, sdkAny, func(r map[string]any) { r["AllowedHeaders"] = narrowHeaders }),
	}
	ad := adminOf(t, c)
	for bucket, doc := range configs {
		makeBucket(t, mc, bucket)
		ad.mustPut(bucket, doc)
	}

	formPost := func(bucket, key string, headers map[string]string) browserCall {
		p := minio.NewPostPolicy()
		for _, err := range []error{
			p.SetBucket(bucket), p.SetKey(key), p.SetExpires(time.Now().UTC().Add(15 * time.Minute)),
			p.SetSuccessStatusAction("201"), p.SetContentType("text/plain"),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		u, fields, err := signer.PresignedPostPolicy(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return browserCall{"formUpload", map[string]any{
			"url": u.String(), "fields": fields, "file": "form upload of " + key + "\n", "headers": headers,
		}}
	}
	sdkCall := func(bucket string) browserCall {
		return browserCall{"sdkPutGet", map[string]string{
			"endpoint": sidecar, "accessKeyId": m.AccessKey, "secretAccessKey": m.SecretKey,
			"bucket": bucket, "key": "sdk.txt", "body": "put by the JS SDK in " + bucket + "\n",
		}}
	}
	uppyCall := func(bucket string) browserCall {
		return browserCall{"uppyUpload", map[string]any{
			"bucket": bucket, "key": "big.bin", "dataURL": "/data/big.bin", "chunkSize": chunkSize,
		}}
	}

	// stat returns the object's info, ok false when it is not in MinIO.
	stat := func(t *testing.T, bucket, key string) (minio.ObjectInfo, bool) {
		t.Helper()
		info, err := mc.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return info, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return info, true
	}
	// explain runs `caddy s3-cors explain` for a request of origin A.
	explain := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := c.Run("", append([]string{"s3-cors", "explain", "--address", c.Admin, "--origin", originA}, args...)...)
		if err != nil {
			t.Fatalf("caddy s3-cors explain %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("caddy s3-cors explain %s:\n%s", strings.Join(args, " "), out)
		return out
	}
	// deniedLog waits for the debug line of a refused preflight on bucket.
	deniedLog := func(t *testing.T, bucket string) string {
		t.Helper()
		var line string
		waitUntil(t, 10*time.Second, "the log of the refused preflight on "+bucket, func() bool {
			for _, l := range strings.Split(c.Output(), "\n") {
				if strings.Contains(l, "preflight denied") && strings.Contains(l, `"bucket":"`+bucket+`"`) {
					line = l
					return true
				}
			}
			return false
		})
		t.Logf("sidecar log: %s", line)
		return line
	}

	steps := []uploadStep{
		{"uppy multipart with ETag exposed", uppyCall("uppy"), func(t *testing.T, raw json.RawMessage) {
			var r uppyResult
			decodeResult(t, raw, &r)
			if len(r.Failed) != 0 || len(r.Successful) != 1 {
				t.Fatalf("want one successful upload, got %+v", r)
			}
			if want := (len(big) + chunkSize - 1) / chunkSize; len(r.Parts) != want {
				t.Errorf("Uppy uploaded %d parts, want %d", len(r.Parts), want)
			}
			for _, p := range r.Parts {
				if p.ETag == "" {
					t.Errorf("part %d: no ETag read", p.PartNumber)
				}
			}
			if !strings.Contains(r.Successful[0].Location, "/uppy/big.bin") {
				t.Errorf("location of the completed upload: %q", r.Successful[0].Location)
			}
			info, ok := stat(t, "uppy", "big.bin")
			if !ok {
				t.Fatal("big.bin is not in MinIO")
			}
			// A multipart object's ETag ends in its number of parts.
			if !strings.HasSuffix(info.ETag, "-"+strconv.Itoa(len(r.Parts))) {
				t.Errorf("ETag in MinIO %q: not a %d-part upload", info.ETag, len(r.Parts))
			}
			if got := getObject(t, mc, "uppy", "big.bin"); sha256.Sum256([]byte(got)) != sha256.Sum256(big) {
				t.Errorf("big.bin in MinIO: %d bytes differing from the %d uploaded", len(got), len(big))
			}
			if out := explain(t, "--bucket", "uppy", "--method", "PUT", "--path", "big.bin"); !strings.Contains(out, "Access-Control-Expose-Headers: ETag") {
				t.Errorf("explain does not show ETag exposed")
			}
		}},
		{"uppy multipart without ExposeHeader ETag fails", uppyCall("uppy-hidden"), func(t *testing.T, raw json.RawMessage) {
			var r uppyResult
			decodeResult(t, raw, &r)
			if len(r.Successful) != 0 || len(r.Failed) != 1 || !strings.Contains(r.Failed[0], "Missing ETag") {
				t.Fatalf("want the upload to fail on the hidden ETag, got %+v", r)
			}
			if _, ok := stat(t, "uppy-hidden", "big.bin"); ok {
				t.Error("big.bin is in MinIO although the upload failed")
			}
			// The part Uppy could not read the ETag of reached the store:
			// the upload is left incomplete, as the docs say.
			var incomplete []string
			for u := range mc.ListIncompleteUploads(ctx, "uppy-hidden", "", true) {
				if u.Err != nil {
					t.Fatal(u.Err)
				}
				parts, err := (&minio.Core{Client: mc}).ListObjectParts(ctx, "uppy-hidden", u.Key, u.UploadID, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range parts.ObjectParts {
					incomplete = append(incomplete, fmt.Sprintf("%s part %d (%d bytes)", u.Key, p.PartNumber, p.Size))
				}
			}
			t.Logf("parts of incomplete uploads in MinIO: %v", incomplete)
			if want := fmt.Sprintf("big.bin part 1 (%d bytes)", chunkSize); len(incomplete) != 1 || incomplete[0] != want {
				t.Errorf("want %s left in MinIO, got %v", want, incomplete)
			}
			out := explain(t, "--bucket", "uppy-hidden", "--method", "PUT", "--path", "big.bin")
			if !strings.Contains(out, "actual request: ALLOWED") || strings.Contains(out, "Access-Control-Expose-Headers") ||
				!strings.Contains(out, "scripts cannot read ETag") {
				t.Errorf("explain does not say that ETag is hidden")
			}
			// The docs quote that line.
			if line := docsLine(t, "readable by scripts: "); !strings.Contains(out, line+"\n") {
				t.Errorf("docs/browser-uploads.md quotes %q, explain printed otherwise", line)
			}
		}},
		{"form POST policy, simple request, ETag and Location exposed", formPost("forms", "simple.txt", nil), func(t *testing.T, raw json.RawMessage) {
			checkFormUpload(t, raw, mc, "forms", "simple.txt", true)
		}},
		{"form POST policy, preflighted by a custom header", formPost("forms", "preflighted.txt", map[string]string{"x-requested-with": "uploads-test"}),
			func(t *testing.T, raw json.RawMessage) {
				checkFormUpload(t, raw, mc, "forms", "preflighted.txt", true)
			}},
		{"form POST policy, simple request, nothing exposed", formPost("forms-plain", "simple.txt", nil), func(t *testing.T, raw json.RawMessage) {
			checkFormUpload(t, raw, mc, "forms-plain", "simple.txt", false)
		}},
		{"form POST policy, custom header not allowed is blocked at the preflight", formPost("forms-plain", "preflighted.txt", map[string]string{"x-requested-with": "uploads-test"}),
			func(t *testing.T, raw json.RawMessage) {
				var r formResult
				decodeResult(t, raw, &r)
				if r.Error != failedToFetch {
					t.Errorf("want the browser to block the upload (%s), got %+v", failedToFetch, r)
				}
				if _, ok := stat(t, "forms-plain", "preflighted.txt"); ok {
					t.Error("the POST reached MinIO although its preflight failed")
				}
				if line := deniedLog(t, "forms-plain"); !strings.Contains(line, `requested header \"x-requested-with\" is not allowed`) {
					t.Errorf("the log does not name the header")
				}
			}},
		{"JS SDK v3 with AllowedHeader *", sdkCall("sdk-any"), func(t *testing.T, raw json.RawMessage) {
			checkSDKUpload(t, raw, mc, "sdk-any")
		}},
		{"JS SDK v3 with the documented header list", sdkCall("sdk-listed"), func(t *testing.T, raw json.RawMessage) {
			checkSDKUpload(t, raw, mc, "sdk-listed")
		}},
		{"JS SDK v3 with too few allowed headers is blocked", sdkCall("sdk-narrow"), func(t *testing.T, raw json.RawMessage) {
			var r sdkResult
			decodeResult(t, raw, &r)
			if r.Put != nil || !strings.Contains(r.PutError, "Failed to fetch") || r.Get != nil || !strings.Contains(r.GetError, "Failed to fetch") {
				t.Errorf("want PutObject and GetObject blocked, got put %+v (%s), get %+v (%s)", r.Put, r.PutError, r.Get, r.GetError)
			}
			if _, ok := stat(t, "sdk-narrow", "sdk.txt"); ok {
				t.Error("the PUT reached MinIO although its preflight failed")
			}
			line := deniedLog(t, "sdk-narrow")
			if !strings.Contains(line, "no rule allows the origin, the method and every requested header together") ||
				!strings.Contains(line, `matches none of AllowedHeader`) || !strings.Contains(line, "x-amz-checksum-crc32") {
				t.Errorf("the log does not say which header the rule misses")
			}
		}},
	}

	calls := make([]browserCall, len(steps))
	for i, s := range steps {
		calls[i] = s.call
	}
	pageSrv.Start()
	results, _ := runBrowserWithin(t, 5*time.Minute, originA+"/", calls)
	signedMu.Lock()
	t.Logf("signing endpoint presigned %d requests:\n%s", len(signed), strings.Join(signed, "\n"))
	signedMu.Unlock()
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			t.Logf("chromium saw: %s", results[i])
			s.check(t, results[i])
		})
	}
}

// decodeResult decodes the result of a page function.
func decodeResult(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
}

// checkFormUpload checks a form upload the browser saw succeed with 201,
// the ETag and Location readable from JS exactly when exposed, and the
// object in MinIO.
func checkFormUpload(t *testing.T, raw json.RawMessage, mc *minio.Client, bucket, key string, exposed bool) {
	t.Helper()
	var r formResult
	decodeResult(t, raw, &r)
	if r.Error != "" || r.Status != http.StatusCreated || !strings.Contains(r.Body, "<PostResponse") {
		t.Fatalf("want 201 with a PostResponse, got %+v", r)
	}
	if got := getObject(t, mc, bucket, key); got != "form upload of "+key+"\n" {
		t.Errorf("%s/%s in MinIO: %q", bucket, key, got)
	}
	info, err := mc.StatObject(context.Background(), bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "text/plain" {
		t.Errorf("content type in MinIO: %q", info.ContentType)
	}
	if !exposed {
		if r.ETag != nil || r.Location != nil || slices.Contains(r.Headers, "etag") {
			t.Errorf("ETag or Location readable from JS although not exposed: %+v", r)
		}
		return
	}
	if r.ETag == nil || *r.ETag != `"`+info.ETag+`"` {
		t.Errorf("ETag read from JS: %v, want %q", r.ETag, info.ETag)
	}
	if r.Location == nil || !strings.Contains(*r.Location, "/"+bucket+"/"+key) {
		t.Errorf("Location read from JS: %v", r.Location)
	}
}

// checkSDKUpload checks PutObject and GetObject of the JS SDK that the
// browser let through: the signed headers (the preflight's list), the
// exposed ETag, and the object in MinIO.
func checkSDKUpload(t *testing.T, raw json.RawMessage, mc *minio.Client, bucket string) {
	t.Helper()
	var r sdkResult
	decodeResult(t, raw, &r)
	body := "put by the JS SDK in " + bucket + "\n"
	if r.Put == nil || r.Put.Status != 200 || r.Get == nil || r.Get.Body != body {
		t.Fatalf("want PutObject and GetObject to succeed, got put %+v (%s), get %+v (%s)", r.Put, r.PutError, r.Get, r.GetError)
	}
	if len(r.Sent) != 2 {
		t.Fatalf("recorded %d signed requests, want 2", len(r.Sent))
	}
	for _, h := range []string{"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-checksum-crc32"} {
		if !slices.Contains(r.Sent[0], h) {
			t.Errorf("PutObject did not send %s: %v", h, r.Sent[0])
		}
	}
	if got := getObject(t, mc, bucket, "sdk.txt"); got != body {
		t.Errorf("%s/sdk.txt in MinIO: %q", bucket, got)
	}
	info, err := mc.StatObject(context.Background(), bucket, "sdk.txt", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Put.ETag == nil || *r.Put.ETag != `"`+info.ETag+`"` || r.Get.ETag == nil || *r.Get.ETag != *r.Put.ETag {
		t.Errorf("ETags read by the SDK: put %v, get %v, want %q", r.Put.ETag, r.Get.ETag, info.ETag)
	}
}
