package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ObjectStoreConfig is how to reach the bucket that holds the configurations
// of an ObjectStore.
type ObjectStoreConfig struct {
	// Endpoint is the host and port of the S3 API, such as "minio:9000" or
	// "s3.eu-west-1.amazonaws.com". A scheme (http:// or https://) may be
	// given if it agrees with Secure.
	Endpoint string
	// AccessKey and SecretKey are the static credentials of the client.
	AccessKey string
	SecretKey string
	// Bucket is the bucket holding the configuration objects. It must exist,
	// unless CreateBucket is set.
	Bucket string
	// Prefix is the key prefix of the configuration objects, which are named
	// <Prefix>/<bucket>.xml. Leading and trailing slashes are ignored; empty
	// means the objects sit at the root of Bucket. The conventional value is
	// KeyPrefix.
	Prefix string
	// Secure selects HTTPS.
	Secure bool
	// Region is the signing region; empty lets minio-go find it out (and
	// "us-east-1" is what MinIO uses by default).
	Region string
	// CreateBucket makes the store create Bucket when it does not exist,
	// before the first List, Put or Delete, and again before the next one
	// for as long as that fails: a store that is down when the node starts
	// gets its bucket once it is back, instead of failing every sync and
	// every write with NoSuchBucket until the node restarts. Without it, a
	// missing bucket is an error (a misconfiguration).
	CreateBucket bool
	// MaxRetries is how often minio-go retries a failed request; 0 means 3.
	// It is low on purpose: the Syncer retries a failed sync with its own
	// backoff, and a write should fail fast enough for its caller to answer.
	MaxRetries int
}

// ObjectStore keeps the configurations as objects <prefix>/<bucket>.xml in a
// bucket of an S3-compatible store, with its own endpoint and credentials.
// A PutObject replaces an object atomically in S3 and MinIO: readers see the
// old or the new object, never a mix. Versions are ETags.
type ObjectStore struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	create bool   // ObjectStoreConfig.CreateBucket
	// ensured is set once EnsureBucket succeeded: from then on the bucket
	// is taken to exist, so that no request pays for the check again.
	ensured atomic.Bool
	// listenOptions are the client options of a notification stream
	// (Notify), which has a client and connection of its own.
	listenOptions minio.Options
	// notifyStall, when positive, replaces notifyStall (tests).
	notifyStall time.Duration
}

// NewObjectStore returns an ObjectStore for cfg. It does not contact the
// endpoint; the first List or Load tells whether it is reachable.
func NewObjectStore(cfg ObjectStoreConfig) (*ObjectStore, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("object store: endpoint is required")
	}
	if cfg.Bucket == "" {
		return nil, errors.New("object store: bucket is required")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	for _, seg := range strings.Split(prefix, "/") {
		if prefix != "" && (seg == "" || seg == "." || seg == "..") {
			return nil, fmt.Errorf("object store: invalid prefix %q", cfg.Prefix)
		}
	}
	if prefix != "" {
		prefix += "/"
	}
	retries := cfg.MaxRetries
	if retries <= 0 {
		retries = 3
	}
	opts := minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		MaxRetries: retries,
	}
	client, err := minio.New(cfg.Endpoint, &opts)
	if err != nil {
		return nil, fmt.Errorf("object store: client for %s: %w", cfg.Endpoint, err)
	}
	o := &ObjectStore{client: client, bucket: cfg.Bucket, prefix: prefix, create: cfg.CreateBucket, listenOptions: opts}
	// A failed listen request is retried by the Syncer, with its own
	// backoff.
	o.listenOptions.MaxRetries = 1
	return o, nil
}

