package s3cors

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// conformanceCase is one case of testdata/conformance/cases.json.
type conformanceCase = conformance.Case

// loadConformanceCases reads the shared conformance file; the Caddy tests
// read the same file through the same loader.
func loadConformanceCases(t testing.TB) []conformanceCase {
	t.Helper()
	cases, err := conformance.Load("../testdata/conformance/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// writeError is the stand-in store's error document: the engine's own.
func writeError(w http.ResponseWriter, status int, code, message string) {
	(&Error{Status: status, Code: code, Message: message}).WriteTo(w)
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
	Wrap(p, conformance.Upstream(c, writeError)).ServeHTTP(rec, req)
	res := rec.Result()
	conformance.CheckResponse(t, c, res.StatusCode, res.Header, rec.Body.Bytes())
}

// runPutCase checks the engine's part of PutBucketCors: every accepted
// document parses, in both forms, and round-trips to the rules GetBucketCors
// returns. The refusals, with the integrity and owner checks before the
// document, are internal/putcors's cases.
func runPutCase(t *testing.T, c *conformanceCase) {
	if c.Expect.Status != http.StatusOK {
		return // internal/putcors checks the refusal
	}
	xmlBody, jsonBody := conformance.PutBodies(c)
	for _, form := range []struct {
		name  string
		parse func([]byte) (*Configuration, error)
		body  []byte
	}{{"xml", ParseXML, xmlBody}, {"json", ParseJSON, jsonBody}} {
		if form.body == nil {
			continue
		}
		t.Run(form.name, func(t *testing.T) {
			cfg, err := form.parse(form.body)
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
	e := s3err.NoSuchCORSConfiguration("my-bucket")
	rec := httptest.NewRecorder()
	e.WriteTo(rec)
	doc := conformance.ParseErrorDoc(t, rec.Body.Bytes())
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
