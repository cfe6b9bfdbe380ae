package caddys3cors

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestMatcherValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    MatchS3CORS
		err  string
	}{
		{name: "preflight", m: MatchS3CORS{Mode: "preflight"}},
		{name: "configured", m: MatchS3CORS{Mode: "configured"}},
		{name: "allowed host", m: MatchS3CORS{Mode: "allowed", Source: Source{Bucket: "host", BaseDomains: []string{"s3.example.com"}}}},
		{name: "no mode", err: "s3_cors matcher: no mode"},
		{name: "unknown mode", m: MatchS3CORS{Mode: "options"}, err: `s3_cors matcher: unknown mode "options"`},
		{name: "bad resolution", m: MatchS3CORS{Mode: "allowed", Source: Source{Bucket: "host"}}, err: "s3_cors matcher: bucket resolution"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("Validate = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestMatcher(t *testing.T) {
	app := newTestApp(t, t.TempDir())
	if err := app.SetConfiguration(context.Background(), "dynamic", mustParse(t, putRuleJSON), "test"); err != nil {
		t.Fatal(err)
	}
	source := Source{
		Buckets: map[string]json.RawMessage{"photos": json.RawMessage(getRuleJSON)},
		app:     app,
	}
	if err := source.compile(); err != nil {
		t.Fatal(err)
	}
	withDefault := source
	withDefault.def = source.static["photos"].policy
	preflight := func(origin, method string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
	}
	for _, tc := range []struct {
		name   string
		mode   string
		source Source
		method string
		path   string
		header map[string]string
		want   bool
	}{
		{"preflight on object", "preflight", source, "OPTIONS", "/photos/k", nil, true},
		{"preflight on unconfigured bucket", "preflight", source, "OPTIONS", "/other", nil, true},
		{"preflight not OPTIONS", "preflight", source, "GET", "/photos/k", preflight("https://x.example", "GET"), false},
		{"preflight no bucket", "preflight", source, "OPTIONS", "/", nil, false},
		{"configured static", "configured", source, "GET", "/photos/k", nil, true},
		{"configured app", "configured", source, "GET", "/dynamic", nil, true},
		{"configured none", "configured", source, "GET", "/other/k", nil, false},
		{"configured default", "configured", withDefault, "GET", "/other/k", nil, true},
		{"configured no bucket", "configured", withDefault, "GET", "/", nil, false},
		{"allowed preflight", "allowed", source, "OPTIONS", "/photos/k", preflight("https://x.example", "GET"), true},
		{"allowed preflight wrong method", "allowed", source, "OPTIONS", "/photos/k", preflight("https://x.example", "PUT"), false},
		{"allowed app preflight", "allowed", source, "OPTIONS", "/dynamic/k", preflight("https://a.example", "PUT"), true},
		{"allowed app wrong origin", "allowed", source, "OPTIONS", "/dynamic/k", preflight("https://b.example", "PUT"), false},
		{"allowed actual", "allowed", source, "GET", "/photos/k", map[string]string{"Origin": "https://x.example"}, true},
		{"allowed actual without origin", "allowed", source, "GET", "/photos/k", nil, false},
		{"allowed unconfigured", "allowed", source, "GET", "/other/k", map[string]string{"Origin": "https://x.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := MatchS3CORS{Mode: tc.mode, Source: tc.source}
			r := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
			got, err := m.MatchWithError(r)
			if err != nil || got != tc.want {
				t.Errorf("MatchWithError = %v, %v; want %v", got, err, tc.want)
			}
			if m.Match(r) != tc.want {
				t.Errorf("Match = %v, want %v", !tc.want, tc.want)
			}
		})
	}
}

// TestMatcherInCaddy uses the matcher from the Caddyfile, in named
// matchers next to the handler.
func TestMatcherInCaddy(t *testing.T) {
	m := newMinio(t)
	base := startCaddy(t, "", `
	@preflight s3_cors preflight
	@configured s3_cors configured {
		bucket_config photos {
			rule {
				origins *
				methods GET
			}
		}
	}
	@allowed s3_cors allowed {
		bucket host s3.example.com
		bucket_config photos {
			rule {
				origins https://app.example.com
				methods GET
			}
		}
	}
	header @preflight X-Preflight yes
	header @configured X-Configured yes
	header @allowed X-Allowed yes
	respond @preflight 204
	reverse_proxy `+m.addr())
	for _, tc := range []struct {
		name string
		req  request
		want map[string]string
	}{
		{"preflight", request{method: "OPTIONS", path: "/photos/k"}, map[string]string{"X-Preflight": "yes", "X-Configured": "yes", "X-Allowed": ""}},
		{"configured", request{path: "/photos/k"}, map[string]string{"X-Preflight": "", "X-Configured": "yes", "X-Allowed": ""}},
		{"unconfigured", request{path: "/docs/k"}, map[string]string{"X-Preflight": "", "X-Configured": "", "X-Allowed": ""}},
		{"allowed virtual-hosted", request{host: "photos.s3.example.com", path: "/k", headers: map[string]string{"Origin": "https://app.example.com"}},
			map[string]string{"X-Configured": "", "X-Allowed": "yes"}},
		{"denied virtual-hosted", request{host: "photos.s3.example.com", path: "/k", headers: map[string]string{"Origin": "https://evil.example"}},
			map[string]string{"X-Allowed": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := do(t, base, tc.req)
			checkHeaders(t, res.Header, tc.want)
		})
	}
}
