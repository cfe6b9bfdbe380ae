package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
)

// newStandInStore returns a server that plays the object store for tests
// that do not need a real MinIO: every request gets "hello", with MinIO's
// permissive CORS headers (any Origin echoed with credentials, Vary: Origin
// and Vary: Accept-Encoding as separate lines).
func newStandInStore() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if o := r.Header.Get("Origin"); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Add("Vary", "Origin")
		h.Add("Vary", "Accept-Encoding")
		h.Set("ETag", `"5d41402abc4b2a76b9719d911017c592"`)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "hello")
		}
	}))
}
