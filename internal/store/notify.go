package store

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// Notifier is implemented by stores that can push the entries of their
// change journal as they are written (MinIO's bucket notifications), so
// that a Syncer reads another node's write at once instead of at its next
// tick.
type Notifier interface {
	// Notify listens until ctx ends or the stream fails, and returns why
	// it ended (ctx's error once ctx ended). It calls state(true) each time
	// the stream is established (the store answered the listen request)
	// and state(false) each time it drops, and entry with the name of each
	// journal entry created meanwhile (as ReadJournal names it), from the
	// goroutine that called Notify. An error wrapping
	// ErrNotificationsRefused means the store does not offer notifications
	// to these credentials (another S3 implementation, or a policy without
	// the listen permission).
	Notify(ctx context.Context, state func(up bool), entry func(name string)) error
}

// ErrNotificationsRefused is wrapped by the errors of a Notifier whose store
// refuses to notify: retrying soon will not help.
var ErrNotificationsRefused = errors.New("store refuses bucket notifications")

// Listening to notifications, while the stream fails, is retried after
// notifyRetryMin, then with a doubling delay up to notifyRetryMax; a stream
// that stayed up notifyHealthy resets the delay, so that a store that
// closes every stream at once is not hammered.
const (
	notifyRetryMin = time.Second
	notifyRetryMax = 5 * time.Minute
	notifyHealthy  = time.Minute
)

// Trigger is what started a Sync of Loop.
type Trigger int

const (
	// ByTick is a sync at the sync interval (or a retry after a failure).
	ByTick Trigger = iota
	// ByNotification is a sync started by a notification of another
	// node's journal entry.
	ByNotification
)

// SyncStats counts the syncs of Loop by what started them, for metrics
// and tests.
type SyncStats struct {
	// Syncs counts the syncs started, and Changed those that ended having
	// changed a served configuration, by Trigger.
	Syncs, Changed [2]uint64
	// Notifications is the number of journal entries of other nodes that
	// notifications announced.
	Notifications uint64
	// StreamUp reports whether the notification stream is established.
	StreamUp bool
}

// Stats returns the counts of Loop's syncs.
func (s *Syncer) Stats() SyncStats {
	var st SyncStats
	for t := range st.Syncs {
		st.Syncs[t] = s.syncsBy[t].Load()
		st.Changed[t] = s.changedBy[t].Load()
	}
	st.Notifications = s.notifications.Load()
	st.StreamUp = s.streamUp.Load()
	return st
}

// listen keeps a notification stream open on n until ctx ends, and makes
// Loop sync when it announces another node's journal entry. When the
// stream fails, Loop's ticks keep syncing and the stream is opened again
// with a growing delay; an outage is logged once, when it begins, and the
// stream's return once.
func (s *Syncer) listen(ctx context.Context, n Notifier) {
	failures := 0
	outage := false // the current outage has been logged
	for {
		var upAt time.Time
		err := n.Notify(ctx, func(up bool) {
			s.setStreamUp(up)
			log := s.Logger()
			if up {
				upAt = time.Now()
				if outage {
					log.Info("bucket CORS change notifications back: other nodes' writes are read at once")
				} else {
					log.Info("listening for bucket CORS change notifications")
				}
				outage = false
				return
			}
			if !outage {
				log.Warn("bucket CORS change notification stream dropped; other nodes' writes are read at each sync_interval until it is back")
				outage = true
			}
		}, s.notified)
		s.setStreamUp(false)
		if ctx.Err() != nil {
			return
		}
		if !upAt.IsZero() && time.Since(upAt) >= notifyHealthy {
			failures = 0
		}
		failures++
		delay := s.notifyBackoff(failures)
		switch {
		case outage:
			s.Logger().Debug("bucket CORS change notifications still down",
				zap.Duration("retry_in", delay), zap.Error(err))
		case errors.Is(err, ErrNotificationsRefused):
			s.Logger().Info("bucket CORS change notifications not available; other nodes' writes are read at each sync_interval",
				zap.Duration("retry_in", delay), zap.Error(err))
		default:
			s.Logger().Warn("bucket CORS change notifications down; other nodes' writes are read at each sync_interval until they are back",
				zap.Duration("retry_in", delay), zap.Error(err))
		}
		outage = true
		t := time.NewTimer(jitter(delay))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// notifyBackoff returns the delay before attempt number n (from 1) to open
// the stream again.
func (s *Syncer) notifyBackoff(n int) time.Duration {
	d, limit := notifyRetryMin, notifyRetryMax
	if s.opts.notifyRetryMax > 0 {
		limit = s.opts.notifyRetryMax
	}
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// setStreamUp records whether the stream is established, and tells
// OnStream when that changed.
func (s *Syncer) setStreamUp(up bool) {
	if s.streamUp.Swap(up) != up && s.opts.OnStream != nil {
		s.opts.OnStream(up)
	}
}

// notified is told the name of a journal entry just written: unless this
// node wrote it, Loop syncs as soon as it can. Entries announced while a
// sync runs make one more sync after it, however many they are. An own
// entry announced before its write returned is not known as own yet: it
// costs one sync that reads nothing new, or the bucket back.
func (s *Syncer) notified(name string) {
	if _, _, ok := parseJournalName(name); !ok {
		return
	}
	s.mu.Lock()
	_, own := s.seen[name]
	s.mu.Unlock()
	if own {
		return
	}
	s.notifications.Add(1)
	select {
	case s.kick <- struct{}{}:
	default: // a sync is already due
	}
}
