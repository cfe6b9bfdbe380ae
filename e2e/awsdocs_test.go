package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// awsDocsExample is the first example configuration of the Amazon S3 User
// Guide ("Elements of a CORS configuration", Example 1), in the aws cli's
// JSON shape: PUT, POST and DELETE from http://www.example.com with any
// header, and GET from any origin.
const awsDocsExample = `{
  "CORSRules": [
    {
      "AllowedOrigins": ["http://www.example.com"],
      "AllowedMethods": ["PUT", "POST", "DELETE"],
      "AllowedHeaders": ["*"]
    },
    {
      "AllowedOrigins": ["*"],
      "AllowedMethods": ["GET"]
    }
  ]
}`

// corsVary is S3's Vary on every response that carries CORS headers.
const corsVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// TestAWSDocsExample puts the AWS documentation's example configuration
// with the real aws cli through the sidecar's S3 API, then checks that
// requests get exactly the headers S3 sends for it: every Access-Control-*
// header is compared, so a missing, extra or leaked (MinIO's) one fails.
func TestAWSDocsExample(t *testing.T) {
	awsBin := testenv.RequireAWSCLI(t)
	ctx := context.Background()
	m := testenv.StartMinIO(t)
	mc, err := minio.New(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	const bucket, object = "examplebucket", "index.html"
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.PutObject(ctx, bucket, object, strings.NewReader("<p>hi</p>"), 9, minio.PutObjectOptions{ContentType: "text/html"}); err != nil {
		t.Fatal(err)
	}
	if err := mc.SetBucketPolicy(ctx, bucket, publicReadPolicy(bucket)); err != nil {
		t.Fatal(err)
	}
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
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

	file := filepath.Join(t.TempDir(), "cors.json")
	if err := os.WriteFile(file, []byte(awsDocsExample), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := awsCLI(ctx, awsBin, c.URL(0), sidecarAccessKey, sidecarSecretKey,
		"s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", "file://"+file); err != nil {
		t.Fatal(err)
	}

	url := c.URL(0) + "/" + bucket + "/" + object
	tests := []struct {
		name   string
		method string
		header http.Header
		status int
		// want is every Access-Control-* header and Vary of the response.
		want http.Header
	}{
		{
			name:   "preflight PUT from www.example.com with headers: rule 1",
			method: "OPTIONS",
			header: http.Header{
				"Origin":                         {"http://www.example.com"},
				"Access-Control-Request-Method":  {"PUT"},
				"Access-Control-Request-Headers": {"Content-Type, x-amz-meta-Author"},
			},
			status: 200,
			want: http.Header{
				"Access-Control-Allow-Origin":      {"http://www.example.com"},
				"Access-Control-Allow-Methods":     {"PUT, POST, DELETE"},
				"Access-Control-Allow-Headers":     {"content-type, x-amz-meta-author"},
				"Access-Control-Allow-Credentials": {"true"},
				"Vary":                             {corsVary},
			},
		},
		{
			name:   "preflight PUT from www.example.com without headers",
			method: "OPTIONS",
			header: http.Header{"Origin": {"http://www.example.com"}, "Access-Control-Request-Method": {"PUT"}},
			status: 200,
			want: http.Header{
				"Access-Control-Allow-Origin":      {"http://www.example.com"},
				"Access-Control-Allow-Methods":     {"PUT, POST, DELETE"},
				"Access-Control-Allow-Credentials": {"true"},
				"Vary":                             {corsVary},
			},
		},
		{
			name:   "preflight GET from www.example.com: rule 2",
			method: "OPTIONS",
			header: http.Header{"Origin": {"http://www.example.com"}, "Access-Control-Request-Method": {"GET"}},
			status: 200,
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"GET"},
				"Vary":                         {corsVary},
			},
		},
		{
			name:   "GET from another origin: rule 2",
			method: "GET",
			header: http.Header{"Origin": {"https://other.example.org"}},
			status: 200,
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"GET"},
				"Vary":                         {corsVary},
			},
		},
		{
			name:   "preflight PUT from another origin: no rule",
			method: "OPTIONS",
			header: http.Header{"Origin": {"https://other.example.org"}, "Access-Control-Request-Method": {"PUT"}},
			status: 403,
			want:   http.Header{},
		},
		{
			name:   "GET without Origin: no CORS headers",
			method: "GET",
			status: 200,
			want:   http.Header{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := fetch(t, tt.method, url, tt.header)
			got := corsHeaders(res.Header)
			t.Logf("%s %d %v", tt.method, res.StatusCode, got)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d; body %s", res.StatusCode, tt.status, body)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CORS headers\n got %v\nwant %v", got, tt.want)
			}
			if tt.method == "OPTIONS" && tt.status == 200 && (body != "" || res.Header.Get("Content-Length") != "0") {
				t.Errorf("preflight body %q, Content-Length %q: want empty, 0", body, res.Header.Get("Content-Length"))
			}
		})
	}
}

// corsHeaders returns the Access-Control-* headers of h, and the Vary lines
// that name a CORS request header (MinIO's own Vary: Accept-Encoding is
// not CORS's business).
func corsHeaders(h http.Header) http.Header {
	got := http.Header{}
	for name, values := range h {
		if strings.HasPrefix(name, "Access-Control-") {
			got[name] = values
		}
	}
	for _, v := range h.Values("Vary") {
		if strings.Contains(v, "Origin") || strings.Contains(v, "Access-Control-") {
			got.Add("Vary", v)
		}
	}
	return got
}
