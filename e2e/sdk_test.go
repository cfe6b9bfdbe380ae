package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestGoSDK manages CORS with aws-sdk-go-v2 through the sidecar: every
// request checksum the SDK can send for PutBucketCors is accepted (the
// default is the SDK's own choice, CRC32 today), GetBucketCors returns
// what was put, and errors come back as the SDK's typed errors with S3's
// codes.
func TestGoSDK(t *testing.T) {
	t.Parallel()
	m, c := startS3Sidecar(t)
	ad := adminOf(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	checksums := []struct {
		name string
		opt  func(*s3.Options)
		alg  types.ChecksumAlgorithm
	}{
		{name: "SDK default"},
		{name: "when required", opt: func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired }},
		{name: "CRC32C", alg: types.ChecksumAlgorithmCrc32c},
		{name: "SHA1", alg: types.ChecksumAlgorithmSha1},
		{name: "SHA256", alg: types.ChecksumAlgorithmSha256},
		{name: "CRC64NVME", alg: types.ChecksumAlgorithmCrc64nvme},
	}
	for i, tt := range checksums {
		t.Run("put "+tt.name, func(t *testing.T) {
			var opts []func(*s3.Options)
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			sdk, rec := newSDK(t, c.URL(0), m.AccessKey, m.SecretKey, opts...)
			bucket := "sdk-" + strings.ToLower(strings.ReplaceAll(tt.name, " ", "-"))
			origin := "https://app" + string(rune('a'+i)) + ".example"
			_, err := sdk.PutBucketCors(ctx, &s3.PutBucketCorsInput{
				Bucket: aws.String(bucket), CORSConfiguration: sdkRules(origin), ChecksumAlgorithm: tt.alg,
			})
			h := rec.lastHeader()
			var sent []string
			for name := range h {
				if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum-") || l == "content-md5" ||
					l == "x-amz-trailer" || l == "x-amz-sdk-checksum-algorithm" || l == "x-amz-content-sha256" {
					sent = append(sent, name+": "+h.Get(name))
				}
			}
			t.Logf("SDK sent %s", strings.Join(sent, "; "))
			if err != nil {
				t.Fatalf("PutBucketCors: %v", err)
			}
			out, err := sdk.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatalf("GetBucketCors: %v", err)
			}
			if len(out.CORSRules) != 1 || aws.ToString(out.CORSRules[0].ID) != "sdk" ||
				strings.Join(out.CORSRules[0].AllowedOrigins, ",") != origin ||
				strings.Join(out.CORSRules[0].AllowedMethods, ",") != "GET,HEAD" ||
				aws.ToInt32(out.CORSRules[0].MaxAgeSeconds) != 600 {
				t.Errorf("GetBucketCors: %+v", out.CORSRules)
			}
			res := preflight(t, c.URL(0), "/"+bucket+"/k", origin, "HEAD", "x-amz-date")
			if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("preflight: %d %v", res.status, res.header)
			}
		})
	}

	sdk, _ := newSDK(t, c.URL(0), m.AccessKey, m.SecretKey)
	t.Run("delete", func(t *testing.T) {
		for range 2 { // deleting a missing configuration succeeds too
			if _, err := sdk.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("sdk-sdk-default")}); err != nil {
				t.Fatalf("DeleteBucketCors: %v", err)
			}
		}
		if _, res := ad.getJSON("sdk-sdk-default"); res.status != http.StatusNotFound {
			t.Errorf("admin get after delete: %d", res.status)
		}
	})

	errorCases := []struct {
		name   string
		call   func(*s3.Client) error
		client *s3.Client
		code   string
		status int
	}{
		{name: "get missing", code: "NoSuchCORSConfiguration", status: 404, call: func(c *s3.Client) error {
			_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("sdk-sdk-default")})
			return err
		}},
		{name: "invalid rule", code: "InvalidRequest", status: 400, call: func(c *s3.Client) error {
			cfg := sdkRules("https://x.example")
			cfg.CORSRules[0].AllowedMethods = []string{"PATCH"}
			_, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("sdk-x"), CORSConfiguration: cfg})
			return err
		}},
		{name: "wrong expected owner", code: "AccessDenied", status: 403, call: func(c *s3.Client) error {
			_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("sdk-crc32c"),
				ExpectedBucketOwner: aws.String("999999999999")})
			return err
		}},
	}
	for _, tt := range errorCases {
		t.Run("error "+tt.name, func(t *testing.T) {
			err := tt.call(sdk)
			if code := apiCode(err); code != tt.code {
				t.Fatalf("error %v: code %q, want %q", err, code, tt.code)
			}
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != tt.status {
				t.Errorf("error %v: want HTTP status %d", err, tt.status)
			}
		})
	}

	// The right owner is accepted.
	if _, err := sdk.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("sdk-crc32c"),
		ExpectedBucketOwner: aws.String("123456789012")}); err != nil {
		t.Errorf("GetBucketCors with the owner: %v", err)
	}
}
