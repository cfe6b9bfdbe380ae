package s3cors

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// conformanceCase is one case of testdata/conformance/cases.json, recorded
// against real S3 (see testdata/conformance/README.md for the format).
type conformanceCase struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Kind       string             `json:"kind"`
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

// LoadConformanceCases reads the shared conformance file; the Caddy tests
// read the same file.
func loadConformanceCases(t testing.TB) []conformanceCase {
	t.Helper()
	raw, err := os.ReadFile("../testdata/conformance/cases.json")
	if err != nil {
		t.Fatalf("read conformance cases: %v", err)
	}
	var cases []conformanceCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatalf("decode conformance cases: %v", err)
	}
	return cases
}

// s3ErrorDoc is a parsed S3 error document; extra elements are kept in order.
type s3ErrorDoc struct {
	Code, Message string
	Elements      []string
	Fields        map[string]string
}

func parseErrorDoc(t testing.TB, body []byte) s3ErrorDoc {
	t.Helper()
	doc := s3ErrorDoc{Fields: map[string]string{}}
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

// minioLikeUpstream stands in for the object store: it answers with the
// case's status and body, and adds MinIO's permissive CORS headers to
// everything, which the engine must strip. (Foreign Vary tokens, which
// must survive, are the subject of TestDecorateVary.)
func minioLikeUpstream(c *conformanceCase) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if o := r.Header.Get("Origin"); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "Date, Etag, Server")
		}
		h.Add("Vary", "Origin")
		if c.Expect.ErrorCode != nil {
			(&Error{Status: c.Expect.Status, Code: *c.Expect.ErrorCode, Message: deref(c.Expect.ErrorMessage)}).WriteTo(w)
			return
		}
		w.WriteHeader(c.Expect.Status)
		if c.Expect.Body != nil && r.Method != http.MethodHead {
			_, _ = io.WriteString(w, *c.Expect.Body)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func policyFor(t testing.TB, rules json.RawMessage, missing bool) *Policy {
	t.Helper()
	if missing {
		return MissingBucket()
	}
	if len(rules) == 0 || string(rules) == "null" {
		return nil
	}
	cfg, err := ParseJSON([]byte(`{"CORSRules":` + string(rules) + `}`))
	if err != nil {
		t.Fatalf("case configuration does not parse: %v", err)
	}
	return Compile(cfg)
}

func TestConformance(t *testing.T) {
	cases := loadConformanceCases(t)
	if len(cases) < 90 {
		t.Fatalf("only %d conformance cases loaded", len(cases))
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.ID, func(t *testing.T) {
			switch c.Kind {
			case "request":
				runRequestCase(t, c)
			case "put":
				runPutCase(t, c)
			case "get", "delete":
				runGetDeleteCase(t, c)
			default:
				t.Fatalf("unknown case kind %q", c.Kind)
			}
		})
	}
}

func runRequestCase(t *testing.T, c *conformanceCase) {
	p := policyFor(t, c.CORSConfig, c.Request.Bucket == "missing")
	path := "/bucket"
	if c.Request.PathKind == "object" {
		path = "/bucket/key.txt"
	}
	req := httptest.NewRequest(c.Request.Method, path, nil)
	for k, v := range c.Request.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	Wrap(p, minioLikeUpstream(c)).ServeHTTP(rec, req)
	res := rec.Result()
	CheckCaseResponse(t, c, res.StatusCode, res.Header, rec.Body.Bytes())
}

