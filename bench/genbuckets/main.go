// Command genbuckets writes generated bucket CORS configurations into a
// file-system storage directory, where the s3_cors app reads them at start
// (s3_cors/buckets/<bucket>.xml): the fixture of scripts/bench-scale.sh.
//
//	go run ./bench/genbuckets -root /tmp/storage -buckets 10000 -rules 100
//	go run ./bench/genbuckets -root /tmp/storage -buckets 100000 -rules 3 -shared
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/s3cors/caddy-s3cors/bench"
)

func main() {
	root := flag.String("root", "", "storage root directory (required)")
	buckets := flag.Int("buckets", 10000, "number of buckets")
	rules := flag.Int("rules", 100, "rules per bucket (1 to 100)")
	shared := flag.Bool("shared", false, "give every bucket the configuration of the first")
	flag.Parse()
	if *root == "" || *buckets < 1 || *rules < 1 || *rules > 100 {
		flag.Usage()
		os.Exit(2)
	}
	write, template := bench.WriteBuckets, *buckets-1
	if *shared {
		write, template = bench.WriteSharedBuckets, 0
	}
	if err := write(*root, *buckets, *rules); err != nil {
		fmt.Fprintln(os.Stderr, "genbuckets:", err)
		os.Exit(1)
	}
	// What a request must send to match the last rule of the last bucket.
	fmt.Printf("%s %s\n", bench.BucketName(*buckets-1), bench.RuleOrigin(template, *rules-1))
}
