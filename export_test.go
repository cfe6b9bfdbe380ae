package caddys3cors

import "github.com/s3cors/caddy-s3cors/s3cors"

// Test hooks: what only tests need to see of the package.

// Policy returns the compiled policy of bucket, nil when the bucket has
// no configuration set at run time.
func (a *App) Policy(bucket string) *s3cors.Policy {
	e, _ := a.lookup(bucket)
	return e.policy
}
