package s3cors

import (
	"net/http"
	"strings"
)

// The response header names, in Go's canonical form.
const (
	hdrAllowOrigin      = "Access-Control-Allow-Origin"
	hdrAllowCredentials = "Access-Control-Allow-Credentials"
	hdrAllowMethods     = "Access-Control-Allow-Methods"
	hdrAllowHeaders     = "Access-Control-Allow-Headers"
	hdrExposeHeaders    = "Access-Control-Expose-Headers"
	hdrMaxAge           = "Access-Control-Max-Age"
	hdrVary             = "Vary"
	hdrTrailer          = "Trailer"
)

// WritePreflight answers a preflight: 200 with an empty body and the
// matched rule's headers, or the S3 error document of a refusal. It does
// nothing for an actual request.
func (d *Decision) WritePreflight(w http.ResponseWriter) {
	if d.Kind != Preflight {
		return
	}
	if d.Error != nil {
		d.Error.WriteTo(w)
		return
	}
	h := w.Header()
	d.addCORS(h, false)
	h["Content-Length"] = zeroValue
	w.WriteHeader(http.StatusOK)
}

// Decorate prepares the final headers of an actual response: unless keep
// is set it removes every Access-Control-* header the store sent and the
// Origin and Access-Control-Request-* tokens of its Vary (other tokens
// stay); then, when a rule matched, it adds the rule's headers, which
// replace the store's whole CORS set even when keep is set.
func (d *Decision) Decorate(h http.Header, keep bool) { d.decoration.decorate(h, keep) }

func (d *decoration) decorate(h http.Header, keep bool) {
	vary := true // the store may have sent a Vary: look
	if d.strips(keep) {
		vary = stripCORS(h)
	}
	if d.rule != nil {
		d.addCORS(h, vary)
	}
}

// strips reports whether the store's CORS headers go, from the final
// header, a 1xx's and the trailers alike: always, unless keep is set and
// no rule matched.
func (d *decoration) strips(keep bool) bool { return !keep || d.rule != nil }

// addCORS sets the matched rule's headers, as S3 answers them (the
// conformance cases record them; S3's guide:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html), on a
// header set without CORS headers. Every value is a shared slice, so this
// allocates nothing unless mergeVary is set and the store's Vary carries
// tokens of its own, which are kept after S3's.
func (d *decoration) addCORS(h http.Header, mergeVary bool) {
	r := d.rule
	h[hdrAllowOrigin] = d.acao
	if d.acao[0] != "*" {
		h[hdrAllowCredentials] = trueValue
	}
	h[hdrAllowMethods] = r.acam
	if d.acah != nil {
		h[hdrAllowHeaders] = d.acah
	}
	if r.aceh != nil {
		h[hdrExposeHeaders] = r.aceh
	}
	if r.acma != nil {
		h[hdrMaxAge] = r.acma
	}
	if mergeVary {
		if other := h[hdrVary]; len(other) > 0 {
			// S3's own value first, then the store's remaining lines.
			merged := make([]string, 0, len(other)+1)
			h[hdrVary] = append(append(merged, varyValueFirstLine), other...)
			return
		}
	}
	h[hdrVary] = varyValue
}

// StripCORS removes from h every Access-Control-* header and the Vary
// tokens Origin, Access-Control-Request-Headers and
// Access-Control-Request-Method, keeping every other Vary token, and the
// Access-Control-* and Vary names of a Trailer header, which would
// announce them as trailers. Header names are matched case-insensitively,
// even when set outside http.Header's canonical form.
func StripCORS(h http.Header) { stripCORS(h) }

// stripCORS is StripCORS that reports whether a Vary line is left, so
// that adding S3's Vary needs no second look.
func stripCORS(h http.Header) (varyLeft bool) {
	// One pass over the map: ranging over a map has a fixed cost (a
	// random start) that is a good part of the whole on small header
	// sets. Deleting and replacing existing keys while ranging is safe.
	for name, lines := range h {
		switch {
		case isACHeader(name):
			delete(h, name)
		case len(name) == len(hdrVary) && strings.EqualFold(name, hdrVary):
			if filterTokens(h, name, lines, isCORSVaryToken) {
				varyLeft = true
			}
		case len(name) == len(hdrTrailer) && strings.EqualFold(name, hdrTrailer):
			// Names a Trailer header announces are sent as trailers
			// when the handler returns.
			filterTokens(h, name, lines, isCORSHeaderName)
		}
	}
	return varyLeft
}

// isCORSHeaderName reports whether name is one of the headers the
// decoration owns: an Access-Control-* header or Vary.
func isCORSHeaderName(name string) bool {
	return isACHeader(name) || strings.EqualFold(name, hdrVary)
}

// isACHeader reports whether name starts with Access-Control-, in any case.
func isACHeader(name string) bool {
	return len(name) >= len(acPrefix) && strings.EqualFold(name[:len(acPrefix)], acPrefix)
}

// stripCORSTrailers removes the CORS headers that a handler set as
// trailers, under http.TrailerPrefix, after the response's headers went
// out.
func stripCORSTrailers(h http.Header) {
	for name := range h {
		if rest, ok := strings.CutPrefix(name, http.TrailerPrefix); ok && isCORSHeaderName(rest) {
			delete(h, name)
		}
	}
}

// acPrefix starts the name of every CORS response header.
const acPrefix = "Access-Control-"

// filterTokens removes from the comma-separated lines h[name] (Vary,
// Trailer) the tokens drop reports, and the lines left empty. A line
// without such tokens is kept as it is, and lines without any are not
// copied. It reports whether a line is left under name.
func filterTokens(h http.Header, name string, lines []string, drop func(string) bool) bool {
	first := -1
	for i, line := range lines {
		if hasToken(line, drop) {
			first = i
			break
		}
	}
	if first < 0 {
		return len(lines) > 0 // nothing to remove: no copy
	}
	kept := make([]string, first, len(lines))
	copy(kept, lines[:first])
	for _, line := range lines[first:] {
		if !hasToken(line, drop) {
			kept = append(kept, line)
		} else if rest := removeTokens(line, drop); rest != "" {
			kept = append(kept, rest)
		}
	}
	if len(kept) == 0 {
		delete(h, name)
		return false
	}
	h[name] = kept
	return true
}

// isCORSVaryToken reports whether a Vary token is one of S3's own.
func isCORSVaryToken(t string) bool {
	return strings.EqualFold(t, "Origin") ||
		strings.EqualFold(t, "Access-Control-Request-Headers") ||
		strings.EqualFold(t, "Access-Control-Request-Method")
}

func hasToken(line string, drop func(string) bool) bool {
	for tok := range strings.SplitSeq(line, ",") {
		if drop(strings.Trim(tok, " \t")) {
			return true
		}
	}
	return false
}

func removeTokens(line string, drop func(string) bool) string {
	var kept []string
	for tok := range strings.SplitSeq(line, ",") {
		tok = strings.Trim(tok, " \t")
		if tok != "" && !drop(tok) {
			kept = append(kept, tok)
		}
	}
	return strings.Join(kept, ", ")
}
