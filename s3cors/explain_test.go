package s3cors

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	p := mustPolicy(t, `[{"ID":"uploads","AllowedOrigins":["https://app.example.com"],"AllowedMethods":["PUT"],"AllowedHeaders":["content-type"]},{"AllowedOrigins":["https://*.example.org"],"AllowedMethods":["GET"]},`+
		`{"AllowedOrigins":["https://etag.example.net"],"AllowedMethods":["GET"],"ExposeHeaders":["etag"]},{"AllowedOrigins":["https://meta.example.net"],"AllowedMethods":["GET"],"ExposeHeaders":["x-amz-meta-a"]}]`)
	tests := []struct {
		name     string
		method   string
		header   []string
		result   string
		status   int
		contains []string
	}{
		{"denied, reason rule by rule", "OPTIONS", []string{"Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type,x-amz-meta-a"}, "denied", 403,
			[]string{`rule 0 (uploads): no match`, `requested header "x-amz-meta-a" matches none of AllowedHeader ["content-type"]`, `rule 1: no match`, `origin "https://app.example.com" matches none of AllowedOrigin ["https://*.example.org"]`, `method "PUT" is not among AllowedMethod ["GET"]`, "AccessForbidden"}},
		{"allowed with headers", "OPTIONS", []string{"Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "Content-Type"}, "allowed", 200,
			[]string{"rule 0 (uploads): matches", "Access-Control-Allow-Headers: content-type", "Access-Control-Allow-Origin: https://app.example.com"}},
		{"actual allowed by the wildcard rule", "GET", []string{"Origin", "https://cdn.example.org"}, "allowed", 0,
			[]string{"rule 1: matches", "Access-Control-Allow-Origin: https://cdn.example.org",
				"readable by scripts: only the CORS-safelisted response headers", "the rule has no ExposeHeader, so scripts cannot read ETag"}},
		{"actual allowed, ETag exposed", "GET", []string{"Origin", "https://etag.example.net"}, "allowed", 0,
			[]string{"rule 2: matches", "readable by scripts: the CORS-safelisted response headers (Cache-Control, Content-Language, Content-Length, Content-Type, Expires, Last-Modified, Pragma) and the exposed etag\n"}},
		{"actual allowed, ETag not among the exposed", "GET", []string{"Origin", "https://meta.example.net"}, "allowed", 0,
			[]string{"rule 3: matches", "and the exposed x-amz-meta-a; scripts cannot read ETag"}},
		{"no origin", "GET", nil, "no_origin", 0, []string{"no Origin header", "no CORS headers"}},
		{"bad preflight", "OPTIONS", []string{"Origin", "https://a"}, "bad_request", 400, []string{"Invalid Access-Control-Request-Method: null"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/b/k", nil)
			r.Header = hdr(tt.header...)
			e := p.Explain(r, true)
			if e.Result != tt.result || e.Status != tt.status {
				t.Errorf("result %s status %d, want %s %d", e.Result, e.Status, tt.result, tt.status)
			}
			text := e.String()
			for _, want := range tt.contains {
				if !strings.Contains(text, want) {
					t.Errorf("explanation lacks %q:\n%s", want, text)
				}
			}
		})
	}
	var none *Policy
	r := httptest.NewRequest("GET", "/b/k", nil)
	r.Header.Set("Origin", "o")
	e := none.Explain(r, true)
	if e.Result != "not_configured" || !strings.Contains(e.String(), "no CORS configuration") {
		t.Errorf("unconfigured: %s", e)
	}
}
