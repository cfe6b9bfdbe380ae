package s3cors

import (
	"strconv"
	"strings"
)

// Policy is a compiled Configuration: every response header value is
// precomputed, patterns are split at their wildcard, header patterns are
// lower-cased, and exact origins are indexed so that finding the first
// matching rule does not scan every rule. A Policy is immutable and safe for
// concurrent use; a nil *Policy is a bucket without CORS configuration.
type Policy struct {
	// The fields every request reads come first, to share a cache line.

	// bucketMissing marks the policy of a bucket that does not exist (see
	// MissingBucket): S3 answers its preflights "Bucket not found".
	bucketMissing bool
	// exactOnly: no rule has a `*` in an origin, so the exact-origin index
	// names every rule an origin can match.
	exactOnly bool
	// byOrigin holds, for each exact AllowedOrigin, the ascending indexes
	// of the rules that name it and the origin's precomputed header value;
	// nil when fewOrigins holds them.
	byOrigin map[string]originEntry
	// fewOrigins holds the index's entries when there are at most
	// fewOriginsMax of them: comparing a handful of strings is cheaper
	// than hashing the origin, and the map is not kept.
	fewOrigins []originKey
	rules      []compiledRule
	// patterned lists, ascending, the rules with a `*` in some origin.
	patterned []int32
	config    *Configuration
}

// MissingBucket returns the policy of a bucket that does not exist: a
// preflight gets S3's "CORSResponse: Bucket not found", an actual request
// passes through with no CORS headers. A proxy knows that a bucket is
// missing only when it may ask the store (see docs/api.md, Buckets); it
// uses this policy then, and for requests it attributes to no bucket, and
// the tests check the engine's answer against S3's recorded one.
func MissingBucket() *Policy {
	return &Policy{bucketMissing: true}
}

const fewOriginsMax = 4

type originKey struct {
	origin string
	originEntry
}

// originEntry is one exact origin of the index.
type originEntry struct {
	rules []int32
	// value is the Access-Control-Allow-Origin value echoing the origin,
	// shared so that echoing an exactly matched origin allocates nothing.
	value []string
}

// compiledRule keeps first what every matched request reads (the method
// bits and the precomputed header values), so that they share cache lines.
type compiledRule struct {
	methods uint8
	anyStar bool     // the literal origin `*` is listed: ACAO is `*`
	acam    []string // Access-Control-Allow-Methods
	acma    []string // Access-Control-Max-Age, nil when unset
	aceh    []string // Access-Control-Expose-Headers, nil when none
	index   int
	headers headerSet
	origins []pattern // only the wildcard ones; exact ones live in byOrigin
	id      string
}

// pattern is a value with at most one `*`: prefix, then (if wild) any run of
// characters, the empty run included, then suffix.
type pattern struct {
	prefix, suffix string
	wild           bool
}

func newPattern(v string) pattern {
	if i := strings.IndexByte(v, '*'); i >= 0 {
		return pattern{prefix: v[:i], suffix: v[i+1:], wild: true}
	}
	return pattern{prefix: v}
}

// match compares case-sensitively.
func (p pattern) match(s string) bool {
	if !p.wild {
		return s == p.prefix
	}
	return len(s) >= len(p.prefix)+len(p.suffix) &&
		strings.HasPrefix(s, p.prefix) && strings.HasSuffix(s, p.suffix)
}

// matchFold compares ignoring ASCII case; the pattern is lower case.
func (p pattern) matchFold(s string) bool {
	if !p.wild {
		return equalFoldASCII(s, p.prefix)
	}
	return len(s) >= len(p.prefix)+len(p.suffix) &&
		equalFoldASCII(s[:len(p.prefix)], p.prefix) &&
		equalFoldASCII(s[len(s)-len(p.suffix):], p.suffix)
}

// headerSet is a rule's AllowedHeaders: `*`, exact names (hashed so that a
// long request list costs one lookup an item), and wildcard patterns.
type headerSet struct {
	all      bool
	exact    map[uint64][]string // fold hash → lower-case names
	patterns []pattern
}

func (s *headerSet) allows(item string, hash uint64) bool {
	if s.all {
		return true
	}
	for _, name := range s.exact[hash] {
		if equalFoldASCII(item, name) {
			return true
		}
	}
	for _, p := range s.patterns {
		if p.matchFold(item) {
			return true
		}
	}
	return false
}

