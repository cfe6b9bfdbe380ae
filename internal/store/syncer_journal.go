package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// journalStale reports whether the journal cannot tell everything that
// changed since the latest successful sync: there was none, or it began so
// long ago that entries made since may have been pruned. syncMu must be
// held.
func (s *Syncer) journalStale(now time.Time) bool {
	return s.journalRead.IsZero() || now.Sub(s.journalRead) > JournalRetention-JournalLookback
}

// syncJournal is a Sync between full ones on a store with a Journal: it
// reads the journal from JournalLookback before the previous sync, and the
// keys of the buckets named by entries it has not seen yet (not the
// node's own), plus the buckets in Syncer.reread. Nothing else is
// listed or read, so a sync when nothing changed costs one journal read.
// syncMu must be held.
func (s *Syncer) syncJournal(ctx context.Context, began time.Time, start uint64) (bool, error) {
	fresh, named, err := s.unseenJournal(ctx)
	if err != nil {
		return false, fmt.Errorf("store sync: read journal: %w", err)
	}
	s.mu.Lock()
	for bucket := range s.reread {
		named[bucket] = struct{}{}
	}
	s.syncs++
	s.mu.Unlock()
	toRead := make([]Entry, 0, len(named))
	for bucket := range named {
		toRead = append(toRead, Entry{Bucket: bucket})
	}

	var changes atomic.Int64
	err = s.readAll(ctx, toRead, true, func(e Entry, r readResult) {
		if s.apply(start, e, r, false, named) {
			changes.Add(1)
		}
	})
	if err != nil {
		// The entries stay unseen: the next sync reads them again.
		return changes.Load() > 0, fmt.Errorf("store sync: %w", err)
	}
	s.journalSynced(began, fresh)
	return changes.Load() > 0, nil
}

// journalSynced records a successful sync that began at began and acted on
// the journal entries fresh: the next journal read starts JournalLookback
// before began, and entries older than that are forgotten. syncMu must be
// held.
func (s *Syncer) journalSynced(began time.Time, fresh map[string]time.Time) {
	s.journalRead = began
	horizon := began.Add(-JournalLookback)
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, at := range fresh {
		s.seen[name] = at
	}
	for name, at := range s.seen {
		if at.Before(horizon) {
			delete(s.seen, name)
		}
	}
}

// pruneJournal deletes the journal entries older than JournalRetention
// before now. Every node's full syncs prune (deleting an entry twice is
// harmless); a failure is logged and the entries wait for the next one.
func (s *Syncer) pruneJournal(ctx context.Context, now time.Time) {
	n, err := s.journal.PruneJournal(ctx, journalBound(now.Add(-JournalRetention)))
	if err != nil {
		s.Logger().Warn("bucket CORS change journal not pruned", zap.Int("pruned", n), zap.Error(err))
	}
}

// appendJournal records a write this node made in the store's journal, if
// it has one, so that the other nodes read that bucket at their next sync;
// this node reads it too unless own is set (the write is known to be what
// the store holds). The write itself is done whatever happens here: a
// failure is logged, and the other nodes find the change at their next
// full sync.
func (s *Syncer) appendJournal(ctx context.Context, bucket string, own bool) {
	if s.journal == nil || !s3cors.StorableBucketName(bucket) {
		return // a refused name never reached the store
	}
	at := time.Now()
	name, err := s.journal.AppendJournal(ctx, bucket, at)
	if err != nil {
		s.Logger().Warn("bucket CORS change journal not written; other nodes see the change at their next full sync",
			zap.String("bucket", bucket), zap.Error(err))
		return
	}
	if own {
		s.mu.Lock()
		s.seen[name] = at
		s.mu.Unlock()
	}
}

// journalBefore reads the journal before a listing sync, so that the
// entries it holds that were not seen yet, whose writes the listing
// includes, are not acted on again by the next journal sync. It returns
// them, and the buckets they name. A failure only costs those reads: it is
// logged at debug level and nil returned.
func (s *Syncer) journalBefore(ctx context.Context) (fresh map[string]time.Time, named map[string]struct{}) {
	fresh, named, err := s.unseenJournal(ctx)
	if err != nil {
		s.Logger().Debug("bucket CORS change journal not read before a full sync", zap.Error(err))
		return nil, nil
	}
	return fresh, named
}

// unseenJournal reads the journal from JournalLookback before the previous
// sync, and returns the entries not seen yet (neither acted on nor the
// node's own), with their time, and the buckets they name. syncMu must be
// held.
func (s *Syncer) unseenJournal(ctx context.Context) (fresh map[string]time.Time, named map[string]struct{}, err error) {
	names, err := s.journal.ReadJournal(ctx, journalBound(s.journalRead.Add(-JournalLookback)))
	if err != nil {
		return nil, nil, err
	}
	fresh = make(map[string]time.Time)
	named = make(map[string]struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range names {
		if _, ok := s.seen[name]; ok {
			continue
		}
		if at, bucket, ok := parseJournalName(name); ok {
			fresh[name] = at
			named[bucket] = struct{}{}
		}
	}
	return fresh, named, nil
}
