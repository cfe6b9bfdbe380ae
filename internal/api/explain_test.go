package api

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

func TestAdminExplain(t *testing.T) {
	inlineXML, err := json.Marshal(otherXML)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		body   string
		accept string
		status int
		code   string // an S3 error code, "" for an explanation
		check  func(t *testing.T, e *s3cors.Explanation, text string)
	}{
		{name: "preflight allowed",
			body:   `{"bucket":"photos","method":"OPTIONS","path":"a/b.jpg","origin":"https://app.example.com","headers":{"Access-Control-Request-Method":"PUT","Access-Control-Request-Headers":"Content-Type"}}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Kind != "preflight" || e.Result != "allowed" || e.Rule != 0 || e.RuleID != "app" || e.Status != 200 {
					t.Errorf("explanation %+v", e)
				}
				if got := e.Headers.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
					t.Errorf("Access-Control-Allow-Origin %q", got)
				}
			}},
		{name: "preflight denied",
			body:   `{"bucket":"photos","method":"OPTIONS","path":"a/b.jpg","origin":"https://evil.example","headers":{"Access-Control-Request-Method":"DELETE"}}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Result != "denied" || e.Rule != -1 || e.Status != 403 || e.Error == nil || e.Error.Code != "AccessForbidden" {
					t.Errorf("explanation %+v", e)
				}
				if e.Error != nil && e.Error.Fields["ResourceType"] != "OBJECT" {
					t.Errorf("error fields %v", e.Error.Fields)
				}
				if len(e.Rules) != 1 || e.Rules[0].Origin || e.Rules[0].Method || len(e.Rules[0].Failures) != 2 {
					t.Errorf("rule reports %+v", e.Rules)
				}
			}},
		{name: "preflight on the bucket root",
			body:   `{"bucket":"photos","method":"OPTIONS","path":"/","origin":"https://evil.example","headers":{"Access-Control-Request-Method":"GET"}}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Error == nil || e.Error.Fields["ResourceType"] != "BUCKET" {
					t.Errorf("explanation %+v", e)
				}
			}},
		{name: "actual allowed",
			body:   `{"bucket":"photos","method":"GET","path":"k","origin":"https://app.example.com"}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Kind != "actual" || e.Result != "allowed" || e.Status != 0 {
					t.Errorf("explanation %+v", e)
				}
			}},
		{name: "bucket without configuration",
			body:   `{"bucket":"nothing-here","method":"GET","origin":"https://app.example.com"}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Result != "not_configured" {
					t.Errorf("explanation %+v", e)
				}
			}},
		{name: "inline xml string",
			body:   `{"configuration":` + string(inlineXML) + `,"method":"GET","origin":"https://x.example"}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Result != "allowed" || e.Headers.Get("Access-Control-Allow-Origin") != "*" {
					t.Errorf("explanation %+v", e)
				}
			}},
		{name: "inline json string",
			body:   `{"configuration":` + strconv.Quote(photosJSON) + `,"method":"GET","origin":"https://x.example"}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Result != "denied" {
					t.Errorf("explanation %+v", e)
				}
			}},
		{name: "inline json object wins over the bucket",
			body:   `{"bucket":"photos","configuration":{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]},"method":"GET","origin":"https://x.example"}`,
			status: 200, check: func(t *testing.T, e *s3cors.Explanation, _ string) {
				if e.Result != "allowed" {
					t.Errorf("explanation %+v", e)
				}
			}},
		{name: "text",
			body:   `{"bucket":"photos","method":"OPTIONS","origin":"https://evil.example","headers":{"Access-Control-Request-Method":"GET"}}`,
			accept: "text/plain", status: 200, check: func(t *testing.T, _ *s3cors.Explanation, text string) {
				if !strings.HasPrefix(text, "preflight request: DENIED\n") || !strings.Contains(text, "rule 0 (app): no match") {
					t.Errorf("text\n%s", text)
				}
			}},
		{name: "invalid inline configuration", body: `{"configuration":"<CORSConfiguration>","method":"GET"}`, status: 400, code: "MalformedXML"},
		{name: "inline configuration with a bad method", body: `{"configuration":{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["PATCH"]}]},"method":"GET"}`, status: 400, code: "InvalidRequest"},
		{name: "neither bucket nor configuration", body: `{"method":"GET"}`, status: 400, code: "InvalidArgument"},
		{name: "no method", body: `{"bucket":"photos"}`, status: 400, code: "InvalidArgument"},
		{name: "invalid method", body: `{"bucket":"photos","method":"GE T"}`, status: 400, code: "InvalidArgument"},
		{name: "unknown field", body: `{"bucket":"photos","method":"GET","orign":"https://a"}`, status: 400, code: "InvalidArgument"},
		{name: "not json", body: `bucket=photos`, status: 400, code: "InvalidArgument"},
		{name: "trailing data", body: `{"bucket":"photos","method":"GET"} {}`, status: 400, code: "InvalidArgument"},
		{name: "invalid bucket", body: `{"bucket":"../x","method":"GET"}`, status: 400, code: "InvalidBucketName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMem(t, map[string]string{"photos": photosJSON})
			rec := httptest.NewRecorder()
			req := newRequest("POST", "/s3_cors/explain", tt.body, "Content-Type", "application/json")
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			newAdmin(m, nil).ServeHTTP(rec, req)
			if tt.code != "" {
				checkError(t, rec, tt.status, tt.code, nil)
				return
			}
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			checkIDs(t, rec.Header())
			if tt.accept == "text/plain" {
				if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				tt.check(t, nil, rec.Body.String())
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var e s3cors.Explanation
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("decode %s: %v", rec.Body, err)
			}
			tt.check(t, &e, "")
		})
	}
}
