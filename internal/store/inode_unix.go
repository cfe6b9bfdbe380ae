//go:build unix

package store

import (
	"os"
	"syscall"
)

// inode returns the inode number of a file, which changes with every write
// of certmagic.FileStorage since it renames a new file over the old one.
func inode(fi os.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Ino), true // Ino is not uint64 on every unix
}
