package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// toggleProxy forwards TCP connections from addr to target while up; down,
// nothing listens on addr (connections are refused) and the connections
// it carried are cut, as when the store behind it goes away.
type toggleProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newToggleProxy(t testing.TB, target string) *toggleProxy {
	p := &toggleProxy{addr: "127.0.0.1:" + strconv.Itoa(testenv.FreePorts(t, 1)[0]), target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(p.Down)
	return p
}

// Up starts listening on addr.
func (p *toggleProxy) Up(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after Down
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *toggleProxy) forward(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(u, c); u.Close() }()
	_, _ = io.Copy(c, u)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// Down stops listening and cuts every forwarded connection.
func (p *toggleProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// TestFaultObjectStore runs the sidecar with object_store pointed at a
// MinIO that is unreachable at start: Caddy starts and serves its static
// configuration, writes fail with 500 and change nothing, and once MinIO
// is reachable the stored configuration is picked up by the sync loop.
// Then MinIO goes away again during writes through both APIs: 500, and
// the old configuration is still served and read back.
func TestFaultObjectStore(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	mc, err := minio.New(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, "cors-config", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.PutObject(ctx, "cors-config", "s3_cors/buckets/stored.xml", strings.NewReader(cfgA), int64(len(cfgA)),
		minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	proxy := newToggleProxy(t, m.Endpoint) // down
	up := startUpstream(t)
	start := time.Now()
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
	s3_cors {
		sync_interval 500ms
		object_store {
			endpoint `+proxy.addr+`
			access_key `+m.AccessKey+`
			secret_key `+m.SecretKey+`
			bucket cors-config
		}
	}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		s3_api {
			access_key `+accessKey+`
			secret_key `+secretKey+`
			# the object store keeps configurations only; the site's store is another
			bucket_check off
		}
		bucket_config static {
			rule {
				origins `+appOrigin+`
				methods GET
			}
		}
	}
	reverse_proxy `+up.Addr()+`
}
`, testenv.CaddyOptions{Ports: 1})
	site := c.URL(0)
	t.Logf("started in %v with the object store down", time.Since(start).Round(time.Millisecond))

	status := func(bucket string) int {
		res, _ := mustSend(t, appPreflight(t, site+"/"+bucket+"/k", "GET"))
		return res.StatusCode
	}
	if st := status("static"); st != 200 {
		t.Errorf("static configuration with the store down: preflight %d", st)
	}
	if st := status("stored"); st != 403 {
		t.Errorf("stored configuration before the store was reachable: preflight %d, want 403", st)
	}
	if st, err := adminPut(t, http.DefaultClient, c.Admin, "other", cfgB); err != nil || st != 500 {
		t.Errorf("admin put with the store down: %d %v, want 500", st, err)
	}

	proxy.Up(t)
	waitUntil(t, 20*time.Second, "the stored configuration picked up once the store was back",
		func() bool { return status("stored") == 200 })
	if st, body := adminGet(t, c.Admin, "other"); st != 404 {
		t.Errorf("a write refused with 500 was stored: %d %s", st, body)
	}

	// During writes.
	proxy.Down()
	if st, err := adminPut(t, http.DefaultClient, c.Admin, "stored", cfgB); err != nil || st != 500 {
		t.Errorf("admin put with the store gone: %d %v, want 500", st, err)
	}
	res, body := mustSend(t, signedCORS(t, "PUT", site, "stored", cfgB, accessKey, secretKey, time.Now()))
	if res.StatusCode != 500 || s3Code(body) != "InternalError" {
		t.Errorf("S3 API put with the store gone: %d %s, want 500 InternalError", res.StatusCode, body)
	}
	res, _ = mustSend(t, appPreflight(t, site+"/stored/k", "GET"))
	if which, err := whichConfig(res.Header); which != "A" {
		t.Errorf("after failed writes of B: served %q %v, want A", which, err)
	}
	if st, body := adminGet(t, c.Admin, "stored"); st != 200 || !strings.Contains(body, "x-amz-a") {
		t.Errorf("after failed writes of B: admin get %d %s", st, body)
	}
	proxy.Up(t)
	waitUntil(t, 20*time.Second, "writes recovered with the store", func() bool {
		st, _ := adminPut(t, http.DefaultClient, c.Admin, "stored", cfgB)
		return st == 200
	})
	res, _ = mustSend(t, appPreflight(t, site+"/stored/k", "GET"))
	if which, err := whichConfig(res.Header); which != "B" {
		t.Errorf("after the store came back and B was written: %q %v", which, err)
	}
}

// TestFaultCorruptKey writes, as another node sharing the storage would,
// a corrupt key and a good one into the storage directory: the corrupt one
// is logged and skipped (its bucket has no configuration), the good one
// and the existing buckets are served. Keys written by hand are not in the
// change journal: the full syncs (full_sync_interval) find them.
func TestFaultCorruptKey(t *testing.T) {
	up := startUpstream(t)
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
	s3_cors {
		sync_interval 300ms
		full_sync_interval 1s
	}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		default {
			rule {
				origins *
				methods GET
			}
		}
	}
	reverse_proxy `+up.Addr()+`
}
`, testenv.CaddyOptions{Ports: 1})
	site := c.URL(0)
	if st, err := adminPut(t, http.DefaultClient, c.Admin, "photos", cfgA); err != nil || st != 200 {
		t.Fatalf("put: %d %v", st, err)
	}
	dir := filepath.Join(c.Home, "data", "caddy", "s3_cors", "buckets")
	if _, err := os.Stat(filepath.Join(dir, "photos.xml")); err != nil {
		t.Fatalf("storage layout: %v", err)
	}
	corrupt := map[string]string{
		"torn.xml":    cfgB[:len(cfgB)/2],
		"garbage.xml": "\x00\xff not xml at all",
		"empty.xml":   "",
		"invalid.xml": `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>`,
	}
	for name, content := range corrupt {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "docs.xml"), []byte(cfgB), 0o600); err != nil {
		t.Fatal(err)
	}
	status := func(bucket string) (int, string) {
		res, _ := mustSend(t, appPreflight(t, site+"/"+bucket+"/k", "GET"))
		which, _ := whichConfig(res.Header)
		return res.StatusCode, which
	}
	waitUntil(t, 10*time.Second, "a good key written beside corrupt ones picked up",
		func() bool { st, w := status("docs"); return st == 200 && w == "B" })
	if st, w := status("photos"); st != 200 || w != "A" {
		t.Errorf("existing bucket beside corrupt keys: %d %q", st, w)
	}
	// A bucket without a key of its own gets the default; one whose key
	// cannot be read is refused all the same (fail closed), not handed to
	// the default, which allows what its own configuration may refuse.
	if st, _ := status("plain"); st != 200 {
		t.Errorf("bucket without a key: preflight %d, want 200 from the default", st)
	}
	var sources struct {
		Buckets []struct{ Bucket, Source string }
	}
	if res := send(t, newRequest(t, http.MethodGet, "http://"+c.Admin+"/s3_cors/sources", "")); res.status != 200 {
		t.Fatalf("sources: %d %s", res.status, res.body)
	} else if err := json.Unmarshal([]byte(res.body), &sources); err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, b := range sources.Buckets {
		listed[b.Bucket] = b.Source
	}
	for name := range corrupt {
		bucket := strings.TrimSuffix(name, ".xml")
		if st, _ := status(bucket); st != 403 {
			t.Errorf("bucket %s with a corrupt key: preflight %d, want 403", bucket, st)
		}
		if res := send(t, newRequest(t, http.MethodGet, site+"/"+bucket+"/k", "", "Origin", appOrigin)); res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("bucket %s with a corrupt key: GET answered with CORS headers %v", bucket, res.header)
		}
		if st, body := adminGet(t, c.Admin, bucket); st != 500 || !strings.Contains(body, "InternalError") {
			t.Errorf("bucket %s with a corrupt key: admin GET %d %s, want 500 InternalError", bucket, st, body)
		}
		if listed[bucket] != "unreadable" {
			t.Errorf("bucket %s with a corrupt key: sources list it as %q, want unreadable", bucket, listed[bucket])
		}
		if !strings.Contains(c.Output(), "s3_cors/buckets/"+name) {
			t.Errorf("corrupt key %s not logged", name)
		}
	}
	// Fixed, the key is read again.
	if err := os.WriteFile(filepath.Join(dir, "torn.xml"), []byte(cfgA), 0o600); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "a repaired key picked up",
		func() bool { st, w := status("torn"); return st == 200 && w == "A" })
}

