package caddys3cors

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/sigv4"
)

// TestStaticKeys checks the static mode's key pairs and their bucket
// limits: a key limited to some buckets is refused with AccessDenied on
// the others, after its signature is checked.
func TestStaticKeys(t *testing.T) {
	cfg := &S3APIConfig{
		AccessKey: "OPS", SecretKey: "ops-secret",
		Keys: []S3APIKey{
			{AccessKey: "TEAMA", SecretKey: "team-a-secret", Buckets: []string{"team-a-*", "shared"}},
			{AccessKey: "TEAMB", SecretKey: "team-b-secret", Buckets: []string{"team-b-*"}},
		},
	}
	s, err := cfg.provision("", zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, key, secret, bucket string
		code                      string // "" when allowed
	}{
		{"unlimited key", "OPS", "ops-secret", "team-b-photos", ""},
		{"limited key, its pattern", "TEAMA", "team-a-secret", "team-a-photos", ""},
		{"limited key, its name", "TEAMA", "team-a-secret", "shared", ""},
		{"limited key, another team's bucket", "TEAMA", "team-a-secret", "team-b-photos", "AccessDenied"},
		{"limited key, a prefix only", "TEAMB", "team-b-secret", "team-b", "AccessDenied"},
		{"limited key, wrong secret", "TEAMB", "nope", "team-b-photos", "SignatureDoesNotMatch"},
		{"unknown key", "OTHER", "x", "team-a-photos", "InvalidAccessKeyId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/"+tt.bucket+"?cors=", nil)
			sigv4.Sign(r, sigv4.Credentials{AccessKey: tt.key, SecretKey: tt.secret}, "us-east-1", time.Now())
			_, _, err := s.Verify(r, tt.bucket, 1024)
			switch {
			case tt.code == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.code != "" && (err == nil || !strings.Contains(err.Error(), tt.code)):
				t.Errorf("err %v, want %s", err, tt.code)
			}
		})
	}
}

// TestS3APIConfigErrors checks the settings that provision refuses.
func TestS3APIConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  S3APIConfig
		want string
	}{
		{"no key", S3APIConfig{}, "access_key and secret_key are required"},
		{"access key without secret", S3APIConfig{AccessKey: "a"}, "access_key and secret_key are required"},
		{"bad pattern", S3APIConfig{Keys: []S3APIKey{{AccessKey: "a", SecretKey: "b", Buckets: []string{"[x"}}}}, `bad bucket pattern "[x"`},
		{"duplicate key", S3APIConfig{AccessKey: "a", SecretKey: "b", Keys: []S3APIKey{{AccessKey: "a", SecretKey: "c"}}}, "duplicate access key"},
		{"store with keys", S3APIConfig{Authorize: "store", AccessKey: "a", SecretKey: "b"}, "authorize store takes no access_key"},
		{"unknown mode", S3APIConfig{Authorize: "iam"}, `authorize "iam"`},
		{"probe interval static", S3APIConfig{AccessKey: "a", SecretKey: "b", ProbeInterval: 1}, "probe_interval applies to authorize store only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.provision("", zap.NewNop(), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}
