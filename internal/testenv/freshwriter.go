package testenv

import "net/http"

// FreshWriter is a response writer as net/http's server makes one per
// request, for benchmarks that must count every allocation a handler makes
// per request: a header map of its own, and WriteString as net/http's has,
// so that a store writing a string allocates no byte slice unless a
// middleware's wrapper hides that method. It discards the body and keeps
// the status.
type FreshWriter struct {
	header http.Header
	// Status is the status written, 200 once a body is written without
	// one, 0 before either.
	Status int
}

// NewFreshWriter returns a FreshWriter with an empty header map.
func NewFreshWriter() *FreshWriter { return &FreshWriter{header: make(http.Header)} }

// Header returns the response header map.
func (w *FreshWriter) Header() http.Header { return w.header }

// Write discards b, as a client that reads nothing would.
func (w *FreshWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return len(b), nil
}

// WriteString discards s without converting it.
func (w *FreshWriter) WriteString(s string) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return len(s), nil
}

// WriteHeader keeps the first status.
func (w *FreshWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
}
