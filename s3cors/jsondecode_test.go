package s3cors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDecodeJSONRules: the JSON reader case by case: duplicates at every
// depth the shape has, escaped names, names in another case, strings
// that only look like members, and what encoding/json takes that a reader
// might not expect. Each verdict is also the one of the json.Decoder
// pipeline decodeJSONRules replaced.
func TestDecodeJSONRules(t *testing.T) {
	const rule = `"AllowedOrigins":["*"],"AllowedMethods":["GET"]`
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"object shape", `{"CORSRules":[{` + rule + `}]}`, true},
		{"bare array", `[{` + rule + `}]`, true},
		{"every member once", `{"CORSRules":[{"ID":"a","AllowedHeaders":["*"],"AllowedMethods":["GET"],"AllowedOrigins":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":1}]}`, true},
		{"the same member in two rules", `{"CORSRules":[{"ID":"a",` + rule + `},{"ID":"a",` + rule + `}]}`, true},
		{"white space everywhere", "{\n\t\"CORSRules\" :\r [ { \"ID\" : \"a\" , \"AllowedOrigins\" : [ \"*\" ] } ] }", true},
		{"empty object", `{}`, true},
		{"top-level null", `null`, true},
		{"null rules, rule, lists and values", `{"CORSRules":[null,{"ID":null,"AllowedOrigins":[null,"*"],"AllowedHeaders":null,"MaxAgeSeconds":null}]}`, true},
		{"max age as a string", `{"CORSRules":[{` + rule + `,"MaxAgeSeconds":"3000"}]}`, true},
		{"max age as a string that is no number", `{"CORSRules":[{` + rule + `,"MaxAgeSeconds":"x"}]}`, false},
		{"max age with exponent", `{"CORSRules":[{` + rule + `,"MaxAgeSeconds":-1.5e+3}]}`, true},
		{"max age with a leading zero", `{"CORSRules":[{` + rule + `,"MaxAgeSeconds":01}]}`, false},
		{"max age true", `{"CORSRules":[{` + rule + `,"MaxAgeSeconds":true}]}`, false},

		// Twice in one object, at each depth an object can have.
		{"twice at the top", `{"CORSRules":[],"CORSRules":[]}`, false},
		{"twice in a rule", `{"CORSRules":[{"ID":"a","ID":"b"}]}`, false},
		{"twice in the second rule", `{"CORSRules":[{"ID":"a"},{"ID":"a","AllowedOrigins":[],"ID":"b"}]}`, false},
		{"twice in a bare array's rule", `[{` + rule + `,"AllowedMethods":["PUT"]}]`, false},
		{"twice, far apart", `{"CORSRules":[{"MaxAgeSeconds":1,` + rule + `,"ExposeHeaders":[],"MaxAgeSeconds":2}]}`, false},
		{"twice, the first null", `{"CORSRules":[{"ID":null,"ID":"b"}]}`, false},

		// Escapes: names are compared unescaped, as encoding/json reads them.
		{"escaped names", `{"CORS\u0052ules":[{"\u0049\u0044":"a",` + rule + `}]}`, true},
		{"escaped duplicate", `{"CORSRules":[{"ID":"a","\u0049D":"b"}]}`, false},
		{"escaped solidus makes an unknown name", `{"CORSRules":[{"I\/D":"a"}]}`, false},
		{"escaped name in another case", `{"CORSRules":[{"\u0069d":"a"}]}`, false},
		{"escaped quote in a value", `{"CORSRules":[{"ID":"a\",\"ID\":\"b",` + rule + `}]}`, true},
		{"escaped backslash before the closing quote", `{"CORSRules":[{"ID":"a\\",` + rule + `}]}`, true},
		{"surrogate pair and lone surrogate", `{"CORSRules":[{"ID":"\ud83d\ude00\ud800x",` + rule + `}]}`, true},
		{"broken escape in a name", `{"CORSRules":[{"\uZZZZ":"a"}]}`, false},
		{"unknown escape", `{"CORSRules":[{"ID":"\x41",` + rule + `}]}`, false},
		{"raw control character", "{\"CORSRules\":[{\"ID\":\"a\x01\"," + rule + "}]}", false},

		// Case: encoding/json matches names case-insensitively; the
		// document must spell them exactly.
		{"lower case at the top", `{"corsrules":[]}`, false},
		{"lower case in a rule", `{"CORSRules":[{"id":"a"}]}`, false},
		{"two cases of one name", `{"CORSRules":[{"ID":"a","Id":"b"}]}`, false},
		{"Kelvin sign", "{\"CORSRules\":[{\"ID\u212a\":\"x\"}]}", false},

		// Strings that are values, not names.
		{"names as values", `{"CORSRules":[{"ID":"CORSRules","AllowedOrigins":["ID","ID"],"AllowedMethods":["GET"]}]}`, true},
		{"braces and commas in values", `{"CORSRules":[{"ID":"{\"ID\":1},[","AllowedOrigins":["}","]",","],"AllowedMethods":["GET"]}]}`, true},

		// Members out of place, wrong types, depth, syntax.
		{"rule member at the top", `{"CORSRules":[],"ID":"a"}`, false},
		{"CORSRules in a rule", `{"CORSRules":[{"CORSRules":[]}]}`, false},
		{"unknown name", `{"CORSRules":[{"Foo":1}]}`, false},
		{"empty name", `{"":1}`, false},
		{"a list where a string goes", `{"CORSRules":[{"AllowedOrigins":[["*"]]}]}`, false},
		{"a string where a list goes", `{"CORSRules":[{"AllowedOrigins":"*"}]}`, false},
		{"a number in a list", `{"CORSRules":[{"AllowedOrigins":[1]}]}`, false},
		{"a list as a rule", `{"CORSRules":[[]]}`, false},
		{"top-level string", `"CORSRules"`, false},
		{"trailing comma", `{"CORSRules":[{` + rule + `},]}`, false},
		{"missing colon", `{"CORSRules" [{` + rule + `}]}`, false},
		{"two values", `{"CORSRules":[]} {}`, false},
		{"not closed", `{"CORSRules":[{` + rule + `}]`, false},
		{"string not closed", `{"CORSRules":[{"ID":"a`, false},
		{"empty body", ``, false},
		{"very deep", strings.Repeat("[", 100000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := decodeJSONRules([]byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("decodeJSONRules(%s) = %v, want ok %v", tt.body, err, tt.ok)
			}
			want, werr := decodeJSONRulesReference([]byte(tt.body))
			if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(rules, want) {
				t.Errorf("differs from the json.Decoder pipeline:\n got %+v, %v\nwant %+v, %v", rules, err, want, werr)
			}
		})
	}
}

