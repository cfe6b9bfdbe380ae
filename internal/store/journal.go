package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Journal is implemented by stores that keep a change journal beside the
// configurations: one small entry a write, named after the time it was made
// and the bucket written. A Syncer over such a store records every Put and
// Delete it makes in the journal and, between full syncs, reads only the
// journal and the keys it names, so that a sync when nothing changed costs
// one listing of the journal, whatever the number of buckets.
//
// The journal sees only the writes made through a Syncer: a key changed by
// hand is found by the next full sync.
type Journal interface {
	// AppendJournal records that bucket's key was written or deleted, and
	// returns the name of the entry (journalName(at, bucket, ...)).
	AppendJournal(ctx context.Context, bucket string, at time.Time) (string, error)

	// ReadJournal returns the names of the journal's entries that sort
	// after after ("" for all), in no particular order.
	ReadJournal(ctx context.Context, after string) ([]string, error)

	// PruneJournal deletes the entries that sort before before, and
	// returns how many it deleted.
	PruneJournal(ctx context.Context, before string) (int, error)
}

// journalDir is the "directory" of the journal, below the configurations'
// prefix: listing the configurations (one level, no recursion) never sees
// it, and ".journal" is no bucket name.
const journalDir = ".journal"

// JournalRetention is how long journal entries are kept: a full sync prunes
// older ones. A node whose last journal read is older than
// JournalRetention minus JournalLookback may have missed entries, and
// compares the whole listing instead.
const JournalRetention = 10 * time.Minute

// JournalLookback is how far before its previous read a node reads the
// journal again: an entry is named after its writer's clock when the write
// began, and becomes visible a little later, so entries that sort just
// before the previous read may be new. It covers clock skew between nodes
// and the time a write takes, up to this much.
const JournalLookback = time.Minute

// journalTimeDigits is the width of the zero-padded Unix nanoseconds that
// start an entry's name, so that names sort in time order.
const journalTimeDigits = 19

// journalName returns the name of the entry of a write of bucket at at:
// <Unix nanoseconds, zero-padded>-<8 random hex digits>-<bucket>. The
// random part keeps two writes of one bucket in the same nanosecond (on two
// nodes) apart.
func journalName(at time.Time, bucket string) string {
	var r [4]byte
	_, _ = rand.Read(r[:]) // never fails (crypto/rand panics instead)
	return fmt.Sprintf("%0*d-%s-%s", journalTimeDigits, at.UnixNano(), hex.EncodeToString(r[:]), bucket)
}

// journalBound returns a name that sorts before every entry made at or
// after at, and after every entry made before it.
func journalBound(at time.Time) string {
	return fmt.Sprintf("%0*d", journalTimeDigits, max(at.UnixNano(), 0))
}

// parseJournalName returns the time and the bucket of an entry name, and
// whether it is one.
func parseJournalName(name string) (time.Time, string, bool) {
	if len(name) < journalTimeDigits+11 || name[journalTimeDigits] != '-' || name[journalTimeDigits+9] != '-' {
		return time.Time{}, "", false
	}
	nanos, err := strconv.ParseInt(name[:journalTimeDigits], 10, 64)
	if err != nil || nanos < 0 {
		return time.Time{}, "", false
	}
	if _, err := hex.DecodeString(name[journalTimeDigits+1 : journalTimeDigits+9]); err != nil {
		return time.Time{}, "", false
	}
	bucket := name[journalTimeDigits+10:]
	if !s3cors.StorableBucketName(bucket) || strings.Contains(bucket, "/") {
		return time.Time{}, "", false
	}
	return time.Unix(0, nanos), bucket, true
}
