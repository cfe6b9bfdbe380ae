package api

import (
	"embed"
	"net/http"
	"strconv"
)

// The operator page: one HTML document, its stylesheet and its script,
// embedded so that the binary serves them with no build step, no CDN and
// no framework.
const (
	// PagePath is the page itself: GET /s3_cors/.
	PagePath = AdminPrefix
	// pageCSSPath and pageJSPath are its stylesheet and script.
	pageCSSPath = AdminPrefix + "page.css"
	pageJSPath  = AdminPrefix + "page.js"
)

// PageTokenHeader carries the secret of `caddy s3-cors page` on each of
// the page's requests, which the page takes from the fragment of the URL
// the command printed (`#token=...`) and keeps in its tab's session
// storage. The command checks it and removes it before forwarding; the
// admin API ignores it.
const PageTokenHeader = "S3cors-Page-Token"

//go:embed page/index.html page/page.css page/page.js
var pageFiles embed.FS

// pageSecurityPolicy lets the page load only its own stylesheet and script
// and talk only to the admin listener it came from: no inline script, so
// a value that escaped the page's text-only rendering still could not run;
// no framing, so no other site can trick a click on Delete.
const pageSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// servePage answers GET for the page and its two assets; ok is false for
// any other path.
func (a *Admin) servePage(w http.ResponseWriter, r *http.Request) (ok bool) {
	name, contentType, ok := pageFile(r.URL.Path)
	if !ok {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "SERVICE", http.MethodGet, http.MethodHead)
		return true
	}
	body, err := pageFiles.ReadFile(name)
	if err != nil { // embedded at build time: cannot happen short of a broken build
		writeError(w, r, a.LogError, err)
		return true
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Content-Security-Policy", pageSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // the admin API takes a same-origin Referer as the Origin
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body) // the client went away; no one is left to tell
	}
	return true
}

// pageFile names the embedded file served at path, and its content type.
func pageFile(path string) (name, contentType string, ok bool) {
	switch path {
	case PagePath:
		return "page/index.html", "text/html; charset=utf-8", true
	case pageCSSPath:
		return "page/page.css", "text/css; charset=utf-8", true
	case pageJSPath:
		return "page/page.js", "text/javascript; charset=utf-8", true
	}
	return "", "", false
}

// IsPageFile reports whether r loads the page or one of its two files
// (GET or HEAD): what `caddy s3-cors page` serves without its secret.
func IsPageFile(r *http.Request) bool {
	_, _, ok := pageFile(r.URL.Path)
	return ok && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}
