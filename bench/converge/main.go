// Command converge measures how long a write on one node takes to be served
// by another node sharing its storage: it stores a configuration for a new
// bucket through node A's admin API, then sends node B the preflight that
// configuration allows until B allows it, and prints the percentiles of
// those times over all writes. Before each write it waits a random part of
// -spread, so that writes land at every moment of B's sync ticks rather
// than right after one. Part of scripts/bench-converge.sh.
//
//	go run ./bench/converge -admin http://127.0.0.1:2019 -node http://127.0.0.1:8080 -writes 200
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/s3cors/caddy-s3cors/bench"
)

func main() {
	admin := flag.String("admin", "http://127.0.0.1:2019", "admin API of node A, which takes the writes")
	node := flag.String("node", "http://127.0.0.1:8080", "node B, probed with preflights")
	writes := flag.Int("writes", 200, "number of writes")
	first := flag.Int("first", 0, "index of the first bucket written (runs on one storage use different ones)")
	spread := flag.Duration("spread", time.Second, "writes wait a random time up to this long first (the sync interval)")
	poll := flag.Duration("poll", 5*time.Millisecond, "how often B is probed")
	timeout := flag.Duration("timeout", 30*time.Second, "how long one write may take to reach B")
	flag.Parse()
	if *writes < 1 {
		flag.Usage()
		os.Exit(2)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	took := make([]time.Duration, 0, *writes)
	for n := range *writes {
		i := *first + n
		time.Sleep(rand.N(*spread + 1))
		bucket := bench.BucketName(i)
		if err := bench.AdminPut(client, *admin, bucket, bench.Rules(i, 1)); err != nil {
			fail(fmt.Errorf("node A: %w", err))
		}
		written := time.Now()
		for !allowed(client, *node, bucket, bench.RuleOrigin(i, 0)) {
			if time.Since(written) > *timeout {
				fail(fmt.Errorf("%s not served by B after %v", bucket, *timeout))
			}
			time.Sleep(*poll)
		}
		took = append(took, time.Since(written))
	}
	slices.Sort(took)
	pct := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	fmt.Printf("writes %d  p50 %v  p90 %v  p99 %v  max %v  (B probed every %v)\n", len(took),
		pct(0.50).Round(time.Millisecond), pct(0.90).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), *poll)
}

// allowed reports whether node allows the preflight of origin to bucket.
func allowed(client *http.Client, node, bucket, origin string) bool {
	req, err := http.NewRequest(http.MethodOptions, node+"/"+bucket+"/a", nil)
	if err != nil {
		fail(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := client.Do(req)
	if err != nil {
		fail(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "converge:", err)
	os.Exit(1)
}
