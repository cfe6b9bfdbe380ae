package caddys3cors

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// TestPlaceholdersLatestWins: when several s3_cors handlers see the same
// request (the site's and one in handle_errors), the placeholders hold the
// latest decision, whichever way the first one recorded its own.
func TestPlaceholdersLatestWins(t *testing.T) {
	handler := func(cfg string) *Handler {
		h := photosHandler(t, cfg)
		h.logger = zap.NewNop()
		return h
	}
	allow := handler(`{"CORSRules":[{"ID":"any","AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`)
	deny := handler(`{"CORSRules":[{"AllowedOrigins":["https://other.example"],"AllowedMethods":["GET"]}]}`)

	repl := caddy.NewReplacer()
	r := httptest.NewRequest("OPTIONS", "/photos/a", nil)
	r.Header.Set("Origin", "https://x.example")
	r.Header.Set("Access-Control-Request-Method", "GET")
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	for i, step := range []struct {
		h            *Handler
		result, rule string
	}{
		{allow, "allowed", "any"},
		{deny, "denied", ""},
		{allow, "allowed", "any"},
	} {
		if err := step.h.ServeHTTP(httptest.NewRecorder(), r, nil); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]string{placeholderBucket: "photos", placeholderResult: step.result, placeholderRule: step.rule} {
			if got, _ := repl.GetString(key); got != want {
				t.Errorf("step %d: %s = %q, want %q", i, key, got, want)
			}
		}
	}
}

// TestPlaceholdersWithoutReplacer: outside Caddy's server (no replacer in
// the context) the handler still works.
func TestPlaceholdersWithoutReplacer(t *testing.T) {
	h := photosHandler(t, getRuleJSON)
	r := httptest.NewRequest("OPTIONS", "/photos/a", nil)
	r.Header.Set("Origin", "https://x.example")
	r.Header.Set("Access-Control-Request-Method", "GET")
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, nil); err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight %d %v", w.Code, w.Header())
	}
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	if err := h.ServeHTTP(httptest.NewRecorder(), r, nil); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{placeholderBucket: "photos", placeholderResult: "allowed", placeholderRule: "0"} {
		if got, _ := repl.GetString(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}
