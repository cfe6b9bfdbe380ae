package store

import (
	"sync"
	"sync/atomic"

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
	refs     int         // buckets using it, guarded by the Syncer's mu
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
	cfg, err := s3cors.ParseStoredXML(expand(c.compact))
	r := &compiled{err: err}
	if err == nil {
		r.policy = s3cors.Compile(cfg)
	}
	c.compiled.Store(r)
	return r.policy, r.err
}

// Stored returns the bytes the Config was made from.
func (c *Config) Stored() []byte { return expand(c.compact) }

// interner hands out one Config per distinct stored content, and forgets
// a Config once no bucket uses it. It is guarded by the Syncer's mu; the
// Syncer counts the uses (Config.refs) as it changes a bucket's state.
type interner struct {
	m map[string]*Config
}

// get returns the Config of a compact form; policy, when not nil, is its
// compiled form, already at hand (a node's own write, a key parsed by a
// sync).
func (in *interner) get(compactForm string, policy *s3cors.Policy) *Config {
	if in.m == nil {
		in.m = make(map[string]*Config)
	}
	c, ok := in.m[compactForm]
	if !ok {
		c = &Config{compact: compactForm}
		in.m[compactForm] = c
	}
	if policy != nil && c.compiled.Load() == nil {
		c.compiled.CompareAndSwap(nil, &compiled{policy: policy})
	}
	return c
}

// use counts one more bucket using c.
func (in *interner) use(c *Config) { c.refs++ }

// release counts one bucket less using c, and forgets c with the last.
func (in *interner) release(c *Config) {
	if c.refs--; c.refs <= 0 {
		delete(in.m, c.compact)
	}
}
