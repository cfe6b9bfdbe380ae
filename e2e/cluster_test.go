package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// syncInterval is the sync_interval of the cluster tests, and
// convergeTimeout how long a change may take to reach another node: a few
// intervals, for the jitter and a loaded machine.
const (
	syncInterval    = time.Second
	convergeTimeout = 5 * syncInterval
)

// TestPersistence restarts the process (gracefully and after a crash) and
// reloads a changed Caddyfile with `caddy reload`: the configuration set at
// run time is served all along.
func TestPersistence(t *testing.T) {
	t.Parallel()
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s")+preflightSite, testenv.CaddyOptions{Ports: 1})
	ad := adminOf(t, c)
	const cfg = `{"CORSRules":[{"AllowedOrigins":["https://keep.example"],"AllowedMethods":["GET"]}]}`
	ad.mustPut("kept", cfg)

	served := func(t *testing.T) {
		t.Helper()
		wantConfig(t, ad, "kept", cfg)
		if !servesPreflight(t, c.URL(0), "kept", "https://keep.example") {
			t.Error("the configuration is not served")
		}
	}
	t.Run("restart", func(t *testing.T) {
		c.Restart()
		served(t)
	})
	t.Run("crash", func(t *testing.T) {
		c.Kill()
		c.Restart()
		served(t)
	})
	t.Run("reload", func(t *testing.T) {
		b, err := os.ReadFile(c.Caddyfile)
		if err != nil {
			t.Fatal(err)
		}
		// The reloaded site adds a header, to prove the new config runs.
		changed := strings.Replace(string(b), "\ts3_cors\n", "\ts3_cors\n\theader X-Reloaded yes\n", 1)
		if changed == string(b) {
			t.Fatal("the Caddyfile did not change")
		}
		file := filepath.Join(t.TempDir(), "Caddyfile")
		if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := c.Run("", "reload", "--config", file, "--adapter", "caddyfile", "--address", c.Admin); err != nil {
			t.Fatalf("caddy reload: %v\n%s", err, out)
		}
		res := send(t, newRequest(t, http.MethodGet, c.URL(0)+"/kept/k", ""))
		if res.header.Get("X-Reloaded") != "yes" {
			t.Fatalf("the reloaded config does not run: %v", res.header)
		}
		served(t)
		// And it is still writable after the reload.
		if res := ad.del("kept"); res.status != http.StatusNoContent {
			t.Errorf("delete after reload: %d %s", res.status, res.body)
		}
		if servesPreflight(t, c.URL(0), "kept", "https://keep.example") {
			t.Error("the deleted configuration is still served")
		}
	})
}

// TestSharedFileSystem runs two processes on one storage directory: a
// change on one node is served by the other within a few sync intervals,
// in both directions, for a put and a delete.
func TestSharedFileSystem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := globalOptions("sync_interval 1s", "storage file_system "+dir) + preflightSite
	a := testenv.StartCaddy(t, conf, testenv.CaddyOptions{Ports: 1})
	b := testenv.StartCaddy(t, conf, testenv.CaddyOptions{Ports: 1})
	nodes := map[string]*testenv.Caddy{"A": a, "B": b}

	steps := []struct {
		name, from, to string
		put            bool
	}{
		{name: "put on A", from: "A", to: "B", put: true},
		{name: "delete on A", from: "A", to: "B"},
		{name: "put on B", from: "B", to: "A", put: true},
		{name: "delete on B", from: "B", to: "A"},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			from, to := nodes[st.from], nodes[st.to]
			origin := "https://step" + string(rune('0'+i)) + ".example"
			if st.put {
				adminOf(t, from).mustPut("shared", `{"CORSRules":[{"AllowedOrigins":["`+origin+`"],"AllowedMethods":["GET"]}]}`)
			} else {
				if res := adminOf(t, from).del("shared"); res.status != http.StatusNoContent {
					t.Fatalf("delete: %d %s", res.status, res.body)
				}
				origin = "https://step" + string(rune('0'+i-1)) + ".example"
			}
			// The node that took the write serves it at once.
			if servesPreflight(t, from.URL(0), "shared", origin) != st.put {
				t.Fatalf("node %s does not serve its own write at once", st.from)
			}
			took := waitUntil(t, convergeTimeout, "node "+st.to+" to converge", func() bool {
				return servesPreflight(t, to.URL(0), "shared", origin) == st.put
			})
			t.Logf("shared file system, %s: node %s converged in %s (sync_interval %s)", st.name, st.to, took.Round(time.Millisecond), syncInterval)
		})
	}
}

