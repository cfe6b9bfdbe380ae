package caddys3cors

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// staticSets gathers the static configurations and defaults of the
// handlers and matchers provisioned with one app, so that the admin API
// (its page, the sources and explain routes) sees a bucket as a handler
// does. It lives and dies with the app, that is with the config load.
type staticSets struct {
	mu   sync.Mutex
	sets []api.StaticSet
	keys []string // sort keys of sets, see setKey
}

// add records the set of a Source, unless an equal one is recorded (a
// matcher beside its handler usually repeats the handler's settings).
// A Source without static configurations or default adds nothing.
func (s *staticSets) add(src *Source) {
	set := api.StaticSet{Buckets: make(map[string]*s3cors.Configuration, len(src.static))}
	for bucket, e := range src.static {
		set.Buckets[bucket] = e.policy.Configuration()
	}
	if src.def != nil {
		set.Default = src.def.Configuration()
	}
	if len(set.Buckets) == 0 && set.Default == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.sets {
		if equalSets(have, set) {
			return
		}
	}
	// Caddy provisions servers in map order: sort, so that "handler i"
	// names the same settings on every load.
	key := setKey(set)
	i, _ := slices.BinarySearch(s.keys, key)
	s.keys = slices.Insert(s.keys, i, key)
	s.sets = slices.Insert(s.sets, i, set)
}

// setKey orders sets: by their sorted bucket names, then their default.
func setKey(set api.StaticSet) string {
	var b strings.Builder
	for _, bucket := range slices.Sorted(maps.Keys(set.Buckets)) {
		b.WriteString(bucket)
		b.WriteByte(0)
	}
	b.WriteByte(1)
	if set.Default != nil {
		b.Write(set.Default.XML())
	}
	return b.String()
}

// equalSets reports whether two sets hold the same configurations.
func equalSets(a, b api.StaticSet) bool {
	if !a.Default.Equal(b.Default) || len(a.Buckets) != len(b.Buckets) {
		return false
	}
	for bucket, cfg := range a.Buckets {
		if other, ok := b.Buckets[bucket]; !ok || !cfg.Equal(other) {
			return false
		}
	}
	return true
}

// StaticSets implements api.StaticConfigs: the distinct sets of the app's
// handlers and matchers, ordered by their bucket names, then default.
func (a *App) StaticSets() []api.StaticSet {
	a.statics.mu.Lock()
	defer a.statics.mu.Unlock()
	return append([]api.StaticSet(nil), a.statics.sets...)
}

// Interface guard
var _ api.StaticConfigs = (*App)(nil)
