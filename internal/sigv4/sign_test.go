package sigv4

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSign checks that what Sign signs, the verifier accepts, that it is
// refused with the wrong secret, and that the aws-sdk-go-v2 signer signs
// the same request to the same Authorization: the probe of s3_api's store
// mode is a request whose only flaw is its key.
func TestSign(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	creds := Credentials{AccessKey: "PROBEKEY", SecretKey: "probe-secret"}
	tests := []struct {
		name, target, host string
	}{
		{"path style", "/photos?cors=", "127.0.0.1:9000"},
		{"virtual-hosted", "/?cors=", "photos.s3.example"},
		{"encoded path", "/my.bucket?cors=", "s3.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Host = tt.host
			Sign(r, creds, "eu-west-3", at)
			v, err := New([]Credentials{creds}, Options{Now: func() time.Time { return at }})
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(r, 0)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKey != "PROBEKEY" || res.Region != "eu-west-3" {
				t.Errorf("verified %s in %s", res.AccessKey, res.Region)
			}
			sdk, err := http.NewRequest(http.MethodGet, "http://"+tt.host+tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			sdk.Header.Set("X-Amz-Content-Sha256", EmptyPayload)
			if err := v4.NewSigner().SignHTTP(context.Background(),
				aws.Credentials{AccessKeyID: creds.AccessKey, SecretAccessKey: creds.SecretKey},
				sdk, EmptyPayload, "s3", "eu-west-3", at,
				func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
				t.Fatal(err)
			}
			if got, want := r.Header.Get("Authorization"), sdk.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization\n got %s\nwant %s (the SDK's)", got, want)
			}
			if got := SigningRegion(r); got != "eu-west-3" {
				t.Errorf("SigningRegion %q", got)
			}
			wrong, _ := New([]Credentials{{AccessKey: "PROBEKEY", SecretKey: "other"}}, Options{Now: func() time.Time { return at }})
			if _, err := wrong.Verify(r, 0); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
				t.Errorf("wrong secret: %v", err)
			}
		})
	}
}

// TestReadPayload checks the payload reading of the store mode.
func TestReadPayload(t *testing.T) {
	body := "<CORSConfiguration/>"
	tests := []struct {
		name, payload, body string
		want                string // body read; "" with code set
		code                string
	}{
		{"hash matches", sha256Hex([]byte(body)), body, body, ""},
		{"hash differs", sha256Hex([]byte("other")), body, "", "XAmzContentSHA256Mismatch"},
		{"unsigned", UnsignedPayload, body, body, ""},
		{"absent (presigned)", "", body, body, ""},
		{"unsigned trailer", StreamingUnsignedTrailer, "14\r\n" + body + "\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", body, ""},
		{"signed chunks", StreamingPayload, "14;chunk-signature=00\r\n" + body + "\r\n", "", "NotImplemented"},
		{"not a hash", "nope", body, "", "InvalidArgument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPut, "/photos?cors", strings.NewReader(tt.body))
			if tt.payload != "" {
				r.Header.Set("X-Amz-Content-Sha256", tt.payload)
			}
			if strings.HasPrefix(tt.payload, "STREAMING") {
				r.Header.Set("X-Amz-Decoded-Content-Length", "20")
				r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			}
			res, err := ReadPayload(r, 1024)
			if tt.code != "" {
				if err == nil || !strings.Contains(err.Error(), tt.code) {
					t.Fatalf("err %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Body) != tt.want {
				t.Errorf("body %q, want %q", res.Body, tt.want)
			}
		})
	}
}
