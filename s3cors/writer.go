package s3cors

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
)

// ResponseWriter decorates an actual response as it goes out: when the
// final status is written (by WriteHeader, the first Write, ReadFrom or
// Flush) it applies Decision.Decorate to the headers. Nothing is
// buffered: bodies stream to the underlying writer, and Flush, ReadFrom,
// Hijack and http.ResponseController (through Unwrap) reach it.
type ResponseWriter struct {
	http.ResponseWriter
	decoration  decoration
	keep        bool
	wroteHeader bool
	// headerLen is the number of header names once decorated: a handler
	// that adds trailers with http.TrailerPrefix makes it grow.
	headerLen int
}

// NewResponseWriter returns w decorated with d. keep keeps the store's
// own CORS headers when no rule matched, instead of stripping them.
func NewResponseWriter(w http.ResponseWriter, d Decision, keep bool) *ResponseWriter {
	return &ResponseWriter{ResponseWriter: w, decoration: d.decoration, keep: keep}
}

// AcquireResponseWriter is NewResponseWriter from a pool: the writer must
// be given back with Release once the handler it was passed to has
// returned. net/http forbids using a ResponseWriter after ServeHTTP
// returns, which is what makes reusing it safe; it saves an allocation on
// every actual request.
func AcquireResponseWriter(w http.ResponseWriter, d *Decision, keep bool) *ResponseWriter {
	cw := acquireWriter(w, keep)
	cw.decoration = d.decoration
	return cw
}

// acquireWriter takes a writer from the pool for w; its decoration is
// left for the caller to set.
func acquireWriter(w http.ResponseWriter, keep bool) *ResponseWriter {
	cw := writerPool.Get().(*ResponseWriter)
	cw.ResponseWriter, cw.keep, cw.wroteHeader = w, keep, false
	return cw
}

// Release gives a writer from AcquireResponseWriter back to the pool. It
// must not be used afterwards. Only the response is dropped: the
// decoration holds values of the policy (or the request's Origin line)
// that the next Acquire overwrites, and a pooled writer lives at most two
// garbage collections, so clearing them would only cost write barriers on
// every request.
func (w *ResponseWriter) Release() {
	w.ResponseWriter = nil
	writerPool.Put(w)
}

var writerPool = sync.Pool{New: func() any { return new(ResponseWriter) }}

// WriteHeader decorates the headers before a final status. Informational
// statuses (100 Continue, 103 Early Hints) pass through with none of the
// rule's headers, the final header is still to come, and without the
// store's CORS headers (kept only as the final response keeps them):
// net/http sends the whole header map with a 1xx, and Caddy's
// reverse_proxy puts the store's 1xx headers in it.
func (w *ResponseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		w.ResponseWriter.WriteHeader(code) // let net/http report the superfluous call
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if w.decoration.strips(w.keep) {
			stripCORS(w.ResponseWriter.Header())
		}
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.decorateFinal()
	w.ResponseWriter.WriteHeader(code)
}

// decorateFinal decorates the headers as the final status goes out.
func (w *ResponseWriter) decorateFinal() {
	w.wroteHeader = true
	h := w.ResponseWriter.Header()
	w.decoration.decorate(h, w.keep)
	w.headerLen = len(h)
}

// Write writes the body. Before the first bytes it decorates the headers
// and leaves the implicit 200 status to the underlying writer, which every
// http.ResponseWriter sends on a Write without WriteHeader.
func (w *ResponseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.decorateFinal()
	}
	return w.ResponseWriter.Write(b)
}

// WriteString is Write with the underlying writer's WriteString when it
// has one (net/http's has): a store handler that writes strings through
// io.WriteString then copies no string into a new byte slice, as it would
// not without this wrapper.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	if !w.wroteHeader {
		w.decorateFinal()
	}
	return io.WriteString(w.ResponseWriter, s)
}

// ReadFrom copies from r with the underlying writer's ReadFrom when it has
// one (sendfile for files), after an implicit 200 status.
func (w *ResponseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, r)
}

// Flush sends what is buffered, after an implicit 200 status.
func (w *ResponseWriter) Flush() {
	_ = w.FlushError() // http.Flusher has no way to report it
}

// FlushError is Flush that reports the error, as http.ResponseController
// prefers.
func (w *ResponseWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over, for protocol upgrades.
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *ResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Finish ends a response once its handler has returned. It decorates
// the headers of a response whose handler wrote nothing, so that the
// implicit 200 net/http sends still carries them, and writes no status
// itself. Of a response already written it removes the CORS trailers the
// handler set after the body with http.TrailerPrefix (Caddy's
// reverse_proxy passes the store's trailers on that way), which net/http
// would send when the handler returns; those announced in a Trailer
// header lost their announcement when the headers were decorated.
func (w *ResponseWriter) Finish() {
	if !w.wroteHeader {
		w.decorateFinal()
		return
	}
	// Only a header set that grew can hold new trailers: the usual
	// response costs one length.
	if h := w.ResponseWriter.Header(); len(h) > w.headerLen && w.decoration.strips(w.keep) {
		stripCORSTrailers(h)
	}
}

// WroteHeader reports whether the final status has been written.
func (w *ResponseWriter) WroteHeader() bool { return w.wroteHeader }

// writerOnly hides every method but Write, so io.Copy cannot loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }

// Interface guards
var (
	_ http.Flusher    = (*ResponseWriter)(nil)
	_ http.Hijacker   = (*ResponseWriter)(nil)
	_ io.ReaderFrom   = (*ResponseWriter)(nil)
	_ io.StringWriter = (*ResponseWriter)(nil)
)
