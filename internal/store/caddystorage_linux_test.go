package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFileStoragePutFailsMidWrite makes the real certmagic.FileStorage fail
// in the middle of writing a value: with the file size limit (RLIMIT_FSIZE)
// lowered, write(2) stores part of the value and then fails with EFBIG (the
// Go runtime ignores SIGXFSZ). Put must return the error and leave the old
// content, and no temporary file may be listed.
//
// The limit applies to the whole process, so this test must not run in
// parallel with others that write files; it restores the limit at once.
func TestFileStoragePutFailsMidWrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newFileStore(dir)
	old := testXML("https://old.example")
	if err := s.Put(ctx, "photos", old); err != nil {
		t.Fatal(err)
	}
	large := testXML("https://" + strings.Repeat("n", 8000) + ".example")

	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
		t.Fatal(err)
	}
	limited := saved
	limited.Cur = 4096 // larger than old, smaller than large
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		t.Skipf("cannot lower RLIMIT_FSIZE: %v", err)
	}
	err := s.Put(ctx, "photos", large)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &saved); rerr != nil {
		t.Fatalf("restore RLIMIT_FSIZE: %v", rerr)
	}

	if err == nil {
		t.Fatal("Put succeeded beyond the file size limit")
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Errorf("err = %v, want EFBIG", err)
	}
	got, lerr := s.Load(ctx, "photos")
	if lerr != nil {
		t.Fatal(lerr)
	}
	if !bytes.Equal(got, old) {
		t.Fatalf("after the failed Put the key holds %d bytes, want the old %d", len(got), len(old))
	}
	entries, lerr := s.List(ctx)
	if lerr != nil || len(entries) != 1 {
		t.Fatalf("list = %v, %v", entries, lerr)
	}
	// atomicfile cancels the temporary file on a failed write.
	files, lerr := os.ReadDir(filepath.Join(dir, "s3_cors", "buckets"))
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(files) != 1 {
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		t.Errorf("files left in the buckets directory: %v", names)
	}
}

// TestFileStorageKeyNotARegularFile: a key that is a FIFO (made by hand, or
// a symbolic link to one) must be refused, not opened for reading: that
// open waits for a writer, forever, and with it the sync (the first one
// never ends, so every lookup of an unconfigured bucket waited for it, and
// later ones stop reading every other node's changes). The test holds the
// FIFO open for reading and writing itself (which on Linux never blocks),
// so that an implementation that opens it returns instead of hanging, and
// the test fails.
func TestFileStorageKeyNotARegularFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newFileStore(dir)
	if err := s.Put(ctx, "docs", testXML("https://docs.example")); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "s3_cors", "buckets", "photos.xml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	held, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	b, _, err := s.LoadVersion(ctx, "photos")
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadVersion of a FIFO key: %q, %v; want it refused as not a regular file, without opening it for a read that waits for a writer", b, err)
	}
	got, _, err := s.LoadVersion(ctx, "docs")
	if err != nil || !bytes.Equal(got, testXML("https://docs.example")) {
		t.Errorf("the other key: %q, %v", got, err)
	}
}
