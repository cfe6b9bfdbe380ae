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
