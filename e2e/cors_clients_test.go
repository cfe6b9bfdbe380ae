package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// authMode is one way the sidecar's S3 API authorizes `?cors` requests:
// the site it runs in front of MinIO m, the environment it needs, and the
// credentials the clients sign with to manage the CORS of buckets.
type authMode struct {
	name  string
	start func(t *testing.T, m *testenv.MinIO, buckets []string) (site string, env []string, accessKey, secretKey string)
}

// clientActions are what the clients need of MinIO to manage CORS
// through the sidecar in the store mode: the CORS actions, and what
// `s3cmd info` reads besides (it fails with AccessDenied without them).
var clientActions = append([]string{"s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetLifecycleConfiguration"}, corsActions...)

// authModes are the S3 API's authorization modes every client is tested
// in.
var authModes = []authMode{
	// The S3 API's own key: MinIO's root credentials, as in the other
	// tests, so that one key manages CORS and objects.
	{"static keys", func(t *testing.T, m *testenv.MinIO, buckets []string) (string, []string, string, string) {
		return s3APISite(m.Endpoint), s3Env(m.AccessKey, m.SecretKey), m.AccessKey, m.SecretKey
	}},
	// MinIO decides: a MinIO user whose policy allows CORS on the
	// clients' buckets, and nothing for the sidecar to know.
	{"store authorizes", func(t *testing.T, m *testenv.MinIO, buckets []string) (string, []string, string, string) {
		m.AddUser(t, "cors-clients", "cors-clients-secret", testenv.BucketPolicy(clientActions, buckets...))
		return storeAuthSite(m.Endpoint), nil, "cors-clients", "cors-clients-secret"
	}},
}

// corsClient drives one client's `?cors` calls against the sidecar:
// put sends the configuration (JSON or XML, as the client takes it), get
// returns what the client printed, del deletes.
type corsClient struct {
	put func(t *testing.T, bucket string, cfg *s3cors.Configuration)
	get func(t *testing.T, bucket string) string
	del func(t *testing.T, bucket string)
}

