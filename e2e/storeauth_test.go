package e2e

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// The MinIO users of the store-mode tests, and their policies.
var (
	corsActions = []string{"s3:PutBucketCors", "s3:GetBucketCors", "s3:DeleteBucketCors"}
	// storeBuckets are the buckets corsadmin may manage CORS of; ghost
	// never exists.
	storeBuckets = []string{"photos", "ghost", "gone", "back", "again"}
)

const storeCORS = `{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET","PUT"],"AllowedHeaders":["*"]}]}`

// TestStoreAuthorizes runs the store mode against real MinIO, whose users
// and policies (made with MinIO's admin API) decide who manages CORS: the
// aws cli and the Go SDK as a user allowed to, a reader, a user with no
// policy, a wrong secret, an unknown key and an anonymous request; a
// missing bucket; a bucket deleted through the sidecar and behind its
// back, and created again. A counting proxy in front of MinIO shows that
// preflights and object requests of a configured bucket cost the store
// nothing more.
func TestStoreAuthorizes(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	proxy := startCountingProxy(t, m.URL)
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s")+
		storeAuthSite(proxy.Addr(), bucketCheck(proxy.Addr(), m, "1s")),
		testenv.CaddyOptions{Ports: 1})
	ad := adminOf(t, c)
	mc := minioClient(t, m)

	m.AddUser(t, "corsadmin", "corsadmin-secret", testenv.BucketPolicy(corsActions, storeBuckets...))
	m.AddUser(t, "reader", "reader-secret", testenv.BucketPolicy([]string{"s3:GetBucketCors"}, "photos"))
	m.AddUser(t, "nobody", "nobody-secret", "")
	root := newAWSCLI(t, c.URL(0), m.AccessKey, m.SecretKey)
	admin := newAWSCLI(t, c.URL(0), "corsadmin", "corsadmin-secret")
	failed := admin.serviceErrorExit(t)

	root.mustRun(t, "create-bucket", "--bucket", "photos")
	putObject(t, mc, "photos", "cat.jpg", "meow")
	cors := admin.file(t, "cors.json", storeCORS)

	t.Run("aws cli, allowed user", func(t *testing.T) {
		admin.mustRun(t, "put-bucket-cors", "--bucket", "photos", "--cors-configuration", cors)
		out := admin.mustRun(t, "get-bucket-cors", "--bucket", "photos")
		if got, want := decodeJSON(t, out), decodeJSON(t, storeCORS); !reflect.DeepEqual(got, want) {
			t.Errorf("get-bucket-cors printed %s, want %s", out, storeCORS)
		}
		wantConfig(t, ad, "photos", storeCORS)
	})

	refused := []struct {
		name, key, secret string
		args              []string
		code              string
	}{
		{"reader puts", "reader", "reader-secret", []string{"put-bucket-cors", "--bucket", "photos", "--cors-configuration", cors}, "AccessDenied"},
		{"reader deletes", "reader", "reader-secret", []string{"delete-bucket-cors", "--bucket", "photos"}, "AccessDenied"},
		{"no policy gets", "nobody", "nobody-secret", []string{"get-bucket-cors", "--bucket", "photos"}, "AccessDenied"},
		{"no policy puts", "nobody", "nobody-secret", []string{"put-bucket-cors", "--bucket", "photos", "--cors-configuration", cors}, "AccessDenied"},
		{"wrong secret", "corsadmin", "not-the-secret", []string{"delete-bucket-cors", "--bucket", "photos"}, "SignatureDoesNotMatch"},
		{"unknown key", "stranger", "stranger-secret", []string{"delete-bucket-cors", "--bucket", "photos"}, "InvalidAccessKeyId"},
		{"missing bucket", "corsadmin", "corsadmin-secret", []string{"put-bucket-cors", "--bucket", "ghost", "--cors-configuration", cors}, "NoSuchBucket"},
	}
	for _, tt := range refused {
		t.Run("aws cli, "+tt.name, func(t *testing.T) {
			cli := newAWSCLI(t, c.URL(0), tt.key, tt.secret)
			out, errOut, code := cli.run(t, tt.args...)
			if code != failed || !strings.Contains(errOut, tt.code) {
				t.Errorf("exit %d, want %d with %s:\n%s%s", code, failed, tt.code, out, errOut)
			}
			wantConfig(t, ad, "photos", storeCORS)
		})
	}
	t.Run("reader gets", func(t *testing.T) {
		newAWSCLI(t, c.URL(0), "reader", "reader-secret").mustRun(t, "get-bucket-cors", "--bucket", "photos")
	})

	t.Run("anonymous", func(t *testing.T) {
		res := send(t, newRequest(t, http.MethodPut, c.URL(0)+"/photos?cors", `<CORSConfiguration/>`))
		if res.status != http.StatusForbidden || s3Code(res.body) != "AccessDenied" {
			t.Errorf("anonymous put: %d %s", res.status, res.body)
		}
		checkCORS(t, "anonymous put", res.header, nil)
		wantConfig(t, ad, "photos", storeCORS)
	})

	t.Run("another operation's permission", func(t *testing.T) {
		// MinIO routes PUT ?cors&acl to PutBucketAcl (200 with x-amz-acl
		// private, for s3:PutBucketPolicy) and GET ?cors&location to
		// GetBucketLocation, ahead of bucket CORS: their success must not
		// pass for the verdict on a CORS request.
		m.AddUser(t, "acladmin", "acladmin-secret", testenv.BucketPolicy([]string{"s3:PutBucketPolicy", "s3:GetBucketLocation"}, "photos"))
		evil := `<CORSConfiguration><CORSRule><AllowedOrigin>https://evil.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
		for _, req := range []*http.Request{
			signedURL(t, http.MethodPut, c.URL(0)+"/photos?cors&acl", evil, "acladmin", "acladmin-secret", time.Now(),
				"X-Amz-Acl", "private"),
			signedURL(t, http.MethodGet, c.URL(0)+"/photos?cors&location", "", "acladmin", "acladmin-secret", time.Now()),
		} {
			res := send(t, req)
			if res.status != http.StatusBadRequest || s3Code(res.body) != "InvalidArgument" {
				t.Errorf("%s %s: %d %s", req.Method, req.URL.RequestURI(), res.status, res.body)
			}
		}
		wantConfig(t, ad, "photos", storeCORS)
	})

	t.Run("presigned, allowed user", func(t *testing.T) {
		u := presignCORS(t, http.MethodGet, c.URL(0), "photos", "corsadmin", "corsadmin-secret", time.Now(), 5*time.Minute)
		if res := send(t, newRequest(t, http.MethodGet, u, "")); res.status != http.StatusOK || !strings.Contains(res.body, "https://app.example.com") {
			t.Errorf("presigned GetBucketCors: %d %s", res.status, res.body)
		}
	})

	t.Run("presigned for one body, sent with another", func(t *testing.T) {
		// MinIO checks a presigned request's signature over the payload
		// hash of its X-Amz-Content-Sha256 query parameter, and does not
		// read the body of PutBucketCors: the module checks the body
		// against that hash.
		signedFor := `<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
		evil := `<CORSConfiguration><CORSRule><AllowedOrigin>https://evil.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
		u := presignPayload(t, http.MethodPut, c.URL(0)+"/photos?cors=", signedFor, "corsadmin", "corsadmin-secret")
		req := newRequest(t, http.MethodPut, u, evil)
		sum := md5.Sum([]byte(evil))
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		if res := send(t, req); res.status != http.StatusBadRequest || s3Code(res.body) != "XAmzContentSHA256Mismatch" {
			t.Errorf("presigned put of another body: %d %s", res.status, res.body)
		}
		wantConfig(t, ad, "photos", storeCORS)
	})

	t.Run("anonymous with a lone signature parameter", func(t *testing.T) {
		// A bucket policy lets anyone manage the CORS of "open". MinIO
		// takes a request with X-Amz-Signature (or SigV2's Signature) but
		// no credential, or with a bearer token, for anonymous; the module
		// must not take it for signed: a write nobody authenticated is
		// never accepted.
		makeBucket(t, mc, "open")
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
			`"Action":["s3:PutBucketCors","s3:DeleteBucketCors"],"Resource":["arn:aws:s3:::open"]}]}`
		if err := mc.SetBucketPolicy(ctx, "open", policy); err != nil {
			t.Fatalf("bucket policy: %v", err)
		}
		body := `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
		sum := md5.Sum([]byte(body))
		for _, tt := range []struct{ query, authorization string }{
			{"cors&X-Amz-Signature=0", ""},
			{"cors&Signature=0", ""},
			{"cors", "Bearer x"}, // MinIO's S3 API takes a bearer token for anonymous
		} {
			req := newRequest(t, http.MethodPut, c.URL(0)+"/open?"+tt.query, body, "Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			res := send(t, req)
			if res.status != http.StatusForbidden || s3Code(res.body) != "AccessDenied" {
				t.Errorf("anonymous put ?%s (Authorization %q): %d %s", tt.query, tt.authorization, res.status, res.body)
			}
		}
		if _, res := ad.getJSON("open"); res.status != http.StatusNotFound {
			t.Errorf("an anonymous write was stored: %d %s", res.status, res.body)
		}
	})

	t.Run("Go SDK", func(t *testing.T) {
		ctx := context.Background()
		sdk, _ := newSDK(t, c.URL(0), "corsadmin", "corsadmin-secret")
		if _, err := sdk.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("photos"), CORSConfiguration: sdkRules("https://sdk.example")}); err != nil {
			t.Fatalf("PutBucketCors: %v", err)
		}
		got, err := sdk.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("photos")})
		if err != nil || len(got.CORSRules) != 1 || got.CORSRules[0].AllowedOrigins[0] != "https://sdk.example" {
			t.Fatalf("GetBucketCors: %+v %v", got, err)
		}
		reader, _ := newSDK(t, c.URL(0), "reader", "reader-secret")
		_, err = reader.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("photos"), CORSConfiguration: sdkRules("https://evil.example")})
		if apiCode(err) != "AccessDenied" {
			t.Errorf("reader PutBucketCors: %v", err)
		}
		_, err = sdk.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("ghost")})
		if apiCode(err) != "NoSuchBucket" {
			t.Errorf("GetBucketCors of a missing bucket: %v", err)
		}
		admin.mustRun(t, "put-bucket-cors", "--bucket", "photos", "--cors-configuration", cors)
	})

	t.Run("preflight to a missing bucket", func(t *testing.T) {
		res := preflight(t, c.URL(0), "/ghost/x", "https://app.example.com", "GET", "")
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "CORSResponse: Bucket not found") {
			t.Errorf("preflight: %d %s", res.status, res.body)
		}
	})

	t.Run("no store request for a configured bucket", func(t *testing.T) {
		proxy.reset()
		const n = 20
		for range n {
			res := preflight(t, c.URL(0), "/photos/cat.jpg", "https://app.example.com", "PUT", "content-type")
			if res.status != http.StatusOK {
				t.Fatalf("preflight: %d %s", res.status, res.body)
			}
			res = send(t, newRequest(t, http.MethodGet, c.URL(0)+"/photos/cat.jpg", "", "Origin", "https://app.example.com"))
			if res.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
				t.Fatalf("GET: %d %v", res.status, res.header)
			}
		}
		seen := proxy.requests("/photos")
		if len(seen) != n {
			t.Fatalf("the store saw %d requests on /photos, want the %d GETs: %q", len(seen), n, seen)
		}
		for _, s := range seen {
			if s != "GET /photos/cat.jpg" {
				t.Errorf("the store saw %q", s)
			}
		}
	})

	t.Run("deleted through the sidecar, created again", func(t *testing.T) {
		root.mustRun(t, "create-bucket", "--bucket", "gone")
		admin.mustRun(t, "put-bucket-cors", "--bucket", "gone", "--cors-configuration", cors)
		wantConfig(t, ad, "gone", storeCORS)
		root.mustRun(t, "delete-bucket", "--bucket", "gone")
		if _, res := ad.getJSON("gone"); res.status != http.StatusNotFound {
			t.Fatalf("after delete-bucket the configuration is still there: %d %s", res.status, res.body)
		}
		root.mustRun(t, "create-bucket", "--bucket", "gone")
		out, errOut, code := admin.run(t, "get-bucket-cors", "--bucket", "gone")
		if code != failed || !strings.Contains(errOut, "NoSuchCORSConfiguration") {
			t.Errorf("get-bucket-cors of the new bucket: exit %d\n%s%s", code, out, errOut)
		}
		res := preflight(t, c.URL(0), "/gone/x", "https://app.example.com", "GET", "")
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "CORS is not enabled") {
			t.Errorf("preflight to the new bucket: %d %s", res.status, res.body)
		}
	})

	t.Run("deleted behind the sidecar's back", func(t *testing.T) {
		makeBucket(t, mc, "back")
		admin.mustRun(t, "put-bucket-cors", "--bucket", "back", "--cors-configuration", cors)
		removeBucket(t, mc, "back")
		waitUntil(t, 20*time.Second, "configuration of a bucket deleted in MinIO removed", func() bool {
			_, res := ad.getJSON("back")
			return res.status == http.StatusNotFound
		})
	})

	t.Run("deleted and created again behind the sidecar's back", func(t *testing.T) {
		makeBucket(t, mc, "again")
		admin.mustRun(t, "put-bucket-cors", "--bucket", "again", "--cors-configuration", cors)
		// Let a comparison see the bucket as it is: the second bucket
		// list asked for from now on starts after the first one ended.
		proxy.reset()
		waitUntil(t, 20*time.Second, "two bucket comparisons", func() bool { return proxy.count("GET /") >= 2 })
		// Then replace the bucket at once with one of a later creation
		// date.
		removeBucket(t, mc, "again")
		makeBucket(t, mc, "again")
		waitUntil(t, 20*time.Second, "configuration of a bucket created again in MinIO removed", func() bool {
			_, res := ad.getJSON("again")
			return res.status == http.StatusNotFound
		})
	})
}

