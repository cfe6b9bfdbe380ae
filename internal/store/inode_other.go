//go:build !unix

package store

import "os"

// inode is unavailable here: versions are modification time and size only.
func inode(os.FileInfo) (uint64, bool) { return 0, false }
