package s3cors

// MissingBucket returns the policy of a bucket that does not exist: a
// preflight gets S3's "CORSResponse: Bucket not found", an actual request
// passes through with no CORS headers. Only the tests know that a bucket is
// missing (a proxy cannot; see docs/caddyfile.md, Deviation from S3): they
// check the engine's answer against S3's recorded one.
func MissingBucket() *Policy {
	return &Policy{bucketMissing: true}
}
