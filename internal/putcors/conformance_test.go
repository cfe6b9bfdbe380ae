package putcors

import (
	"net/http"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// TestConformancePut runs the put cases of testdata/conformance/cases.json
// through Decode with S3's options: the status, code, message and extra
// elements of every refusal, and for an accepted document the rules
// GetBucketCors then returns.
func TestConformancePut(t *testing.T) {
	cases, err := conformance.Load("../../testdata/conformance/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range cases {
		c := &cases[i]
		if c.Kind != "put" {
			continue
		}
		n++
		t.Run(c.ID, func(t *testing.T) { runPutCase(t, c) })
	}
	if n < 15 {
		t.Fatalf("only %d put cases loaded", n)
	}
}

func runPutCase(t *testing.T, c *conformance.Case) {
	xmlBody, jsonBody := conformance.PutBodies(c)
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
			h := conformance.PutHeaders(c, form.body, form.contentType)
			cfg, err := Decode(h, form.body, Options{Owner: conformance.Owner, RequireIntegrity: true})
			if c.Expect.Status == http.StatusOK {
				if err != nil {
					t.Fatalf("put refused: %v", err)
				}
				if c.ThenGet != nil {
					want, err := s3cors.ParseJSON([]byte(`{"CORSRules":` + string(c.ThenGet.CORSRules) + `}`))
					if err != nil {
						t.Fatalf("case's get rules do not parse: %v", err)
					}
					if !cfg.Equal(want) {
						t.Errorf("get returns %s, want %s", cfg.XML(), want.XML())
					}
				}
				return
			}
			e, ok := err.(*s3err.Error)
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
					t.Errorf("field %s = %q, want %v", name, got, conformance.Deref(want))
				}
			}
		})
	}
}
