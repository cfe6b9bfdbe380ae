package s3cors

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
)

func mustPolicy(t testing.TB, rulesJSON string) *Policy {
	t.Helper()
	cfg, err := ParseJSON([]byte(`{"CORSRules":` + rulesJSON + `}`))
	if err != nil {
		t.Fatalf("configuration: %v", err)
	}
	return Compile(cfg)
}

// hdr builds request headers from name, value pairs; a repeated name adds a line.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestEvaluateMatching(t *testing.T) {
	tests := []struct {
		name   string
		rules  string
		method string
		header http.Header
		result Result
		rule   int
	}{
		{"star matches any origin", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "localhost:4566", "Access-Control-Request-Method", "GET"), Allowed, 0},
		{"star matches null origin", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "null", "Access-Control-Request-Method", "GET"), Allowed, 0},
		{"wildcard matches empty run", `[{"AllowedOrigins":["start*end"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "startend", "Access-Control-Request-Method", "GET"), Allowed, 0},
		{"wildcard matches a run", `[{"AllowedOrigins":["start*end"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "start1end", "Access-Control-Request-Method", "GET"), Allowed, 0},
		{"wildcard needs the literal prefix", `[{"AllowedOrigins":["start*end"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "0start12end", "Access-Control-Request-Method", "GET"), Denied, -1},
		{"wildcard parts may not overlap", `[{"AllowedOrigins":["ab*ba"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "aba", "Access-Control-Request-Method", "GET"), Denied, -1},
		{"prefix wildcard matches the prefix alone", `[{"AllowedOrigins":["prefix*"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "prefix", "Access-Control-Request-Method", "GET"), Allowed, 0},
		{"origin is case-sensitive", `[{"AllowedOrigins":["https://example.com"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "https://EXAMPLE.com", "Access-Control-Request-Method", "GET"), Denied, -1},
		{"trailing slash does not match", `[{"AllowedOrigins":["http://*.origin.com"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "http://test.origin.com/", "Access-Control-Request-Method", "GET"), Denied, -1},
		{"method is case-sensitive on actual requests", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "get", hdr("Origin", "o"), Denied, -1},
		{"HEAD is not GET", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "HEAD", hdr("Origin", "o"), Denied, -1},
		{"first matching rule wins", `[{"AllowedOrigins":["o"],"AllowedMethods":["PUT"]},{"AllowedOrigins":["o"],"AllowedMethods":["GET"]},{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o"), Allowed, 1},
		{"wildcard rule before exact rule", `[{"AllowedOrigins":["o*"],"AllowedMethods":["GET"]},{"AllowedOrigins":["o"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o"), Allowed, 0},
		{"exact rule before wildcard rule", `[{"AllowedOrigins":["x","o"],"AllowedMethods":["GET"]},{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o"), Allowed, 0},
		{"rule with both exact and wildcard origins", `[{"AllowedOrigins":["o","p*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o"), Allowed, 0},
		{"header mismatch falls through to a later rule", `[{"AllowedOrigins":["*"],"AllowedMethods":["PUT"],"AllowedHeaders":["Content-Type","amz-*","Expires"]},{"AllowedOrigins":["*"],"AllowedMethods":["PUT"],"AllowedHeaders":["*"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "puppies"), Allowed, 1},
		{"headers compare case-insensitively", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["x-AMZ-server-SIDE-encryption"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Amz-Server-Side-Encryption"), Allowed, 0},
		{"header glob", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["amz-*"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "AMZ-meta-header-test"), Allowed, 0},
		{"every requested header must match", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["a"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "a,b"), Denied, -1},
		{"rule without headers refuses any", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "a"), Denied, -1},
		{"only commas names no header", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", " , ,"), Allowed, 0},
		{"several header lines form one list", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["a"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "a", "Access-Control-Request-Headers", "b"), Denied, -1},
		{"actual request honours ACRM", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o", "Access-Control-Request-Method", "PUT"), Denied, -1},
		{"actual request honours ACRH", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o", "Access-Control-Request-Headers", "x"), Denied, -1},
		{"actual request ignores other headers", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o", "X-Amz-Request-Payer", "requester"), Allowed, 0},
		{"actual request with invalid ACRM", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "o", "Access-Control-Request-Method", "PATCH"), Denied, -1},
		{"empty origin is no origin", `[{"AllowedOrigins":[""],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", ""), NoOrigin, -1},
		{"first of several origins", `[{"AllowedOrigins":["a"],"AllowedMethods":["GET"]}]`, "GET", hdr("Origin", "a", "Origin", "b"), Allowed, 0},
		{"referer is not an origin", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`, "GET", hdr("Referer", "http://a/"), NoOrigin, -1},
		{"oversized ACRH on an actual request", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]`, "GET", hdr("Origin", "o", "Access-Control-Request-Headers", strings.Repeat("a,", MaxRequestHeadersLength)), Denied, -1},
		{"oversized ACRH on a preflight", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", strings.Repeat("a,", MaxRequestHeadersLength)), BadRequest, -1},
		{"many header items", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["a","b"]}]`, "OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", strings.Repeat("A, b,", 1000)), Allowed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.rules)
			r := httptest.NewRequest(tt.method, "/bucket/key", nil)
			r.Header = tt.header
			d := p.Evaluate(r, true)
			if d.Result != tt.result || d.Rule != tt.rule {
				t.Errorf("got %s rule %d, want %s rule %d", d.Result, d.Rule, tt.result, tt.rule)
			}
			if (tt.method == "OPTIONS") != (d.Kind == Preflight) {
				t.Errorf("kind %s", d.Kind)
			}
		})
	}
}

func TestPreflightLadder(t *testing.T) {
	configured := `[{"AllowedOrigins":["https://a"],"AllowedMethods":["GET","PUT"]}]`
	tests := []struct {
		name         string
		policy       string // "", "missing", or rules
		header       http.Header
		object       bool
		status       int
		code         string
		message      string
		method, kind string
		close        bool
	}{
		{"no origin first", "missing", hdr("Access-Control-Request-Method", "GET"), true, 400, "BadRequest", msgNoOrigin, "", "", true},
		{"bucket missing", "missing", hdr("Origin", "o"), true, 403, "AccessForbidden", msgBucketNotFound, "OPTIONS", "BUCKET", false},
		{"bucket missing with ACRM", "missing", hdr("Origin", "o", "Access-Control-Request-Method", "GET"), true, 403, "AccessForbidden", msgBucketNotFound, "GET", "BUCKET", false},
		{"not enabled", "", hdr("Origin", "o", "Access-Control-Request-Method", "PUT"), true, 403, "AccessForbidden", msgNotEnabled, "PUT", "BUCKET", false},
		{"not enabled before invalid ACRM", "", hdr("Origin", "o", "Access-Control-Request-Method", "patch"), true, 403, "AccessForbidden", msgNotEnabled, "patch", "BUCKET", false},
		{"ACRM missing", configured, hdr("Origin", "https://a"), true, 400, "BadRequest", "Invalid Access-Control-Request-Method: null", "", "", false},
		{"ACRM invalid", configured, hdr("Origin", "https://a", "Access-Control-Request-Method", "OPTIONS"), true, 400, "BadRequest", "Invalid Access-Control-Request-Method: OPTIONS", "", "", false},
		{"not allowed on an object", configured, hdr("Origin", "https://b", "Access-Control-Request-Method", "GET"), true, 403, "AccessForbidden", msgNotAllowed, "GET", "OBJECT", false},
		{"not allowed on the bucket", configured, hdr("Origin", "https://b", "Access-Control-Request-Method", "GET"), false, 403, "AccessForbidden", msgNotAllowed, "GET", "BUCKET", false},
		{"allowed", configured, hdr("Origin", "https://a", "Access-Control-Request-Method", "PUT"), true, 200, "", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *Policy
			switch tt.policy {
			case "":
			case "missing":
				p = MissingBucket()
			default:
				p = mustPolicy(t, tt.policy)
			}
			r := httptest.NewRequest("OPTIONS", "/bucket/key", nil)
			r.Header = tt.header
			d := p.Evaluate(r, tt.object)
			rec := httptest.NewRecorder()
			d.WritePreflight(rec)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 200 {
				if rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "0" || rec.Header().Get("Content-Type") != "" {
					t.Errorf("success body %q headers %v", rec.Body, rec.Header())
				}
				return
			}
			doc := conformance.ParseErrorDoc(t, rec.Body.Bytes())
			if doc.Code != tt.code || doc.Message != tt.message {
				t.Errorf("got %s %q", doc.Code, doc.Message)
			}
			if got, ok := doc.Fields["Method"]; ok != (tt.method != "") || got != tt.method {
				t.Errorf("Method %q (present %v), want %q", got, ok, tt.method)
			}
			if got, ok := doc.Fields["ResourceType"]; ok != (tt.kind != "") || got != tt.kind {
				t.Errorf("ResourceType %q (present %v), want %q", got, ok, tt.kind)
			}
			if (rec.Header().Get("Connection") == "close") != tt.close {
				t.Errorf("Connection %q", rec.Header().Get("Connection"))
			}
			for name := range rec.Header() {
				if strings.HasPrefix(name, "Access-Control-") || name == "Vary" {
					t.Errorf("error carries %s", name)
				}
			}
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	tests := []struct {
		name   string
		rules  string
		method string
		header http.Header
		want   map[string]string // "" = absent
	}{
		{"echo origin with credentials", `[{"AllowedOrigins":["https://a"],"AllowedMethods":["PUT","POST","DELETE","GET"],"ExposeHeaders":["x-amz-server-side-encryption","ETag"],"MaxAgeSeconds":3000}]`,
			"OPTIONS", hdr("Origin", "https://a", "Access-Control-Request-Method", "GET"),
			map[string]string{hdrAllowOrigin: "https://a", hdrAllowCredentials: "true", hdrAllowMethods: "PUT, POST, DELETE, GET", hdrExposeHeaders: "x-amz-server-side-encryption, ETag", hdrMaxAge: "3000", hdrAllowHeaders: "", hdrVary: varyValueFirstLine}},
		{"star without credentials", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]`,
			"GET", hdr("Origin", "https://a"),
			map[string]string{hdrAllowOrigin: "*", hdrAllowCredentials: "", hdrAllowMethods: "GET", hdrExposeHeaders: "", hdrMaxAge: "", hdrVary: varyValueFirstLine}},
		{"wildcard pattern echoes the origin", `[{"AllowedOrigins":["http://*.origin.com"],"AllowedMethods":["GET"]}]`,
			"GET", hdr("Origin", "http://x.origin.com"),
			map[string]string{hdrAllowOrigin: "http://x.origin.com", hdrAllowCredentials: "true"}},
		{"first of several origin lines is echoed", `[{"AllowedOrigins":["a*"],"AllowedMethods":["GET"]}]`,
			"GET", hdr("Origin", "ab", "Origin", "ac"),
			map[string]string{hdrAllowOrigin: "ab"}},
		{"allow headers lower-cased and trimmed", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]`,
			"OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", " x-AMZ-expected-BUCKET-owner ,, x-amz-server-side-encryption,"),
			map[string]string{hdrAllowHeaders: "x-amz-expected-bucket-owner, x-amz-server-side-encryption"}},
		{"allow headers without spaces get one", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]`,
			"OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "a,b"),
			map[string]string{hdrAllowHeaders: "a, b"}},
		{"allow headers across lines", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]`,
			"OPTIONS", hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "a", "Access-Control-Request-Headers", "B"),
			map[string]string{hdrAllowHeaders: "a, b"}},
		{"allow headers on an actual request", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeaders":["*"]}]`,
			"GET", hdr("Origin", "o", "Access-Control-Request-Headers", "X-A"),
			map[string]string{hdrAllowHeaders: "x-a"}},
		{"mixed star answers star", `[{"AllowedOrigins":["https://a","*"],"AllowedMethods":["GET"]}]`,
			"GET", hdr("Origin", "https://a"),
			map[string]string{hdrAllowOrigin: "*", hdrAllowCredentials: ""}},
		{"max age zero is sent", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"MaxAgeSeconds":0}]`,
			"GET", hdr("Origin", "o"),
			map[string]string{hdrMaxAge: "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.rules)
			r := httptest.NewRequest(tt.method, "/bucket/key", nil)
			r.Header = tt.header
			rec := httptest.NewRecorder()
			Wrap(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("body"))
			})).ServeHTTP(rec, r)
			for name, want := range tt.want {
				got := rec.Header().Values(name)
				if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestCompileHeadersASCII: Compile folds the ASCII case of AllowedHeader
// only, as the request side does. ParseXML and ParseJSON refuse non-ASCII
// header names, but a Configuration built in Go reaches Compile directly,
// and Unicode lower-casing made the Kelvin sign a "k" and an invalid UTF-8
// byte U+FFFD, so that such a name matched what it is not, or not itself
// (found by FuzzRequestHeaders).
func TestCompileHeadersASCII(t *testing.T) {
	tests := []struct {
		name, allowed, requested string
		want                     Result
	}{
		{"Kelvin sign is not k", "x-\u212a", "x-k", Denied},
		{"Kelvin sign glob is not k", "x-\u212a*", "x-kk", Denied},
		{"invalid UTF-8 byte matches itself", "\xb0", "\xb0", Allowed},
		{"non-ASCII name matches itself", "X-\u00c9t\u00e9", "x-\u00c9t\u00e9", Allowed},
		{"ASCII case still folds", "X-Amz-Meta", "x-amz-META", Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compile(&Configuration{Rules: []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{tt.allowed}}}})
			r := httptest.NewRequest("OPTIONS", "/bucket/key", nil)
			r.Header = hdr("Origin", "o", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", tt.requested)
			if d := p.Evaluate(r, true); d.Result != tt.want {
				t.Errorf("got %s, want %s", d.Result, tt.want)
			}
		})
	}
}
