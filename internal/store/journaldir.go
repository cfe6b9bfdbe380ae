package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The change journal on the file system (CaddyStorage over
// certmagic.FileStorage) keeps its entries in one folder a minute,
// .journal/<minute>/<entry>, the folder named by journalFolder. A sync
// reads the folders of the minutes after its bound only, so that a bulk
// load of 100,000 writes costs the ticks of the next minutes, not the
// ticks of the whole JournalRetention; a full sync prunes whole folders.
// Entries directly in .journal (as written before the folders) are still
// read and pruned.

// journalFolderSpan is the time one journal folder covers.
const journalFolderSpan = time.Minute

// journalFolder returns the name of the folder of the entries made at at:
// the start of its minute, as journalBound spells it, so that folder and
// entry names compare as times.
func journalFolder(at time.Time) string {
	nanos := at.UnixNano()
	return journalBound(time.Unix(0, nanos-nanos%int64(journalFolderSpan)))
}

// journalFolderEnd returns, for a journal folder's name, the bound of the
// minute after it: every entry of the folder sorts before it. ok is false
// for a name that is no folder's.
func journalFolderEnd(name string) (end string, ok bool) {
	if len(name) != journalTimeDigits {
		return "", false
	}
	nanos, err := strconv.ParseInt(name, 10, 64)
	if err != nil || nanos < 0 || nanos%int64(journalFolderSpan) != 0 {
		return "", false
	}
	return journalBound(time.Unix(0, nanos).Add(journalFolderSpan)), true
}

// readJournalDir returns the names of the entries under the journal
// directory dir that sort after after: the entries of the folders whose
// minute ends after it, and the loose entries of the older layout.
func readJournalDir(dir, after string) ([]string, error) {
	top, err := readDirNames(dir)
	if err != nil {
		return nil, fmt.Errorf("caddy storage: read journal: %w", err)
	}
	var names []string
	for _, n := range top {
		end, folder := journalFolderEnd(n)
		switch {
		case folder && end > after:
			entries, err := readDirNames(filepath.Join(dir, n))
			if err != nil {
				return nil, fmt.Errorf("caddy storage: read journal: %w", err)
			}
			for _, e := range entries {
				if e > after {
					names = append(names, e)
				}
			}
		case !folder && n > after:
			if _, _, ok := parseJournalName(n); ok {
				names = append(names, n)
			}
		}
	}
	return names, nil
}

// pruneJournalDir removes, under the journal directory dir, the folders
// of the minutes that ended at before or earlier, and the loose entries
// that sort before it, and returns how many entries it removed.
func pruneJournalDir(dir, before string) (int, error) {
	top, err := readDirNames(dir)
	if err != nil {
		return 0, fmt.Errorf("caddy storage: prune journal: %w", err)
	}
	pruned := 0
	var errs []error
	for _, n := range top {
		end, folder := journalFolderEnd(n)
		switch {
		case folder && end <= before:
			entries, _ := readDirNames(filepath.Join(dir, n))
			if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
				errs = append(errs, err)
				continue
			}
			pruned += len(entries)
		case !folder && n < before:
			if _, _, ok := parseJournalName(n); !ok {
				continue
			}
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			pruned++
		}
	}
	if len(errs) > 0 {
		return pruned, fmt.Errorf("caddy storage: prune journal: %w", errors.Join(errs...))
	}
	return pruned, nil
}

// readDirNames returns the names in the directory dir, unsorted (os.ReadDir
// would sort them and make an entry of each); a directory that does not
// exist is empty.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
