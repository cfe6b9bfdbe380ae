package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

func TestAdminValidate(t *testing.T) {
	rule := func(field, value string) string {
		r := map[string]any{"AllowedOrigins": []string{"*"}, "AllowedMethods": []string{"GET"}}
		switch field {
		case "ID":
			r[field] = value
		default:
			r[field] = []string{value}
		}
		b, err := json.Marshal(map[string]any{"CORSRules": []any{r}})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name   string
		body   string
		header []string
		valid  bool
		rules  int
		code   string
		status int
		value  string
		fields map[string]string
	}{
		{name: "valid JSON", body: photosJSON, header: []string{"Content-Type", "application/json"}, valid: true, rules: 1},
		{name: "valid XML", body: otherXML, valid: true, rules: 1},
		{name: "valid XML with Content-MD5", body: otherXML, header: []string{"Content-MD5", md5Base64(otherXML)}, valid: true, rules: 1},
		{name: "unsupported method", body: rule("AllowedMethods", "PATCH"), header: []string{"Content-Type", "application/json"},
			code: "InvalidRequest", status: 400, value: "PATCH"},
		{name: "origin with two wildcards", body: rule("AllowedOrigins", "https://*.*.example.com"), header: []string{"Content-Type", "application/json"},
			code: "InvalidRequest", status: 400, value: "https://*.*.example.com"},
		{name: "hostile origin value", body: rule("AllowedOrigins", `<img src=x onerror=alert(1)>**`), header: []string{"Content-Type", "application/json"},
			code: "InvalidRequest", status: 400, value: `<img src=x onerror=alert(1)>**`},
		{name: "header with two wildcards", body: rule("AllowedHeaders", "x-*-*"), header: []string{"Content-Type", "application/json"},
			code: "InvalidRequest", status: 400, value: "x-*-*"},
		{name: "header with a bad character", body: rule("AllowedHeaders", "x y"), header: []string{"Content-Type", "application/json"},
			code: "InvalidRequest", status: 400, value: "x y"},
		{name: "exposed header with a wildcard", body: rule("ExposeHeaders", "x-*"), header: []string{"Content-Type", "application/json"},
			code: "InvalidRequest", status: 400, value: "x-*"},
		{name: "exposed header with a bad character", body: rule("ExposeHeaders", "a\nb"), header: []string{"Content-Type", "application/json"},
			code: "InvalidRequest", status: 400, value: "a\nb"},
		{name: "ID too long", body: rule("ID", strings.Repeat("i", 256)), header: []string{"Content-Type", "application/json"},
			code: "InvalidArgument", status: 400},
		{name: "malformed XML", body: "<CORSConfiguration>", code: "MalformedXML", status: 400},
		{name: "wrong Content-MD5", body: otherXML, header: []string{"Content-MD5", md5Base64("other")},
			code: "BadDigest", status: 400, fields: map[string]string{"CalculatedDigest": md5Base64(otherXML)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMem(t, nil)
			rec := httptest.NewRecorder()
			newAdmin(m, nil).ServeHTTP(rec, newRequest("POST", "/s3_cors/validate", tt.body, tt.header...))
			var got Validation
			decodeJSONAnswer(t, rec, &got)
			if m.callCount() != 0 {
				t.Errorf("validate touched the configurations %d times", m.callCount())
			}
			if got.Valid != tt.valid {
				t.Fatalf("valid %v, want %v: %s", got.Valid, tt.valid, rec.Body)
			}
			if tt.valid {
				cfg, err := s3cors.ParseJSON(got.Configuration)
				if err != nil || len(cfg.Rules) != tt.rules || got.Rules != tt.rules {
					t.Errorf("configuration %s (%d rules): %v", got.Configuration, got.Rules, err)
				}
				if x, err := s3cors.ParseXML([]byte(got.XML)); err != nil || !x.Equal(cfg) {
					t.Errorf("XML %s: %v", got.XML, err)
				}
				return
			}
			e := got.Error
			if e == nil || e.Code != tt.code || e.Status != tt.status || e.Value != tt.value || e.Message == "" {
				t.Fatalf("error %+v, want %s %d value %q", e, tt.code, tt.status, tt.value)
			}
			// The message is S3's, as a PUT would get it.
			put := httptest.NewRecorder()
			newAdmin(m, nil).ServeHTTP(put, newRequest("PUT", "/s3_cors/buckets/photos", tt.body, tt.header...))
			if doc := conformance.ParseErrorDoc(t, put.Body.Bytes()); put.Code != e.Status || doc.Code != e.Code || doc.Message != e.Message {
				t.Errorf("PUT answered %d %s, validate %+v", put.Code, put.Body, e)
			}
			if _, ok := m.get("photos"); ok {
				t.Error("the refused PUT stored a configuration")
			}
			for k, v := range tt.fields {
				if e.Fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, e.Fields[k], v)
				}
			}
		})
	}
}

func TestAdminValidateRequest(t *testing.T) {
	rec := httptest.NewRecorder()
	newAdmin(newMem(t, nil), nil).ServeHTTP(rec, newRequest("GET", "/s3_cors/validate", ""))
	checkError(t, rec, http.StatusMethodNotAllowed, "MethodNotAllowed", nil)
	rec = httptest.NewRecorder()
	newAdmin(newMem(t, nil), nil).ServeHTTP(rec, newRequest("POST", "/s3_cors/validate", strings.Repeat(" ", s3cors.MaxBodySize+1)))
	checkError(t, rec, http.StatusBadRequest, "MaxMessageLengthExceeded", nil)
}

// TestOffendingValue drives each value error of the engine and checks
// that the value is found in its message: a reworded message fails here.
func TestOffendingValue(t *testing.T) {
	tests := []struct {
		name, field, value string
	}{
		{"method", "AllowedMethods", "FETCH"},
		{"origin", "AllowedOrigins", "https://*.*"},
		{"allowed header wildcards", "AllowedHeaders", "a*b*"},
		{"allowed header character", "AllowedHeaders", "a:b"},
		{"exposed header wildcard", "ExposeHeaders", "x*"},
		{"exposed header character", "ExposeHeaders", "a b"},
		{"value with quotes and newline", "AllowedOrigins", "\"x\"\n**"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := map[string]any{"AllowedOrigins": []string{"*"}, "AllowedMethods": []string{"GET"}}
			r[tt.field] = []string{tt.value}
			doc, err := json.Marshal(map[string]any{"CORSRules": []any{r}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s3cors.ParseJSON(doc)
			var s3err *s3cors.Error
			if !errors.As(err, &s3err) {
				t.Fatalf("the engine accepted %s: %v", doc, err)
			}
			if got := offendingValue(s3err.Message); got != tt.value {
				t.Errorf("offendingValue(%q) = %q, want %q", s3err.Message, got, tt.value)
			}
		})
	}
	if got := offendingValue("The XML you provided was not well-formed or did not validate against our published schema"); got != "" {
		t.Errorf("a message without a value gave %q", got)
	}
}
