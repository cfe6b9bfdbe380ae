//go:build !linux

package store

import (
	"fmt"
	"io"
	"os"
)

// readFile reads a file whole, with the version (fileVersion) of the file
// read. Only a regular file is read: opening a FIFO (a key made by hand,
// or a link to one) would wait for a writer, holding the sync forever.
func readFile(name string) ([]byte, string, error) {
	if fi, err := os.Stat(name); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, "", fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if fi.IsDir() {
		return nil, "", fmt.Errorf("%s is a directory", name)
	}
	if !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s is not a regular file", name)
	}
	// Read up to the size the stat gave (certmagic replaces a file by
	// renaming a new one over it, so the open file does not change), or
	// to its end if it is shorter. A file longer than MaxObjectSize is
	// read one byte past it: enough for the parser to refuse it.
	size := min(fi.Size(), MaxObjectSize+1)
	b := make([]byte, 0, size)
	for int64(len(b)) < size {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", err
		}
	}
	return b, fileVersion(fi), nil
}
