//go:build linux

package store

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// writeFile replaces the file name with data as certmagic.FileStorage
// writes a key (its internal atomicfile package): a temporary file beside
// it, written, fsync'ed, closed and renamed over it, so that a reader sees
// the old or the new content and a crash leaves one or the other. It takes
// the fewest system calls that does: open, fchmod, write, fsync, fstat,
// close and rename (os.CreateTemp and os.Rename would add four fcntl, an
// epoll_ctl and an lstat, and certmagic a stat of the directory). It
// returns the version (fileVersion) of the new content, from the fstat of
// the file that becomes the key: the rename keeps its inode, size and
// modification time. A missing directory is created.
func writeFile(name string, data []byte) (string, error) {
	dir := filepath.Dir(name)
	fd, tmp, err := createTemp(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			fd, tmp, err = createTemp(dir)
		}
	}
	if err != nil {
		return "", err
	}
	version, err := fillFile(fd, tmp, data)
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		err = &fs.PathError{Op: "close", Path: tmp, Err: cerr}
	}
	if err == nil {
		if rerr := syscall.Rename(tmp, name); rerr != nil {
			err = &os.LinkError{Op: "rename", Old: tmp, New: name, Err: rerr}
		}
	}
	if err != nil {
		_ = syscall.Unlink(tmp) // nothing was renamed: the key is unchanged
		return "", err
	}
	return version, nil
}

// createTemp creates a new file in dir, named as os.CreateTemp(dir, "")
// names it (decimal digits, which isTempName recognizes and no key has),
// open for writing.
func createTemp(dir string) (int, string, error) {
	for range 10000 {
		name := filepath.Join(dir, strconv.FormatUint(uint64(rand.Uint32()), 10))
		fd, err := retryEINTR(func() (int, error) {
			return syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
		})
		if err == syscall.EEXIST {
			continue
		}
		if err != nil {
			return -1, "", &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return fd, name, nil
	}
	return -1, "", &fs.PathError{Op: "createtemp", Path: dir, Err: fs.ErrExist}
}

// fillFile gives the new file fd (named name) the mode 0600 whatever the
// umask, as certmagic does, writes data, flushes it to the disk and
// returns the version of the file.
func fillFile(fd int, name string, data []byte) (string, error) {
	if err := syscall.Fchmod(fd, 0o600); err != nil {
		return "", &fs.PathError{Op: "chmod", Path: name, Err: err}
	}
	for n := 0; n < len(data); {
		m, err := retryEINTR(func() (int, error) { return syscall.Write(fd, data[n:]) })
		if err != nil {
			return "", &fs.PathError{Op: "write", Path: name, Err: err}
		}
		n += m
	}
	if err := syscall.Fsync(fd); err != nil {
		return "", &fs.PathError{Op: "sync", Path: name, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return "", &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	return statVersion(&st), nil
}

// statVersion is fileVersion of a stat.
func statVersion(st *syscall.Stat_t) string {
	return formatVersion(time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)), st.Size) + "-" + strconv.FormatUint(uint64(st.Ino), 36)
}

// createEmpty creates the empty file name (a journal entry) in one system
// call: mknod of a regular file, which needs no privilege and leaves no
// descriptor to close; where a sandbox or a file system refuses mknod
// (EPERM, ENOSYS, EOPNOTSUPP, EINVAL on some FUSE and network file
// systems), open and close. An existing file is left as it is.
func createEmpty(name string) error {
	_, err := retryEINTR(func() (int, error) {
		return 0, syscall.Mknod(name, syscall.S_IFREG|0o600, 0)
	})
	if err == syscall.EPERM || err == syscall.ENOSYS || err == syscall.EOPNOTSUPP || err == syscall.EINVAL {
		var fd int
		if fd, err = retryEINTR(func() (int, error) {
			return syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
		}); err == nil {
			err = syscall.Close(fd)
		}
	}
	if err != nil && err != syscall.EEXIST {
		return &fs.PathError{Op: "create", Path: name, Err: err}
	}
	return nil
}