// foldHash is FNV-1a over the ASCII lower case of s.
func foldHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Compile turns a valid Configuration into a Policy. The configuration must
// come from ParseXML or ParseJSON; a nil configuration compiles to nil.
func Compile(c *Configuration) *Policy {
	if c == nil {
		return nil
	}
	p := &Policy{config: c, rules: make([]compiledRule, len(c.Rules)), byOrigin: map[string]originEntry{}}
	for i, r := range c.Rules {
		cr := &p.rules[i]
		cr.index = i
		if r.ID != nil {
			cr.id = *r.ID
		}
		for _, m := range r.AllowedMethods {
			cr.methods |= methodBit(m)
		}
		patterned := false
		for _, o := range r.AllowedOrigins {
			switch {
			case o == "*":
				cr.anyStar = true
				patterned = true
			case strings.Contains(o, "*"):
				cr.origins = append(cr.origins, newPattern(o))
				patterned = true
			default:
				e := p.byOrigin[o]
				if e.value == nil {
					e.value = []string{o}
				}
				if len(e.rules) == 0 || e.rules[len(e.rules)-1] != int32(i) {
					e.rules = append(e.rules, int32(i))
				}
				p.byOrigin[o] = e
			}
		}
		if patterned {
			p.patterned = append(p.patterned, int32(i))
		}
		p.compileHeaders(cr, r)
		cr.acam = []string{strings.Join(r.AllowedMethods, ", ")}
		if len(r.ExposeHeaders) > 0 {
			cr.aceh = []string{strings.Join(r.ExposeHeaders, ", ")}
		}
		if r.MaxAgeSeconds != nil {
			cr.acma = []string{strconv.Itoa(*r.MaxAgeSeconds)}
		}
	}
	p.exactOnly = len(p.patterned) == 0
	if len(p.byOrigin) <= fewOriginsMax {
		for o, e := range p.byOrigin {
			p.fewOrigins = append(p.fewOrigins, originKey{o, e})
		}
		p.byOrigin = nil
	}
	return p
}

// lookupOrigin finds an exact origin's index entry.
func (p *Policy) lookupOrigin(origin string) originEntry {
	if p.byOrigin == nil {
		for i := range p.fewOrigins {
			if p.fewOrigins[i].origin == origin {
				return p.fewOrigins[i].originEntry
			}
		}
		return originEntry{}
	}
	return p.byOrigin[origin]
}

// compileHeaders compiles a rule's AllowedHeaders.
func (p *Policy) compileHeaders(cr *compiledRule, r Rule) {
	for _, h := range r.AllowedHeaders {
		lower := lowerASCII(h)
		switch {
		case h == "*":
			cr.headers.all = true
		case strings.Contains(h, "*"):
			cr.headers.patterns = append(cr.headers.patterns, newPattern(lower))
		default:
			if cr.headers.exact == nil {
				cr.headers.exact = map[uint64][]string{}
			}
			hash := foldHash(lower)
			cr.headers.exact[hash] = append(cr.headers.exact[hash], lower)
		}
	}
}

// Configuration returns the configuration the policy was compiled from.
func (p *Policy) Configuration() *Configuration {
	if p == nil {
		return nil
	}
	return p.config
}

// wildOriginMatches reports whether rule r admits origin through a wildcard
// (exact origins are found through the index).
func (r *compiledRule) wildOriginMatches(origin string) bool {
	if r.anyStar {
		return true
	}
	for _, p := range r.origins {
		if p.match(origin) {
			return true
		}
	}
	return false
}

// firstMatch returns the first rule, in document order, that admits the
// origin, the method bit and every requested header, and whether it
// admitted the origin exactly; nil when none does. It walks the
// exact-origin list and the wildcard list together, in ascending order, so
// it looks only at rules that can admit the origin.
func (p *Policy) firstMatch(origin string, method uint8, req *requestHeaders) (*compiledRule, []string) {
	entry := p.lookupOrigin(origin)
	if p.exactOnly { // the index has every candidate
		for _, i := range entry.rules {
			if r := &p.rules[i]; r.methods&method != 0 && req.allowedBy(&r.headers) {
				return r, entry.value
			}
		}
		return nil, nil
	}
	exact := entry.rules
	wild := p.patterned
	for len(exact) > 0 || len(wild) > 0 {
		var i int32
		exactHit := false
		switch {
		case len(wild) == 0 || (len(exact) > 0 && exact[0] < wild[0]):
			i, exact, exactHit = exact[0], exact[1:], true
		case len(exact) == 0 || wild[0] < exact[0]:
			i, wild = wild[0], wild[1:]
			if !p.rules[i].wildOriginMatches(origin) {
				continue
			}
		default: // the same rule in both lists: its exact origin matched
			i, exact, wild, exactHit = exact[0], exact[1:], wild[1:], true
		}
		r := &p.rules[i]
		if r.methods&method != 0 && req.allowedBy(&r.headers) {
			if exactHit {
				return r, entry.value
			}
			return r, nil
		}
	}
	return nil, nil
}

// lowerASCII lower-cases the ASCII letters of s and leaves every other
// byte as it is, so that a pattern compiles to what equalFoldASCII and the
// request side compare with: strings.ToLower would turn the Kelvin sign
// into "k" and an invalid UTF-8 byte into U+FFFD.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalFoldASCII compares two strings ignoring ASCII case only: header
// names are ASCII tokens, and Unicode folding (the Kelvin sign equals "k"
// for strings.EqualFold) must not admit anything else.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
