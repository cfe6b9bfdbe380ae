package store

import (
	"github.com/minio/minio-go/v7"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Test hooks: what only tests need to see of the package.

// Failures returns the buckets whose key failed to load or parse at the
// latest sync, with the error.
func (s *Syncer) Failures() map[string]error {
	failures := make(map[string]error)
	s.keys.Range(func(k, v any) bool {
		if err := v.(*keyState).failing; err != nil {
			failures[k.(string)] = err
		}
		return true
	})
	return failures
}

// Client returns the minio-go client, for setup such as creating the bucket.
func (o *ObjectStore) Client() *minio.Client { return o.client }

// Snapshot returns the served configurations, parsed, by bucket; those
// that do not parse are left out. It parses every configuration: it is
// meant for tests and tools, not for the request path.
func (s *Syncer) Snapshot() map[string]*s3cors.Configuration {
	snap := make(map[string]*s3cors.Configuration, s.Len())
	s.keys.Range(func(k, v any) bool {
		if cfg := v.(*keyState).cfg; cfg != nil {
			if p, err := cfg.Policy(); err == nil {
				snap[k.(string)] = p.Configuration()
			}
		}
		return true
	})
	return snap
}
