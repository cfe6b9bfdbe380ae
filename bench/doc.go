// Package bench holds the benchmarks of Caddy with s3_cors in process
// (caddy_bench_test.go: the HTTP server's ServeHTTP called directly, with
// and without s3_cors, at 1 and at 10,000 configured buckets), and the
// generator of the scale fixtures they and scripts/bench-scale.sh use.
// Nothing here runs in a plain `go test`: the benchmarks are Benchmark
// functions, and the fixtures are generated when they run.
//
//	go test ./bench -run '^$' -bench . -benchmem
//	scripts/bench-inprocess.sh   # alternating rounds, then benchstat
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// BucketName is the name of the i-th generated bucket.
func BucketName(i int) string { return fmt.Sprintf("bkt%05d", i) }

// RuleOrigin is the exact origin of rule j of bucket i (Rules gives every
// tenth rule but the last a wildcard origin instead).
func RuleOrigin(i, j int) string { return fmt.Sprintf("https://app%d.bucket%d.example.com", j, i) }

// Rules returns the aws cli JSON of the configuration of bucket i: n rules,
// 90% with one exact origin and 10% with one wildcard origin, GET and PUT
// (POST too on even rules), any request header, ETag exposed, max age 3000.
// A request from RuleOrigin(i, n-1) matches the last rule.
func Rules(i, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"CORSRules":[`)
	for j := range n {
		if j > 0 {
			b.WriteByte(',')
		}
		origin := RuleOrigin(i, j)
		if j%10 == 5 && j != n-1 {
			origin = fmt.Sprintf("https://*.w%d.bucket%d.example.net", j, i)
		}
		methods := `"GET","PUT"`
		if j%2 == 0 {
			methods += `,"POST"`
		}
		fmt.Fprintf(&b, `{"ID":"r%d","AllowedOrigins":[%q],"AllowedMethods":[%s],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}`,
			j, origin, methods)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// WriteBuckets writes the configurations of buckets 0..n-1, rules rules
// each, as PutBucketCors XML into a file-system storage rooted at root,
// where the s3_cors app reads them (s3_cors/buckets/<bucket>.xml).
func WriteBuckets(root string, n, rules int) error {
	return writeBuckets(root, n, rules, false)
}

// WriteSharedBuckets is WriteBuckets with every bucket given the
// configuration of bucket 0: a fleet made from one template.
func WriteSharedBuckets(root string, n, rules int) error {
	return writeBuckets(root, n, rules, true)
}

func writeBuckets(root string, n, rules int, shared bool) error {
	dir := filepath.Join(root, "s3_cors", "buckets")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var xml []byte
	for i := range n {
		if !shared || i == 0 {
			cfg, err := s3cors.ParseJSON(Rules(i, rules))
			if err != nil {
				return fmt.Errorf("bucket %d: %v", i, err)
			}
			xml = cfg.XML()
		}
		if err := os.WriteFile(filepath.Join(dir, BucketName(i)+".xml"), xml, 0o644); err != nil {
			return err
		}
	}
	return nil
}