// clientRun runs a client command with env and returns its stdout,
// logging its stderr; a non-zero exit fails the test.
func clientRun(t *testing.T, env []string, dir, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir, cmd.Stdin = env, dir, strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if s := strings.TrimSpace(errOut.String()); s != "" {
		t.Logf("%s stderr: %s", filepath.Base(name), s)
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// boto3Script manages CORS with boto3's defaults (its request checksum
// included) and prints the headers of the signed PutBucketCors on stderr.
const boto3Script = `
import json, sys
import boto3
from botocore.config import Config
action, endpoint, bucket = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
def show(request, **kwargs):
    names = [k for k in request.headers.keys() if "checksum" in k.lower() or k.lower() in ("content-md5", "x-amz-content-sha256")]
    print("signed %s: %s" % (request.method, "; ".join("%s: %s" % (k, request.headers[k]) for k in names)), file=sys.stderr)
s3.meta.events.register("before-send.s3", show)
if action == "put":
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=json.load(sys.stdin))
elif action == "get":
    print(json.dumps({"CORSRules": s3.get_bucket_cors(Bucket=bucket)["CORSRules"]}))
elif action == "delete":
    s3.delete_bucket_cors(Bucket=bucket)
`

// corsClients are the clients people manage bucket CORS with, each made
// for the sidecar at endpoint with the given credentials.
var corsClients = []struct {
	name string
	new  func(t *testing.T, endpoint, accessKey, secretKey string) corsClient
}{
	{"aws cli", func(t *testing.T, endpoint, accessKey, secretKey string) corsClient {
		cli := newAWSCLI(t, endpoint, accessKey, secretKey)
		return corsClient{
			put: func(t *testing.T, bucket string, cfg *s3cors.Configuration) {
				cli.mustRun(t, "put-bucket-cors", "--bucket", bucket, "--cors-configuration", cli.file(t, "cors.json", string(cfg.JSON())))
			},
			get: func(t *testing.T, bucket string) string { return cli.mustRun(t, "get-bucket-cors", "--bucket", bucket) },
			del: func(t *testing.T, bucket string) { cli.mustRun(t, "delete-bucket-cors", "--bucket", bucket) },
		}
	}},
	{"boto3", func(t *testing.T, endpoint, accessKey, secretKey string) corsClient {
		python := testenv.RequireBoto3(t)
		env := awsEnv(accessKey, secretKey)
		run := func(t *testing.T, stdin, action, bucket string) string {
			return clientRun(t, env, "", stdin, python, "-c", boto3Script, action, endpoint, bucket)
		}
		return corsClient{
			put: func(t *testing.T, bucket string, cfg *s3cors.Configuration) {
				run(t, string(cfg.JSON()), "put", bucket)
			},
			get: func(t *testing.T, bucket string) string { return run(t, "", "get", bucket) },
			del: func(t *testing.T, bucket string) { run(t, "", "delete", bucket) },
		}
	}},
	{"Go SDK", func(t *testing.T, endpoint, accessKey, secretKey string) corsClient {
		sdk, rec := newSDK(t, endpoint, accessKey, secretKey)
		ctx := context.Background()
		return corsClient{
			put: func(t *testing.T, bucket string, cfg *s3cors.Configuration) {
				var in types.CORSConfiguration
				if err := json.Unmarshal(cfg.JSON(), &in); err != nil {
					t.Fatal(err)
				}
				if _, err := sdk.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket), CORSConfiguration: &in}); err != nil {
					t.Fatalf("PutBucketCors: %v", err)
				}
				t.Logf("Go SDK sent x-amz-checksum-crc32: %q", rec.lastHeader().Get("X-Amz-Checksum-Crc32"))
			},
			get: func(t *testing.T, bucket string) string {
				out, err := sdk.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
				if err != nil {
					t.Fatalf("GetBucketCors: %v", err)
				}
				b, err := json.Marshal(types.CORSConfiguration{CORSRules: out.CORSRules})
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			},
			del: func(t *testing.T, bucket string) {
				if _, err := sdk.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)}); err != nil {
					t.Fatalf("DeleteBucketCors: %v", err)
				}
			},
		}
	}},
	{"JS SDK v3 in node", func(t *testing.T, endpoint, accessKey, secretKey string) corsClient {
		node := testenv.RequireNode(t, "e2e/browser", "@aws-sdk/client-s3")
		script := filepath.Join(testenv.RepoRoot(t), "e2e", "browser", "cors-client.mjs")
		env := awsEnv(accessKey, secretKey)
		run := func(t *testing.T, args ...string) string {
			return clientRun(t, env, "", "", node, append([]string{"--disable-warning=NodeVersionSupportWarning", script}, args...)...)
		}
		return corsClient{
			put: func(t *testing.T, bucket string, cfg *s3cors.Configuration) {
				run(t, "put", endpoint, bucket, string(cfg.JSON()))
			},
			get: func(t *testing.T, bucket string) string { return run(t, "get", endpoint, bucket) },
			del: func(t *testing.T, bucket string) { run(t, "delete", endpoint, bucket) },
		}
	}},
	{"s3cmd", func(t *testing.T, endpoint, accessKey, secretKey string) corsClient {
		bin := testenv.RequireS3cmd(t)
		dir := t.TempDir()
		host := strings.TrimPrefix(endpoint, "http://")
		// Path style through the sidecar: host_bucket without %(bucket)s.
		conf := writeFile(t, dir, "s3cfg", fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
use_https = False
signature_v2 = False
bucket_location = us-east-1
`, accessKey, secretKey, host, host))
		env := append(os.Environ(), "HOME="+dir)
		run := func(t *testing.T, args ...string) string {
			return clientRun(t, env, dir, "", bin, append([]string{"--config=" + conf, "--no-progress"}, args...)...)
		}
		return corsClient{
			put: func(t *testing.T, bucket string, cfg *s3cors.Configuration) {
				run(t, "setcors", writeFile(t, dir, "cors.xml", string(cfg.XML())), "s3://"+bucket)
			},
			get: func(t *testing.T, bucket string) string { return run(t, "info", "s3://"+bucket) },
			del: func(t *testing.T, bucket string) { run(t, "delcors", "s3://"+bucket) },
		}
	}},
	{"mc", func(t *testing.T, endpoint, accessKey, secretKey string) corsClient {
		bin := testenv.RequireMC(t)
		dir := t.TempDir()
		run := func(t *testing.T, args ...string) string {
			return clientRun(t, os.Environ(), dir, "", bin, append([]string{"--config-dir", dir, "--no-color"}, args...)...)
		}
		run(t, "alias", "set", "sidecar", endpoint, accessKey, secretKey, "--api", "S3v4", "--path", "on")
		return corsClient{
			put: func(t *testing.T, bucket string, cfg *s3cors.Configuration) {
				run(t, "cors", "set", "sidecar/"+bucket, writeFile(t, dir, "cors.xml", string(cfg.XML())))
			},
			get: func(t *testing.T, bucket string) string { return run(t, "cors", "get", "sidecar/"+bucket) },
			del: func(t *testing.T, bucket string) { run(t, "cors", "remove", "sidecar/"+bucket) },
		}
	}},
}

// TestCORSClients manages a bucket's CORS through the sidecar's S3 API with
// each client people use, in each authorization mode: the configuration a
// client puts is the one stored (whatever its format and checksum), the
// client reads it back, it governs preflights, and the client deletes it.
func TestCORSClients(t *testing.T) {
	t.Parallel()
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			m := testenv.StartMinIO(t)
			ids := make([]string, len(corsClients))
			buckets := make([]string, len(corsClients))
			for i, client := range corsClients {
				ids[i] = strings.ToLower(strings.ReplaceAll(client.name, " ", "-"))
				buckets[i] = "cors-" + ids[i]
			}
			site, env, accessKey, secretKey := mode.start(t, m, buckets)
			c := testenv.StartCaddy(t, globalOptions("sync_interval 1s")+site, testenv.CaddyOptions{Ports: 1, Env: env})
			mc := minioClient(t, m)
			for _, b := range buckets {
				makeBucket(t, mc, b)
			}
			ad := adminOf(t, c)
			for i, client := range corsClients {
				t.Run(client.name, func(t *testing.T) {
					cl := client.new(t, c.URL(0), accessKey, secretKey)
					id, bucket := ids[i], buckets[i]
					origin := "https://" + id + ".example"
					doc := `{"CORSRules":[{"ID":"` + id + `","AllowedOrigins":["` + origin + `"],"AllowedMethods":["GET","PUT"],` +
						`"AllowedHeaders":["content-type","x-amz-*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":300}]}`
					cfg, err := s3cors.ParseJSON([]byte(doc))
					if err != nil {
						t.Fatal(err)
					}

					cl.put(t, bucket, cfg)
					wantConfig(t, ad, bucket, doc)
					out := cl.get(t, bucket)
					t.Logf("%s printed:\n%s", client.name, out)
					for _, s := range []string{origin, "content-type", "ETag", "300"} {
						if !strings.Contains(out, s) {
							t.Errorf("%s's output lacks %q", client.name, s)
						}
					}
					res := preflight(t, c.URL(0), "/"+bucket+"/k", origin, "PUT", "content-type,x-amz-meta-a")
					if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != origin {
						t.Errorf("preflight after put: %d %v", res.status, res.header)
					}

					cl.del(t, bucket)
					if _, res := ad.getJSON(bucket); res.status != 404 {
						t.Errorf("admin get after delete: %d %s", res.status, res.body)
					}
					if res := preflight(t, c.URL(0), "/"+bucket+"/k", origin, "PUT", ""); res.status != 403 {
						t.Errorf("preflight after delete: %d", res.status)
					}
				})
			}
		})
	}
}
