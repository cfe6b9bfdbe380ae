package s3cors

import (
	"net/http"
	"strings"
	"testing"
)

const (
	wantMalformed  = "MalformedXML"
	wantInvalidReq = "InvalidRequest"
	validRuleXML   = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
	configOpenNS   = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`
	configClose    = "</CORSConfiguration>"
	validRuleJSON  = `{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}`
)

func xmlDoc(rules ...string) string {
	return configOpenNS + strings.Join(rules, "") + configClose
}

func TestParseXMLErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		code    string
		message string
	}{
		{"no rules", xmlDoc(), wantMalformed, msgMalformedXML},
		{"empty rule", xmlDoc("<CORSRule></CORSRule>"), wantMalformed, msgMalformedXML},
		{"missing origin", xmlDoc("<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantMalformed, msgMalformedXML},
		{"missing method", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>"), wantMalformed, msgMalformedXML},
		{"max age not integer", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>a</MaxAgeSeconds></CORSRule>"), wantMalformed, msgMalformedXML},
		{"max age empty", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds></MaxAgeSeconds></CORSRule>"), wantMalformed, msgMalformedXML},
		{"max age overflow", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>2147483648</MaxAgeSeconds></CORSRule>"), wantMalformed, msgMalformedXML},
		{"max age twice", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds></CORSRule>"), wantMalformed, msgMalformedXML},
		{"id twice", xmlDoc("<CORSRule><ID>a</ID><ID>b</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantMalformed, msgMalformedXML},
		{"unknown element", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Foo>1</Foo></CORSRule>"), wantMalformed, msgMalformedXML},
		{"nested element in value", xmlDoc("<CORSRule><AllowedOrigin><a/></AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantMalformed, msgMalformedXML},
		{"wrong root", "<CORSConfig>" + validRuleXML + "</CORSConfig>", wantMalformed, msgMalformedXML},
		{"foreign namespace", `<CORSConfiguration xmlns="urn:x">` + validRuleXML + configClose, wantMalformed, msgMalformedXML},
		{"text in root", xmlDoc("hello" + validRuleXML), wantMalformed, msgMalformedXML},
		{"truncated", configOpenNS + "<CORSRule><AllowedOrigin>", wantMalformed, msgMalformedXML},
		{"not xml", "hello", wantMalformed, msgMalformedXML},
		{"empty body", "", wantMalformed, msgMalformedXML},
		{"two roots", xmlDoc(validRuleXML) + xmlDoc(validRuleXML), wantMalformed, msgMalformedXML},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + xmlDoc(validRuleXML), wantMalformed, msgMalformedXML},
		{"lower-case method", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod></CORSRule>"), wantInvalidReq, "Found unsupported HTTP method in CORS config. Unsupported method is get"},
		{"unsupported method", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>MYMETHOD</AllowedMethod></CORSRule>"), wantInvalidReq, "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"},
		{"empty method", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod></AllowedMethod></CORSRule>"), wantInvalidReq, "Found unsupported HTTP method in CORS config. Unsupported method is "},
		{"origin two wildcards", xmlDoc("<CORSRule><AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantInvalidReq, `AllowedOrigin "*example*.com" can not have more than one wildcard.`},
		{"header two wildcards", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*-amz-*</AllowedHeader></CORSRule>"), wantInvalidReq, `AllowedHeader "*-amz-*" can not have more than one wildcard.`},
		{"expose wildcard", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-amz-meta-*</ExposeHeader></CORSRule>"), wantInvalidReq, `ExposeHeader "x-amz-meta-*" contains wildcard. We currently do not support wildcard for ExposeHeader.`},
		{"expose invalid character", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x amz</ExposeHeader></CORSRule>"), wantInvalidReq, "AllowedHeader x amz contains invalid character."},
		{"header invalid character", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>a:b</AllowedHeader></CORSRule>"), wantInvalidReq, "AllowedHeader a:b contains invalid character."},
		{"id too long", xmlDoc("<CORSRule><ID>" + strings.Repeat("i", 256) + "</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), "InvalidArgument", msgIDTooLong},
		{"101 rules", xmlDoc(strings.Repeat(validRuleXML, 101)), wantInvalidReq, msgTooManyRules},
		{"101 rules win over a bad value", xmlDoc(strings.Replace(validRuleXML, "GET", "get", 1) + strings.Repeat(validRuleXML, 100)), wantInvalidReq, msgTooManyRules},
		{"origin with CR", xmlDoc("<CORSRule><AllowedOrigin>https://a&#13;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantInvalidReq, "AllowedOrigin https://a\r contains invalid character."},
		{"origin with LF", xmlDoc("<CORSRule><AllowedOrigin>https://a\nb</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantInvalidReq, "AllowedOrigin https://a\nb contains invalid character."},
		{"origin with DEL", xmlDoc("<CORSRule><AllowedOrigin>https://a\x7f</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantInvalidReq, "AllowedOrigin https://a\x7f contains invalid character."},
		{"origin with spaces around", xmlDoc("<CORSRule><AllowedOrigin> https://a </AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantInvalidReq, "AllowedOrigin  https://a  contains invalid character."},
		{"origin on its own lines", xmlDoc("<CORSRule><AllowedOrigin>\n  https://a\n</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantInvalidReq, "AllowedOrigin \n  https://a\n contains invalid character."},
		{"schema error wins over value error", xmlDoc(strings.Replace(validRuleXML, "GET", "get", 1), "<CORSRule></CORSRule>"), wantMalformed, msgMalformedXML},
		{"first value in document order: origin before method", xmlDoc("<CORSRule><AllowedOrigin>*a*</AllowedOrigin><AllowedMethod>get</AllowedMethod></CORSRule>"), wantInvalidReq, `AllowedOrigin "*a*" can not have more than one wildcard.`},
		{"first value in document order: method before origin", xmlDoc("<CORSRule><AllowedMethod>get</AllowedMethod><AllowedOrigin>*a*</AllowedOrigin></CORSRule>"), wantInvalidReq, "Found unsupported HTTP method in CORS config. Unsupported method is get"},
		{"first value in document order: earlier rule", xmlDoc(strings.Replace(validRuleXML, "GET", "PATCH", 1), strings.Replace(validRuleXML, "GET", "get", 1)), wantInvalidReq, "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"},
		{"too large", xmlDoc(strings.Repeat(validRuleXML, MaxBodySize/len(validRuleXML)+1)), "MaxMessageLengthExceeded", "Your request was too big."},
		// XML's white space is space, tab, CR and LF; encoding/xml hands
		// other Unicode spaces over as text, which the schema refuses.
		{"no-break space before the root", "\u00a0" + xmlDoc(validRuleXML), wantMalformed, msgMalformedXML},
		{"no-break space between rules", xmlDoc(validRuleXML, "\u00a0", validRuleXML), wantMalformed, msgMalformedXML},
		{"next line (U+0085) in the root", xmlDoc("\u0085" + validRuleXML), wantMalformed, msgMalformedXML},
		{"en quad in a rule", xmlDoc("<CORSRule>\u2000<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), wantMalformed, msgMalformedXML},
		{"ideographic space after the root", xmlDoc(validRuleXML) + "\u3000", wantMalformed, msgMalformedXML},
		{"max age after a no-break space", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>\u00a0600</MaxAgeSeconds></CORSRule>"), wantMalformed, msgMalformedXML},
		{"max age before a line separator", xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>600\u2028</MaxAgeSeconds></CORSRule>"), wantMalformed, msgMalformedXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseXML([]byte(tt.body))
			checkS3Error(t, cfg, err, tt.code, tt.message)
		})
	}
}

func checkS3Error(t *testing.T, cfg *Configuration, err error, code, message string) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %v, %v; want S3 error %s", cfg, err, code)
	}
	if e.Code != code || e.Message != message {
		t.Errorf("got %s %q, want %s %q", e.Code, e.Message, code, message)
	}
	if e.Status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", e.Status)
	}
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		code    string
		message string
	}{
		{"no rules", `{"CORSRules":[]}`, wantMalformed, msgMalformedXML},
		{"no CORSRules member", `{}`, wantMalformed, msgMalformedXML},
		{"empty rule", `{"CORSRules":[{}]}`, wantMalformed, msgMalformedXML},
		{"missing origin", `{"CORSRules":[{"AllowedMethods":["GET"]}]}`, wantMalformed, msgMalformedXML},
		{"missing method", `{"CORSRules":[{"AllowedOrigins":["*"]}]}`, wantMalformed, msgMalformedXML},
		{"max age fraction", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"MaxAgeSeconds":1.5}]}`, wantMalformed, msgMalformedXML},
		{"unknown member", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"Foo":1}]}`, wantMalformed, msgMalformedXML},
		{"wrong type", `{"CORSRules":[{"AllowedOrigins":"*","AllowedMethods":["GET"]}]}`, wantMalformed, msgMalformedXML},
		{"trailing data", `{"CORSRules":[` + validRuleJSON + `]} x`, wantMalformed, msgMalformedXML},
		{"not json", `hello`, wantMalformed, msgMalformedXML},
		{"lower-case method", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["put","get"]}]}`, wantInvalidReq, "Found unsupported HTTP method in CORS config. Unsupported method is put"},
		{"headers checked before methods", `{"CORSRules":[{"AllowedMethods":["put"],"AllowedOrigins":["*"],"AllowedHeaders":["*a*"]}]}`, wantInvalidReq, `AllowedHeader "*a*" can not have more than one wildcard.`},
		{"methods checked before origins", `{"CORSRules":[{"AllowedOrigins":["*a*"],"AllowedMethods":["put"]}]}`, wantInvalidReq, "Found unsupported HTTP method in CORS config. Unsupported method is put"},
		{"control character", `{"CORSRules":[{"AllowedOrigins":["a\u0001"],"AllowedMethods":["GET"]}]}`, wantMalformed, msgMalformedXML},
		{"invalid UTF-8", "{\"CORSRules\":[{\"ID\":\"\xff\",\"AllowedOrigins\":[\"*\"],\"AllowedMethods\":[\"GET\"]}]}", wantMalformed, msgMalformedXML},
		{"101 rules", `{"CORSRules":[` + strings.Repeat(validRuleJSON+",", 100) + validRuleJSON + `]}`, wantInvalidReq, msgTooManyRules},
		// Documents other tools would read otherwise (issue 14): refused.
		{"CORSRules twice", `{"CORSRules":[{"AllowedOrigins":["https://a"],"AllowedMethods":["GET"]}],"CORSRules":[` + validRuleJSON + `]}`, wantMalformed, msgMalformedXML},
		{"AllowedOrigins twice", `{"CORSRules":[{"AllowedOrigins":["https://a"],"AllowedMethods":["GET"],"AllowedOrigins":["*"]}]}`, wantMalformed, msgMalformedXML},
		{"ID twice", `{"CORSRules":[{"ID":"a","ID":"b","AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`, wantMalformed, msgMalformedXML},
		{"MaxAgeSeconds twice", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"MaxAgeSeconds":1,"MaxAgeSeconds":2}]}`, wantMalformed, msgMalformedXML},
		{"corsrules in lower case", `{"corsrules":[` + validRuleJSON + `]}`, wantMalformed, msgMalformedXML},
		{"allowedOrigins in another case", `{"CORSRules":[{"allowedOrigins":["*"],"AllowedMethods":["GET"]}]}`, wantMalformed, msgMalformedXML},
		{"same member in two cases", `{"CORSRules":[{"AllowedOrigins":["https://a"],"ALLOWEDORIGINS":["*"],"AllowedMethods":["GET"]}]}`, wantMalformed, msgMalformedXML},
		{"bare array, member twice", `[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedMethods":["PUT"]}]`, wantMalformed, msgMalformedXML},
		{"Kelvin sign in a member name", "{\"CORSRules\":[{\"AllowedOrigins\":[\"*\"],\"AllowedMethods\":[\"GET\"],\"ID\u212a\":\"x\"}]}", wantMalformed, msgMalformedXML},
		{"nested too deep", `{"CORSRules":[{"AllowedOrigins":[["*"]],"AllowedMethods":["GET"]}]}`, wantMalformed, msgMalformedXML},
		// AllowedOrigin values no browser sends, refused as ExposeHeader's.
		{"origin with CR LF", `{"CORSRules":[{"AllowedOrigins":["https://a\r\nX-Injected: 1"],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin https://a\r\nX-Injected: 1 contains invalid character."},
		{"origin with LF", `{"CORSRules":[{"AllowedOrigins":["https://a\n"],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin https://a\n contains invalid character."},
		{"origin with tab", `{"CORSRules":[{"AllowedOrigins":["https://a\tb"],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin https://a\tb contains invalid character."},
		{"origin with DEL", `{"CORSRules":[{"AllowedOrigins":["https://a\u007f"],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin https://a\x7f contains invalid character."},
		{"origin with C1 control", `{"CORSRules":[{"AllowedOrigins":["https://a\u0085"],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin https://a\u0085 contains invalid character."},
		{"origin with leading space", `{"CORSRules":[{"AllowedOrigins":[" https://a"],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin  https://a contains invalid character."},
		{"origin with trailing space", `{"CORSRules":[{"AllowedOrigins":["https://a "],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin https://a  contains invalid character."},
		{"origin of one space", `{"CORSRules":[{"AllowedOrigins":[" "],"AllowedMethods":["GET"]}]}`, wantInvalidReq, "AllowedOrigin   contains invalid character."},
		// JSON's white space is space, tab, LF and CR (RFC 8259), as for
		// encoding/json; other spaces around the document are refused.
		{"no-break space before the document", "\u00a0" + `{"CORSRules":[` + validRuleJSON + `]}`, wantMalformed, msgMalformedXML},
		{"next line (U+0085) after the document", `{"CORSRules":[` + validRuleJSON + `]}` + "\u0085", wantMalformed, msgMalformedXML},
		{"line separator after the document", `{"CORSRules":[` + validRuleJSON + `]}` + "\u2028", wantMalformed, msgMalformedXML},
		{"ideographic spaces around a bare array", "\u3000[" + validRuleJSON + "]\u3000", wantMalformed, msgMalformedXML},
		{"vertical tab before the document", "\v" + `{"CORSRules":[` + validRuleJSON + `]}`, wantMalformed, msgMalformedXML},
		{"form feed after the document", `{"CORSRules":[` + validRuleJSON + `]}` + "\f", wantMalformed, msgMalformedXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseJSON([]byte(tt.body))
			checkS3Error(t, cfg, err, tt.code, tt.message)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // the GetBucketCors rules
	}{
		{"no namespace, any order",
			"<CORSConfiguration><CORSRule><MaxAgeSeconds>5</MaxAgeSeconds><AllowedMethod>GET</AllowedMethod><ID>x</ID><AllowedOrigin>http://a</AllowedOrigin></CORSRule></CORSConfiguration>",
			"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://a</AllowedOrigin><ID>x</ID><MaxAgeSeconds>5</MaxAgeSeconds></CORSRule>"},
		{"declaration, comments, whitespace",
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n" + configOpenNS + "\n  <CORSRule>\n <AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>\n" + configClose + "\n",
			"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>"},
		{"empty origin kept",
			xmlDoc("<CORSRule><AllowedOrigin></AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"),
			"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin></AllowedOrigin></CORSRule>"},
		{"case and order kept",
			xmlDoc("<CORSRule><AllowedHeader>x-AMZ-b</AllowedHeader><AllowedHeader>A</AllowedHeader><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://B</AllowedOrigin><ExposeHeader>ETag</ExposeHeader></CORSRule>"),
			"<CORSRule><AllowedHeader>x-AMZ-b</AllowedHeader><AllowedHeader>A</AllowedHeader><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://B</AllowedOrigin><ExposeHeader>ETag</ExposeHeader></CORSRule>"},
		{"escaped values",
			xmlDoc("<CORSRule><ID>a&amp;b&lt;c</ID><AllowedOrigin><![CDATA[http://x?a=1&b=2]]></AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"),
			"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://x?a=1&amp;b=2</AllowedOrigin><ID>a&amp;b&lt;c</ID></CORSRule>"},
		{"one wildcard patterns",
			xmlDoc("<CORSRule><AllowedOrigin>http://*.example.com</AllowedOrigin><AllowedOrigin>http*</AllowedOrigin><AllowedOrigin>*suffix</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader></CORSRule>"),
			"<CORSRule><AllowedHeader>x-amz-*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://*.example.com</AllowedOrigin><AllowedOrigin>http*</AllowedOrigin><AllowedOrigin>*suffix</AllowedOrigin></CORSRule>"},
		{"negative and zero max age",
			xmlDoc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds> -1 </MaxAgeSeconds></CORSRule>", "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>0</MaxAgeSeconds></CORSRule>"),
			"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>0</MaxAgeSeconds></CORSRule>"},
		{"XML white space: space, tab, CR, LF",
			" \t\r\n" + configOpenNS + " \t\r\n<CORSRule>\t<AllowedOrigin>*</AllowedOrigin>\r\n<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>\r\n\t 5 \t</MaxAgeSeconds> </CORSRule>\n" + configClose + "\r\n\t ",
			"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>5</MaxAgeSeconds></CORSRule>"},
		{"100 rules", xmlDoc(strings.Repeat(validRuleXML, 100)),
			strings.Repeat("<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseXML([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			want := `<?xml version="1.0" encoding="UTF-8"?>` + configOpenNS + tt.want + configClose
			if got := string(cfg.XML()); got != want {
				t.Errorf("XML()\n got %s\nwant %s", got, want)
			}
			checkRoundTrip(t, cfg)
		})
	}
}

// TestParseJSONWhiteSpace: the white space JSON allows (space, tab, LF,
// CR) is accepted around the document and between its tokens.
func TestParseJSONWhiteSpace(t *testing.T) {
	want, err := ParseJSON([]byte(`{"CORSRules":[` + validRuleJSON + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, body string }{
		{"around the object", " \t\n\r" + `{"CORSRules":[` + validRuleJSON + `]}` + "\r\n\t "},
		{"around a bare array", "\n[" + validRuleJSON + "]\n"},
		{"between tokens", "{ \"CORSRules\" :\t[\r\n{\"AllowedOrigins\" : [ \"*\" ] ,\n\"AllowedMethods\":[\"GET\"]} ]\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseJSON([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.Equal(want) {
				t.Errorf("got %s, want %s", cfg.XML(), want.XML())
			}
		})
	}
}

func TestParseJSONShapes(t *testing.T) {
	object, err := ParseJSON([]byte(`{"CORSRules":[{"ID":"","AllowedHeaders":["A"],"AllowedMethods":["GET"],"AllowedOrigins":[""],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]}`))
	if err != nil {
		t.Fatal(err)
	}
	array, err := ParseJSON([]byte(`[{"ID":"","AllowedHeaders":["A"],"AllowedMethods":["GET"],"AllowedOrigins":[""],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]`))
	if err != nil {
		t.Fatal(err)
	}
	if !object.Equal(array) {
		t.Errorf("console array %s differs from object %s", array.XML(), object.XML())
	}
	const want = `{"CORSRules":[{"ID":"","AllowedHeaders":["A"],"AllowedMethods":["GET"],"AllowedOrigins":[""],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]}`
	if got := string(object.JSON()); got != want {
		t.Errorf("JSON()\n got %s\nwant %s", got, want)
	}
	checkRoundTrip(t, object)
}

// TestParseStoredXML checks that a configuration stored before the
// AllowedOrigin checks were tightened is still read back, while the same
// document is refused as a new write.
func TestParseStoredXML(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		stored bool // ParseStoredXML accepts it
	}{
		{"origin with spaces around", xmlDoc("<CORSRule><AllowedOrigin> https://a </AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), true},
		{"origin with CR LF", xmlDoc("<CORSRule><AllowedOrigin>https://a&#13;\nb</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), true},
		{"origin with two wildcards", xmlDoc("<CORSRule><AllowedOrigin>*a*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"), false},
		{"malformed", xmlDoc("<CORSRule></CORSRule>"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseXML([]byte(tt.body)); err == nil {
				t.Error("ParseXML accepted it")
			}
			cfg, err := ParseStoredXML([]byte(tt.body))
			if (err == nil) != tt.stored {
				t.Fatalf("ParseStoredXML: %v, want accepted %v", err, tt.stored)
			}
			if cfg != nil && !cfg.Equal(mustParseStored(t, cfg.XML())) {
				t.Error("stored configuration does not round-trip")
			}
		})
	}
}

func mustParseStored(t *testing.T, body []byte) *Configuration {
	t.Helper()
	cfg, err := ParseStoredXML(body)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestParseEitherShape(t *testing.T) {
	tests := []struct {
		name, body string
		json       bool
	}{
		{"xml", xmlDoc(validRuleXML), false},
		{"xml after a line break", "\n" + xmlDoc(validRuleXML), false},
		{"json", `{"CORSRules":[` + validRuleJSON + `]}`, true},
		{"json after spaces", " \t\r\n" + `{"CORSRules":[` + validRuleJSON + `]}`, true},
		{"bare list of rules", `[` + validRuleJSON + `]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsJSON([]byte(tt.body)); got != tt.json {
				t.Errorf("IsJSON = %v, want %v", got, tt.json)
			}
			cfg, err := Parse([]byte(tt.body))
			if err != nil || len(cfg.Rules) != 1 {
				t.Fatalf("Parse: %v %v", cfg, err)
			}
		})
	}
	if IsJSON([]byte("  ")) {
		t.Error("IsJSON of blanks")
	}
}
