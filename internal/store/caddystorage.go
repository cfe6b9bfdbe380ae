package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/caddyserver/certmagic"
)

// CaddyStorage keeps the configurations in a certmagic.Storage, Caddy's
// storage abstraction, under the keys s3_cors/buckets/<bucket>.xml.
//
// Atomicity of writes: on certmagic.FileStorage (Caddy's default) a key is
// written as certmagic itself writes one (its internal atomicfile package,
// v0.25.6 in go.mod), with fewer system calls (writeFile): a temporary file
// in the key's directory, fsync, close, then rename over the key. A reader
// therefore sees the old or the new file, never a torn one, and a failed
// write leaves the old content (TestFileStorageAtomic checks this). The
// rename is not followed by an fsync of the directory, so after a power
// loss the last write may be lost, though the key is never torn.
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
	_, err := c.PutVersion(ctx, bucket, xml)
	return err
}

// PutVersion implements VersionedPutter.
//
// On the file system the version is that of the file written, taken from
// the file itself before it is renamed over the key (writeFile). If
// another node replaces or deletes the key just after, the key's version
// differs from it, and that node's journal entry makes the next sync read
// the key.
//
// Other modules' Store reports no version: the key is read back with its
// version, which is returned only if the content is the one just written;
// otherwise another node wrote or deleted the key since, and "" makes the
// next sync read what the store holds. Either way the write landed: a
// failure to read it back is not an error.
func (c *CaddyStorage) PutVersion(ctx context.Context, bucket string, xml []byte) (string, error) {
	if err := checkBucket("caddy storage: put", bucket); err != nil {
		return "", err
	}
	if fsStorage, ok := c.storage.(*certmagic.FileStorage); ok {
		version, err := writeFile(fsStorage.Filename(Key(bucket)), xml)
		if err != nil {
			return "", fmt.Errorf("caddy storage: put %s: %w", Key(bucket), err)
		}
		return version, nil
	}
	if err := c.storage.Store(ctx, Key(bucket), xml); err != nil {
		return "", fmt.Errorf("caddy storage: put %s: %w", Key(bucket), err)
	}
	b, version, err := c.LoadVersion(ctx, bucket)
	if err != nil || !bytes.Equal(b, xml) {
		return "", nil
	}
	return version, nil
}

// LoadVersion implements VersionedLoader. On the file system the content
// and the version come from one open file. Other modules are stat'ed
// before and after the load: the version is known only when both agree.
func (c *CaddyStorage) LoadVersion(ctx context.Context, bucket string) ([]byte, string, error) {
	if err := checkBucket("caddy storage: load", bucket); err != nil {
		return nil, "", err
	}
	fsStorage, ok := c.storage.(*certmagic.FileStorage)
	if !ok {
		before, _, err := c.stat(ctx, Key(bucket))
		if err != nil {
			before = ""
		}
		b, err := c.Load(ctx, bucket)
		if err != nil {
			return nil, "", err
		}
		if after, _, err := c.stat(ctx, Key(bucket)); err != nil || after != before {
			return b, "", nil
		}
		return b, before, nil
	}
	b, version, err := readFile(fsStorage.Filename(Key(bucket)))
	if err != nil {
		return nil, "", fmt.Errorf("caddy storage: load %s: %w", Key(bucket), err)
	}
	return b, version, nil
}

// StaleTempAge is how old a temporary file left in the configuration
// directory must be before RemoveStaleTemp removes it: far longer than any
// write takes, so that the file of a write in progress on another node
// sharing the directory is never touched.
const StaleTempAge = 10 * time.Minute

