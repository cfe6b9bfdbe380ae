package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// writeFailTimeout bounds how long a write may take to fail when the
// storage is down: minio-go's few retries, not a hang.
const writeFailTimeout = 15 * time.Second

// recoverTimeout bounds how long a node takes to read the storage again
// once it is back: the sync loop retries a failing storage with a backoff
// that starts at a second and doubles, and MinIO needs a moment to start.
const recoverTimeout = 30 * time.Second

// staticSite is a site with one static bucket configuration ("static"),
// the S3 API, and no store behind it.
const staticSite = `http://127.0.0.1:{{PORT0}} {
	s3_cors {
		s3_api {
			access_key {env.S3_CORS_ACCESS_KEY}
			secret_key {env.S3_CORS_SECRET_KEY}
		}
		bucket_config static {
			rule {
				origins https://static.example
				methods GET
			}
		}
	}
	respond "store" 200
}
`

// storedConfig reads the configuration object of bucket from MinIO.
func storedConfig(t *testing.T, m *testenv.MinIO, bucket string) *s3cors.Configuration {
	t.Helper()
	cfg, err := s3cors.ParseXML([]byte(getObject(t, minioClient(t, m), "caddy-s3cors", "cors/"+bucket+".xml")))
	if err != nil {
		t.Fatalf("stored configuration of %s: %v", bucket, err)
	}
	return cfg
}

func mustParseJSON(t *testing.T, doc string) *s3cors.Configuration {
	t.Helper()
	cfg, err := s3cors.ParseJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestStorageDownDuringWrites stops the MinIO that holds the
// configurations (object_store) under a running sidecar: puts and deletes
// through the admin API and the S3 API answer 500 InternalError, the
// configuration stored before is still served and still stored, and once
// MinIO is back writes work again.
func TestStorageDownDuringWrites(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s", objectStore(m))+staticSite,
		testenv.CaddyOptions{Ports: 1, Env: s3Env(m.AccessKey, m.SecretKey)})
	ad := adminOf(t, c)
	sdk, _ := newSDK(t, c.URL(0), m.AccessKey, m.SecretKey)
	const before = `{"CORSRules":[{"AllowedOrigins":["https://before.example"],"AllowedMethods":["GET"]}]}`
	const after = `{"CORSRules":[{"AllowedOrigins":["https://after.example"],"AllowedMethods":["GET"]}]}`
	ad.mustPut("photos", before)

	m.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	writes := []struct {
		name string
		do   func() (status int, code string)
	}{
		{name: "admin put", do: func() (int, string) {
			res := ad.put("photos", after)
			return res.status, s3Code(res.body)
		}},
		{name: "admin delete", do: func() (int, string) {
			res := ad.del("photos")
			return res.status, s3Code(res.body)
		}},
		{name: "S3 API put", do: func() (int, string) {
			_, err := sdk.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("photos"), CORSConfiguration: sdkRules("https://after.example")})
			return sdkStatus(err), apiCode(err)
		}},
		{name: "S3 API delete", do: func() (int, string) {
			_, err := sdk.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("photos")})
			return sdkStatus(err), apiCode(err)
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			start := time.Now()
			status, code := w.do()
			took := time.Since(start)
			if status != http.StatusInternalServerError || code != "InternalError" {
				t.Errorf("with the storage down: %d %s, want 500 InternalError", status, code)
			}
			if took > writeFailTimeout {
				t.Errorf("the failed write took %s", took)
			}
			t.Logf("failed in %s", took.Round(time.Millisecond))
			wantConfig(t, ad, "photos", before)
			if !servesPreflight(t, c.URL(0), "photos", "https://before.example") {
				t.Error("the configuration stored before is not served")
			}
			if servesPreflight(t, c.URL(0), "photos", "https://after.example") {
				t.Error("the failed write is served")
			}
		})
	}
	// A few sync intervals with the storage down change nothing either.
	time.Sleep(2 * syncInterval)
	if !servesPreflight(t, c.URL(0), "photos", "https://before.example") || !servesPreflight(t, c.URL(0), "static", "https://static.example") {
		t.Fatal("failing syncs dropped a configuration")
	}

	m.Restart()
	if got := storedConfig(t, m, "photos"); !got.Equal(mustParseJSON(t, before)) {
		t.Errorf("stored after the outage: %s", got.XML())
	}
	took := waitUntil(t, recoverTimeout, "a put to succeed after the outage", func() bool {
		return ad.put("photos", after).status == http.StatusOK
	})
	t.Logf("writes work again %s after MinIO answered", took.Round(time.Millisecond))
	if !servesPreflight(t, c.URL(0), "photos", "https://after.example") {
		t.Error("the put after the outage is not served")
	}
	if got := storedConfig(t, m, "photos"); !got.Equal(mustParseJSON(t, after)) {
		t.Errorf("stored after the put: %s", got.XML())
	}
}

