package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/caddyserver/certmagic"
)

// CaddyStorage keeps the configurations in a certmagic.Storage, Caddy's
// storage abstraction, under the keys s3_cors/buckets/<bucket>.xml.
//
// Atomicity of writes: certmagic.FileStorage (Caddy's default, v0.25.6 in
// go.mod) writes every key through its internal atomicfile package: a
// temporary file in the key's directory, fsync, close, then rename over the
// key. A reader therefore sees the old or the new file, never a torn one,
// and a failed write leaves the old content (TestFileStorageAtomic checks
// this). The rename is not followed by an fsync of the directory, so after a
// power loss the last write may be lost, though the key is never torn.
//
// Other storage modules are only as atomic as their backend makes a single
// value write: Redis (SET), Consul KV (PUT) and S3-backed modules
// (PutObject) replace a value atomically; a module that writes a value in
// several pieces does not, and nothing above the certmagic.Storage interface
// can repair that. The Syncer limits the damage: a torn read fails to parse,
// is logged, and the bucket keeps its last good configuration until a later
// sync reads the complete value.
type CaddyStorage struct {
	storage certmagic.Storage
}

// NewCaddyStorage returns a Store over s, typically ctx.Storage() of a Caddy
// module or the storage module configured for the app.
func NewCaddyStorage(s certmagic.Storage) *CaddyStorage {
	return &CaddyStorage{storage: s}
}

// Key returns the storage key of bucket's configuration. It does not
// validate bucket.
func Key(bucket string) string {
	return path.Join(KeyPrefix, bucket+keySuffix)
}

// Locate implements Locator: the storage key of bucket.
func (c *CaddyStorage) Locate(bucket string) string { return Key(bucket) }

// Load implements Store.
func (c *CaddyStorage) Load(ctx context.Context, bucket string) ([]byte, error) {
	if err := checkBucket("caddy storage: load", bucket); err != nil {
		return nil, err
	}
	b, err := c.storage.Load(ctx, Key(bucket))
	if err != nil {
		return nil, fmt.Errorf("caddy storage: load %s: %w", Key(bucket), err)
	}
	return b, nil
}

// Put implements Store.
func (c *CaddyStorage) Put(ctx context.Context, bucket string, xml []byte) error {
	if err := checkBucket("caddy storage: put", bucket); err != nil {
		return err
	}
	if err := c.storage.Store(ctx, Key(bucket), xml); err != nil {
		return fmt.Errorf("caddy storage: put %s: %w", Key(bucket), err)
	}
	return nil
}

// PutVersion implements VersionedPutter: Put, then Stat of the key.
//
// certmagic.Storage's Store reports no version, so the one returned is read
// right after the write. Should another node write the same key between
// the two calls, this node takes that node's version for its own content and
// would not re-read the key; the Syncer's periodic full read (FullEvery)
// bounds how long that can last. Racing writes to one bucket's CORS
// configuration from two nodes within milliseconds are not a case worth
// a distributed lock.
func (c *CaddyStorage) PutVersion(ctx context.Context, bucket string, xml []byte) (string, error) {
	if err := c.Put(ctx, bucket, xml); err != nil {
		return "", err
	}
	version, _, err := c.stat(ctx, Key(bucket))
	if err != nil {
		return "", fmt.Errorf("caddy storage: stat %s after put (the write was applied): %w", Key(bucket), err)
	}
	return version, nil
}

// Delete implements Store.
func (c *CaddyStorage) Delete(ctx context.Context, bucket string) error {
	if err := checkBucket("caddy storage: delete", bucket); err != nil {
		return err
	}
	// The certmagic contract makes deleting a missing key a nil error, but
	// not every module follows it; "not exist" is success here either way.
	if err := c.storage.Delete(ctx, Key(bucket)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("caddy storage: delete %s: %w", Key(bucket), err)
	}
	return nil
}

// List implements Store. It lists KeyPrefix and stats every key that names a
// valid bucket. A prefix that was never written is reported by the file
// system (and by most modules) as "not exist": that is an empty list.
//
// A key that disappears between the list and its stat is left out. A key
// whose stat fails otherwise is listed with an empty (unknown) Version, so
// that the Syncer reads it and logs what is wrong with it, while the other
// keys stay unaffected.
func (c *CaddyStorage) List(ctx context.Context) ([]Entry, error) {
	keys, err := c.storage.List(ctx, KeyPrefix, false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("caddy storage: list %s: %w", KeyPrefix, err)
	}
	entries := make([]Entry, 0, len(keys))
	for _, key := range keys {
		// Modules differ in whether they return full keys or names relative
		// to the prefix; only the last element matters, and a key in a
		// deeper "directory" is not one of ours.
		if dir := path.Dir(key); dir != KeyPrefix && dir != "." {
			continue
		}
		bucket, ok := bucketFromKey(path.Base(key))
		if !ok {
			continue
		}
		version, terminal, err := c.stat(ctx, Key(bucket))
		switch {
		case err == nil:
			if !terminal {
				continue // a "directory" named like a bucket key
			}
			entries = append(entries, Entry{Bucket: bucket, Version: version})
		case errors.Is(err, fs.ErrNotExist):
			// deleted since the list
		case ctx.Err() != nil:
			return nil, fmt.Errorf("caddy storage: stat %s: %w", Key(bucket), err)
		default:
			entries = append(entries, Entry{Bucket: bucket})
		}
	}
	return entries, nil
}

// stat returns the Entry.Version of key and whether it is a terminal key
// (not a "directory"). The version is the modification time in nanoseconds
// and the size, and for the file system also the inode.
//
// Kernels stamp modification times from a coarse clock (a few milliseconds),
// so two writes of the same size in quick succession can share time and
// size. certmagic.FileStorage replaces a key by renaming a new file over it,
// so each write has a new inode, which tells them apart. The file system is
// therefore stat'ed directly, in one call, rather than through
// certmagic.Storage.Stat.
func (c *CaddyStorage) stat(ctx context.Context, key string) (version string, terminal bool, err error) {
	if fsStorage, ok := c.storage.(*certmagic.FileStorage); ok {
		fi, err := os.Stat(fsStorage.Filename(key))
		if err != nil {
			return "", false, err
		}
		v := formatVersion(fi.ModTime(), fi.Size())
		if ino, ok := inode(fi); ok {
			v += "-" + strconv.FormatUint(ino, 36)
		}
		return v, !fi.IsDir(), nil
	}
	info, err := c.storage.Stat(ctx, key)
	if err != nil {
		return "", false, err
	}
	return formatVersion(info.Modified, info.Size), info.IsTerminal, nil
}

// formatVersion makes a compact version out of a modification time and size.
func formatVersion(modified time.Time, size int64) string {
	return strconv.FormatInt(modified.UnixNano(), 36) + "-" + strconv.FormatInt(size, 36)
}

// interface guards
var (
	_ Store           = (*CaddyStorage)(nil)
	_ VersionedPutter = (*CaddyStorage)(nil)
	_ Locator         = (*CaddyStorage)(nil)
)
