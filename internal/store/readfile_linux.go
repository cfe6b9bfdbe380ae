//go:build linux

package store

import (
	"fmt"
	"io/fs"
	"syscall"
)

// readFile reads a file whole, with the version (fileVersion) of the file
// read. A node reads every key at start: this is open, fstat, read and
// close and nothing else (os.Open would also register the file with the
// poller and set up its cleanup), which matters for 100,000 keys.
//
// Only a regular file is read. O_NONBLOCK keeps the open of a FIFO (a key
// made by hand, or a link to one) from waiting for a writer, which would
// hold the sync forever; it changes nothing for a regular file.
func readFile(name string) ([]byte, string, error) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	})
	if err != nil {
		return nil, "", &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, "", &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
	case syscall.S_IFDIR:
		return nil, "", fmt.Errorf("%s is a directory", name)
	default:
		return nil, "", fmt.Errorf("%s is not a regular file", name)
	}
	// Read up to the size the stat gave (certmagic replaces a file by
	// renaming a new one over it, so the open file does not change), or
	// to its end if it is shorter. A file longer than MaxObjectSize is
	// read one byte past it: enough for the parser to refuse it.
	size := min(st.Size, MaxObjectSize+1)
	b := make([]byte, size)
	n := 0
	for int64(n) < size {
		m, err := retryEINTR(func() (int, error) { return syscall.Read(fd, b[n:]) })
		if err != nil {
			return nil, "", &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return b[:n], statVersion(&st), nil
}

// retryEINTR calls f again while it is interrupted by a signal.
func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}
