package store

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Config is one stored configuration as a node keeps it: its bytes in
// compact form, parsed and compiled on first use (a node that loads
// 100,000 configurations at start parses none of them then). Buckets whose
// stored bytes are equal share one Config, hence one compiled policy. A
// Config is safe for concurrent use.
type Config struct {
	compact  string
	compiled atomic.Pointer[compiled]
	mu       sync.Mutex  // serializes the first compilation
	reported atomic.Bool // see FirstReport
}

// FirstReport reports true once, to the first caller: whoever finds that
// the Config does not parse logs it then, and not on every request.
func (c *Config) FirstReport() bool { return c.reported.CompareAndSwap(false, true) }

// compiled is the outcome of parsing and compiling a Config.
type compiled struct {
	policy *s3cors.Policy
	err    error
}

// Policy returns the compiled policy, parsing and compiling the stored
// bytes on the first call. A stored value that does not parse gives its
// error, on every call.
func (c *Config) Policy() (*s3cors.Policy, error) {
	if r := c.compiled.Load(); r != nil {
		return r.policy, r.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.compiled.Load(); r != nil {
		return r.policy, r.err
	}
	cfg, err := s3cors.ParseXML(expand(c.compact))
	r := &compiled{err: err}
	if err == nil {
		r.policy = s3cors.Compile(cfg)
	}
	c.compiled.Store(r)
	return r.policy, r.err
}

// Stored returns the bytes the Config was made from.
func (c *Config) Stored() []byte { return expand(c.compact) }

// interner hands out one Config per distinct stored content. It holds its
// Configs weakly: a Config no bucket uses any more is collected, and its
// entry removed.
type interner struct {
	mu sync.Mutex
	m  map[string]weak.Pointer[Config]
}

// get returns the Config of the stored bytes xml; policy, when not nil, is
// their compiled form, already at hand (a node's own write, a key parsed
// by a sync).
func (in *interner) get(xml []byte, policy *s3cors.Policy) *Config {
	key := compact(xml)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.m == nil {
		in.m = make(map[string]weak.Pointer[Config])
	}
	if wp, ok := in.m[key]; ok {
		if c := wp.Value(); c != nil {
			if policy != nil && c.compiled.Load() == nil {
				c.compiled.CompareAndSwap(nil, &compiled{policy: policy})
			}
			return c
		}
	}
	c := &Config{compact: key}
	if policy != nil {
		c.compiled.Store(&compiled{policy: policy})
	}
	in.m[key] = weak.Make(c)
	runtime.AddCleanup(c, in.forget, key)
	return c
}

// forget removes the entry of a collected Config, unless a new Config took
// its place meanwhile.
func (in *interner) forget(key string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if wp, ok := in.m[key]; ok && wp.Value() == nil {
		delete(in.m, key)
	}
}
