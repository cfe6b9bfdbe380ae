package store

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFile: a key written into a directory not made yet, with mode
// 0600 and the version a stat of the key gives; a write that cannot be
// renamed into place (the key's name is a directory) fails, leaves what
// was there, and leaves no temporary file.
func TestWriteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	name := filepath.Join(dir, "photos.xml")
	version, err := writeFile(name, []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileVersion(fi); got != version {
		t.Errorf("version %q, the key's stat gives %q", version, got)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	second, err := writeFile(name, []byte("other"))
	if err != nil || second == version {
		t.Errorf("a same-size rewrite: version %q (was %q), %v", second, version, err)
	}
	if b, err := os.ReadFile(name); err != nil || string(b) != "other" {
		t.Errorf("key holds %q, %v", b, err)
	}

	blocked := filepath.Join(dir, "blocked.xml")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := writeFile(blocked, []byte("x")); err == nil {
		t.Error("a write over a directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "blocked.xml" || names[1] != "photos.xml" {
		t.Errorf("files after the failed write: %v, want the two keys only", names)
	}
}
