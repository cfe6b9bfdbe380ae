package s3cors

import (
	"net/http"
	"strings"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// The checks of this file are S3's for a CORSRule's values
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html); the
// error texts are those S3 answers, recorded in the conformance cases.

// methodBit maps the five methods S3 CORS knows to a bit each; the
// comparison is exact and case-sensitive, as S3's.
func methodBit(m string) uint8 {
	switch m {
	case "GET":
		return 1
	case "PUT":
		return 2
	case "HEAD":
		return 4
	case "POST":
		return 8
	case "DELETE":
		return 16
	}
	return 0
}

func validateMethod(v string) *Error {
	if methodBit(v) == 0 {
		return s3err.InvalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is " + v)
	}
	return nil
}

// validateOrigin refuses more than one wildcard, then a control character
// (CR, LF, tab, DEL, C1) or white space around the value: no browser sends
// such an Origin, and echoing one would put it in a response header. The
// text of the second error is inferred from S3's for AllowedHeader. stored
// skips the second check (see ParseStoredXML).
func validateOrigin(v string, stored bool) *Error {
	if strings.Count(v, "*") > 1 {
		return s3err.InvalidRequest(`AllowedOrigin "` + v + `" can not have more than one wildcard.`)
	}
	if !stored && (hasControl(v) || v != strings.Trim(v, " ")) {
		return s3err.InvalidRequest("AllowedOrigin " + v + " contains invalid character.")
	}
	return nil
}

// hasControl reports whether v holds a control character: C0, DEL or C1.
func hasControl(v string) bool {
	for _, c := range v {
		if c < 0x20 || c >= 0x7F && c <= 0x9F {
			return true
		}
	}
	return false
}

func validateAllowedHeader(v string) *Error {
	if strings.Count(v, "*") > 1 {
		return s3err.InvalidRequest(`AllowedHeader "` + v + `" can not have more than one wildcard.`)
	}
	if !isHeaderPattern(v, true) {
		return s3err.InvalidRequest("AllowedHeader " + v + " contains invalid character.")
	}
	return nil
}

// validateExposeHeader refuses any wildcard, then any character outside
// the HTTP token characters. S3 words the second error "AllowedHeader ..."
// even for an ExposeHeader; the text is kept as S3 sends it.
func validateExposeHeader(v string) *Error {
	if strings.Contains(v, "*") {
		return s3err.InvalidRequest(`ExposeHeader "` + v + `" contains wildcard. We currently do not support wildcard for ExposeHeader.`)
	}
	if !isHeaderPattern(v, false) {
		return s3err.InvalidRequest("AllowedHeader " + v + " contains invalid character.")
	}
	return nil
}

func validateID(v string) *Error {
	if len([]rune(v)) > 255 {
		return &Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: msgIDTooLong}
	}
	return nil
}

// isHeaderPattern reports whether v holds only HTTP token characters (and
// `*` where a wildcard is allowed).
func isHeaderPattern(v string, wildcard bool) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '*' {
			if !wildcard {
				return false
			}
			continue
		}
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
