// Package conformance loads the S3 CORS conformance cases of
// testdata/conformance/cases.json and checks responses against them, so that
// the engine's tests and the Caddy module's tests run the same cases with the
// same checks. It imports no package of this module.
package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// Case is one case of cases.json, recorded against real S3 (see
// testdata/conformance/README.md for the format).
type Case struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Kind       string             `json:"kind"`
	Inferred   bool               `json:"inferred"`
	CORSConfig json.RawMessage    `json:"cors_config"`
	CORSJSON   json.RawMessage    `json:"cors_json"`
	BodyXML    *string            `json:"body_xml"`
	Headers    map[string]*string `json:"headers"`
	Request    struct {
		Method   string            `json:"method"`
		PathKind string            `json:"path_kind"`
		Headers  map[string]string `json:"headers"`
		Bucket   string            `json:"bucket"`
	} `json:"request"`
	Expect struct {
		Status       int                `json:"status"`
		Headers      map[string]*string `json:"headers"`
		ErrorCode    *string            `json:"error_code"`
		ErrorMessage *string            `json:"error_message"`
		ErrorFields  map[string]*string `json:"error_fields"`
		Body         *string            `json:"body"`
		CORSRules    json.RawMessage    `json:"CORSRules"`
		ElementOrder []string           `json:"body_element_order"`
		ThenGet      *struct {
			Status      int                `json:"status"`
			ErrorCode   string             `json:"error_code"`
			ErrorFields map[string]*string `json:"error_fields"`
		} `json:"then_get"`
	} `json:"expect"`
	ThenGet *struct {
		Status    int             `json:"status"`
		CORSRules json.RawMessage `json:"CORSRules"`
	} `json:"then_get"`
}

// HasConfig reports whether the case's bucket has a CORS configuration.
func (c *Case) HasConfig() bool {
	return len(c.CORSConfig) > 0 && string(c.CORSConfig) != "null"
}

// ConfigJSON returns the case's configuration in the aws cli shape
// {"CORSRules": [...]}, or nil when the bucket has none.
func (c *Case) ConfigJSON() []byte {
	if !c.HasConfig() {
		return nil
	}
	return []byte(`{"CORSRules":` + string(c.CORSConfig) + `}`)
}

// Load reads the cases file at path.
func Load(path string) ([]Case, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("conformance: read cases: %w", err)
	}
	var cases []Case
	if err := json.Unmarshal(raw, &cases); err != nil {
		return nil, fmt.Errorf("conformance: decode cases: %w", err)
	}
	return cases, nil
}

// Deref returns *s, or "" for nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ErrorDoc is a parsed S3 error document; the extra elements keep their
// order.
type ErrorDoc struct {
	Code, Message string
	Elements      []string
	Fields        map[string]string
}

// ParseErrorDoc parses an S3 error document, failing t when body is not one.
func ParseErrorDoc(t testing.TB, body []byte) ErrorDoc {
	t.Helper()
	doc := ErrorDoc{Fields: map[string]string{}}
	d := xml.NewDecoder(strings.NewReader(string(body)))
	depth := 0
	var name string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("error document %q: %v", body, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 && tk.Name.Local != "Error" {
				t.Fatalf("error document root is %s", tk.Name.Local)
			}
			if depth == 2 {
				name = tk.Name.Local
				doc.Elements = append(doc.Elements, name)
				doc.Fields[name] = ""
			}
		case xml.CharData:
			if depth == 2 {
				doc.Fields[name] += string(tk)
			}
		case xml.EndElement:
			depth--
		}
	}
	doc.Code, doc.Message = doc.Fields["Code"], doc.Fields["Message"]
	return doc
}

// CheckResponse compares a response with a request case's expectations.
func CheckResponse(t testing.TB, c *Case, status int, h http.Header, body []byte) {
	t.Helper()
	if status != c.Expect.Status {
		t.Errorf("status %d, want %d (body %s)", status, c.Expect.Status, body)
	}
	for name, want := range c.Expect.Headers {
		got := h.Values(name)
		switch {
		case want == nil && len(got) > 0:
			t.Errorf("header %s = %q, want absent", name, got)
		case want != nil && (len(got) != 1 || got[0] != *want):
			t.Errorf("header %s = %q, want exactly %q", name, got, *want)
		}
	}
	if c.Request.Method == http.MethodOptions && c.Expect.Status == http.StatusOK && len(body) != 0 {
		t.Errorf("preflight body %q, want empty", body)
	}
	if c.Expect.Body != nil && string(body) != *c.Expect.Body {
		t.Errorf("body %q, want %q", body, *c.Expect.Body)
	}
	if c.Expect.ErrorCode == nil && c.Expect.ErrorMessage == nil && len(c.Expect.ErrorFields) == 0 {
		return
	}
	doc := ParseErrorDoc(t, body)
	if c.Expect.ErrorCode != nil && doc.Code != *c.Expect.ErrorCode {
		t.Errorf("error code %q, want %q", doc.Code, *c.Expect.ErrorCode)
	}
	if c.Expect.ErrorMessage != nil && doc.Message != *c.Expect.ErrorMessage {
		t.Errorf("error message %q, want %q", doc.Message, *c.Expect.ErrorMessage)
	}
	for name, want := range c.Expect.ErrorFields {
		got, ok := doc.Fields[name]
		switch {
		case want == nil && ok:
			t.Errorf("error element %s = %q, want absent", name, got)
		case want != nil && got != *want:
			t.Errorf("error element %s = %q, want %q", name, got, *want)
		}
	}
	if doc.Fields["RequestId"] == "" || doc.Fields["RequestId"] != h.Get("X-Amz-Request-Id") {
		t.Errorf("RequestId %q does not equal x-amz-request-id %q", doc.Fields["RequestId"], h.Get("X-Amz-Request-Id"))
	}
	if doc.Fields["HostId"] == "" || doc.Fields["HostId"] != h.Get("X-Amz-Id-2") {
		t.Errorf("HostId %q does not equal x-amz-id-2 %q", doc.Fields["HostId"], h.Get("X-Amz-Id-2"))
	}
	if n := len(doc.Elements); n < 4 || doc.Elements[0] != "Code" || doc.Elements[1] != "Message" ||
		doc.Elements[n-2] != "RequestId" || doc.Elements[n-1] != "HostId" {
		t.Errorf("error elements in order %v", doc.Elements)
	}
}

// ErrorWriter writes an S3 error document with the given status, code and
// message; the engine's Error.WriteTo is one.
type ErrorWriter func(w http.ResponseWriter, status int, code, message string)

// Upstream stands in for the object store of a request case: it answers
// with the case's status and body (an error document written by
// writeError when the case expects one), and adds MinIO's permissive CORS
// headers to every response, which whatever is in front of it must strip.
func Upstream(c *Case, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if o := r.Header.Get("Origin"); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "Date, Etag, Server")
		}
		h.Add("Vary", "Origin")
		if c.Expect.ErrorCode != nil {
			writeError(w, c.Expect.Status, *c.Expect.ErrorCode, Deref(c.Expect.ErrorMessage))
			return
		}
		w.WriteHeader(c.Expect.Status)
		if c.Expect.Body != nil && r.Method != http.MethodHead {
			_, _ = io.WriteString(w, *c.Expect.Body)
		}
	})
}