// CheckCaseResponse compares a response with a request case's expectations.
func CheckCaseResponse(t *testing.T, c *conformanceCase, status int, h http.Header, body []byte) {
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
	doc := parseErrorDoc(t, body)
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

// putBodies returns the bodies a put case is sent as: its XML, its JSON, or both.
func putBodies(c *conformanceCase) (xmlBody, jsonBody []byte) {
	if c.BodyXML != nil {
		xmlBody = []byte(*c.BodyXML)
	}
	if len(c.CORSJSON) > 0 {
		jsonBody = c.CORSJSON
	}
	if c.ID == "put-too-large" {
		var b strings.Builder
		b.WriteString("<CORSConfiguration>")
		for b.Len() <= MaxBodySize {
			b.WriteString("<CORSRule><AllowedOrigin>http://www.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>")
		}
		b.WriteString("</CORSConfiguration>")
		xmlBody = []byte(b.String())
		jsonBody = []byte(`{"CORSRules":[` + strings.Repeat(`{"AllowedOrigins":["*"],"AllowedMethods":["GET"]},`, MaxBodySize/40) + `{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`)
	}
	return xmlBody, jsonBody
}

// caseHeaders builds a put case's request headers: a valid checksum unless
// the case says otherwise, then the case's own headers.
func caseHeaders(c *conformanceCase, body []byte, contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("X-Amz-Checksum-Crc32", crc32Base64(body))
	for name, v := range c.Headers {
		switch {
		case name == "x-amz-checksum-*" && v == nil:
			h.Del("X-Amz-Checksum-Crc32")
		case v == nil:
			h.Del(name)
		default:
			h.Set(name, *v)
		}
	}
	return h
}

const conformanceOwner = "000000000001"

func runPutCase(t *testing.T, c *conformanceCase) {
	xmlBody, jsonBody := putBodies(c)
	if xmlBody == nil && jsonBody == nil {
		t.Fatal("put case without a body")
	}
	for _, form := range []struct {
		name, contentType string
		body              []byte
	}{{"xml", "application/xml", xmlBody}, {"json", "application/json", jsonBody}} {
		if form.body == nil {
			continue
		}
		t.Run(form.name, func(t *testing.T) {
			h := caseHeaders(c, form.body, form.contentType)
			cfg, err := DecodePut(h, form.body, PutOptions{Owner: conformanceOwner, RequireIntegrity: true})
			if c.Expect.Status == http.StatusOK {
				if err != nil {
					t.Fatalf("put refused: %v", err)
				}
				checkRoundTrip(t, cfg)
				if c.ThenGet != nil {
					want := policyFor(t, c.ThenGet.CORSRules, false).Configuration()
					if !cfg.Equal(want) {
						t.Errorf("get returns %s, want %s", cfg.XML(), want.XML())
					}
				}
				return
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("put answered %v, want an S3 error with status %d", err, c.Expect.Status)
			}
			if e.Status != c.Expect.Status {
				t.Errorf("status %d, want %d", e.Status, c.Expect.Status)
			}
			if c.Expect.ErrorCode != nil && e.Code != *c.Expect.ErrorCode {
				t.Errorf("code %q, want %q", e.Code, *c.Expect.ErrorCode)
			}
			if c.Expect.ErrorMessage != nil && e.Message != *c.Expect.ErrorMessage {
				t.Errorf("message %q, want %q", e.Message, *c.Expect.ErrorMessage)
			}
			for name, want := range c.Expect.ErrorFields {
				got, ok := e.Field(name)
				if want == nil && ok || want != nil && got != *want {
					t.Errorf("field %s = %q, want %v", name, got, deref(want))
				}
			}
		})
	}
}

// checkRoundTrip serializes cfg and parses it back, through both forms.
func checkRoundTrip(t *testing.T, cfg *Configuration) {
	t.Helper()
	back, err := ParseXML(cfg.XML())
	if err != nil {
		t.Fatalf("own XML does not parse: %v\n%s", err, cfg.XML())
	}
	if string(back.XML()) != string(cfg.XML()) {
		t.Errorf("XML round trip changed\n%s\n%s", cfg.XML(), back.XML())
	}
	backJSON, err := ParseJSON(cfg.JSON())
	if err != nil {
		t.Fatalf("own JSON does not parse: %v\n%s", err, cfg.JSON())
	}
	if !backJSON.Equal(cfg) {
		t.Errorf("JSON round trip changed\n%s\n%s", cfg.JSON(), backJSON.JSON())
	}
}

func runGetDeleteCase(t *testing.T, c *conformanceCase) {
	// The engine's part of GetBucketCors and DeleteBucketCors: the stored
	// configuration serializes back to the same rules, and a bucket without
	// one answers NoSuchCORSConfiguration with the bucket name.
	p := policyFor(t, c.CORSConfig, false)
	if c.Kind == "get" && p != nil {
		back, err := ParseXML(p.Configuration().XML())
		if err != nil {
			t.Fatal(err)
		}
		want := policyFor(t, c.Expect.CORSRules, false).Configuration()
		if !back.Equal(want) {
			t.Errorf("get returns %s, want %s", back.XML(), want.XML())
		}
		return
	}
	if c.Kind == "delete" {
		if c.Expect.Status != http.StatusNoContent || c.Expect.ThenGet == nil && c.CORSConfig != nil && string(c.CORSConfig) != "null" {
			t.Fatalf("unexpected delete case shape")
		}
		if c.Expect.ThenGet == nil {
			return
		}
	}
	e := ErrNoSuchCORSConfiguration("my-bucket")
	rec := httptest.NewRecorder()
	e.WriteTo(rec)
	doc := parseErrorDoc(t, rec.Body.Bytes())
	if rec.Code != http.StatusNotFound || doc.Code != "NoSuchCORSConfiguration" || doc.Fields["BucketName"] != "my-bucket" {
		t.Errorf("no-configuration answer %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Content-Type") != "application/xml" {
		t.Errorf("Content-Type %q", rec.Header().Get("Content-Type"))
	}
	if want := c.Expect.ElementOrder; want != nil && strings.Join(doc.Elements, ",") != strings.Join(want, ",") {
		t.Errorf("elements %v, want %v", doc.Elements, want)
	}
}