// TestFaultUpstream: with the store down, preflights are still answered
// by the module, and actual requests get the proxy's 502 without any CORS
// header; with a slow store, preflights are answered at once while an
// actual request waits, which then gets its CORS headers.
func TestFaultUpstream(t *testing.T) {
	up := startUpstream(t)
	// Port 0 proxies to the stand-in store, port 1 to an address nothing
	// listens on; both have the photos bucket configured as A.
	photosSite := func(port, store string) string {
		return `http://127.0.0.1:{{PORT` + port + `}} {
	s3_cors {
		bucket_config photos {
			rule {
				origins ` + appOrigin + `
				methods GET HEAD
				headers *
				expose x-amz-a
				max_age 100
			}
		}
	}
	reverse_proxy ` + store + `
}
`
	}
	nowhere := "127.0.0.1:" + strconv.Itoa(testenv.FreePorts(t, 1)[0])
	c := testenv.StartCaddy(t, "{\n\tadmin {{ADMIN}}\n}\n"+photosSite("0", up.Addr())+photosSite("1", nowhere),
		testenv.CaddyOptions{Ports: 2})

	t.Run("down", func(t *testing.T) {
		site := c.URL(1)
		res, _ := mustSend(t, appPreflight(t, site+"/photos/k", "GET"))
		if which, err := whichConfig(res.Header); res.StatusCode != 200 || which != "A" {
			t.Errorf("preflight with the store down: %d %q %v", res.StatusCode, which, err)
		}
		req, _ := http.NewRequest("GET", site+"/photos/k", nil)
		req.Header.Set("Origin", appOrigin)
		res, _ = mustSend(t, req)
		if res.StatusCode != 502 {
			t.Errorf("actual request with the store down: %d, want 502", res.StatusCode)
		}
		for name := range res.Header {
			if strings.HasPrefix(name, "Access-Control-") {
				t.Errorf("502 carries %s: %q", name, res.Header[name])
			}
		}
	})

	t.Run("slow", func(t *testing.T) {
		site := c.URL(0)
		type result struct {
			res *http.Response
			err error
		}
		done := make(chan result, 1)
		go func() {
			req, _ := http.NewRequest("GET", site+"/photos/slow", nil)
			req.Header.Set("Origin", appOrigin)
			res, _, err := sendWith(http.DefaultClient, req)
			done <- result{res, err}
		}()
		time.Sleep(300 * time.Millisecond) // the GET is at the store
		var slowest time.Duration
		for i := range 20 {
			start := time.Now()
			res, _ := mustSend(t, appPreflight(t, fmt.Sprintf("%s/photos/slow%d", site, i), "GET"))
			slowest = max(slowest, time.Since(start))
			if res.StatusCode != 200 {
				t.Fatalf("preflight during a slow request: %d", res.StatusCode)
			}
		}
		select {
		case r := <-done:
			t.Fatalf("the slow request did not wait: %v %v", r.res, r.err)
		default:
		}
		if slowest > time.Second {
			t.Errorf("slowest preflight while a request hangs at the store: %v", slowest)
		}
		up.Release()
		r := <-done
		if r.err != nil || r.res.StatusCode != 200 {
			t.Fatalf("slow request: %v %v", r.res, r.err)
		}
		if which, err := whichConfig(r.res.Header); which != "A" {
			t.Errorf("slow request's headers: %q %v", which, err)
		}
		t.Logf("slowest of 20 preflights while a GET hung: %v", slowest)
	})
}