// removeBucket deletes an empty bucket in MinIO directly.
func removeBucket(t *testing.T, mc *minio.Client, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if err := mc.RemoveBucket(ctx, bucket); err != nil {
		t.Fatalf("remove bucket %s: %v", bucket, err)
	}
}

// TestStoreAuthorizesFailsClosed puts the store mode in front of a store
// that skips authentication (it answers NotImplemented to every `?cors`
// request, whoever signs it): the module's probe finds out, refuses every
// `?cors` request with AccessDenied, and logs why.
func TestStoreAuthorizesFailsClosed(t *testing.T) {
	t.Parallel()
	store := httptestStore(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write([]byte(`<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>`))
	})
	c := testenv.StartCaddy(t, globalOptions()+storeAuthSite(store), testenv.CaddyOptions{Ports: 1})
	cli := newAWSCLI(t, c.URL(0), "anyone", "any-secret")
	out, errOut, code := cli.run(t, "put-bucket-cors", "--bucket", "photos", "--cors-configuration", cli.file(t, "cors.json", storeCORS))
	if code != cli.serviceErrorExit(t) || !strings.Contains(errOut, "AccessDenied") {
		t.Errorf("put-bucket-cors: exit %d\n%s%s", code, out, errOut)
	}
	if _, res := adminOf(t, c).getJSON("photos"); res.status != http.StatusNotFound {
		t.Errorf("a write nobody authenticated was stored: %d %s", res.status, res.body)
	}
	if !strings.Contains(c.Output(), "does not authenticate ?cors requests") {
		t.Errorf("no error logged saying why:\n%s", c.Output())
	}
}