// RemoveStaleTemp removes, on the file system, the temporary files a
// killed process left beside the keys (a key is written as a temporary
// file renamed over it, see writeFile; a SIGKILL between the two leaves the
// temporary file for good), when they are older than StaleTempAge. It
// returns how many it removed. Other storage modules have no such files.
func (c *CaddyStorage) RemoveStaleTemp(now time.Time) (int, error) {
	fsStorage, ok := c.storage.(*certmagic.FileStorage)
	if !ok {
		return 0, nil
	}
	dir := fsStorage.Filename(KeyPrefix)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("caddy storage: remove stale temporary files: %w", err)
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempName(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < StaleTempAge {
			continue // gone meanwhile, or maybe a write in progress
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("caddy storage: remove stale temporary files: %w", errors.Join(errs...))
	}
	return removed, nil
}

// isTempName reports whether name is one writeFile and certmagic's atomic
// writes give their temporary files (as os.CreateTemp with an empty
// pattern: decimal digits only), which no key has.
func isTempName(name string) bool {
	if name == "" {
		return false
	}
	for i := range len(name) {
		if name[i] < '0' || name[i] > '9' {
			return false
		}
	}
	return true
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
	if fsStorage, ok := c.storage.(*certmagic.FileStorage); ok {
		return listDir(ctx, fsStorage.Filename(KeyPrefix), true)
	}
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

// ListNames implements NameLister: on the file system, the keys without
// their versions, from one directory read (no stat a key).
func (c *CaddyStorage) ListNames(ctx context.Context) ([]Entry, error) {
	fsStorage, ok := c.storage.(*certmagic.FileStorage)
	if !ok {
		return c.List(ctx)
	}
	return listDir(ctx, fsStorage.Filename(KeyPrefix), false)
}

// listDir is List on the file system: one directory read and one lstat a
// key (certmagic's List walks the tree, and a stat follows); without
// versions, no lstat.
func listDir(ctx context.Context, dir string, versions bool) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("caddy storage: list %s: %w", KeyPrefix, err)
	}
	entries := make([]Entry, 0, len(des))
	for i, de := range des {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("caddy storage: list %s: %w", KeyPrefix, ctx.Err())
		}
		bucket, ok := bucketFromKey(de.Name())
		if !ok || de.IsDir() {
			continue
		}
		if !versions {
			entries = append(entries, Entry{Bucket: bucket})
			continue
		}
		fi, err := de.Info()
		switch {
		case err == nil:
			entries = append(entries, Entry{Bucket: bucket, Version: fileVersion(fi)})
		case errors.Is(err, fs.ErrNotExist):
			// deleted since the directory was read
		default:
			entries = append(entries, Entry{Bucket: bucket})
		}
	}
	return entries, nil
}

// stat returns, for a storage module other than the file system (which
// List, LoadVersion and PutVersion read directly), the Entry.Version of
// key, its modification time in nanoseconds and its size, and whether it
// is a terminal key (not a "directory").
func (c *CaddyStorage) stat(ctx context.Context, key string) (version string, terminal bool, err error) {
	info, err := c.storage.Stat(ctx, key)
	if err != nil {
		return "", false, err
	}
	return formatVersion(info.Modified, info.Size), info.IsTerminal, nil
}

// fileVersion is the version of a file: modification time, size and inode.
//
// Kernels stamp modification times from a coarse clock (a few milliseconds),
// so two writes of the same size in quick succession can share time and
// size. A key on the file system is replaced by renaming a new file over
// it, so each write has a new inode, which tells them apart; this is why
// the file system is read directly rather than through
// certmagic.Storage.Stat.
func fileVersion(fi os.FileInfo) string {
	v := formatVersion(fi.ModTime(), fi.Size())
	if ino, ok := inode(fi); ok {
		v += "-" + strconv.FormatUint(ino, 36)
	}
	return v
}

// formatVersion makes a compact version out of a modification time and size.
func formatVersion(modified time.Time, size int64) string {
	return strconv.FormatInt(modified.UnixNano(), 36) + "-" + strconv.FormatInt(size, 36)
}

// interface guards
var (
	_ Store           = (*CaddyStorage)(nil)
	_ VersionedPutter = (*CaddyStorage)(nil)
	_ VersionedLoader = (*CaddyStorage)(nil)
	_ NameLister      = (*CaddyStorage)(nil)
	_ Locator         = (*CaddyStorage)(nil)
)

