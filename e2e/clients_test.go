package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// headerRecorder is an HTTP client for the SDK that keeps the headers of
// the last request sent, to show which checksum the SDK chose.
type headerRecorder struct {
	mu   sync.Mutex
	last http.Header
}

func (r *headerRecorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.last = req.Header.Clone()
	r.mu.Unlock()
	return client.Do(req)
}

func (r *headerRecorder) lastHeader() http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// newSDK returns an S3 client of the Go SDK for the sidecar at endpoint,
// path style, with static credentials, the SDK's defaults otherwise, and
// nothing read from the user's configuration files.
func newSDK(t *testing.T, endpoint, accessKey, secretKey string, opts ...func(*s3.Options)) (*s3.Client, *headerRecorder) {
	t.Helper()
	rec := &headerRecorder{}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithEC2IMDSClientEnableState(0),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]func(*s3.Options){func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = rec
	}}, opts...)
	return s3.NewFromConfig(cfg, opts...), rec
}

// presignGet returns a URL of the sidecar presigned by the SDK for GET
// bucket/key, valid for ten minutes.
func presignGet(t *testing.T, endpoint, accessKey, secretKey, bucket, key string) string {
	t.Helper()
	c, _ := newSDK(t, endpoint, accessKey, secretKey)
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	p, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		s3.WithPresignExpires(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return p.URL
}

// apiCode returns the S3 error code of an SDK error, "" when it is none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// sdkRules is the configuration the SDK tests put.
func sdkRules(origin string) *types.CORSConfiguration {
	return &types.CORSConfiguration{CORSRules: []types.CORSRule{{
		ID:             aws.String("sdk"),
		AllowedOrigins: []string{origin},
		AllowedMethods: []string{"GET", "HEAD"},
		AllowedHeaders: []string{"x-amz-*"},
		ExposeHeaders:  []string{"ETag"},
		MaxAgeSeconds:  aws.Int32(600),
	}}}
}

// presignCORS presigns method /bucket?cors at endpoint with the SDK's
// SigV4 presigner, as signed at signedAt and valid for expires.
func presignCORS(t *testing.T, method, endpoint, bucket, accessKey, secretKey string, signedAt time.Time, expires time.Duration) string {
	t.Helper()
	req, err := http.NewRequest(method, endpoint+"/"+bucket+"?cors=", nil)
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	req.URL.RawQuery = q.Encode()
	url, _, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// sdkStatus is the HTTP status of an SDK error, 200 for none.
func sdkStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
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
	return "file://" + writeFile(t, a.dir, name, content)
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
