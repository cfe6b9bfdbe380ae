package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
)

// newFileStore returns a CaddyStorage over certmagic.FileStorage in dir.
func newFileStore(dir string) *CaddyStorage {
	return NewCaddyStorage(&certmagic.FileStorage{Path: dir})
}

func TestCaddyStorageRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t.TempDir())
	a, b := testXML("https://a.example"), testXML("https://b.example")

	// Steps run in order against one store; each names what it checks.
	steps := []struct {
		name    string
		run     func() error
		wantXML map[string][]byte // the complete expected content afterwards
	}{
		{"put new", func() error { return s.Put(ctx, "photos", a) }, map[string][]byte{"photos": a}},
		{"put second bucket", func() error { return s.Put(ctx, "www.example.com", b) },
			map[string][]byte{"photos": a, "www.example.com": b}},
		{"overwrite", func() error { return s.Put(ctx, "photos", b) },
			map[string][]byte{"photos": b, "www.example.com": b}},
		{"delete", func() error { return s.Delete(ctx, "photos") }, map[string][]byte{"www.example.com": b}},
		{"delete absent is no error", func() error { return s.Delete(ctx, "photos") },
			map[string][]byte{"www.example.com": b}},
		{"delete never written is no error", func() error { return s.Delete(ctx, "never") },
			map[string][]byte{"www.example.com": b}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if err := step.run(); err != nil {
				t.Fatal(err)
			}
			entries, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Bucket)
				if e.Version == "" {
					t.Errorf("bucket %s: empty version", e.Bucket)
				}
			}
			var want []string
			for bucket, content := range step.wantXML {
				want = append(want, bucket)
				loaded, err := s.Load(ctx, bucket)
				if err != nil {
					t.Fatalf("load %s: %v", bucket, err)
				}
				if !bytes.Equal(loaded, content) {
					t.Errorf("load %s = %q, want %q", bucket, loaded, content)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("list = %v, want %v", got, want)
			}
		})
	}

	t.Run("load absent is fs.ErrNotExist", func(t *testing.T) {
		_, err := s.Load(ctx, "photos")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("key layout", func(t *testing.T) {
		if got, want := Key("photos"), "s3_cors/buckets/photos.xml"; got != want {
			t.Errorf("Key = %q, want %q", got, want)
		}
	})
}

func TestCaddyStorageVersion(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t.TempDir())
	version := func() string {
		t.Helper()
		entries, err := s.List(ctx)
		if err != nil || len(entries) != 1 {
			t.Fatalf("list = %v, %v", entries, err)
		}
		return entries[0].Version
	}
	a, b := testXML("https://a.example"), testXML("https://b.example") // same size
	v1, err := s.PutVersion(ctx, "photos", a)
	if err != nil {
		t.Fatal(err)
	}
	if got := version(); got != v1 {
		t.Errorf("listed version %q differs from PutVersion's %q", got, v1)
	}
	if got := version(); got != v1 {
		t.Errorf("version of an unchanged key changed: %q then %q", v1, got)
	}
	// Same size, written immediately: modification times from the kernel's
	// coarse clock may be equal, the inode is not.
	v2, err := s.PutVersion(ctx, "photos", b)
	if err != nil {
		t.Fatal(err)
	}
	if v2 == v1 {
		t.Errorf("same-size rewrite kept version %q", v1)
	}
}

func TestCaddyStorageListNeverWritten(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"empty storage directory", func(*testing.T, string) {}},
		{"storage directory missing", func(t *testing.T, dir string) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"s3_cors exists, buckets does not", func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "s3_cors"), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"buckets directory empty", func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "s3_cors", "buckets"), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			entries, err := newFileStore(dir).List(context.Background())
			if err != nil {
				t.Fatalf("List: %v, want no error", err)
			}
			if len(entries) != 0 {
				t.Fatalf("List = %v, want empty", entries)
			}
		})
	}
}