// journalPrefix is the storage key prefix of CaddyStorage's journal.
var journalPrefix = path.Join(KeyPrefix, journalDir)

// AppendJournal implements Journal. On the file system the entry is an
// empty file .journal/<minute>/<name> (see journalFolder), created with
// one open and one close: it is a new file of its own, never replaced, so
// neither a temporary file nor an fsync is needed, and losing an entry to
// a power cut only delays the change to a full sync. Other modules store
// one key s3_cors/buckets/.journal/<name> holding the bucket's name.
func (c *CaddyStorage) AppendJournal(ctx context.Context, bucket string, at time.Time) (string, error) {
	if err := checkBucket("caddy storage: journal", bucket); err != nil {
		return "", err
	}
	name := journalName(at, bucket)
	if fsStorage, ok := c.storage.(*certmagic.FileStorage); ok {
		dir := filepath.Join(fsStorage.Filename(journalPrefix), journalFolder(at))
		err := createEmpty(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) { // the first entry of its minute
			if err = os.MkdirAll(dir, 0o700); err == nil {
				err = createEmpty(filepath.Join(dir, name))
			}
		}
		if err != nil {
			return "", fmt.Errorf("caddy storage: journal %s: %w", bucket, err)
		}
		return name, nil
	}
	if err := c.storage.Store(ctx, path.Join(journalPrefix, name), []byte(bucket)); err != nil {
		return "", fmt.Errorf("caddy storage: journal %s: %w", bucket, err)
	}
	return name, nil
}

// ReadJournal implements Journal. On the file system it reads the
// journal's directory and those of the minutes that can hold entries after
// after (two or three, with JournalLookback): the cost follows the writes
// of the last minutes, not the JournalRetention the journal keeps, nor the
// buckets. The names are not checked further (the Syncer parses the ones
// it has not seen). Other modules list the journal's prefix.
func (c *CaddyStorage) ReadJournal(ctx context.Context, after string) ([]string, error) {
	if fsStorage, ok := c.storage.(*certmagic.FileStorage); ok {
		return readJournalDir(fsStorage.Filename(journalPrefix), after)
	}
	names, err := c.journalKeys(ctx)
	if err != nil {
		return nil, err
	}
	kept := names[:0]
	for _, n := range names {
		if n > after {
			kept = append(kept, n)
		}
	}
	return kept, nil
}

// PruneJournal implements Journal. On the file system it removes the
// folders of the minutes that ended before before, whole: an entry is
// kept up to a minute longer than asked.
func (c *CaddyStorage) PruneJournal(ctx context.Context, before string) (int, error) {
	if fsStorage, ok := c.storage.(*certmagic.FileStorage); ok {
		return pruneJournalDir(fsStorage.Filename(journalPrefix), before)
	}
	names, err := c.journalKeys(ctx)
	if err != nil {
		return 0, err
	}
	pruned := 0
	for _, n := range names {
		if n >= before {
			continue
		}
		if err := c.storage.Delete(ctx, path.Join(journalPrefix, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pruned, fmt.Errorf("caddy storage: prune journal: %w", err)
		}
		pruned++
	}
	return pruned, nil
}

// journalKeys lists the names of the journal's entries in a storage
// module other than the file system; a journal never written is empty.
func (c *CaddyStorage) journalKeys(ctx context.Context) ([]string, error) {
	keys, err := c.storage.List(ctx, journalPrefix, false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("caddy storage: read journal: %w", err)
	}
	var names []string
	for _, key := range keys {
		if dir := path.Dir(key); dir != journalPrefix && dir != "." {
			continue
		}
		if _, _, ok := parseJournalName(path.Base(key)); ok {
			names = append(names, path.Base(key))
		}
	}
	return names, nil
}

var _ Journal = (*CaddyStorage)(nil)
