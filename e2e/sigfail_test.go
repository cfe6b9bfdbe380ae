package e2e

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// TestSignatureFailures sends PutBucketCors, GetBucketCors and
// DeleteBucketCors requests that fail authentication to the sidecar's S3
// API, and checks each gets S3's error and leaves the stored configuration
// as it was (read back through the admin API).
func TestSignatureFailures(t *testing.T) {
	t.Parallel()
	const ak, sk = "AKIAE2ESIGNATURE", "e2e-signature-secret"
	// No MinIO: these requests never reach the store, and a refused one
	// must not either.
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s")+s3APISite("127.0.0.1:1"),
		testenv.CaddyOptions{Ports: 1, Env: s3Env(ak, sk)})
	ad := adminOf(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const baseline = `{"CORSRules":[{"AllowedOrigins":["https://baseline.example"],"AllowedMethods":["GET"]}]}`
	const baselineXML = `<CORSConfiguration><CORSRule><AllowedOrigin>https://baseline.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	const hostile = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>`

	// A request signed correctly, sent once: it sets the baseline, and
	// the replays below reuse its headers.
	signed := signedPut(t, c.URL(0)+"/photos?cors", ak, sk, baselineXML)
	if res := send(t, signed.request(t, signed.body)); res.status != http.StatusOK {
		t.Fatalf("signed PutBucketCors: %d %s", res.status, res.body)
	}
	wantConfig(t, ad, "photos", baseline)

	// A valid presigned GetBucketCors works, so that the expired one below
	// fails for its expiry only.
	if res := send(t, newRequest(t, http.MethodGet, presignCORS(t, http.MethodGet, c.URL(0), "photos", ak, sk, time.Now(), time.Minute), "")); res.status != http.StatusOK ||
		!strings.Contains(res.body, "https://baseline.example") {
		t.Fatalf("presigned GetBucketCors: %d %s", res.status, res.body)
	}

	wrongSecret, _ := newSDK(t, c.URL(0), ak, "not-the-secret")
	unknownKey, _ := newSDK(t, c.URL(0), "AKIAUNKNOWN", sk)
	put := func(sdk *s3.Client) func() (int, string) {
		return func() (int, string) {
			_, err := sdk.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("photos"), CORSConfiguration: sdkRules("*")})
			return sdkStatus(err), apiCode(err)
		}
	}
	del := func(sdk *s3.Client) func() (int, string) {
		return func() (int, string) {
			_, err := sdk.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("photos")})
			return sdkStatus(err), apiCode(err)
		}
	}
	raw := func(req func() *http.Request) func() (int, string) {
		return func() (int, string) {
			res := send(t, req())
			return res.status, s3Code(res.body)
		}
	}
	md5sum := md5.Sum([]byte(hostile))
	tests := []struct {
		name   string
		do     func() (status int, code string)
		status int
		code   string
	}{
		{name: "put with a wrong secret", do: put(wrongSecret), status: 403, code: "SignatureDoesNotMatch"},
		{name: "delete with a wrong secret", do: del(wrongSecret), status: 403, code: "SignatureDoesNotMatch"},
		{name: "put with an unknown key", do: put(unknownKey), status: 403, code: "InvalidAccessKeyId"},
		{name: "delete with an unknown key", do: del(unknownKey), status: 403, code: "InvalidAccessKeyId"},
		{name: "unsigned put", status: 403, code: "AccessDenied", do: raw(func() *http.Request {
			return newRequest(t, http.MethodPut, c.URL(0)+"/photos?cors", hostile,
				"Content-MD5", base64.StdEncoding.EncodeToString(md5sum[:]))
		})},
		{name: "unsigned delete", status: 403, code: "AccessDenied", do: raw(func() *http.Request {
			return newRequest(t, http.MethodDelete, c.URL(0)+"/photos?cors", "")
		})},
		{name: "expired presigned get", status: 403, code: "AccessDenied", do: raw(func() *http.Request {
			// Signed two minutes ago for one minute: expired a minute
			// ago, with no need to wait.
			return newRequest(t, http.MethodGet,
				presignCORS(t, http.MethodGet, c.URL(0), "photos", ak, sk, time.Now().Add(-2*time.Minute), time.Minute), "")
		})},
		{name: "expired presigned delete", status: 403, code: "AccessDenied", do: raw(func() *http.Request {
			return newRequest(t, http.MethodDelete,
				presignCORS(t, http.MethodDelete, c.URL(0), "photos", ak, sk, time.Now().Add(-2*time.Minute), time.Minute), "")
		})},
		// The signed Content-Length makes any longer or shorter body a
		// signature mismatch; a body of the same length fails the signed
		// payload hash instead.
		{name: "replay with a tampered body of the same length", status: 400, code: "XAmzContentSHA256Mismatch", do: raw(func() *http.Request {
			return signed.request(t, strings.Replace(baselineXML, "baseline", "attacker", 1))
		})},
		{name: "replay with a tampered body of another length", status: 403, code: "SignatureDoesNotMatch", do: raw(func() *http.Request {
			return signed.request(t, hostile)
		})},
		{name: "replay with a tampered body and its hash", status: 403, code: "SignatureDoesNotMatch", do: raw(func() *http.Request {
			req := signed.request(t, hostile)
			sum := sha256.Sum256([]byte(hostile))
			req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(md5sum[:]))
			return req
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := tt.do()
			if status != tt.status || code != tt.code {
				t.Errorf("got %d %s, want %d %s", status, code, tt.status, tt.code)
			}
			wantConfig(t, ad, "photos", baseline)
			res := preflight(t, c.URL(0), "/photos/x", "https://baseline.example", "GET", "")
			if res.status != http.StatusOK {
				t.Errorf("preflight after the refused request: %d %s", res.status, res.body)
			}
		})
	}
}

// signedRequest is a PUT signed once with SigV4 (hex payload hash,
// Content-MD5 signed), kept so that it can be replayed.
type signedRequest struct {
	url    string
	header http.Header
	body   string
}

func signedPut(t *testing.T, url, accessKey, secretKey, body string) signedRequest {
	t.Helper()
	req := newRequest(t, http.MethodPut, url, body)
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	md := md5.Sum([]byte(body))
	req.Header.Set("X-Amz-Content-Sha256", hash)
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(md[:]))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
		req, hash, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return signedRequest{url: url, header: req.Header.Clone(), body: body}
}

// request rebuilds the signed request, with body in place of the signed
// one.
func (s signedRequest) request(t *testing.T, body string) *http.Request {
	t.Helper()
	req := newRequest(t, http.MethodPut, s.url, body)
	req.Header = s.header.Clone()
	return req
}
