package s3cors

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// The seed corpora live in testdata/fuzz/<target>; `go test` runs them as
// regression cases, and `go test -fuzz=<target>` explores from them.

func FuzzParseXML(f *testing.F) {
	f.Add([]byte(xmlDoc(validRuleXML)))
	f.Fuzz(func(t *testing.T, body []byte) {
		cfg, err := ParseXML(body)
		checkParseOutcome(t, cfg, err)
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"CORSRules":[` + validRuleJSON + `]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cfg, err := ParseJSON(body)
		checkParseOutcome(t, cfg, err)
	})
}

// checkParseOutcome: an error is an S3 error document; a configuration is
// valid, round-trips through both forms, and compiles.
func checkParseOutcome(t *testing.T, cfg *Configuration, err error) {
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %v is not an S3 error", err)
		}
		if cfg != nil {
			t.Fatal("configuration returned with an error")
		}
		return
	}
	if len(cfg.Rules) == 0 || len(cfg.Rules) > MaxRules {
		t.Fatalf("%d rules accepted", len(cfg.Rules))
	}
	out := cfg.XML()
	back, err := ParseXML(out)
	if err != nil {
		t.Fatalf("own XML refused: %v\n%s", err, out)
	}
	if !bytes.Equal(back.XML(), out) {
		t.Fatalf("XML round trip changed\n%s\n%s", out, back.XML())
	}
	backJSON, err := ParseJSON(cfg.JSON())
	if err != nil || !backJSON.Equal(cfg) {
		t.Fatalf("JSON round trip: %v\n%s", err, cfg.JSON())
	}
	// What is stored is the XML: it must hold every value exactly.
	if string(back.JSON()) != string(cfg.JSON()) {
		t.Fatalf("values lost in XML\n%s\n%s", cfg.JSON(), back.JSON())
	}
	Compile(cfg)
}

func FuzzRequestHeaders(f *testing.F) {
	f.Add("content-type", "x-amz-*")
	f.Add("A, b,,c ,", "*")
	f.Add(" , ", "a")
	f.Fuzz(func(t *testing.T, acrh, allowed string) {
		var req requestHeaders
		req.parse([]string{acrh})
		if req.tooLarge {
			if len(acrh) <= MaxRequestHeadersLength {
				t.Fatal("small value reported too large")
			}
			return
		}
		if req.n > len(acrh) {
			t.Fatalf("%d items from %d bytes", req.n, len(acrh))
		}
		if req.present() {
			v := req.allowHeaders()
			if len(v) != 1 {
				t.Fatalf("allow headers %q", v)
			}
			if strings.ContainsAny(v[0], "\r\n") && !strings.ContainsAny(acrh, "\r\n") {
				t.Fatalf("line break invented: %q", v[0])
			}
			if strings.ContainsAny(v[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				t.Fatalf("not lower case: %q", v[0])
			}
			if strings.Count(v[0], ", ") < req.n-1 {
				t.Fatalf("items lost: %q from %q", v[0], acrh)
			}
		}
		// Matching against a header set never panics and agrees with a
		// plain case-insensitive comparison for exact names.
		cfg := &Configuration{Rules: []Rule{{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}, AllowedHeaders: []string{allowed}}}}
		p := Compile(cfg)
		r := httptest.NewRequest("OPTIONS", "/b/k", nil)
		r.Header["Origin"] = []string{"o"}
		r.Header["Access-Control-Request-Method"] = []string{"GET"}
		r.Header["Access-Control-Request-Headers"] = []string{acrh}
		d := p.Evaluate(r, true)
		if !strings.Contains(allowed, "*") && req.n == 1 {
			want := equalFoldASCII(strings.Trim(acrh, " \t,"), allowed)
			if (d.Result == Allowed) != want {
				t.Fatalf("ACRH %q vs allowed %q: %s", acrh, allowed, d.Result)
			}
		}
	})
}
