package store

import (
	"strings"
	"testing"
)

// TestCompactRoundTrip: expanding a compact form gives back the very bytes
// it was made from, whatever they are, and the canonical XML shrinks.
func TestCompactRoundTrip(t *testing.T) {
	canonicalXML := string(mustParse(t, testXML("https://a.example")).XML())
	for _, tc := range []struct {
		name    string
		in      string
		smaller bool
	}{
		{name: "canonical document", in: canonicalXML, smaller: true},
		{name: "empty", in: ""},
		{name: "no declaration, no namespace", in: "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", smaller: true},
		{name: "whitespace and line breaks kept", in: "<CORSConfiguration>\n\t<CORSRule>\r\n</CORSRule></CORSConfiguration>\n"},
		{name: "unknown elements and a lone <", in: "<Foo>a < b</Foo><AllowedOrigin"},
		{name: "a byte XML forbids: kept raw", in: "<ID>\x01\x02\x1f</ID>"},
		{name: "not XML at all", in: "\xff\xfe\x00\x01"},
		{name: "long value", in: "<AllowedOrigin>" + strings.Repeat("x", 5000) + "</AllowedOrigin>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compact([]byte(tc.in))
			if got := string(expand(c)); got != tc.in {
				t.Fatalf("expand(compact(%q)) = %q", tc.in, got)
			}
			if tc.smaller && len(c)*3 > len(tc.in) {
				t.Errorf("compact form of %d bytes for %d", len(c), len(tc.in))
			}
		})
	}
}