func TestCaddyStorageListFilters(t *testing.T) {
	dir := t.TempDir()
	bucketsDir := filepath.Join(dir, "s3_cors", "buckets")
	files := map[string]string{
		"photos.xml":       string(testXML("https://a.example")),
		"Upper.xml":        "x", // not a valid bucket name
		"ab.xml":           "x", // too short
		"photos.json":      "x", // wrong suffix
		"1234567890":       "x", // what atomicfile's temporary files look like
		".xml":             "x",
		"deep/nested.xml":  "x", // below the prefix
		"dir.xml/file.xml": "x", // a directory named like a key
	}
	for name, content := range files {
		p := filepath.Join(bucketsDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := newFileStore(dir).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Bucket != "photos" {
		t.Fatalf("List = %v, want only photos", entries)
	}
}

// spyStorage is a certmagic.Storage that records every call and fails the
// test's expectations if any is made.
type spyStorage struct {
	certmagic.Storage // nil: any method not overridden would panic
	calls             atomic.Int32
}

func (s *spyStorage) Store(context.Context, string, []byte) error { s.calls.Add(1); return nil }
func (s *spyStorage) Load(context.Context, string) ([]byte, error) {
	s.calls.Add(1)
	return nil, fs.ErrNotExist
}
func (s *spyStorage) Delete(context.Context, string) error { s.calls.Add(1); return nil }
func (s *spyStorage) Stat(context.Context, string) (certmagic.KeyInfo, error) {
	s.calls.Add(1)
	return certmagic.KeyInfo{}, fs.ErrNotExist
}

func TestStoresRefuseInvalidNames(t *testing.T) {
	spy := &spyStorage{}
	// Port 1 on loopback refuses connections: a request would fail with a
	// network error, not ErrInvalidBucket.
	obj, err := NewObjectStore(ObjectStoreConfig{Endpoint: "127.0.0.1:1", Bucket: "cfg", AccessKey: "a", SecretKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]Store{"caddy storage": NewCaddyStorage(spy), "object store": obj}
	names := []string{"", "..", "../../x", "..%2F..%2Fx", "a/b", "Photos", "192.168.0.1", "ab",
		strings.Repeat("a", 64), "a.xml/../b"}
	ctx := context.Background()
	for storeName, s := range stores {
		for _, name := range names {
			ops := map[string]func() error{
				"load":   func() error { _, err := s.Load(ctx, name); return err },
				"put":    func() error { return s.Put(ctx, name, testXML("https://a.example")) },
				"delete": func() error { return s.Delete(ctx, name) },
				"put version": func() error {
					_, err := s.(VersionedPutter).PutVersion(ctx, name, testXML("https://a.example"))
					return err
				},
			}
			for opName, op := range ops {
				t.Run(fmt.Sprintf("%s/%s/%q", storeName, opName, name), func(t *testing.T) {
					err := op()
					if !errors.Is(err, ErrInvalidBucket) {
						t.Fatalf("err = %v, want ErrInvalidBucket", err)
					}
				})
			}
		}
	}
	if n := spy.calls.Load(); n != 0 {
		t.Errorf("storage was called %d times for invalid names", n)
	}
}

// memStorage is an in-memory certmagic.Storage standing in for a storage
// module other than the file system. With torn set, Store writes only the
// first half of the value and fails, as a module that writes in pieces
// would when interrupted.
type memStorage struct {
	certmagic.Storage // locking is not used by the store
	mu                sync.Mutex
	data              map[string][]byte
	modified          map[string]time.Time
	torn              bool
}

func newMemStorage() *memStorage {
	return &memStorage{data: make(map[string][]byte), modified: make(map[string]time.Time)}
}

func (m *memStorage) Store(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.modified[key] = time.Now()
	if m.torn {
		m.data[key] = bytes.Clone(value[:len(value)/2])
		return errInjected
	}
	m.data[key] = bytes.Clone(value)
	return nil
}

func (m *memStorage) Load(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[key]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return bytes.Clone(v), nil
}

func (m *memStorage) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return nil
}

func (m *memStorage) List(_ context.Context, prefix string, _ bool) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.data {
		if path.Dir(k) == prefix {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fs.ErrNotExist // as the file system answers
	}
	return keys, nil
}

func (m *memStorage) Stat(_ context.Context, key string) (certmagic.KeyInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[key]
	if !ok {
		return certmagic.KeyInfo{}, fs.ErrNotExist
	}
	return certmagic.KeyInfo{Key: key, Modified: m.modified[key], Size: int64(len(v)), IsTerminal: true}, nil
}

func TestCaddyStorageOtherBackend(t *testing.T) {
	ctx := context.Background()
	mem := newMemStorage()
	s := NewCaddyStorage(mem)
	if entries, err := s.List(ctx); err != nil || len(entries) != 0 {
		t.Fatalf("empty list = %v, %v", entries, err)
	}
	v, err := s.PutVersion(ctx, "photos", testXML("https://a.example"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := s.List(ctx)
	if err != nil || len(entries) != 1 || entries[0] != (Entry{Bucket: "photos", Version: v}) {
		t.Fatalf("list = %v, %v; want photos at %q", entries, err, v)
	}
}

// TestFileStorageAtomicConcurrent has writers replace one key over and over
// with contents of different sizes while readers load it: every read must be
// exactly one of the written contents, never a mix or a truncation.
func TestFileStorageAtomicConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t.TempDir())
	var contents [][]byte
	valid := make(map[string]bool)
	for i := range 8 {
		// Sizes from about 150 bytes to about 40 KiB, so that a torn
		// write would show as a truncated or mixed body.
		c := testXML("https://" + strings.Repeat(string(rune('a'+i)), 1+i*i*600) + ".example")
		contents = append(contents, c)
		valid[string(c)] = true
	}
	if err := s.Put(ctx, "photos", contents[0]); err != nil {
		t.Fatal(err)
	}

	const writers, readers, writes = 4, 4, 40
	var wg sync.WaitGroup
	var stop atomic.Bool
	errs := make(chan error, writers+readers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range writes {
				if err := s.Put(ctx, "photos", contents[(w+i)%len(contents)]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var reads atomic.Int64
	var rwg sync.WaitGroup
	for range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for !stop.Load() {
				b, err := s.Load(ctx, "photos")
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
				if !valid[string(b)] {
					errs <- fmt.Errorf("torn read: %d bytes, starting %q", len(b), b[:min(len(b), 60)])
					return
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d reads during %d writes", reads.Load(), writers*writes)
	// Temporary files of the writes must not be listed as keys.
	if entries, err := s.List(ctx); err != nil || len(entries) != 1 {
		t.Errorf("list after concurrent writes = %v, %v", entries, err)
	}
}

// crashWriterEnv makes the test binary, run by TestFileStorageAtomicCrash,
// write the key in a loop until it is killed.
const crashWriterEnv = "S3CORS_STORE_CRASH_WRITER_DIR"

// crashContents are what the crash writer alternates between.
func crashContents() [][]byte {
	return [][]byte{
		testXML("https://small.example"),
		testXML("https://" + strings.Repeat("l", 30000) + ".example"),
	}
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashWriterEnv); dir != "" {
		s := newFileStore(dir)
		contents := crashContents()
		fmt.Println("writing")
		for i := 0; ; i++ {
			if err := s.Put(context.Background(), "photos", contents[i%2]); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
	}
	os.Exit(m.Run())
}

// TestFileStorageAtomicCrash kills a process with SIGKILL while it rewrites
// a key in a loop, several times: whatever the moment, the key holds one
// complete content, and the leftover temporary files are not listed.
func TestFileStorageAtomicCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := newFileStore(dir)
	valid := make(map[string]bool)
	for _, c := range crashContents() {
		valid[string(c)] = true
	}
	for round, delay := range []time.Duration{5, 13, 29, 41, 67} {
		t.Run(fmt.Sprintf("kill after %dms", delay), func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), crashWriterEnv+"="+dir)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for "writing" so the kill lands during writes, not
			// during process start.
			buf := make([]byte, 8)
			if _, err := stdout.Read(buf); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay * time.Millisecond)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait() // "signal: killed" is the expected outcome

			b, err := s.Load(context.Background(), "photos")
			if err != nil {
				if round == 0 && errors.Is(err, fs.ErrNotExist) {
					return // killed before its first rename
				}
				t.Fatal(err)
			}
			if !valid[string(b)] {
				t.Fatalf("torn key after kill: %d bytes", len(b))
			}
			entries, err := s.List(context.Background())
			if err != nil || len(entries) != 1 || entries[0].Bucket != "photos" {
				t.Fatalf("list after kill = %v, %v", entries, err)
			}
		})
	}
}
