package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
	p := &toggleProxy{addr: freeAddr(t), target: target, conns: map[net.Conn]bool{}}
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
	if !waitFor(20*time.Second, func() bool { return status("stored") == 200 }) {
		t.Fatal("the stored configuration was not picked up once the store was back")
	}
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
	if !waitFor(20*time.Second, func() bool {
		st, _ := adminPut(t, http.DefaultClient, c.Admin, "stored", cfgB)
		return st == 200
	}) {
		t.Fatal("writes did not recover with the store")
	}
	res, _ = mustSend(t, appPreflight(t, site+"/stored/k", "GET"))
	if which, err := whichConfig(res.Header); which != "B" {
		t.Errorf("after the store came back and B was written: %q %v", which, err)
	}
}

// TestFaultCorruptKey writes, as another node sharing the storage would,
// a corrupt key and a good one into the storage directory: the corrupt one
// is logged and skipped (its bucket has no configuration), the good one
// and the existing buckets are served.
func TestFaultCorruptKey(t *testing.T) {
	up := startUpstream(t)
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
	s3_cors {
		sync_interval 300ms
	}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors
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
	if !waitFor(10*time.Second, func() bool { st, w := status("docs"); return st == 200 && w == "B" }) {
		t.Fatal("a good key written beside corrupt ones was not picked up")
	}
	if st, w := status("photos"); st != 200 || w != "A" {
		t.Errorf("existing bucket beside corrupt keys: %d %q", st, w)
	}
	for name := range corrupt {
		bucket := strings.TrimSuffix(name, ".xml")
		if st, _ := status(bucket); st != 403 {
			t.Errorf("bucket %s with a corrupt key: preflight %d, want 403", bucket, st)
		}
		if !strings.Contains(c.Output(), "s3_cors/buckets/"+name) {
			t.Errorf("corrupt key %s not logged", name)
		}
	}
	// Fixed, the key is read again.
	if err := os.WriteFile(filepath.Join(dir, "torn.xml"), []byte(cfgA), 0o600); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { st, w := status("torn"); return st == 200 && w == "A" }) {
		t.Error("a repaired key was not picked up")
	}
}

// TestFaultUpstream: with the store down, preflights are still answered
// by the module, and actual requests get the proxy's 502 without any CORS
// header; with a slow store, preflights are answered at once while an
// actual request waits, which then gets its CORS headers.
func TestFaultUpstream(t *testing.T) {
	up := startUpstream(t)
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		bucket_config photos {
			rule {
				origins `+appOrigin+`
				methods GET HEAD
				headers *
				expose x-amz-a
				max_age 100
			}
		}
	}
	reverse_proxy `+up.Addr()+`
}
http://127.0.0.1:{{PORT1}} {
	s3_cors {
		bucket_config photos {
			rule {
				origins `+appOrigin+`
				methods GET HEAD
				headers *
				expose x-amz-a
				max_age 100
			}
		}
	}
	reverse_proxy `+freeAddr(t)+`
}
`, testenv.CaddyOptions{Ports: 2})

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
	res, b, err := sendWith(http.DefaultClient, mustRequest(t, "GET", "http://"+c.Admin+"/s3_cors/buckets"))
	if err != nil || res.StatusCode != 200 || !bytes.Equal(bytes.TrimSpace(b), []byte(`{"buckets":["photos"]}`)) {
		t.Errorf("bucket list after the restart: %v %s", err, b)
	}
	t.Logf("killed after %d acknowledged writes (%d attempted); %d stored", acked, attempted, got)
}

// mustRequest builds a request without a body.
func mustRequest(t testing.TB, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