// TestStaticModeBuckets checks the static mode's bucket rules against real
// MinIO, with the object_store credentials as the module's way to ask the
// store: `?cors` on a missing bucket is 404 NoSuchBucket (it used to
// succeed), and a bucket deleted through the sidecar and created again
// starts with no CORS configuration (it used to inherit the old one, and
// the old origin's preflights passed).
func TestStaticModeBuckets(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s", objectStore(m))+s3APISite(m.Endpoint),
		testenv.CaddyOptions{Ports: 1, Env: s3Env(m.AccessKey, m.SecretKey)})
	cli := newAWSCLI(t, c.URL(0), m.AccessKey, m.SecretKey)
	ad := adminOf(t, c)
	cors := cli.file(t, "cors.json", storeCORS)

	out, errOut, code := cli.run(t, "put-bucket-cors", "--bucket", "ghost", "--cors-configuration", cors)
	if code != cli.serviceErrorExit(t) || !strings.Contains(errOut, "NoSuchBucket") {
		t.Errorf("put-bucket-cors on a missing bucket: exit %d\n%s%s", code, out, errOut)
	}
	if _, res := ad.getJSON("ghost"); res.status != http.StatusNotFound {
		t.Errorf("a missing bucket got a configuration: %d %s", res.status, res.body)
	}
	res := preflight(t, c.URL(0), "/ghost/x", "https://app.example.com", "GET", "")
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "CORSResponse: Bucket not found") {
		t.Errorf("preflight to a missing bucket: %d %s", res.status, res.body)
	}

	cli.mustRun(t, "create-bucket", "--bucket", "photos")
	cli.mustRun(t, "put-bucket-cors", "--bucket", "photos", "--cors-configuration", cors)
	if res := preflight(t, c.URL(0), "/photos/x", "https://app.example.com", "GET", ""); res.status != http.StatusOK {
		t.Fatalf("preflight: %d %s", res.status, res.body)
	}
	cli.mustRun(t, "delete-bucket", "--bucket", "photos")
	cli.mustRun(t, "create-bucket", "--bucket", "photos")
	out, errOut, code = cli.run(t, "get-bucket-cors", "--bucket", "photos")
	if code != cli.serviceErrorExit(t) || !strings.Contains(errOut, "NoSuchCORSConfiguration") {
		t.Errorf("get-bucket-cors of the bucket created again: exit %d\n%s%s", code, out, errOut)
	}
	if res := preflight(t, c.URL(0), "/photos/x", "https://app.example.com", "GET", ""); res.status != http.StatusForbidden {
		t.Errorf("the old owner's origin still passes the new bucket's preflight: %d %s", res.status, res.body)
	}
}