// EnsureBucket creates the configured bucket when it does not exist.
func (o *ObjectStore) EnsureBucket(ctx context.Context) error {
	exists, err := o.client.BucketExists(ctx, o.bucket)
	if err != nil {
		return fmt.Errorf("object store: bucket %s exists: %w", o.bucket, err)
	}
	if exists {
		o.ensured.Store(true)
		return nil
	}
	if err := o.client.MakeBucket(ctx, o.bucket, minio.MakeBucketOptions{}); err != nil {
		// A concurrent creator (another node) is fine.
		if code := minio.ToErrorResponse(err).Code; code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			return fmt.Errorf("object store: make bucket %s: %w", o.bucket, err)
		}
	}
	o.ensured.Store(true)
	return nil
}

// ensure creates the bucket when CreateBucket is set and no EnsureBucket
// has succeeded yet.
func (o *ObjectStore) ensure(ctx context.Context) error {
	if !o.create || o.ensured.Load() {
		return nil
	}
	return o.EnsureBucket(ctx)
}

// objectName returns the object name of bucket's configuration.
func (o *ObjectStore) objectName(bucket string) string {
	return o.prefix + bucket + keySuffix
}

// Locate implements Locator: <config bucket>/<object name> of bucket.
func (o *ObjectStore) Locate(bucket string) string { return o.bucket + "/" + o.objectName(bucket) }

// Load implements Store. It reads at most MaxObjectSize+1 bytes, so that the
// engine can refuse an oversized object while a huge one cannot exhaust
// memory.
func (o *ObjectStore) Load(ctx context.Context, bucket string) ([]byte, error) {
	b, _, err := o.LoadVersion(ctx, bucket)
	return b, err
}

// LoadVersion implements VersionedLoader: the version is the ETag of the
// GET that returned the content.
func (o *ObjectStore) LoadVersion(ctx context.Context, bucket string) ([]byte, string, error) {
	if err := checkBucket("object store: load", bucket); err != nil {
		return nil, "", err
	}
	name := o.objectName(bucket)
	// GetObject only prepares the request; errors, NoSuchKey included,
	// come from the first Read. A sequential read is one GET, so the body
	// is one version of the object, and Stat then reports that GET's ETag
	// without a request of its own.
	obj, err := o.client.GetObject(ctx, o.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", o.loadError(name, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, MaxObjectSize+1))
	if err != nil {
		return nil, "", o.loadError(name, err)
	}
	info, err := obj.Stat()
	if err != nil {
		return b, "", nil // read, though of no known version
	}
	return b, info.ETag, nil
}

// loadError wraps an error of reading object name, adding fs.ErrNotExist
// when the object does not exist.
func (o *ObjectStore) loadError(name string, err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return fmt.Errorf("object store: load %s/%s: %w (%w)", o.bucket, name, fs.ErrNotExist, err)
	}
	return fmt.Errorf("object store: load %s/%s: %w", o.bucket, name, err)
}

// Put implements Store.
func (o *ObjectStore) Put(ctx context.Context, bucket string, xml []byte) error {
	_, err := o.PutVersion(ctx, bucket, xml)
	return err
}

// PutVersion implements VersionedPutter. The version is the ETag that the
// PutObject response carries, which is exactly what List reports for that
// content: there is no window in which another node's write could be taken
// for this one.
func (o *ObjectStore) PutVersion(ctx context.Context, bucket string, xml []byte) (string, error) {
	if err := checkBucket("object store: put", bucket); err != nil {
		return "", err
	}
	if err := o.ensure(ctx); err != nil {
		return "", err
	}
	name := o.objectName(bucket)
	info, err := o.client.PutObject(ctx, o.bucket, name, bytes.NewReader(xml), int64(len(xml)),
		minio.PutObjectOptions{ContentType: "application/xml"})
	if err != nil {
		return "", fmt.Errorf("object store: put %s/%s: %w", o.bucket, name, err)
	}
	return info.ETag, nil
}

// Delete implements Store. S3 answers a delete of a missing object with
// success, so no error needs translating.
func (o *ObjectStore) Delete(ctx context.Context, bucket string) error {
	if err := checkBucket("object store: delete", bucket); err != nil {
		return err
	}
	if err := o.ensure(ctx); err != nil {
		return err
	}
	name := o.objectName(bucket)
	if err := o.client.RemoveObject(ctx, o.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("object store: delete %s/%s: %w", o.bucket, name, err)
	}
	return nil
}