// TestDecodeJSONRulesMatches compares decodeJSONRules with the json.Decoder
// pipeline it replaced on generated documents of the shape, with duplicate,
// escaped, mis-cased, unknown and misplaced names, values of every type,
// and the same documents with one byte deleted, inserted or changed: the
// two must take the same documents and read them the same.
func TestDecodeJSONRulesMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2026))
	names := []string{"CORSRules", "ID", "AllowedHeaders", "AllowedMethods", "AllowedOrigins",
		"ExposeHeaders", "MaxAgeSeconds", "id", "Foo", "", `\u0049D`, `CORS\u0052ules`, `\u0069d`, `ID\/`}
	ruleNames := names[1:7]
	strs := []string{`"a"`, `"*"`, `"GET"`, `"a\"b\\"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"{[,:]}"`, `""`, `"3000"`, `"1e3"`, `"x1"`}
	scalars := []string{"1", "-2.5e3", "0", "3000", "true", "false", "null"}
	var value func(b *strings.Builder, depth int)
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	member := func(b *strings.Builder, list []string, depth int) {
		name := pick(list)
		fmt.Fprintf(b, `"%s":`, name)
		if r.IntN(6) == 0 {
			value(b, depth)
			return
		}
		switch name { // mostly the type the shape wants
		case "ID":
			b.WriteString(pick(strs))
		case "MaxAgeSeconds":
			b.WriteString(pick(append(scalars[:4:4], `"3000"`, `"1e3"`, "null")))
		default:
			b.WriteByte('[')
			for i := range r.IntN(3) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(pick(append(strs, "null")))
			}
			b.WriteByte(']')
		}
	}
	object := func(b *strings.Builder, list []string, depth int) {
		b.WriteByte('{')
		for i := range r.IntN(5) {
			if i > 0 {
				b.WriteByte(',')
			}
			if r.IntN(8) == 0 {
				member(b, names, depth+1)
			} else {
				member(b, list, depth+1)
			}
		}
		b.WriteByte('}')
	}
	value = func(b *strings.Builder, depth int) {
		switch k := r.IntN(10); {
		case k < 3 && depth < 5:
			b.WriteByte('[')
			for i := range r.IntN(4) {
				if i > 0 {
					b.WriteString(", ")
				}
				if depth < 2 && r.IntN(4) != 0 {
					object(b, ruleNames, depth+1)
				} else if r.IntN(5) == 0 {
					value(b, depth+1)
				} else {
					b.WriteString(pick(strs))
				}
			}
			b.WriteByte(']')
		case k == 3 && depth < 5:
			object(b, names, depth)
		case k < 7:
			b.WriteString(pick(strs))
		default:
			b.WriteString(pick(scalars))
		}
	}
	mutate := func(doc []byte) []byte {
		if len(doc) == 0 {
			return doc
		}
		i := r.IntN(len(doc))
		const bytesToTry = "{}[],:\"\\ nu0-.e1x\x01"
		c := bytesToTry[r.IntN(len(bytesToTry))]
		switch r.IntN(3) {
		case 0:
			return append(doc[:i:i], doc[i+1:]...)
		case 1:
			return append(doc[:i:i], append([]byte{c}, doc[i:]...)...)
		default:
			out := bytes.Clone(doc)
			out[i] = c
			return out
		}
	}
	compared, accepted := 0, 0
	for range 30000 {
		var b strings.Builder
		switch r.IntN(6) {
		case 0:
			value(&b, 1)
		case 1:
			b.WriteByte('[')
			object(&b, ruleNames, 1)
			b.WriteByte(']')
		default:
			b.WriteString(`{"CORSRules":[`)
			for i := range 1 + r.IntN(3) {
				if i > 0 {
					b.WriteByte(',')
				}
				object(&b, ruleNames, 2)
			}
			b.WriteString(`]}`)
		}
		doc := []byte(b.String())
		if r.IntN(3) == 0 {
			doc = mutate(doc)
		}
		if r.IntN(16) == 0 { // space around the document, JSON's or not
			pads := []string{"", " ", "\t\r\n", "\u00a0", "\u0085", "\u2028", "\v"}
			doc = []byte(pick(pads) + string(doc) + pick(pads))
		}
		got, err := decodeJSONRules(doc)
		want, werr := decodeJSONRulesReference(doc)
		if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v, %v\nwant %+v, %v", doc, got, err, want, werr)
		}
		compared++
		if err == nil {
			accepted++
		}
	}
	if accepted < compared/5 || accepted > compared*4/5 {
		t.Fatalf("%d of %d documents accepted: the generator does not cover both answers", accepted, compared)
	}
	t.Logf("%d documents compared, %d accepted", compared, accepted)
}