// TestStoreModeRootCredentials manages CORS through startStoreSidecar, the
// store mode's counterpart of startS3Sidecar, with MinIO's root
// credentials (which MinIO allows everything): the same client runs in
// both modes unchanged.
func TestStoreModeRootCredentials(t *testing.T) {
	t.Parallel()
	m, c := startStoreSidecar(t)
	cli := newAWSCLI(t, c.URL(0), m.AccessKey, m.SecretKey)
	cli.mustRun(t, "create-bucket", "--bucket", "photos")
	cli.mustRun(t, "put-bucket-cors", "--bucket", "photos", "--cors-configuration", cli.file(t, "cors.json", storeCORS))
	wantConfig(t, adminOf(t, c), "photos", storeCORS)
	if res := preflight(t, c.URL(0), "/photos/x", "https://app.example.com", "PUT", ""); res.status != http.StatusOK {
		t.Errorf("preflight: %d %s", res.status, res.body)
	}
	cli.mustRun(t, "delete-bucket-cors", "--bucket", "photos")
	if _, res := adminOf(t, c).getJSON("photos"); res.status != http.StatusNotFound {
		t.Errorf("after delete-bucket-cors: %d %s", res.status, res.body)
	}
}

// presignPayload presigns method url for body with the SDK's SigV4
// presigner, the body's hash in the signed query parameter
// X-Amz-Content-Sha256 (which MinIO takes for the payload hash).
func presignPayload(t *testing.T, method, url, body, accessKey, secretKey string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "300")
	q.Set("X-Amz-Content-Sha256", hash)
	req.URL.RawQuery = q.Encode()
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, req, hash, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// TestStoreModeHostMismatch puts the store mode in virtual-hosted style in
// front of a MinIO that is not set up for it (no MINIO_DOMAIN): MinIO
// answers GET /?cors on photos.s3.test with its bucket list, which must not
// let a user allowed to list buckets read photos' CORS configuration.
func TestStoreModeHostMismatch(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
}
http://:{{PORT0}} {
	bind 127.0.0.1
	s3_cors {
		bucket host s3.test
		s3_api {
			authorize store
		}
	}
	reverse_proxy `+m.Endpoint+`
}
`, testenv.CaddyOptions{Ports: 1})
	makeBucket(t, minioClient(t, m), "photos")
	m.AddUser(t, "lister", "lister-secret", testenv.BucketPolicy([]string{"s3:ListAllMyBuckets"}, "*"))
	ad := adminOf(t, c)
	ad.mustPut("photos", storeCORS)

	res := send(t, signedURL(t, http.MethodGet, c.URL(0)+"/?cors", "", "lister", "lister-secret", time.Now(), "Host", "photos.s3.test"))
	if res.status != http.StatusForbidden || strings.Contains(res.body, "app.example.com") {
		t.Errorf("GET /?cors on photos.s3.test by a user who may list buckets: %d %s", res.status, res.body)
	}
}

// TestStoreModeObjectDelete puts the store mode, path style, in front of a
// MinIO set up for virtual-hosted style (MINIO_DOMAIN): MinIO takes DELETE
// /photos?cors on api.s3.test for DeleteObject of photos in bucket api, and
// answers 204 as DeleteBucketCors would, which must not let a user who may
// delete api's objects delete photos' CORS configuration (nor, through
// PutObject, one who may write them set it).
func TestStoreModeObjectDelete(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIOWithEnv(t, "MINIO_DOMAIN=s3.test")
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
}
http://:{{PORT0}} {
	bind 127.0.0.1
	s3_cors {
		s3_api {
			authorize store
		}
	}
	reverse_proxy `+m.Endpoint+`
}
`, testenv.CaddyOptions{Ports: 1})
	mc := minioClient(t, m)
	makeBucket(t, mc, "api")
	makeBucket(t, mc, "photos")
	m.AddUser(t, "objects", "objects-secret", testenv.BucketPolicy([]string{"s3:PutObject", "s3:DeleteObject"}, "api/*"))
	ad := adminOf(t, c)
	ad.mustPut("photos", storeCORS)

	// PutObject answers 200 as PutBucketCors would, with an ETag.
	const evil = `<CORSConfiguration><CORSRule><AllowedOrigin>https://evil.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	res := send(t, signedURL(t, http.MethodPut, c.URL(0)+"/photos?cors", evil, "objects", "objects-secret", time.Now(), "Host", "api.s3.test"))
	if res.status != http.StatusForbidden {
		t.Errorf("PUT /photos?cors on api.s3.test by a user who may write api's objects: %d %s", res.status, res.body)
	}
	wantConfig(t, ad, "photos", storeCORS)

	res = send(t, signedURL(t, http.MethodDelete, c.URL(0)+"/photos?cors", "", "objects", "objects-secret", time.Now(), "Host", "api.s3.test"))
	if res.status != http.StatusForbidden {
		t.Errorf("DELETE /photos?cors on api.s3.test by a user who may delete api's objects: %d %s", res.status, res.body)
	}
	wantConfig(t, ad, "photos", storeCORS)
	if !strings.Contains(c.Output(), `names bucket \"api\"`) {
		t.Error("the bucket the store read is not logged")
	}
}
