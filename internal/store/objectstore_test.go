package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// newObjectStore returns an ObjectStore on m with its own client, keeping
// the configurations under prefix in the bucket "cors-config", created if
// needed.
func newObjectStore(t *testing.T, m *testenv.MinIO, prefix string) *ObjectStore {
	t.Helper()
	o, err := NewObjectStore(ObjectStoreConfig{
		Endpoint:  m.Endpoint,
		AccessKey: m.AccessKey,
		SecretKey: m.SecretKey,
		Bucket:    "cors-config",
		Prefix:    prefix,
		Region:    "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestObjectStore runs against one real MinIO server for all its subtests,
// since starting one costs a few seconds.
func TestObjectStore(t *testing.T) {
	started := time.Now()
	m := testenv.StartMinIO(t)
	t.Logf("minio live after %v", time.Since(started).Round(time.Millisecond))

	t.Run("round trip", func(t *testing.T) { testObjectStoreRoundTrip(t, newObjectStore(t, m, KeyPrefix)) })
	t.Run("list filters", func(t *testing.T) { testObjectStoreListFilters(t, newObjectStore(t, m, "filters/"+KeyPrefix)) })
	t.Run("empty prefix", func(t *testing.T) { testObjectStoreEmptyPrefix(t, m) })
	t.Run("missing bucket", func(t *testing.T) { testObjectStoreMissingBucket(t, m) })
	t.Run("bucket created when missing", func(t *testing.T) { testObjectStoreCreateBucket(t, m) })
	t.Run("journal sync cost", func(t *testing.T) {
		store0, store1 := newObjectStore(t, m, "journal"), newObjectStore(t, m, "journal")
		checkJournalSyncCost(t, store0, store1, 10, func(bucket string, xml []byte) error {
			return store1.Put(context.Background(), bucket, xml)
		})
		// The configurations' listing does not see the journal, and the
		// journal is pruned by time.
		entries, err := store0.List(context.Background())
		if err != nil || len(entries) != 10 {
			t.Errorf("List = %d entries, %v; want the 10 configurations only", len(entries), err)
		}
		checkJournalPrune(t, newObjectStore(t, m, "journal-prune"))
	})
	t.Run("syncers converge", func(t *testing.T) {
		// Two clients of their own, as two nodes would have.
		checkConvergence(t, newObjectStore(t, m, "converge"), newObjectStore(t, m, "converge"))
	})
}

func testObjectStoreRoundTrip(t *testing.T, o *ObjectStore) {
	ctx := context.Background()
	a, b := testXML("https://a.example"), testXML("https://b.example")

	if entries, err := o.List(ctx); err != nil || len(entries) != 0 {
		t.Fatalf("list of a never-written prefix = %v, %v; want empty", entries, err)
	}
	var versions []string
	steps := []struct {
		name string
		run  func() error
		want map[string][]byte
	}{
		{"put new", func() error {
			v, err := o.PutVersion(ctx, "photos", a)
			versions = append(versions, v)
			return err
		}, map[string][]byte{"photos": a}},
		{"put second bucket", func() error { return o.Put(ctx, "www.example.com", b) },
			map[string][]byte{"photos": a, "www.example.com": b}},
		{"overwrite, same size", func() error {
			v, err := o.PutVersion(ctx, "photos", b)
			versions = append(versions, v)
			return err
		}, map[string][]byte{"photos": b, "www.example.com": b}},
		{"delete", func() error { return o.Delete(ctx, "photos") }, map[string][]byte{"www.example.com": b}},
		{"delete absent is no error", func() error { return o.Delete(ctx, "photos") },
			map[string][]byte{"www.example.com": b}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if err := step.run(); err != nil {
				t.Fatal(err)
			}
			entries, err := o.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, e := range entries {
				got = append(got, e.Bucket)
				if e.Version == "" {
					t.Errorf("%s: empty ETag", e.Bucket)
				}
				if e.Bucket == "photos" && e.Version != versions[len(versions)-1] {
					t.Errorf("listed ETag %q differs from PutVersion's %q", e.Version, versions[len(versions)-1])
				}
			}
			for bucket, body := range step.want {
				want = append(want, bucket)
				loaded, err := o.Load(ctx, bucket)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(loaded, body) {
					t.Errorf("load %s = %q, want %q", bucket, loaded, body)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("list = %v, want %v", got, want)
			}
		})
	}
	if versions[0] == versions[1] {
		t.Errorf("rewrite kept ETag %q", versions[0])
	}
	t.Run("load absent is fs.ErrNotExist", func(t *testing.T) {
		_, err := o.Load(ctx, "photos")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want fs.ErrNotExist", err)
		}
		if !strings.Contains(err.Error(), "NoSuchKey") && !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("err = %v, want the server's reason kept", err)
		}
	})
}

func testObjectStoreListFilters(t *testing.T, o *ObjectStore) {
	ctx := context.Background()
	if err := o.Put(ctx, "photos", testXML("https://a.example")); err != nil {
		t.Fatal(err)
	}
	// Objects the store did not write, put straight through the client.
	for _, name := range []string{
		"filters/s3_cors/buckets/Upper.xml",
		"filters/s3_cors/buckets/ab.xml",
		"filters/s3_cors/buckets/photos.json",
		"filters/s3_cors/buckets/deep/nested.xml",
		"filters/s3_cors/bucketsx/other.xml",
		"filters/photos.xml",
	} {
		if _, err := o.Client().PutObject(ctx, "cors-config", name, strings.NewReader("x"), 1,
			minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := o.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Bucket != "photos" {
		t.Fatalf("list = %v, want only photos", entries)
	}
}

func testObjectStoreEmptyPrefix(t *testing.T, m *testenv.MinIO) {
	ctx := context.Background()
	o, err := NewObjectStore(ObjectStoreConfig{Endpoint: m.Endpoint, AccessKey: m.AccessKey,
		SecretKey: m.SecretKey, Bucket: "cors-root"})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if err := o.Put(ctx, "photos", testXML("https://a.example")); err != nil {
		t.Fatal(err)
	}
	if got := o.Locate("photos"); got != "cors-root/photos.xml" {
		t.Errorf("Locate = %q", got)
	}
	entries, err := o.List(ctx)
	if err != nil || len(entries) != 1 || entries[0].Bucket != "photos" {
		t.Fatalf("list = %v, %v", entries, err)
	}
}

func testObjectStoreMissingBucket(t *testing.T, m *testenv.MinIO) {
	o, err := NewObjectStore(ObjectStoreConfig{Endpoint: m.Endpoint, AccessKey: m.AccessKey,
		SecretKey: m.SecretKey, Bucket: "never-created"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.List(context.Background())
	if err == nil || minio.ToErrorResponse(errors.Unwrap(err)).Code != "NoSuchBucket" {
		t.Fatalf("list of a missing bucket: err = %v, want NoSuchBucket", err)
	}
	_, err = o.Load(context.Background(), "photos")
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("load from a missing bucket: err = %v, want an error other than not-exist", err)
	}
}

// testObjectStoreCreateBucket checks that CreateBucket creates a missing
// bucket on the first use, and again on the next use when that first
// attempt failed (as it does while the store is down at a node's start).
func testObjectStoreCreateBucket(t *testing.T, m *testenv.MinIO) {
	o, err := NewObjectStore(ObjectStoreConfig{Endpoint: m.Endpoint, AccessKey: m.AccessKey,
		SecretKey: m.SecretKey, Bucket: "created-lazily", Prefix: KeyPrefix, CreateBucket: true})
	if err != nil {
		t.Fatal(err)
	}
	// A failed attempt: the context ends before the store is reached.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := o.List(canceled); err == nil {
		t.Fatal("list with a canceled context succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name string
		op   func() error
	}{
		{name: "put", op: func() error { return o.Put(ctx, "photos", testXML("https://a.example")) }},
		{name: "list", op: func() error {
			entries, err := o.List(ctx)
			if err == nil && (len(entries) != 1 || entries[0].Bucket != "photos") {
				return fmt.Errorf("list = %v, want photos", entries)
			}
			return err
		}},
		{name: "delete", op: func() error { return o.Delete(ctx, "photos") }},
	}
	for _, tt := range tests {
		if err := tt.op(); err != nil {
			t.Fatalf("%s after a failed attempt to create the bucket: %v", tt.name, err)
		}
	}
	if exists, err := o.Client().BucketExists(ctx, "created-lazily"); err != nil || !exists {
		t.Errorf("bucket exists = %v, %v", exists, err)
	}

	// Each first use creates the bucket: Delete and List too.
	for _, first := range []string{"delete", "list"} {
		bucket := "created-by-" + first
		o, err := NewObjectStore(ObjectStoreConfig{Endpoint: m.Endpoint, AccessKey: m.AccessKey,
			SecretKey: m.SecretKey, Bucket: bucket, CreateBucket: true})
		if err != nil {
			t.Fatal(err)
		}
		if first == "delete" {
			err = o.Delete(ctx, "photos")
		} else {
			_, err = o.List(ctx)
		}
		if err != nil {
			t.Fatalf("%s on a missing bucket: %v", first, err)
		}
		if exists, err := o.Client().BucketExists(ctx, bucket); err != nil || !exists {
			t.Errorf("%s: bucket exists = %v, %v", first, exists, err)
		}
	}
}

func TestNewObjectStoreConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     ObjectStoreConfig
		wantErr string
		locate  string
	}{
		{"default layout", ObjectStoreConfig{Endpoint: "h:1", Bucket: "b", Prefix: KeyPrefix}, "",
			"b/s3_cors/buckets/photos.xml"},
		{"slashes trimmed", ObjectStoreConfig{Endpoint: "h:1", Bucket: "b", Prefix: "/x/y/"}, "", "b/x/y/photos.xml"},
		{"no prefix", ObjectStoreConfig{Endpoint: "h:1", Bucket: "b"}, "", "b/photos.xml"},
		{"no endpoint", ObjectStoreConfig{Bucket: "b"}, "endpoint is required", ""},
		{"no bucket", ObjectStoreConfig{Endpoint: "h:1"}, "bucket is required", ""},
		{"traversal in prefix", ObjectStoreConfig{Endpoint: "h:1", Bucket: "b", Prefix: "a/../b"}, "invalid prefix", ""},
		{"empty segment in prefix", ObjectStoreConfig{Endpoint: "h:1", Bucket: "b", Prefix: "a//b"}, "invalid prefix", ""},
		{"scheme agreeing with Secure", ObjectStoreConfig{Endpoint: "http://h:1", Bucket: "b"}, "", "b/photos.xml"},
		{"scheme contradicting Secure", ObjectStoreConfig{Endpoint: "https://h:1", Bucket: "b"}, "object store: client", ""},
		{"unsupported scheme", ObjectStoreConfig{Endpoint: "ftp://h:1", Bucket: "b"}, "object store: client", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := NewObjectStore(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := o.Locate("photos"); got != tt.locate {
				t.Errorf("Locate = %q, want %q", got, tt.locate)
			}
		})
	}
}
