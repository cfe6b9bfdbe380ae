package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// queryPair is one decoded query parameter, in the order it was sent.
type queryPair struct {
	key, value string
}

// parseQuery splits a raw query into decoded pairs. A parameter without
// "=" has the empty value (so "?cors" is cors=""); empty pieces ("a&&b")
// are skipped; a piece with an invalid escape is kept as sent.
func parseQuery(raw string) []queryPair {
	if raw == "" {
		return nil
	}
	pairs := make([]queryPair, 0, strings.Count(raw, "&")+1)
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, queryPair{k, v})
	}
	return pairs
}

// lookup returns the first value of key and whether it is present.
func lookup(pairs []queryPair, key string) (string, bool) {
	for _, p := range pairs {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// canonicalQuery is SigV4's canonical query string: every parameter
// URI-encoded, sorted by key then value, joined with "&"; a parameter
// without a value is "key=". The parameter named skip (X-Amz-Signature for
// presigned requests) is left out.
func canonicalQuery(pairs []queryPair, skip string) string {
	enc := make([]queryPair, 0, len(pairs))
	for _, p := range pairs {
		if skip != "" && p.key == skip {
			continue
		}
		enc = append(enc, queryPair{uriEncode(p.key, true), uriEncode(p.value, true)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// rawPath is the request path exactly as the client sent it, still
// percent-encoded.
func rawPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	if r.URL == nil {
		return "/"
	}
	return r.URL.EscapedPath()
}

// canonicalURIs returns the canonical URI S3 computes for a raw path, each
// segment decoded once and URI-encoded (never double-encoded, an encoded
// "/" inside a segment stays %2F), followed by the raw path itself when it
// differs, for clients that sign the path exactly as they send it with
// characters such as "!" or "(" left unencoded.
func canonicalURIs(raw string) []string {
	if raw == "" {
		raw = "/"
	}
	segments := strings.Split(raw, "/")
	for i, seg := range segments {
		if dec, err := url.PathUnescape(seg); err == nil {
			segments[i] = uriEncode(dec, true)
		}
	}
	normal := strings.Join(segments, "/")
	if normal == raw {
		return []string{normal}
	}
	return []string{normal, raw}
}

// uriEncode percent-encodes every byte of s except the unreserved
// characters A-Z a-z 0-9 - _ . ~, with upper-case hex digits, as SigV4
// requires; "/" is kept unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && (encodeSlash || s[i] != '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (!encodeSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// headerValues returns the values of the named (lower-case) header as the
// client sent them, including the ones net/http moves out of r.Header.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		if r.URL != nil && r.URL.Host != "" {
			return []string{r.URL.Host}
		}
		return nil
	case "content-length":
		if v := r.Header["Content-Length"]; len(v) > 0 {
			return v
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return r.TransferEncoding
		}
	}
	if v := r.Header[http.CanonicalHeaderKey(name)]; len(v) > 0 {
		return v
	}
	// Names that are not valid tokens are stored as sent.
	for k, v := range r.Header {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// canonicalHeaders writes "name:value\n" for every signed header: values
// trimmed, runs of spaces collapsed, several lines joined with ",".
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range headerValues(r, strings.ToLower(name)) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(collapseSpaces(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// collapseSpaces trims leading and trailing white space and turns every
// run of spaces inside into one space.
func collapseSpaces(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

// canonicalRequest joins the parts of SigV4's canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash
}

// stringToSign is the string a request signature signs.
func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives SigV4's kSigning from the secret and the scope.
func signingKey(secret, date, region string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminal)
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// sign returns the hex signature of a string to sign.
func sign(key []byte, s string) string {
	return hex.EncodeToString(hmacSHA256(key, s))
}

// equalSignatures compares two signatures in constant time.
func equalSignatures(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}
