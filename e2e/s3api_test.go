package e2e

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// TestAWSCLI manages a bucket's CORS with the real aws cli through the
// sidecar's S3 API, then checks that the configuration governs preflights
// and the headers of objects streamed from MinIO, and that delete makes
// GetBucketCors fail as S3 does.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	m, c := startS3Sidecar(t)
	cli := newAWSCLI(t, c.URL(0), m.AccessKey, m.SecretKey)
	ad := adminOf(t, c)

	// Object requests go through the sidecar to MinIO, signed with the
	// same credentials: the bucket and the object are made that way too.
	cli.mustRun(t, "create-bucket", "--bucket", "photos")
	cli.mustRun(t, "put-object", "--bucket", "photos", "--key", "cat.jpg",
		"--body", strings.TrimPrefix(cli.file(t, "cat.jpg", "meow meow"), "file://"))

	const cors = `{
  "CORSRules": [
    {
      "ID": "app",
      "AllowedHeaders": ["*"],
      "AllowedMethods": ["GET", "PUT"],
      "AllowedOrigins": ["https://app.example.com"],
      "ExposeHeaders": ["ETag", "x-amz-request-id"],
      "MaxAgeSeconds": 3000
    }
  ]
}`
	cli.mustRun(t, "put-bucket-cors", "--bucket", "photos", "--cors-configuration", cli.file(t, "cors.json", cors))

	// The aws cli prints GetBucketCors as the JSON it was given.
	out := cli.mustRun(t, "get-bucket-cors", "--bucket", "photos")
	if got, want := decodeJSON(t, out), decodeJSON(t, cors); !reflect.DeepEqual(got, want) {
		t.Errorf("get-bucket-cors printed\n%s\nwant the document put\n%s", out, cors)
	}
	wantConfig(t, ad, "photos", cors)

	allowed := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, PUT",
		"Access-Control-Expose-Headers":    "ETag, x-amz-request-id",
		"Access-Control-Max-Age":           "3000",
		"Vary":                             corsVary,
	}
	t.Run("preflight", func(t *testing.T) {
		res := preflight(t, c.URL(0), "/photos/cat.jpg", "https://app.example.com", "PUT", "Content-Type, X-Amz-Meta-Owner")
		if res.status != http.StatusOK || res.body != "" {
			t.Fatalf("preflight: %d %q", res.status, res.body)
		}
		checkCORS(t, "preflight", res.header,
			testenv.With(allowed, "Access-Control-Allow-Headers", "content-type, x-amz-meta-owner"))

		res = preflight(t, c.URL(0), "/photos/cat.jpg", "https://evil.example", "GET", "")
		if res.status != http.StatusForbidden || s3Code(res.body) != "AccessForbidden" {
			t.Errorf("denied preflight: %d %s", res.status, res.body)
		}
		checkCORS(t, "denied preflight", res.header, nil)
	})

	t.Run("objects", func(t *testing.T) {
		tests := []struct {
			name, method, origin string
			want                 map[string]string
		}{
			{name: "allowed GET", method: http.MethodGet, origin: "https://app.example.com", want: allowed},
			{name: "allowed HEAD is not a rule method", method: http.MethodHead, origin: "https://app.example.com"},
			{name: "other origin", method: http.MethodGet, origin: "https://evil.example"},
			{name: "no origin", method: http.MethodGet},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req := newRequest(t, tt.method, c.URL(0)+"/photos/cat.jpg", "")
				if tt.origin != "" {
					req.Header.Set("Origin", tt.origin)
				}
				res := send(t, req)
				// MinIO denies anonymous reads: its 403 still carries its
				// own CORS headers, which must be gone, and the rule's
				// headers are added whatever the status, as S3 does.
				if res.status != http.StatusForbidden {
					t.Fatalf("anonymous %s: status %d, want MinIO's 403", tt.method, res.status)
				}
				checkCORS(t, tt.name, res.header, tt.want)
			})
		}

		// A presigned GET through the sidecar streams the object, with
		// the rule's headers and none of MinIO's.
		url := presignGet(t, c.URL(0), m.AccessKey, m.SecretKey, "photos", "cat.jpg")
		res := send(t, newRequest(t, http.MethodGet, url, "", "Origin", "https://app.example.com"))
		if res.status != http.StatusOK || res.body != "meow meow" {
			t.Fatalf("presigned GET: %d %q", res.status, res.body)
		}
		checkCORS(t, "presigned GET", res.header, allowed)
	})

	t.Run("delete", func(t *testing.T) {
		cli.mustRun(t, "delete-bucket-cors", "--bucket", "photos")
		out, errOut, code := cli.run(t, "get-bucket-cors", "--bucket", "photos")
		if want := cli.serviceErrorExit(t); code != want || !strings.Contains(errOut, "NoSuchCORSConfiguration") {
			t.Errorf("get-bucket-cors after delete: exit %d, want %d with NoSuchCORSConfiguration\nstdout %s\nstderr %s",
				code, want, out, errOut)
		}
		// Deleting again is no error, as with S3.
		cli.mustRun(t, "delete-bucket-cors", "--bucket", "photos")
		res := preflight(t, c.URL(0), "/photos/cat.jpg", "https://app.example.com", "GET", "")
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "CORS is not enabled for this bucket") {
			t.Errorf("preflight after delete: %d %s", res.status, res.body)
		}
	})
}

