package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/testenv"

	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// cliRecord is what the test server saw of one aws cli request.
type cliRecord struct {
	method, query string
	header        http.Header
	res           *Result
	err           error
}

// cliServer answers the three ?cors operations after verifying the
// signature, and records every request.
type cliServer struct {
	v       *Verifier
	mu      sync.Mutex
	records []cliRecord
	stored  []byte
}

func (s *cliServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, err := s.v.Verify(r, s3cors.MaxBodySize+1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, cliRecord{method: r.Method, query: r.URL.RawQuery, header: r.Header.Clone(), res: res, err: err})
	var docErr *s3err.Error
	if errors.As(err, &docErr) {
		docErr.WriteTo(w)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	switch r.Method {
	case http.MethodPut:
		h := r.Header.Clone()
		for k, v := range res.Trailer {
			h[k] = v
		}
		cfg, err := putcors.Decode(h, res.Body, putcors.Options{RequireIntegrity: true})
		if err != nil {
			if errors.As(err, &docErr) {
				docErr.WriteTo(w)
				return
			}
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.stored = cfg.XML()
	case http.MethodGet:
		if s.stored == nil {
			s3err.NoSuchCORSConfiguration("photos").WriteTo(w)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write(s.stored)
	case http.MethodDelete:
		s.stored = nil
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *cliServer) last(t *testing.T) cliRecord {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.records) == 0 {
		t.Fatal("the server saw no request")
	}
	return s.records[len(s.records)-1]
}

// TestAWSCLI runs the real aws cli against a server that verifies its
// signatures: put-bucket-cors, get-bucket-cors, delete-bucket-cors, and a
// request signed with a wrong secret.
func TestAWSCLI(t *testing.T) {
	awsPath := testenv.RequireAWSCLI(t) // a failure in CI, whatever CI's value
	srv := &cliServer{v: newTestVerifier(t, Options{Region: testRegion, Now: time.Now})}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	run := func(t *testing.T, secret string, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsPath, append([]string{"s3api", "--endpoint-url", ts.URL}, args...)...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env,
			"AWS_ACCESS_KEY_ID="+testAccessKey,
			"AWS_SECRET_ACCESS_KEY="+secret,
			"AWS_DEFAULT_REGION="+testRegion,
			"AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_MAX_ATTEMPTS=1",
			"AWS_PAGER=",
		)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	steps := []struct {
		name   string
		secret string
		args   []string
		check  func(t *testing.T, out string, err error, rec cliRecord)
	}{
		{name: "put-bucket-cors", secret: testSecretKey, args: []string{"put-bucket-cors", "--bucket", "photos", "--cors-configuration",
			`{"CORSRules":[{"AllowedOrigins":["https://example.com"],"AllowedMethods":["GET","PUT"],"AllowedHeaders":["*"],"MaxAgeSeconds":3000}]}`},
			check: func(t *testing.T, out string, err error, rec cliRecord) {
				if err != nil || rec.err != nil {
					t.Fatalf("aws: %v %s; verify: %v", err, out, rec.err)
				}
				if rec.method != http.MethodPut || rec.query != "cors" {
					t.Fatalf("request %s ?%s", rec.method, rec.query)
				}
				if !strings.Contains(string(rec.res.Body), "<AllowedOrigin>https://example.com</AllowedOrigin>") {
					t.Fatalf("body = %q", rec.res.Body)
				}
				t.Logf("payload %s, signed headers %v, checksum %q, trailer %v", rec.res.ContentSHA256,
					rec.res.SignedHeaders, rec.header.Get("X-Amz-Checksum-Crc32"), rec.res.Trailer)
			}},
		{name: "get-bucket-cors", secret: testSecretKey, args: []string{"get-bucket-cors", "--bucket", "photos"},
			check: func(t *testing.T, out string, err error, rec cliRecord) {
				if err != nil || rec.err != nil {
					t.Fatalf("aws: %v %s; verify: %v", err, out, rec.err)
				}
				if rec.method != http.MethodGet || !strings.Contains(out, "https://example.com") || !strings.Contains(out, "3000") {
					t.Fatalf("%s: %s", rec.method, out)
				}
			}},
		{name: "delete-bucket-cors", secret: testSecretKey, args: []string{"delete-bucket-cors", "--bucket", "photos"},
			check: func(t *testing.T, out string, err error, rec cliRecord) {
				if err != nil || rec.err != nil || rec.method != http.MethodDelete {
					t.Fatalf("aws: %v %s; verify: %v", err, out, rec.err)
				}
			}},
		{name: "get-bucket-cors after delete", secret: testSecretKey, args: []string{"get-bucket-cors", "--bucket", "photos"},
			check: func(t *testing.T, out string, err error, rec cliRecord) {
				if err == nil || rec.err != nil || !strings.Contains(out, "NoSuchCORSConfiguration") {
					t.Fatalf("aws: %v %s; verify: %v", err, out, rec.err)
				}
			}},
		{name: "wrong secret", secret: "not-the-secret", args: []string{"get-bucket-cors", "--bucket", "photos"},
			check: func(t *testing.T, out string, err error, rec cliRecord) {
				if err == nil || !strings.Contains(out, "SignatureDoesNotMatch") {
					t.Fatalf("aws: %v %s", err, out)
				}
				var docErr *s3err.Error
				if !errors.As(rec.err, &docErr) || docErr.Code != "SignatureDoesNotMatch" {
					t.Fatalf("verify: %v", rec.err)
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, err := run(t, st.secret, st.args...)
			st.check(t, out, err, srv.last(t))
		})
	}
}