// List implements Store. It lists the prefix without recursion, so objects
// in deeper "directories" are not considered, and keeps objects named as a
// valid bucket plus ".xml". A missing configuration bucket is an error
// (unless CreateBucket creates it): it means the store is misconfigured, not
// that no configuration exists.
func (o *ObjectStore) List(ctx context.Context) ([]Entry, error) {
	if err := o.ensure(ctx); err != nil {
		return nil, err
	}
	var entries []Entry
	for obj := range o.client.ListObjects(ctx, o.bucket, minio.ListObjectsOptions{Prefix: o.prefix}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("object store: list %s/%s: %w", o.bucket, o.prefix, obj.Err)
		}
		name, ok := strings.CutPrefix(obj.Key, o.prefix)
		if !ok || strings.Contains(name, "/") {
			continue // a common prefix ("directory")
		}
		bucket, ok := bucketFromKey(name)
		if !ok {
			continue
		}
		entries = append(entries, Entry{Bucket: bucket, Version: obj.ETag})
	}
	return entries, nil
}

// interface guards
var (
	_ Store           = (*ObjectStore)(nil)
	_ VersionedPutter = (*ObjectStore)(nil)
	_ VersionedLoader = (*ObjectStore)(nil)
	_ Locator         = (*ObjectStore)(nil)
)

// journalPrefix is the object name prefix of the journal:
// <prefix>/.journal/.
func (o *ObjectStore) journalPrefix() string { return o.prefix + journalDir + "/" }

// AppendJournal implements Journal: one empty object
// <prefix>/.journal/<name>.
func (o *ObjectStore) AppendJournal(ctx context.Context, bucket string, at time.Time) (string, error) {
	if err := checkBucket("object store: journal", bucket); err != nil {
		return "", err
	}
	name := journalName(at, bucket)
	if _, err := o.client.PutObject(ctx, o.bucket, o.journalPrefix()+name, bytes.NewReader(nil), 0,
		minio.PutObjectOptions{}); err != nil {
		return "", fmt.Errorf("object store: journal %s: %w", bucket, err)
	}
	return name, nil
}

// ReadJournal implements Journal: one ListObjects request starting after
// after (one more a 1,000 entries), whatever the number of buckets.
func (o *ObjectStore) ReadJournal(ctx context.Context, after string) ([]string, error) {
	if err := o.ensure(ctx); err != nil {
		return nil, err
	}
	prefix := o.journalPrefix()
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: true}
	if after != "" {
		opts.StartAfter = prefix + after
	}
	var names []string
	for obj := range o.client.ListObjects(ctx, o.bucket, opts) {
		if obj.Err != nil {
			return nil, fmt.Errorf("object store: read journal %s/%s: %w", o.bucket, prefix, obj.Err)
		}
		name := strings.TrimPrefix(obj.Key, prefix)
		if _, _, ok := parseJournalName(name); ok && name > after {
			names = append(names, name)
		}
	}
	return names, nil
}

// PruneJournal implements Journal.
func (o *ObjectStore) PruneJournal(ctx context.Context, before string) (int, error) {
	prefix := o.journalPrefix()
	listCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var old []string
	for obj := range o.client.ListObjects(listCtx, o.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return 0, fmt.Errorf("object store: prune journal %s/%s: %w", o.bucket, prefix, obj.Err)
		}
		if strings.TrimPrefix(obj.Key, prefix) >= before {
			cancel() // listed in order: the rest is newer
			break
		}
		old = append(old, obj.Key)
	}
	for _, key := range old {
		if err := o.client.RemoveObject(ctx, o.bucket, key, minio.RemoveObjectOptions{}); err != nil {
			return 0, fmt.Errorf("object store: prune journal %s/%s: %w", o.bucket, key, err)
		}
	}
	return len(old), nil
}

var _ Journal = (*ObjectStore)(nil)
