package s3cors

import (
	"encoding/json"
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

// TestExplainTextHostileRuleID: a rule ID is the one value of a stored
// configuration that the text explanation prints unquoted, and whoever may
// put the bucket's CORS chooses it. A line break, a carriage return or an
// invisible character in it must not reach the operator's terminal as
// such (a forged "matches" line, a line overwritten, text reordered).
func TestExplainTextHostileRuleID(t *testing.T) {
	tests := []struct{ name, id, want string }{
		{"line feed", "x): no match\nrule 0 (y): matches\nrule 9 (z", `rule 0 ("x): no match\nrule 0 (y): matches\nrule 9 (z"): no match`},
		{"carriage return", "x\rrule 0 (ok): matches", `rule 0 ("x\rrule 0 (ok): matches"): no match`},
		{"tab", "a\tb", `rule 0 ("a\tb"): no match`},
		{"C1 control", "a\u009b2Jb", `rule 0 ("a\u009b2Jb"): no match`},
		{"bidi override", "safe\u202eelif", `rule 0 ("safe\u202eelif"): no match`},
		{"printable, as it is", "uploads-é 1", `rule 0 (uploads-é 1): no match`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := json.Marshal(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			p := mustPolicy(t, `[{"ID":`+string(id)+`,"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET"]}]`)
			r := httptest.NewRequest("OPTIONS", "/b/k", nil)
			r.Header = hdr("Origin", "https://other.example.com", "Access-Control-Request-Method", "GET")
			text := p.Explain(r, true).String()
			if !strings.Contains(text, tt.want+"\n") {
				t.Errorf("explanation lacks %s:\n%s", tt.want, text)
			}
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			for _, line := range lines {
				if strings.HasPrefix(line, "rule ") && !strings.HasPrefix(line, "rule 0 ") {
					t.Errorf("a line the ID made: %q", line)
				}
				if strings.ContainsAny(line, "\r\t\u009b\u202e") {
					t.Errorf("line %q holds the ID's invisible characters", line)
				}
			}
		})
	}
}
