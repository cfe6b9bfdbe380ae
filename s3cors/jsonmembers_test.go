package s3cors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCheckJSONMembers: the member-name check on its own, case by case:
// duplicates at every depth the shape has, escaped names, names in another
// case, and strings that only look like members.
func TestCheckJSONMembers(t *testing.T) {
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
		{"empty objects and arrays", `{"CORSRules":[{},[],{}]}`, true},
		{"white space everywhere", " {\n\t\"CORSRules\" :\r [ { \"ID\" : \"a\" , \"AllowedOrigins\" : [ \"*\" ] } ] } ", true},
		{"empty body", ``, true},

		// Twice in one object, at each depth an object can have.
		{"twice at the top", `{"CORSRules":[],"CORSRules":[]}`, false},
		{"twice in a rule", `{"CORSRules":[{"ID":"a","ID":"b"}]}`, false},
		{"twice in the second rule", `{"CORSRules":[{"ID":"a"},{"ID":"a","AllowedOrigins":[],"ID":"b"}]}`, false},
		{"twice in a bare array's rule", `[{` + rule + `,"AllowedMethods":["PUT"]}]`, false},
		{"twice, far apart", `{"CORSRules":[{"MaxAgeSeconds":1,` + rule + `,"ExposeHeaders":[],"MaxAgeSeconds":2}]}`, false},

		// Escapes: names are compared unescaped, as encoding/json reads them.
		{"escaped name", `{"CORS\u0052ules":[{"\u0049\u0044":"a",` + rule + `}]}`, true},
		{"escaped duplicate", `{"CORSRules":[{"ID":"a","\u0049D":"b"}]}`, false},
		{"escaped solidus makes an unknown name", `{"CORSRules":[{"I\/D":"a"}]}`, false},
		{"escaped name in another case", `{"CORSRules":[{"\u0069d":"a"}]}`, false},
		{"escaped quote in a value", `{"CORSRules":[{"ID":"a\",\"ID\":\"b",` + rule + `}]}`, true},
		{"escaped backslash before the closing quote", `{"CORSRules":[{"ID":"a\\",` + rule + `}]}`, true},
		{"broken escape in a name", `{"CORSRules":[{"\uZZZZ":"a"}]}`, false},

		// Case: encoding/json matches names case-insensitively; the
		// document must spell them exactly.
		{"lower case at the top", `{"corsrules":[]}`, false},
		{"lower case in a rule", `{"CORSRules":[{"id":"a"}]}`, false},
		{"two cases of one name", `{"CORSRules":[{"ID":"a","Id":"b"}]}`, false},
		{"Kelvin sign", "{\"CORSRules\":[{\"ID\u212a\":\"x\"}]}", false},

		// Strings that are values, not names.
		{"a name as a value", `{"CORSRules":[{"ID":"CORSRules","AllowedOrigins":["ID","ID"]}]}`, true},
		{"unknown name as a value", `{"CORSRules":[{"ID":"Foo"}]}`, true},
		{"braces and commas in values", `{"CORSRules":[{"ID":"{\"ID\":1},[","AllowedOrigins":["}","]",","]}]}`, true},
		{"top-level string", `"CORSRules"`, true},

		// Unknown names and depth.
		{"unknown name", `{"CORSRules":[{"Foo":1}]}`, false},
		{"empty name", `{"":1}`, false},
		{"unknown name after a nested value", `{"CORSRules":[{"AllowedOrigins":["*"],"Bar":[]}]}`, false},
		{"four deep", `{"CORSRules":[{"AllowedOrigins":["*"]}]}`, true},
		{"five deep", `{"CORSRules":[{"AllowedOrigins":[["*"]]}]}`, false},
		{"five deep, bare array", `[{"AllowedOrigins":[[[]]]}]`, false},
		{"very deep", strings.Repeat("[", 100000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkJSONMembers([]byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("checkJSONMembers(%s) = %v, want ok %v", tt.body, err, tt.ok)
			}
			if want := checkJSONMembersTokens([]byte(tt.body)); (err == nil) != (want == nil) && json.Valid([]byte(tt.body)) {
				t.Errorf("disagrees with the Token walk: %v, Token walk %v", err, want)
			}
		})
	}
}

// TestCheckJSONMembersMatchesTokens compares checkJSONMembers with the
// json.Decoder walk it replaced, on generated valid documents of the
// shape and its near misses: duplicate, escaped, mis-cased and unknown
// names, values that look like names, and deep nesting. On valid JSON the
// two must agree.
func TestCheckJSONMembersMatchesTokens(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2026))
	names := []string{"CORSRules", "ID", "AllowedHeaders", "AllowedMethods", "AllowedOrigins",
		"ExposeHeaders", "MaxAgeSeconds", "id", "Foo", "", `\u0049D`, `I\u0044`, `CORS\u0052ules`, `\u0069d`, `ID\/`}
	var value func(b *strings.Builder, depth int)
	object := func(b *strings.Builder, depth int) {
		b.WriteByte('{')
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "%q:", names[r.IntN(len(names))])
			value(b, depth+1)
		}
		b.WriteByte('}')
	}
	value = func(b *strings.Builder, depth int) {
		switch k := r.IntN(8); {
		case k < 2 && depth < 6:
			object(b, depth)
		case k < 4 && depth < 6:
			b.WriteByte('[')
			for i := range r.IntN(4) {
				if i > 0 {
					b.WriteString(" , ")
				}
				value(b, depth+1)
			}
			b.WriteByte(']')
		case k == 4:
			fmt.Fprintf(b, "%q", names[r.IntN(len(names))])
		case k == 5:
			b.WriteString(`"a\"b\\"`)
		default:
			b.WriteString([]string{"1", "-2.5e3", "true", "null", `"{[,:]}"`}[r.IntN(5)])
		}
	}
	agreed, refused := 0, 0
	for range 20000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			object(&b, 0)
		} else {
			value(&b, 0)
		}
		body := []byte(strings.ReplaceAll(b.String(), `\\u`, `\u`)) // %q doubled the escapes
		if !json.Valid(body) {
			continue
		}
		got, want := checkJSONMembers(body), checkJSONMembersTokens(body)
		if (got == nil) != (want == nil) {
			t.Fatalf("%s: got %v, the Token walk %v", body, got, want)
		}
		agreed++
		if got != nil {
			refused++
		}
	}
	if agreed < 10000 || refused == 0 || refused == agreed {
		t.Fatalf("%d documents compared, %d refused: the generator does not cover both answers", agreed, refused)
	}
}

// checkJSONMembersTokens is checkJSONMembers as it was written with a
// json.Decoder's Token (five times slower), kept to compare with.
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
			if len(stack) == maxJSONDepth {
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