// TestAWSDocsExample puts the example configuration of the S3 user guide
// (PUT, POST and DELETE from http://www.example.com with any header; GET
// from any origin) with the aws cli, and checks that preflights and GETs
// through the sidecar get exactly the headers S3 documents.
func TestAWSDocsExample(t *testing.T) {
	t.Parallel()
	m, c := startS3Sidecar(t)
	cli := newAWSCLI(t, c.URL(0), m.AccessKey, m.SecretKey)
	mc := minioClient(t, m)
	makeBucket(t, mc, "examplebucket")
	putObject(t, mc, "examplebucket", "index.html", "<p>hello</p>")
	const docs = `{"CORSRules": [
		{"AllowedHeaders": ["*"], "AllowedMethods": ["PUT", "POST", "DELETE"], "AllowedOrigins": ["http://www.example.com"]},
		{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}
	]}`
	cli.mustRun(t, "put-bucket-cors", "--bucket", "examplebucket", "--cors-configuration", cli.file(t, "docs.json", docs))

	www := map[string]string{
		"Access-Control-Allow-Origin":      "http://www.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "PUT, POST, DELETE",
		"Vary":                             corsVary,
	}
	anyGet := map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET",
		"Vary":                         corsVary,
	}
	preflights := []struct {
		name, origin, method, headers string
		status                        int
		want                          map[string]string
	}{
		{name: "www PUT", origin: "http://www.example.com", method: "PUT", status: 200, want: www},
		{name: "www DELETE with headers", origin: "http://www.example.com", method: "DELETE", headers: "X-Custom, content-type",
			status: 200, want: testenv.With(www, "Access-Control-Allow-Headers", "x-custom, content-type")},
		{name: "www GET falls to the second rule", origin: "http://www.example.com", method: "GET", status: 200, want: anyGet},
		{name: "any origin GET", origin: "https://elsewhere.example", method: "GET", status: 200, want: anyGet},
		{name: "any origin GET with a header", origin: "https://elsewhere.example", method: "GET", headers: "x-custom", status: 403},
		{name: "any origin PUT", origin: "https://elsewhere.example", method: "PUT", status: 403},
		{name: "www with port is another origin", origin: "http://www.example.com:80", method: "PUT", status: 403},
	}
	for _, tt := range preflights {
		t.Run("preflight "+tt.name, func(t *testing.T) {
			res := preflight(t, c.URL(0), "/examplebucket/index.html", tt.origin, tt.method, tt.headers)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status == 403 && s3Code(res.body) != "AccessForbidden" {
				t.Errorf("code %q, want AccessForbidden: %s", s3Code(res.body), res.body)
			}
			checkCORS(t, tt.name, res.header, tt.want)
		})
	}

	gets := []struct {
		name, origin string
		want         map[string]string
	}{
		{name: "www", origin: "http://www.example.com", want: anyGet},
		{name: "any origin", origin: "https://elsewhere.example", want: anyGet},
		{name: "no origin"},
	}
	url := presignGet(t, c.URL(0), m.AccessKey, m.SecretKey, "examplebucket", "index.html")
	for _, tt := range gets {
		t.Run("GET "+tt.name, func(t *testing.T) {
			req := newRequest(t, http.MethodGet, url, "")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			res := send(t, req)
			if res.status != http.StatusOK || res.body != "<p>hello</p>" {
				t.Fatalf("GET: %d %q", res.status, res.body)
			}
			checkCORS(t, tt.name, res.header, tt.want)
		})
	}
}
