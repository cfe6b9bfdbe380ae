package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// SoakEnv sets the soak's duration (a Go duration such as 5m); the
// default keeps `go test` short. scripts/soak.sh runs the long one.
const SoakEnv = "S3CORS_SOAK"

// soakDuration is the default length of the soak's measured phase.
const soakDuration = 20 * time.Second

// Bounds of the soak. Goroutines: after the load stops and the client's
// connections are closed, the process must be back to its count after the
// warm-up, give or take the reverse proxy's idle upstream connections (two
// goroutines each) and the runtime's own. Memory: the resident set after
// the warm-up already holds the heap that the load needs (buffers, pools,
// compiled policies) and Go's GC keeps the heap under twice the live data,
// so a steady load moves RSS by a few MiB; 48 MiB allows that with margin
// on a shared machine, while a leak of even 1 KiB per request (the
// smallest plausible: a header map, a context) exceeds it within the
// default run's tens of thousands of requests, and within 5m at a tenth
// of that rate.
const (
	goroutineSlack = 16
	rssSlackKiB    = 48 << 10
)

// soakCounters counts what the load did.
type soakCounters struct {
	preflights, gets, bad, adminWrites, s3Writes, s3Reads atomic.Int64
	seenA, seenB                                          atomic.Int64
}

// TestSoak runs the built binary in front of a stand-in store under a
// steady mixed load for S3CORS_SOAK (default 20s): allowed preflights and
// actual GETs, deliberately bad preflights (no Origin: 400; unknown
// origin: 403) and actual requests from an unknown origin, while the
// bucket's configuration alternates between A and B through both the admin
// API and the signed S3 API. Every response must be what the spec says,
// with exactly A's or B's CORS headers, never a mix; both must be seen;
// goroutines and RSS must not grow.
func TestSoak(t *testing.T) {
	d := soakDuration
	if v := os.Getenv(SoakEnv); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive duration", SoakEnv, v)
		}
	}
	warm := min(5*time.Second, d/4)
	up := startUpstream(t)
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
	s3_cors {
		sync_interval 1s
	}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		s3_api {
			access_key `+accessKey+`
			secret_key `+secretKey+`
		}
	}
	reverse_proxy `+up.Addr()+`
}
`, testenv.CaddyOptions{Ports: 1})
	site := c.URL(0)
	if st, err := adminPut(t, http.DefaultClient, c.Admin, "photos", cfgA); err != nil || st != 200 {
		t.Fatalf("initial put: %d %v", st, err)
	}

	var (
		n    soakCounters
		mu   sync.Mutex
		errs []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	record := func(h http.Header, what string) {
		switch which, err := whichConfig(h); {
		case err != nil:
			fail("%s: %v", what, err)
		case which == "A":
			n.seenA.Add(1)
		default:
			n.seenB.Add(1)
		}
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	workers := []func(i int){
		func(i int) { // allowed preflight
			res, _, err := send(client, preflight(t, fmt.Sprintf("%s/photos/obj-%d", site, i), "GET"))
			n.preflights.Add(1)
			if err != nil || res.StatusCode != 200 {
				fail("preflight: %v %v", err, res)
				return
			}
			record(res.Header, "preflight")
		},
		func(i int) { // allowed actual request
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/photos/obj-%d", site, i), nil)
			req.Header.Set("Origin", appOrigin)
			res, body, err := send(client, req)
			n.gets.Add(1)
			if err != nil || res.StatusCode != 200 || !strings.HasPrefix(string(body), "object /photos/") {
				fail("get: %v %v", err, res)
				return
			}
			record(res.Header, "get")
		},
		func(i int) { // deliberately bad requests
			var req *http.Request
			var status int
			code := ""
			switch i % 3 {
			case 0:
				req, status, code = preflight(t, site+"/photos/x", "GET"), 400, "BadRequest"
				req.Header.Del("Origin")
			case 1:
				req, status, code = preflight(t, site+"/photos/x", "GET"), 403, "AccessForbidden"
				req.Header.Set("Origin", "https://evil.example")
			case 2:
				req, _ = http.NewRequest("GET", site+"/photos/x", nil)
				req.Header.Set("Origin", "https://evil.example")
				status = 200
			}
			res, body, err := send(client, req)
			n.bad.Add(1)
			if err != nil || res.StatusCode != status || s3Code(string(body)) != code {
				fail("bad request %d: %v %v %s", i%3, err, res, body)
				return
			}
			if v := res.Header.Values("Access-Control-Allow-Origin"); len(v) != 0 {
				fail("bad request %d: Access-Control-Allow-Origin %q", i%3, v)
			}
		},
		func(i int) { // admin writes
			doc := cfgA
			if i%2 == 1 {
				doc = cfgB
			}
			st, err := adminPut(t, client, c.Admin, "photos", doc)
			n.adminWrites.Add(1)
			if err != nil || st != 200 {
				fail("admin put: %d %v", st, err)
			}
			time.Sleep(20 * time.Millisecond)
		},
		func(i int) { // S3 API writes and reads
			doc := cfgB
			if i%2 == 1 {
				doc = cfgA
			}
			res, body, err := send(client, signedCORS(t, "PUT", site, "photos", doc, accessKey, secretKey, time.Now()))
			n.s3Writes.Add(1)
			if err != nil || res.StatusCode != 200 {
				fail("s3 put: %v %v %s", err, res, body)
			}
			res, body, err = send(client, signedCORS(t, "GET", site, "photos", "", accessKey, secretKey, time.Now()))
			n.s3Reads.Add(1)
			a, b := strings.Contains(string(body), "x-amz-a"), strings.Contains(string(body), "x-amz-b")
			if err != nil || res.StatusCode != 200 || a == b {
				fail("s3 get: %v %v %s", err, res, body)
			}
			time.Sleep(20 * time.Millisecond)
		},
	}
	// Preflights and GETs get two workers each.
	workers = append(workers, workers[0], workers[1])

	run := func(phase time.Duration) {
		stop := time.Now().Add(phase)
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(stop); i++ {
					w(i)
				}
			}()
		}
		wg.Wait()
		transport.CloseIdleConnections()
	}
	settle := func() { time.Sleep(time.Second) }

	run(warm)
	settle()
	g0, rss0 := goroutines(t, c.Admin), rssKiB(t, c.PID())
	requests0 := n.preflights.Load() + n.gets.Load() + n.bad.Load()
	start := time.Now()
	run(d)
	elapsed := time.Since(start)
	settle()
	g1, rss1 := goroutines(t, c.Admin), rssKiB(t, c.PID())

	requests := n.preflights.Load() + n.gets.Load() + n.bad.Load() - requests0
	t.Logf("soak %v: %d requests measured (%.0f/s); totals: %d preflights, %d GETs, %d bad requests, "+
		"%d admin writes, %d S3 writes, %d S3 reads; A seen %d, B seen %d",
		elapsed.Round(time.Millisecond), requests, float64(requests)/elapsed.Seconds(),
		n.preflights.Load(), n.gets.Load(), n.bad.Load(), n.adminWrites.Load(), n.s3Writes.Load(), n.s3Reads.Load(),
		n.seenA.Load(), n.seenB.Load())
	t.Logf("goroutines %d -> %d; RSS %d KiB -> %d KiB (%+d KiB)", g0, g1, rss0, rss1, rss1-rss0)

	for _, e := range errs {
		t.Error(e)
	}
	if n.seenA.Load() == 0 || n.seenB.Load() == 0 {
		t.Errorf("A seen %d times, B %d times: the writes did not alternate what is served", n.seenA.Load(), n.seenB.Load())
	}
	if g1 > g0+goroutineSlack {
		t.Errorf("goroutines grew from %d to %d (slack %d)", g0, g1, goroutineSlack)
	}
	if rss1 > rss0+rssSlackKiB {
		t.Errorf("RSS grew from %d KiB to %d KiB (slack %d KiB)", rss0, rss1, rssSlackKiB)
	}

	// Quiet again, a write is served at once.
	if st, err := adminPut(t, http.DefaultClient, c.Admin, "photos", cfgB); err != nil || st != 200 {
		t.Fatalf("final put: %d %v", st, err)
	}
	res, _ := mustSend(t, preflight(t, site+"/photos/last", "GET"))
	if which, err := whichConfig(res.Header); which != "B" {
		t.Errorf("after the final write of B: %s %v", which, err)
	}
}
