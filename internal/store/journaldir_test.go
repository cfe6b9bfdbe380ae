package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestJournalDirBounded: on the file system a journal read opens only the
// folders of the minutes that can hold entries after its bound. An older
// folder is replaced here by a plain file, which fails any attempt to
// read it as a directory: the read succeeds only if it never tries.
// Entries of the older, flat layout are still read and pruned.
func TestJournalDirBounded(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := newFileStore(root)
	dir := filepath.Join(root, filepath.FromSlash(journalPrefix))
	now := time.Now()

	fresh, err := s.AppendJournal(ctx, "fresh", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, journalFolder(now), fresh)); err != nil {
		t.Fatalf("entry not in its minute's folder: %v", err)
	}
	oldAt := now.Add(-5 * time.Minute)
	if err := os.WriteFile(filepath.Join(dir, journalFolder(oldAt)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	loose := journalName(now.Add(-30*time.Second), "loose")
	looseOld := journalName(now.Add(-JournalRetention-time.Minute), "looseold")
	for _, n := range []string{loose, looseOld, "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	names, err := s.ReadJournal(ctx, journalBound(now.Add(-time.Minute)))
	slices.Sort(names)
	if want := []string{loose, fresh}; err != nil || !slices.Equal(names, want) {
		t.Fatalf("ReadJournal of the last minute = %v, %v; want %v (the older folder not opened)", names, err, want)
	}
	if _, err := s.ReadJournal(ctx, journalBound(oldAt)); err == nil {
		t.Fatal("a read from before the older folder did not open it (it is a file: the read must fail)")
	}

	if err := os.Remove(filepath.Join(dir, journalFolder(oldAt))); err != nil {
		t.Fatal(err)
	}
	older, err := s.AppendJournal(ctx, "older", oldAt)
	if err != nil {
		t.Fatal(err)
	}
	pruned, err := s.PruneJournal(ctx, journalBound(now.Add(-time.Minute)))
	if err != nil || pruned != 2 {
		t.Errorf("PruneJournal = %d, %v; want the older folder's entry and the old loose entry", pruned, err)
	}
	names, err = s.ReadJournal(ctx, "")
	slices.Sort(names)
	if want := []string{loose, fresh}; err != nil || !slices.Equal(names, want) {
		t.Errorf("after pruning: %v, %v; want %v (%s pruned)", names, err, want, older)
	}
	if _, err := os.Stat(filepath.Join(dir, journalFolder(oldAt))); !os.IsNotExist(err) {
		t.Errorf("the pruned minute's folder is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file not of the journal was removed: %v", err)
	}
}

func TestJournalFolder(t *testing.T) {
	at := time.Unix(1_700_000_123, 456)
	folder := journalFolder(at)
	if want := journalBound(time.Unix(1_700_000_100, 0)); folder != want {
		t.Errorf("journalFolder = %s, want %s", folder, want)
	}
	end, ok := journalFolderEnd(folder)
	if !ok || !(folder < journalName(at, "b")) || !(journalName(at, "b") < end) || end != journalBound(time.Unix(1_700_000_160, 0)) {
		t.Errorf("journalFolderEnd(%s) = %s, %v", folder, end, ok)
	}
	for _, bad := range []string{"", "123", journalBound(at), journalName(at, "b"), "x" + folder[1:]} {
		if _, ok := journalFolderEnd(bad); ok {
			t.Errorf("journalFolderEnd(%q) accepted", bad)
		}
	}
}
