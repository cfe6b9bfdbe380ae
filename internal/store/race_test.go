package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// slowStorage is a file-system storage whose writes return a little after
// they landed, as a busy disk or a remote module does: the window in which
// another write to the same key lands before the writer looks at what it
// wrote. deleteAfterStore makes every write be followed by a delete of the
// key (another node's DeleteBucketCors landing at once; journal entries are
// left alone).
type slowStorage struct {
	*certmagic.FileStorage
	deleteAfterStore bool
}

func (s *slowStorage) Store(ctx context.Context, key string, value []byte) error {
	if err := s.FileStorage.Store(ctx, key, value); err != nil {
		return err
	}
	if s.deleteAfterStore && !strings.HasPrefix(key, journalPrefix+"/") {
		return s.FileStorage.Delete(ctx, key)
	}
	time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	return nil
}

// TestConcurrentWritersServeWhatIsStored: writers PUT one bucket at once
// through one node, all acknowledged; once they are done, the node serves
// exactly what storage holds (issue 14.3: it served one writer's
// configuration while storage held another's, until the next full sync).
func TestConcurrentWritersServeWhatIsStored(t *testing.T) {
	ctx := context.Background()
	raw := NewCaddyStorage(&slowStorage{FileStorage: &certmagic.FileStorage{Path: t.TempDir()}})
	s := NewSyncer(raw, zap.NewNop(), SyncerOptions{})
	mustSync(t, s)
	for round := range 60 {
		var wg sync.WaitGroup
		for w := range 4 {
			cfg := mustParse(t, testXML(fmt.Sprintf("https://w%d-r%d.example", w, round)))
			wg.Go(func() {
				if err := s.Put(ctx, "photos", cfg); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		stored, err := raw.Load(ctx, "photos")
		if err != nil {
			t.Fatal(err)
		}
		served, ok := s.Snapshot()["photos"]
		if !ok || string(served.XML()) != canonical(t, stored) {
			t.Fatalf("round %d: served %s, storage holds %s", round, served.XML(), stored)
		}
	}
}

// TestPutRacingDeleteSucceeds: a write that landed is reported done even
// when a delete removed the key before the writer could look at it (issue
// 14.4: the write answered 500, and a client retrying it brought back a
// configuration the later delete had removed). The next sync serves what
// storage holds: nothing.
func TestPutRacingDeleteSucceeds(t *testing.T) {
	ctx := context.Background()
	raw := NewCaddyStorage(&slowStorage{FileStorage: &certmagic.FileStorage{Path: t.TempDir()}, deleteAfterStore: true})
	s := NewSyncer(raw, zap.NewNop(), SyncerOptions{})
	mustSync(t, s)
	if err := s.Put(ctx, "photos", mustParse(t, testXML("https://a.example"))); err != nil {
		t.Fatalf("a write that landed answered %v", err)
	}
	if snap, _ := mustSync(t, s); len(snap) != 0 {
		t.Errorf("after the sync: %v, want nothing (the delete came last)", contents(snap))
	}
}

// TestRemoveStaleTemp: the temporary files a killed writer left beside the
// keys are removed once they are older than StaleTempAge; a younger one
// (maybe another node's write in progress), the keys and foreign files
// stay (issue 14.6: twelve files after five SIGKILLs, never removed).
func TestRemoveStaleTemp(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, filepath.FromSlash(KeyPrefix))
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := now.Add(-StaleTempAge - time.Minute)
	files := []struct {
		name    string
		modTime time.Time
		kept    bool
	}{
		{"1234567890", old, false},                 // a killed write's temporary file
		{"42", old, false},                         // empty or not, the same
		{"987654321", now.Add(-time.Second), true}, // maybe a write in progress
		{"photos.xml", old, true},                  // a key
		{"notes.txt", old, true},                   // not ours
		{"12ab", old, true},                        // not a temporary file name
	}
	for _, f := range files {
		p := filepath.Join(keys, f.name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, f.modTime, f.modTime); err != nil {
			t.Fatal(err)
		}
	}
	n, err := NewCaddyStorage(&certmagic.FileStorage{Path: dir}).RemoveStaleTemp(now)
	if err != nil || n != 2 {
		t.Errorf("RemoveStaleTemp = %d, %v; want 2, nil", n, err)
	}
	for _, f := range files {
		_, err := os.Stat(filepath.Join(keys, f.name))
		if kept := err == nil; kept != f.kept {
			t.Errorf("%s: kept %v, want %v", f.name, kept, f.kept)
		}
	}
	// A storage never written, or not the file system: nothing to do.
	if n, err := NewCaddyStorage(&certmagic.FileStorage{Path: t.TempDir()}).RemoveStaleTemp(now); n != 0 || err != nil {
		t.Errorf("empty storage: %d, %v", n, err)
	}
	if n, err := NewCaddyStorage(newMemStorage()).RemoveStaleTemp(now); n != 0 || err != nil {
		t.Errorf("other module: %d, %v", n, err)
	}
}