// TestStorageDownAtStart starts the sidecar while the MinIO holding the
// configurations is down: Caddy starts anyway and serves its static
// configurations, then picks up the stored ones once MinIO is back.
func TestStorageDownAtStart(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	mc := minioClient(t, m)
	makeBucket(t, mc, "caddy-s3cors")
	const stored = `{"CORSRules":[{"AllowedOrigins":["https://stored.example"],"AllowedMethods":["GET"]}]}`
	putObject(t, mc, "caddy-s3cors", "cors/stored.xml", string(mustParseJSON(t, stored).XML()))
	m.Stop()

	start := time.Now()
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s", objectStore(m))+staticSite,
		testenv.CaddyOptions{Ports: 1, Env: s3Env(m.AccessKey, m.SecretKey)})
	t.Logf("Caddy started in %s with the storage down", time.Since(start).Round(time.Millisecond))
	if !servesPreflight(t, c.URL(0), "static", "https://static.example") {
		t.Fatal("the static configuration is not served")
	}
	if servesPreflight(t, c.URL(0), "stored", "https://stored.example") {
		t.Fatal("a stored configuration is served before the storage could be read")
	}

	m.Restart()
	took := waitUntil(t, recoverTimeout, "the stored configuration to be served", func() bool {
		return servesPreflight(t, c.URL(0), "stored", "https://stored.example")
	})
	t.Logf("stored configuration served %s after MinIO answered", took.Round(time.Millisecond))
	wantConfig(t, adminOf(t, c), "stored", stored)
	if !servesPreflight(t, c.URL(0), "static", "https://static.example") {
		t.Error("the static configuration is no longer served")
	}
}

// TestStorageBucketCreatedAfterOutage starts the sidecar on a fresh MinIO
// that is down: the caddy-s3cors bucket cannot be created at start, so it
// must be created once MinIO is back, and writes then succeed.
func TestStorageBucketCreatedAfterOutage(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	m.Stop()
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s", objectStore(m))+staticSite,
		testenv.CaddyOptions{Ports: 1, Env: s3Env(m.AccessKey, m.SecretKey)})
	ad := adminOf(t, c)
	m.Restart()
	const cfg = `{"CORSRules":[{"AllowedOrigins":["https://late.example"],"AllowedMethods":["GET"]}]}`
	took := waitUntil(t, recoverTimeout, "a put to succeed once MinIO is back", func() bool {
		return ad.put("late", cfg).status == http.StatusOK
	})
	t.Logf("put succeeded %s after MinIO answered", took.Round(time.Millisecond))
	if !storedConfig(t, m, "late").Equal(mustParseJSON(t, cfg)) {
		t.Error("the configuration is not stored")
	}
	if !servesPreflight(t, c.URL(0), "late", "https://late.example") {
		t.Error("the configuration is not served")
	}
}

// lockDir makes dir refuse new entries, renames and removals, and returns
// what undoes it. Without root, a mode of 0500 does it; root ignores
// modes, so then the immutable attribute does (chattr +i), and the test is
// skipped where the file system or the tools do not support it.
func lockDir(t *testing.T, dir string) (unlock func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		return func() {
			if err := os.Chmod(dir, 0o700); err != nil {
				t.Errorf("unlock %s: %v", dir, err)
			}
		}
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skipf("skipping: running as root and chattr not found (%v): no way to make a directory read-only", err)
	}
	if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("skipping: running as root and chattr +i fails here: %v %s", err, out)
	}
	return func() {
		if out, err := exec.Command(chattr, "-i", dir).CombinedOutput(); err != nil {
			t.Errorf("unlock %s: %v %s", dir, err, out)
		}
	}
}

// TestFileStorageWriteFailure makes the storage directory that holds the
// configuration keys read-only under a running sidecar: a put and a delete
// answer 500 InternalError, the configuration stored before is still served
// and its key still holds it, and once the directory is writable again,
// writes work.
func TestFileStorageWriteFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s", "storage file_system "+dir)+preflightSite,
		testenv.CaddyOptions{Ports: 1})
	ad := adminOf(t, c)
	const before = `{"CORSRules":[{"AllowedOrigins":["https://before.example"],"AllowedMethods":["GET"]}]}`
	const after = `{"CORSRules":[{"AllowedOrigins":["https://after.example"],"AllowedMethods":["GET"]}]}`
	ad.mustPut("photos", before)
	keyDir := filepath.Join(dir, "s3_cors", "buckets")
	key := filepath.Join(keyDir, "photos.xml")
	stored, err := os.ReadFile(key)
	if err != nil {
		t.Fatalf("the key is not where it should be: %v", err)
	}

	unlock := lockDir(t, keyDir)
	locked := true
	defer func() {
		if locked {
			unlock() // t.TempDir must be able to remove it
		}
	}()
	for _, res := range []response{ad.put("photos", after), ad.del("photos")} {
		if res.status != http.StatusInternalServerError || s3Code(res.body) != "InternalError" {
			t.Errorf("write to a read-only storage: %d %s, want 500 InternalError", res.status, res.body)
		}
		wantConfig(t, ad, "photos", before)
		if !servesPreflight(t, c.URL(0), "photos", "https://before.example") {
			t.Error("the configuration stored before is not served")
		}
	}
	if now, err := os.ReadFile(key); err != nil || string(now) != string(stored) {
		t.Errorf("the key changed under the failed writes: %q, %v", now, err)
	}

	unlock()
	locked = false
	ad.mustPut("photos", after)
	if !servesPreflight(t, c.URL(0), "photos", "https://after.example") {
		t.Error("the put after the fault is not served")
	}
	// A restart reads what the storage has: the put after the fault.
	c.Restart()
	wantConfig(t, ad, "photos", after)
}
