// Package store keeps bucket CORS configurations (the PutBucketCors XML, one
// key per bucket) in shared storage and turns that storage into an in-memory
// snapshot that every node of a cluster converges to.
//
// Two backends implement Store:
//
//   - CaddyStorage, over any certmagic.Storage: Caddy's own storage (the
//     file system by default) or a storage module shared by several nodes
//     (Redis, Consul, a shared volume). Keys are s3_cors/buckets/<bucket>.xml.
//   - ObjectStore, objects <prefix>/<bucket>.xml in a bucket of an
//     S3-compatible store (MinIO) reached with minio-go.
//
// A Syncer reads a Store into the served configurations, a lock-free map of
// immutable per-bucket states (a Config is parsed with
// s3cors.ParseStoredXML and compiled on its first use), and keeps them
// current. Writes made through the Syncer are visible on the node that made
// them at once and on the others at their next sync, which reads a change
// journal (Journal) that every such write appends to and the keys it
// names, not every key. A Store without a Journal is listed at every sync,
// and only the keys whose Version changed are read.
//
// Bucket names are validated by every Store method (s3cors.StorableBucketName) before
// they become a key, so that a name such as "../../x" (which Go's router
// makes out of "..%2F..%2Fx") never reaches the storage layer.
//
// This package knows nothing about Caddy's HTTP layer; the Caddy app calls it.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// KeyPrefix is the storage key prefix under which CaddyStorage keeps one key
// per bucket, and the default object prefix of ObjectStore.
const KeyPrefix = "s3_cors/buckets"

// keySuffix ends every configuration key. Listing ignores keys without it,
// which also skips the temporary files certmagic.FileStorage creates beside
// the key while it writes.
const keySuffix = ".xml"

// MaxObjectSize bounds how much of a stored configuration is read. The
// engine refuses bodies over 64 KiB; reading a little more than that lets
// ParseXML give its own error for an oversized key, while a huge or hostile
// object cannot exhaust memory.
const MaxObjectSize = 1 << 20

// Store keeps one CORS configuration (its PutBucketCors XML) per bucket.
// Implementations are safe for concurrent use. Every method refuses a bucket
// name that s3cors.StorableBucketName rejects, with an error wrapping ErrInvalidBucket,
// before touching storage.
type Store interface {
	// Load returns the stored XML of bucket. When the bucket has no
	// configuration the error satisfies errors.Is(err, fs.ErrNotExist).
	Load(ctx context.Context, bucket string) ([]byte, error)

	// Put stores xml as the configuration of bucket, replacing any other.
	// A reader sees either the old or the new content, never a mix. Put
	// returns only after the store has the content.
	Put(ctx context.Context, bucket string, xml []byte) error

	// Delete removes the configuration of bucket. Deleting a configuration
	// that does not exist is not an error.
	Delete(ctx context.Context, bucket string) error

	// List returns one Entry per bucket that has a configuration, in no
	// particular order. A store that was never written lists nothing, without
	// error. Keys that are not a valid bucket name followed by ".xml" are
	// ignored.
	List(ctx context.Context) ([]Entry, error)
}

// VersionedPutter is implemented by stores that can tell the Version a Put
// produced. The Syncer uses it so that a node's own write is not read back
// at the next sync.
type VersionedPutter interface {
	// PutVersion is Put, and returns the Version that List will report for
	// the new content: "" when the store cannot tell, or when the key no
	// longer holds this content (another node wrote or deleted it since).
	// It returns an error only when the content was not stored.
	PutVersion(ctx context.Context, bucket string, xml []byte) (string, error)
}

// VersionedLoader is implemented by stores that can tell the Version of the
// content a Load returned, read with it (the file's own stat, the ETag of
// the GET response), so that a key replaced between List and Load is not
// taken for the listed version.
type VersionedLoader interface {
	// LoadVersion is Load, and returns the Version of the content read
	// ("" when the store cannot tell).
	LoadVersion(ctx context.Context, bucket string) ([]byte, string, error)
}

// NameLister is implemented by stores that list their keys faster without
// their versions. The first Sync, which reads every key anyway (and takes
// the version of what it read from a VersionedLoader), uses it.
type NameLister interface {
	// ListNames is List with empty Versions.
	ListNames(ctx context.Context) ([]Entry, error)
}

// Entry is one listed configuration.
type Entry struct {
	// Bucket is the bucket name, always storable per s3cors.StorableBucketName.
	Bucket string
	// Version changes whenever the content changes, so that a key whose
	// Version is unchanged need not be read again: modification time and
	// size for CaddyStorage, the ETag for ObjectStore. The empty string
	// means unknown: such a key is read on every sync.
	Version string
}

// ErrInvalidBucket is wrapped by the error every Store method returns for a
// bucket name that s3cors.StorableBucketName rejects.
var ErrInvalidBucket = errors.New("invalid bucket name")

// checkBucket returns the error that a Store method answers for an invalid
// bucket name, prefixed with the method's context.
func checkBucket(op, bucket string) error {
	if s3cors.StorableBucketName(bucket) {
		return nil
	}
	return fmt.Errorf("%s %q: %w", op, bucket, ErrInvalidBucket)
}

// bucketFromKey returns the bucket of a key name (the last path element,
// without prefix) of the form <bucket>.xml, and whether it is one.
func bucketFromKey(name string) (string, bool) {
	bucket, ok := strings.CutSuffix(name, keySuffix)
	if !ok || !s3cors.StorableBucketName(bucket) {
		return "", false
	}
	return bucket, true
}