// TestFaultKillDuringWrites kills the sidecar with SIGKILL while a stream
// of configurations (each with its own MaxAgeSeconds) is being written
// through the admin API, then restarts it on the same storage: the stored
// configuration is one of those written, whole, at least as recent as the
// last one acknowledged, and served.
func TestFaultKillDuringWrites(t *testing.T) {
	up := startUpstream(t)
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors
	reverse_proxy `+up.Addr()+`
}
`, testenv.CaddyOptions{Ports: 1})
	doc := func(i int) string {
		return strings.Replace(cfgA, "<MaxAgeSeconds>100</MaxAgeSeconds>", "<MaxAgeSeconds>"+strconv.Itoa(i)+"</MaxAgeSeconds>", 1)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	acked, attempted := 0, 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			attempted = i
			st, err := adminPut(t, client, c.Admin, "photos", doc(i))
			if err != nil {
				return // killed
			}
			if st == 200 {
				acked = i
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	c.Kill()
	close(stop)
	<-done
	if acked == 0 {
		t.Fatal("no write acknowledged before the kill")
	}
	c.Restart()

	st, body := adminGet(t, c.Admin, "photos")
	if st != 200 {
		t.Fatalf("after the restart: admin get %d %s", st, body)
	}
	var got int
	for i := attempted; i >= 1; i-- {
		cfg, err := s3cors.ParseXML([]byte(doc(i)))
		if err != nil {
			t.Fatal(err)
		}
		if body == string(cfg.XML()) {
			got = i
			break
		}
	}
	if got == 0 {
		t.Fatalf("stored configuration is none of the %d written: %q", attempted, body)
	}
	if got < acked {
		t.Errorf("stored configuration %d is older than the last acknowledged %d", got, acked)
	}
	res, _ := mustSend(t, appPreflight(t, c.URL(0)+"/photos/k", "GET"))
	if ma := res.Header.Get("Access-Control-Max-Age"); res.StatusCode != 200 || ma != strconv.Itoa(got) {
		t.Errorf("served after the restart: %d Max-Age %q, want %d", res.StatusCode, ma, got)
	}
	// No temporary file of the interrupted write is taken for a bucket.
	res, b, err := sendWith(http.DefaultClient, newRequest(t, http.MethodGet, "http://"+c.Admin+"/s3_cors/buckets", ""))
	if err != nil || res.StatusCode != 200 || !bytes.Equal(bytes.TrimSpace(b), []byte(`{"buckets":["photos"]}`)) {
		t.Errorf("bucket list after the restart: %v %s", err, b)
	}
	t.Logf("killed after %d acknowledged writes (%d attempted); %d stored", acked, attempted, got)
}

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
// modes, so then the immutable attribute does (chattr +i): a missing
// chattr ends the test as testenv.Require does (a failure in CI), and the
// test is skipped where the file system or the process's capabilities
// refuse the attribute.
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
		testenv.Require(t, fmt.Errorf("running as root, chattr (e2fsprogs) must make a directory read-only: %v", err))
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
