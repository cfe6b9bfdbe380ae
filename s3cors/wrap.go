package s3cors

import (
	"net/http"
	"net/url"
	"strings"
)

// Wrap returns net/http middleware enforcing one bucket's policy p with
// S3's semantics (p nil: a bucket without CORS configuration). Buckets are
// addressed path style: `/<bucket>` is the bucket, `/<bucket>/<key>` an
// object. Preflights are answered here and never reach next; actual
// requests go to next, whose CORS headers are replaced by the matched
// rule's.
//
// A request whose path names no bucket (`/`), or a bucket the store might
// read differently (see SplitURL), is not attributed to the bucket: its
// preflight is refused as S3 refuses one to a bucket that does not exist,
// and its actual response goes out without any CORS header of next's.
func Wrap(p *Policy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, object := SplitURL(r.URL)
		if bucket == "" {
			p, object = unattributed, false
		}
		if r.Method == http.MethodOptions {
			d := Decision{Kind: Preflight, Rule: -1}
			p.evaluatePreflight(&d, r, object)
			d.WritePreflight(w)
			return
		}
		cw := acquireWriter(w, false)
		p.matchActual(&cw.decoration, r) // straight into the pooled writer
		next.ServeHTTP(cw, r)
		cw.Finish()
		cw.Release()
	})
}

// unattributed is the policy of requests that name no bucket the store
// surely reads the same way.
var unattributed = MissingBucket()

// SplitPath reads a path-style S3 path: the bucket is the first segment,
// and object reports whether a key follows it. It gives "" when the path
// names no bucket (`/`), and also when a store could read it as another
// bucket: an empty first segment (`//photos/k`: some stores merge the
// slashes) or a `.` or `..` segment anywhere (`/photos/../private/k`:
// some stores resolve it, MinIO refuses it). Object is false with "".
func SplitPath(path string) (bucket string, object bool) {
	path = strings.TrimPrefix(path, "/")
	bucket = path
	if i := strings.IndexByte(path, '/'); i >= 0 {
		bucket, object = path[:i], i+1 < len(path)
	}
	if bucket == "" || hasDotSegment(path) {
		return "", false
	}
	return bucket, object
}

// SplitURL is SplitPath on a request's URL. It also gives "" when the
// bucket is percent-encoded in the path as sent (`/photos%2Fk`,
// `/ph%6Ftos/k`): stores that route on the encoded path (MinIO) and
// those that decode first can see different buckets.
func SplitURL(u *url.URL) (bucket string, object bool) {
	bucket, object = SplitPath(u.Path)
	if bucket == "" || u.RawPath == "" {
		return bucket, object
	}
	// RawPath is set only when the path was sent encoded otherwise than
	// Go would encode it: compare the bucket as sent with the decoded one.
	raw := strings.TrimPrefix(u.RawPath, "/")
	if rawBucket, _, _ := strings.Cut(raw, "/"); rawBucket != bucket {
		return "", false
	}
	return bucket, object
}

// hasDotSegment reports whether path has a segment that is `.` or `..`
// once white space around it is trimmed, with `/` or `\` as separators:
// the segments MinIO refuses (its hasBadPathComponent) and that stores
// cleaning paths resolve. Only segments holding a `.` are looked at, and
// not even those when the dot has a neighbour that no such segment holds
// (the dot of `cat.jpg`), which is the usual case.
func hasDotSegment(path string) bool {
	for i := 0; i < len(path); {
		j := strings.IndexByte(path[i:], '.')
		if j < 0 {
			return false
		}
		i += j
		if (i > 0 && !inDotSegment(path[i-1])) || (i+1 < len(path) && !inDotSegment(path[i+1])) {
			i++
			continue
		}
		start, end := i, i
		for start > 0 && !isPathSeparator(path[start-1]) {
			start--
		}
		for end < len(path) && !isPathSeparator(path[end]) {
			end++
		}
		if seg := trimSpaceBytes(path[start:end]); seg == "." || seg == ".." {
			return true
		}
		i = end
	}
	return false
}

// inDotSegment reports whether c may stand next to a dot of a dot segment:
// another dot, white space, or the separator that ends the segment.
func inDotSegment(c byte) bool { return c == '.' || isPathSeparator(c) || isSpaceByte(c) }

func isPathSeparator(c byte) bool { return c == '/' || c == '\\' }

// trimSpaceBytes trims the bytes that unicode.IsSpace reports as space
// when read one by one, as MinIO reads path segments.
func trimSpaceBytes(s string) string {
	for len(s) > 0 && isSpaceByte(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpaceByte(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpaceByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xA0:
		return true
	}
	return false
}
