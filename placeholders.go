package caddys3cors

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// The placeholders the handler sets, documented on Handler. Their values
// are boxed ahead of the request, so that setting them costs no more than
// one closure.

// Placeholder names.
const (
	placeholderBucket = "http.s3_cors.bucket"
	placeholderResult = "http.s3_cors.result"
	placeholderRule   = "http.s3_cors.rule"
)

// setPlaceholders records the decision in the replacer. Every value is
// boxed in advance (or is a pointer), so this allocates only the one
// closure that serves them.
//
// The first s3_cors of a request adds a provider (repl.Map) instead of
// three repl.Set calls: Set's first entry allocates the replacer's map,
// about 300 bytes and a good part of the handler's cost on the request
// path. A later s3_cors on the same request (in handle_errors, say) finds
// the placeholders answered and uses Set, whose static values Caddy's
// replacer consults before any provider: the latest decision still wins.
func setPlaceholders(repl *caddy.Replacer, bucket bucketName, p *s3cors.Policy, d *s3cors.Decision) {
	if repl == nil {
		return
	}
	var result any
	if int(d.Result) < len(resultValues) {
		result = resultValues[d.Result]
	} else {
		result = d.Result.String()
	}
	rule := ruleValue(p, d.Rule)
	if _, again := repl.Get(placeholderBucket); again {
		repl.Set(placeholderBucket, bucket.boxed)
		repl.Set(placeholderResult, result)
		repl.Set(placeholderRule, rule)
		return
	}
	repl.Map(func(key string) (any, bool) {
		switch key {
		case placeholderBucket:
			return bucket.boxed, true
		case placeholderResult:
			return result, true
		case placeholderRule:
			return rule, true
		}
		return nil, false
	})
}

// resultValues are the Result names, boxed once.
var resultValues = func() []any {
	v := make([]any, 0, 5)
	for r := s3cors.Allowed; r <= s3cors.BadRequest; r++ {
		v = append(v, r.String())
	}
	return v
}()

// ruleIndexValues are the rule indexes, boxed once.
var ruleIndexValues = func() []any {
	v := make([]any, s3cors.MaxRules)
	for i := range v {
		v[i] = strconv.Itoa(i)
	}
	return v
}()

// ruleID is a rule's ID as a placeholder value: a pointer into the
// policy's configuration, so boxing it allocates nothing.
type ruleID string

// String returns the ID.
func (id *ruleID) String() string { return string(*id) }

// ruleValue is the {http.s3_cors.rule} value of the rule at index i.
func ruleValue(p *s3cors.Policy, i int) any {
	if i < 0 || p == nil {
		return ""
	}
	rules := p.Configuration().Rules
	if i < len(rules) && rules[i].ID != nil && *rules[i].ID != "" {
		return (*ruleID)(rules[i].ID)
	}
	if i < len(ruleIndexValues) {
		return ruleIndexValues[i]
	}
	return strconv.Itoa(i)
}

// bucketName is a bucket's name as the {http.s3_cors.bucket} placeholder
// value: the name boxed in an interface once, when a configured bucket is
// loaded, so that handing it to the replacer on every request allocates
// nothing. The zero value is no bucket.
type bucketName struct {
	boxed any // a string, or nil for no bucket
}

// String returns the name, "" for no bucket.
func (n bucketName) String() string {
	s, _ := n.boxed.(string)
	return s
}