// decodeJSONRulesReference is the json.Decoder pipeline decodeJSONRules
// replaced (about five times slower): a Token walk refusing unknown and
// repeated member names and nesting deeper than the shape, then a strict
// decode.
func decodeJSONRulesReference(body []byte) ([]jsonRule, error) {
	if err := checkJSONMembersTokens(body); err != nil {
		return nil, err
	}
	if start := bytes.TrimLeft(body, whiteSpace); len(start) > 0 && start[0] == '[' {
		var rules []jsonRule
		err := decodeStrict(body, &rules)
		return rules, err
	}
	var doc struct{ CORSRules []jsonRule }
	err := decodeStrict(body, &doc)
	return doc.CORSRules, err
}

// decodeStrict decodes exactly one JSON value with no unknown fields and
// nothing after it.
func decodeStrict(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// checkJSONMembersTokens refuses a member name other than the shape's
// (spelled exactly), a name twice in one object, and nesting deeper than
// four.
func checkJSONMembersTokens(body []byte) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	type frame struct {
		object   bool
		wantName bool
		names    map[string]bool
	}
	var stack []frame
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantName {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				continue
			}
			name, _ := tok.(string)
			if jsonMember([]byte(name)) == 0 {
				return fmt.Errorf("unknown JSON member %q", name)
			}
			if top.names[name] {
				return fmt.Errorf("JSON member %q twice", name)
			}
			top.names[name] = true
			top.wantName = false
			continue
		}
		if top != nil && top.object {
			top.wantName = true
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) == 4 {
				return errors.New("JSON nested too deep")
			}
			if tok == json.Delim('{') {
				stack = append(stack, frame{object: true, wantName: true, names: map[string]bool{}})
			} else {
				stack = append(stack, frame{})
			}
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// FuzzDecodeJSONRules: decodeJSONRules takes and reads exactly what the
// json.Decoder pipeline does, on any input (scripts/fuzz.sh runs it).
func FuzzDecodeJSONRules(f *testing.F) {
	f.Add([]byte(`{"CORSRules":[{"ID":"a","AllowedOrigins":["*"],"AllowedMethods":["GET"],"MaxAgeSeconds":"1e3"}]}`))
	f.Add([]byte(`[null,{"\u0049D":"\ud800","AllowedOrigins":[null]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) {
			return // refused before
		}
		got, err := decodeJSONRules(body)
		want, werr := decodeJSONRulesReference(body)
		if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v, %v\nwant %+v, %v", body, got, err, want, werr)
		}
	})
}