// TestSharedObjectStore runs two sidecars in front of one MinIO that share
// configurations through object_store: a PutBucketCors sent with the aws
// cli to node A is served by node B within a few sync intervals, the
// configuration is an object in MinIO's caddy-s3cors bucket (created by
// the sidecars), and a delete on B reaches A.
func TestSharedObjectStore(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	conf := globalOptions("sync_interval 1s", objectStore(m)) + s3APISite(m.Endpoint)
	opts := testenv.CaddyOptions{Ports: 1, Env: s3Env(m.AccessKey, m.SecretKey)}
	a := testenv.StartCaddy(t, conf, opts)
	b := testenv.StartCaddy(t, conf, opts)
	cliA := newAWSCLI(t, a.URL(0), m.AccessKey, m.SecretKey)
	cliB := newAWSCLI(t, b.URL(0), m.AccessKey, m.SecretKey)
	mc := minioClient(t, m)
	// The sidecars ask MinIO (object_store's credentials) whether a
	// bucket exists: CORS is for buckets that do.
	makeBucket(t, mc, "photos")

	const cors = `{"CORSRules":[{"ID":"os","AllowedOrigins":["https://os.example"],"AllowedMethods":["GET","PUT"],"MaxAgeSeconds":120}]}`
	cliA.mustRun(t, "put-bucket-cors", "--bucket", "photos", "--cors-configuration", cliA.file(t, "cors.json", cors))
	if !servesPreflight(t, a.URL(0), "photos", "https://os.example") {
		t.Fatal("node A does not serve its own write")
	}
	took := waitUntil(t, convergeTimeout, "node B to serve A's put", func() bool {
		return servesPreflight(t, b.URL(0), "photos", "https://os.example")
	})
	t.Logf("object store, put on A: node B converged in %s (sync_interval %s)", took.Round(time.Millisecond), syncInterval)
	if got := decodeJSON(t, cliB.mustRun(t, "get-bucket-cors", "--bucket", "photos")); !reflect.DeepEqual(got, decodeJSON(t, cors)) {
		t.Errorf("get-bucket-cors on B: %v", got)
	}

	// The configuration is really an object in MinIO.
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	// Beside it, the change journal: one entry per write, named after the
	// bucket, which the other node read instead of listing every key.
	var keys, journal []string
	for obj := range mc.ListObjects(ctx, "caddy-s3cors", minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list caddy-s3cors: %v", obj.Err)
		}
		if strings.HasPrefix(obj.Key, "cors/.journal/") {
			journal = append(journal, obj.Key)
			continue
		}
		keys = append(keys, obj.Key)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "cors/photos.xml" {
		t.Errorf("objects in caddy-s3cors: %v, want [cors/photos.xml]", keys)
	}
	if len(journal) != 1 || !strings.HasSuffix(journal[0], "-photos") {
		t.Errorf("journal in caddy-s3cors: %v, want one entry for photos", journal)
	}
	stored, err := s3cors.ParseXML([]byte(getObject(t, mc, "caddy-s3cors", "cors/photos.xml")))
	want, _ := s3cors.ParseJSON([]byte(cors))
	if err != nil || !stored.Equal(want) {
		t.Errorf("stored object: %v, %v", stored, err)
	}

	cliB.mustRun(t, "delete-bucket-cors", "--bucket", "photos")
	took = waitUntil(t, convergeTimeout, "node A to drop B's delete", func() bool {
		return !servesPreflight(t, a.URL(0), "photos", "https://os.example")
	})
	t.Logf("object store, delete on B: node A converged in %s (sync_interval %s)", took.Round(time.Millisecond), syncInterval)
	if _, err := mc.StatObject(ctx, "caddy-s3cors", "cors/photos.xml", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Errorf("the deleted configuration object: %v", err)
	}
}

// TestObjectStoreNotifications runs two sidecars (notifications on, the
// default) on a MinIO whose notification streams work, with a sync
// interval of an hour: once node B's stream is up (its notifications_up
// metric), a write on node A is served by B, which only the stream can
// explain, and B's sync_notified_total counts the sync it started.
func TestObjectStoreNotifications(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIOStream(t)
	conf := globalOptions("sync_interval 1h", objectStore(m)) + preflightSite
	a := testenv.StartCaddy(t, conf, testenv.CaddyOptions{Ports: 1})
	b := testenv.StartCaddy(t, conf, testenv.CaddyOptions{Ports: 1})
	metricsB := "http://" + b.Admin + "/metrics"
	// MinIO sends a stream's first bytes with its first ping, 10 s in.
	took := waitUntil(t, 30*time.Second, "node B's notification stream up", func() bool {
		return scrape(t, metricsB)["caddy_s3_cors_notifications_up"] == 1
	})
	t.Logf("node B's stream up after %s", took.Round(time.Millisecond))
	before := scrape(t, metricsB)["caddy_s3_cors_sync_notified_total"]

	adminOf(t, a).mustPut("photos", `{"CORSRules":[{"AllowedOrigins":["https://n.example"],"AllowedMethods":["GET"]}]}`)
	took = waitUntil(t, convergeTimeout, "node B to serve A's put", func() bool {
		return servesPreflight(t, b.URL(0), "photos", "https://n.example")
	})
	t.Logf("notifications, put on A: node B converged in %s (sync_interval 1h)", took.Round(time.Millisecond))
	if after := scrape(t, metricsB)["caddy_s3_cors_sync_notified_total"]; after <= before {
		t.Errorf("sync_notified_total on B: %v before the put, %v after", before, after)
	}
}
