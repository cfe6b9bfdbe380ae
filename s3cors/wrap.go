package s3cors

import (
	"net/http"
	"strings"
)

// Wrap returns net/http middleware enforcing one bucket's policy p with
// S3's semantics (p nil: a bucket without CORS configuration). Buckets are
// addressed path style: `/<bucket>` is the bucket, `/<bucket>/<key>` an
// object. Requests that address no bucket (`/`) pass through untouched.
// Preflights are answered here and never reach next; actual requests go to
// next, whose CORS headers are replaced by the matched rule's.
func Wrap(p *Policy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, object := SplitPath(r.URL.Path)
		if bucket == "" {
			next.ServeHTTP(w, r)
			return
		}
		d := p.Evaluate(r, object)
		if d.Kind == Preflight {
			d.WritePreflight(w)
			return
		}
		cw := NewResponseWriter(w, d, false)
		next.ServeHTTP(cw, r)
		cw.Finish()
	})
}

// SplitPath reads a path-style S3 path: the bucket is the first segment,
// and object reports whether a key follows it. A path with no bucket
// gives "".
func SplitPath(path string) (bucket string, object bool) {
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	return bucket, key != ""
}
