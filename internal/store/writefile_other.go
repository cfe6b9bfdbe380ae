//go:build !linux

package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// writeFile replaces the file name with data as certmagic.FileStorage
// writes a key: a temporary file beside it, written, fsync'ed, closed and
// renamed over it. It returns the version (fileVersion) of the new
// content, from the stat of the file that becomes the key. A missing
// directory is created.
func writeFile(name string, data []byte) (string, error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.CreateTemp(dir, "")
		}
	}
	if err != nil {
		return "", err
	}
	version, err := fillFile(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		_ = os.Remove(f.Name()) // nothing was renamed: the key is unchanged
		return "", err
	}
	return version, nil
}

// fillFile gives f the mode 0600 whatever the umask, as certmagic does,
// writes data, flushes it to the disk and returns the version of f.
func fillFile(f *os.File, data []byte) (string, error) {
	if err := f.Chmod(0o600); err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	return fileVersion(fi), nil
}

// createEmpty creates the empty file name (a journal entry). An existing
// file is left as it is.
func createEmpty(name string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
