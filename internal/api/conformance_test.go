package api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

const conformanceBucket = "my-bucket"

// conformanceServer serves both configuration APIs over HTTP against m:
// the admin routes under AdminPrefix, and the S3 API (path style, with a
// verifier that accepts every request) elsewhere.
func conformanceServer(t *testing.T, m *memConfigs) *httptest.Server {
	t.Helper()
	admin := &Admin{Lookup: func() Configs { return m }, Owner: func() string { return conformance.Owner }}
	v := &fakeVerifier{}
	s3 := &S3API{Verify: v.verify, Owner: conformance.Owner}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, AdminPrefix) {
			admin.ServeHTTP(w, r)
			return
		}
		if !s3.IsCORSRequest(r) {
			http.NotFound(w, r)
			return
		}
		bucket, _ := s3cors.SplitPath(r.URL.Path)
		s3.ServeCORS(w, r, bucket, m, nil)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, srv *httptest.Server, method, path string, body []byte, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range h {
		req.Header[name] = values
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// sdkXML turns a case's aws cli JSON into the XML the SDKs send for it:
// namespaced, the members of a rule in the model's order, values as they
// are, unvalidated.
func sdkXML(t *testing.T, doc []byte) []byte {
	t.Helper()
	var in struct {
		CORSRules []struct {
			ID             *string
			AllowedHeaders []string
			AllowedMethods []string
			AllowedOrigins []string
			ExposeHeaders  []string
			MaxAgeSeconds  *json.Number
		}
	}
	if err := json.Unmarshal(doc, &in); err != nil {
		t.Fatalf("case JSON %s: %v", doc, err)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration xmlns="` + s3cors.Namespace + `">`)
	el := func(name, value string) {
		b.WriteString("<" + name + ">")
		if err := xml.EscapeText(&b, []byte(value)); err != nil {
			t.Fatal(err)
		}
		b.WriteString("</" + name + ">")
	}
	for _, r := range in.CORSRules {
		b.WriteString("<CORSRule>")
		if r.ID != nil {
			el("ID", *r.ID)
		}
		for _, list := range []struct {
			name   string
			values []string
		}{{"AllowedHeader", r.AllowedHeaders}, {"AllowedMethod", r.AllowedMethods}, {"AllowedOrigin", r.AllowedOrigins}, {"ExposeHeader", r.ExposeHeaders}} {
			for _, v := range list.values {
				el(list.name, v)
			}
		}
		if r.MaxAgeSeconds != nil {
			el("MaxAgeSeconds", r.MaxAgeSeconds.String())
		}
		b.WriteString("</CORSRule>")
	}
	b.WriteString("</CORSConfiguration>")
	return b.Bytes()
}

// withBucket returns c with the "<bucket>" placeholder of its expected
// error elements replaced by the bucket name.
func withBucket(c *conformance.Case) *conformance.Case {
	cc := *c
	cc.Expect.ErrorFields = map[string]*string{}
	for name, v := range c.Expect.ErrorFields {
		if v != nil && *v == "<bucket>" {
			b := conformanceBucket
			v = &b
		}
		cc.Expect.ErrorFields[name] = v
	}
	return &cc
}

// rulesConfig parses a case's CORSRules list.
func rulesConfig(t *testing.T, rules json.RawMessage) *s3cors.Configuration {
	t.Helper()
	return mustConfig(t, `{"CORSRules":`+string(rules)+`}`)
}

// getConfig reads the bucket's configuration back through the route,
// failing t when there is none.
func getConfig(t *testing.T, srv *httptest.Server, path string) *s3cors.Configuration {
	t.Helper()
	res := do(t, srv, "GET", path, nil, nil)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/xml" {
		t.Fatalf("get after put: %d %q %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	cfg, err := s3cors.ParseXML(res.body)
	if err != nil {
		t.Fatalf("get after put answers XML that does not parse: %v\n%s", err, res.body)
	}
	return cfg
}

// TestConformanceOverHTTP runs the put, get and delete cases of the
// conformance file through both configuration APIs over HTTP: the admin
// routes (XML and JSON forms) and the S3 API (the XML an SDK sends).
func TestConformanceOverHTTP(t *testing.T) {
	cases, err := conformance.Load("../../testdata/conformance/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for i := range cases {
		c := &cases[i]
		switch c.Kind {
		case "put":
			ran++
			t.Run(c.ID, func(t *testing.T) { runPutCase(t, c) })
		case "get", "delete":
			ran++
			t.Run(c.ID, func(t *testing.T) { runGetDeleteCase(t, c) })
		}
	}
	if ran < 20 {
		t.Fatalf("only %d put/get/delete cases ran", ran)
	}
}

// adminIntegrityOptional lists the cases where the admin routes deviate,
// by design, from S3: they verify integrity headers only when present.
var adminIntegrityOptional = map[string]bool{"put-missing-md5": true}

func runPutCase(t *testing.T, c *conformance.Case) {
	xmlBody, jsonBody := conformance.PutBodies(c)
	type form struct {
		name, path, contentType string
		body                    []byte
		status                  int
	}
	var forms []form
	adminStatus := c.Expect.Status
	if adminIntegrityOptional[c.ID] {
		adminStatus = http.StatusOK
	}
	if xmlBody != nil {
		forms = append(forms, form{"admin xml", BucketsPath + "/" + conformanceBucket, "application/xml", xmlBody, adminStatus})
	}
	if jsonBody != nil {
		forms = append(forms, form{"admin json", BucketsPath + "/" + conformanceBucket, "application/json", jsonBody, adminStatus})
	}
	s3Body := xmlBody
	if s3Body == nil && jsonBody != nil {
		s3Body = sdkXML(t, jsonBody)
	}
	if s3Body != nil {
		forms = append(forms, form{"s3 api", "/" + conformanceBucket + "?cors", "", s3Body, c.Expect.Status})
	}
	if len(forms) == 0 {
		t.Fatal("put case without a body")
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			m := newMem(t, nil)
			srv := conformanceServer(t, m)
			h := conformance.PutHeaders(c, f.body, f.contentType)
			if f.contentType == "" {
				h.Del("Content-Type")
			}
			res := do(t, srv, "PUT", f.path, f.body, h)
			if f.status != http.StatusOK {
				conformance.CheckResponse(t, withBucket(c), res.status, res.header, res.body)
				if _, ok := m.get(conformanceBucket); ok {
					t.Errorf("a refused put stored a configuration")
				}
				return
			}
			if res.status != http.StatusOK || len(res.body) != 0 {
				t.Fatalf("put answered %d %s, want 200 and no body", res.status, res.body)
			}
			checkIDs(t, res.header)
			got := getConfig(t, srv, f.path)
			want := mustConfig(t, string(f.body)) // what was put
			if c.ThenGet != nil {
				want = rulesConfig(t, c.ThenGet.CORSRules)
			}
			if !got.Equal(want) {
				t.Errorf("get returns\n%s\nwant\n%s", got.XML(), want.XML())
			}
		})
	}
}

func runGetDeleteCase(t *testing.T, c *conformance.Case) {
	for _, route := range []struct{ name, path string }{
		{"admin", BucketsPath + "/" + conformanceBucket},
		{"s3 api", "/" + conformanceBucket + "?cors"},
	} {
		t.Run(route.name, func(t *testing.T) {
			m := newMem(t, nil)
			if c.HasConfig() {
				m.configs[conformanceBucket] = mustConfig(t, string(c.ConfigJSON()))
			}
			srv := conformanceServer(t, m)
			method := http.MethodGet
			if c.Kind == "delete" {
				method = http.MethodDelete
			}
			res := do(t, srv, method, route.path, nil, nil)
			conformance.CheckResponse(t, withBucket(c), res.status, res.header, res.body)
			checkIDs(t, res.header)
			if order := c.Expect.ElementOrder; order != nil {
				doc := conformance.ParseErrorDoc(t, res.body)
				if strings.Join(doc.Elements, ",") != strings.Join(order, ",") {
					t.Errorf("elements %v, want %v", doc.Elements, order)
				}
			}
			if c.Kind == "get" && c.Expect.Status == http.StatusOK {
				cfg, err := s3cors.ParseXML(res.body)
				if err != nil {
					t.Fatalf("get answers XML that does not parse: %v\n%s", err, res.body)
				}
				if want := rulesConfig(t, c.Expect.CORSRules); !cfg.Equal(want) {
					t.Errorf("get returns\n%s\nwant\n%s", cfg.XML(), want.XML())
				}
			}
			if then := c.Expect.ThenGet; then != nil {
				res := do(t, srv, http.MethodGet, route.path, nil, nil)
				if res.status != then.Status {
					t.Fatalf("then get: %d, want %d: %s", res.status, then.Status, res.body)
				}
				doc := conformance.ParseErrorDoc(t, res.body)
				if doc.Code != then.ErrorCode {
					t.Errorf("then get: code %q, want %q", doc.Code, then.ErrorCode)
				}
				for name, want := range then.ErrorFields {
					w := conformance.Deref(want)
					if w == "<bucket>" {
						w = conformanceBucket
					}
					if got := doc.Fields[name]; got != w {
						t.Errorf("then get: element %s = %q, want %q", name, got, w)
					}
				}
			}
		})
	}
}
