// Command putbuckets stores generated bucket CORS configurations through
// the admin API, one PUT at a time over one connection, and prints how long
// every tenth of them took: a write must cost the same with 100,000
// buckets as with 10. Part of scripts/bench-scale.sh.
//
//	go run ./bench/putbuckets -admin http://127.0.0.1:2019 -buckets 100000 -rules 3
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/s3cors/caddy-s3cors/bench"
)

func main() {
	admin := flag.String("admin", "http://127.0.0.1:2019", "admin API address")
	buckets := flag.Int("buckets", 100000, "number of buckets")
	rules := flag.Int("rules", 3, "rules per bucket (1 to 100)")
	flag.Parse()
	if *buckets < 1 || *rules < 1 || *rules > 100 {
		flag.Usage()
		os.Exit(2)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	start, last := time.Now(), time.Now()
	step := max(*buckets/10, 1)
	for i := range *buckets {
		if err := bench.AdminPut(client, *admin, bench.BucketName(i), bench.Rules(i, *rules)); err != nil {
			fail(err)
		}
		if (i+1)%step == 0 || i+1 == *buckets {
			now := time.Now()
			fmt.Printf("put %7d  total-s %7.2f  last-%d-s %6.2f\n", i+1, now.Sub(start).Seconds(), step, now.Sub(last).Seconds())
			last = now
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "putbuckets:", err)
	os.Exit(1)
}
