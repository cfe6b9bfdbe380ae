package s3cors

import (
	"encoding/json"
	"errors"
	"fmt"
)

// decodeJSONRules reads the aws cli / SDK JSON shape, {"CORSRules": [...]}
// or the S3 console's bare array of rules, in one pass over the bytes. It
// takes exactly the documents encoding/json would decode into
// struct{ CORSRules []jsonRule } (or []jsonRule for a document starting with
// `[`) with DisallowUnknownFields, UseNumber and nothing after the value,
// and reads them the same way (a null rule is an empty rule, a null string
// in a list is "", MaxAgeSeconds may be a number or a string holding one),
// less what other readers of the same document would read otherwise: a
// member name in another case than the shape's (`corsrules`, which
// encoding/json matches) or twice in one object (the last would win).
//
// It replaces a json.Decoder pass with a Token walk beside it, which cost
// more than the rest of a PUT's handling; TestDecodeJSONRulesMatches
// compares the two on generated documents and their near misses.
func decodeJSONRules(body []byte) ([]jsonRule, error) {
	d := jsonDecoder{b: body}
	d.space()
	var rules []jsonRule
	var err error
	switch d.peek() {
	case '[':
		rules, err = d.rules()
	case '{':
		err = d.object(func(name []byte, bit uint8) error {
			if bit != memberCORSRules {
				return fmt.Errorf("s3cors: JSON member %q out of place", name)
			}
			var rerr error
			rules, rerr = d.rules()
			return rerr
		})
	case 'n':
		err = d.literal("null")
	default:
		return nil, d.errorf("a JSON object or array")
	}
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.b) {
		return nil, errors.New("s3cors: data after the JSON value")
	}
	return rules, nil
}

// The bits jsonMember gives the member names of the JSON shape.
const (
	memberCORSRules uint8 = 1 << iota
	memberID
	memberAllowedHeaders
	memberAllowedMethods
	memberAllowedOrigins
	memberExposeHeaders
	memberMaxAgeSeconds
)

// jsonMember returns the bit of a member name of the JSON shape, spelled
// exactly, and 0 for any other name.
func jsonMember(name []byte) uint8 {
	switch string(name) { // compared in place, no allocation
	case "CORSRules":
		return memberCORSRules
	case "ID":
		return memberID
	case "AllowedHeaders":
		return memberAllowedHeaders
	case "AllowedMethods":
		return memberAllowedMethods
	case "AllowedOrigins":
		return memberAllowedOrigins
	case "ExposeHeaders":
		return memberExposeHeaders
	case "MaxAgeSeconds":
		return memberMaxAgeSeconds
	}
	return 0
}

// jsonDecoder is decodeJSONRules' position in the document.
type jsonDecoder struct {
	b []byte
	i int
}

func (d *jsonDecoder) errorf(want string) error {
	return fmt.Errorf("s3cors: JSON offset %d: want %s", d.i, want)
}

// peek returns the next byte, 0 at the end.
func (d *jsonDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// space skips JSON white space.
func (d *jsonDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// literal reads the literal word (true, false or null).
func (d *jsonDecoder) literal(word string) error {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return d.errorf(word)
	}
	d.i += len(word)
	return nil
}

// null reads a null if one comes next, and reports whether it did.
func (d *jsonDecoder) null() bool {
	if d.peek() == 'n' && d.literal("null") == nil {
		return true
	}
	return false
}

// object reads an object, calling member for each member with its name
// and the name's jsonMember bit, the decoder positioned at the value,
// which member must read. Unknown names and names met twice are refused.
func (d *jsonDecoder) object(member func(name []byte, bit uint8) error) error {
	var seen uint8
	if d.open('}') {
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.errorf("a member name")
		}
		name, err := d.string()
		if err != nil {
			return err
		}
		bit := jsonMember(name)
		if bit == 0 {
			return fmt.Errorf("s3cors: unknown JSON member %q", name)
		}
		if seen&bit != 0 {
			return fmt.Errorf("s3cors: JSON member %q twice", name)
		}
		seen |= bit
		d.space()
		if d.peek() != ':' {
			return d.errorf("':'")
		}
		d.i++
		d.space()
		if err := member(name, bit); err != nil {
			return err
		}
		if end, err := d.separator('}'); end || err != nil {
			return err
		}
	}
}

// array reads an array, calling elem for each element, the decoder
// positioned at it.
func (d *jsonDecoder) array(elem func() error) error {
	if d.open(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if end, err := d.separator(']'); end || err != nil {
			return err
		}
	}
}

// open reads the '{' or '[' that starts an object or array, and its
// closing byte close too if the object or array is empty, which it
// reports.
func (d *jsonDecoder) open(close byte) (empty bool) {
	d.i++
	d.space()
	if d.peek() == close {
		d.i++
		return true
	}
	return false
}

// separator reads what follows a member or an element: ',' before the
// next one, or close at the end, which it reports.
func (d *jsonDecoder) separator(close byte) (end bool, err error) {
	d.space()
	switch d.peek() {
	case ',':
		d.i++
		d.space()
		return false, nil
	case close:
		d.i++
		return true, nil
	}
	return false, d.errorf("',' or '" + string(close) + "'")
}

// rules reads the list of rules: an array of rule objects (a null rule is
// an empty one), or null.
func (d *jsonDecoder) rules() ([]jsonRule, error) {
	if d.null() {
		return nil, nil
	}
	if d.peek() != '[' {
		return nil, d.errorf("an array of rules")
	}
	rules := []jsonRule{}
	err := d.array(func() error {
		rules = append(rules, jsonRule{})
		if d.null() {
			return nil
		}
		if d.peek() != '{' {
			return d.errorf("a rule object")
		}
		return d.rule(&rules[len(rules)-1])
	})
	return rules, err
}

// rule reads a rule object into r.
func (d *jsonDecoder) rule(r *jsonRule) error {
	return d.object(func(name []byte, bit uint8) error {
		switch bit {
		case memberID:
			if d.null() {
				return nil
			}
			s, err := d.stringValue()
			if err != nil {
				return err
			}
			r.ID = &s
			return nil
		case memberAllowedHeaders:
			return d.strings(&r.AllowedHeaders)
		case memberAllowedMethods:
			return d.strings(&r.AllowedMethods)
		case memberAllowedOrigins:
			return d.strings(&r.AllowedOrigins)
		case memberExposeHeaders:
			return d.strings(&r.ExposeHeaders)
		case memberMaxAgeSeconds:
			return d.maxAge(r)
		}
		return fmt.Errorf("s3cors: JSON member %q out of place", name)
	})
}

// strings reads a list of strings into list (null elements are "") or a
// null.
func (d *jsonDecoder) strings(list *[]string) error {
	if d.null() {
		return nil
	}
	if d.peek() != '[' {
		return d.errorf("an array of strings")
	}
	values := []string{}
	err := d.array(func() error {
		if d.null() {
			values = append(values, "")
			return nil
		}
		s, err := d.stringValue()
		values = append(values, s)
		return err
	})
	*list = values
	return err
}

// maxAge reads MaxAgeSeconds: null, a number, or a string holding a JSON
// number (as encoding/json fills a json.Number).
func (d *jsonDecoder) maxAge(r *jsonRule) error {
	switch c := d.peek(); {
	case c == 'n':
		if d.null() {
			return nil
		}
		return d.errorf("null")
	case c == '"':
		s, err := d.stringValue()
		if err != nil {
			return err
		}
		if !isJSONNumber([]byte(s)) {
			return fmt.Errorf("s3cors: MaxAgeSeconds %q is no number", s)
		}
		n := json.Number(s)
		r.MaxAgeSeconds = &n
		return nil
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		for d.i < len(d.b) && isNumberByte(d.b[d.i]) {
			d.i++
		}
		if !isJSONNumber(d.b[start:d.i]) {
			return d.errorf("a number")
		}
		n := json.Number(d.b[start:d.i])
		r.MaxAgeSeconds = &n
		return nil
	}
	return d.errorf("a number")
}

// isNumberByte reports whether c may be part of a JSON number.
func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// isJSONNumber reports whether s is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s []byte) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// stringValue reads a string value.
func (d *jsonDecoder) stringValue() (string, error) {
	if d.peek() != '"' {
		return "", d.errorf("a string")
	}
	b, err := d.string()
	return string(b), err
}

// string reads the string at the decoder's quote and returns its value,
// unescaped: in place when it holds no escape (the usual case), through
// encoding/json otherwise, so that every escape, surrogate pair and lone
// surrogate reads as encoding/json reads it. A control character is
// refused, as JSON requires.
func (d *jsonDecoder) string() ([]byte, error) {
	start := d.i
	escaped := false
	for i := start + 1; i < len(d.b); i++ {
		switch c := d.b[i]; {
		case c == '"':
			d.i = i + 1
			if !escaped {
				return d.b[start+1 : i], nil
			}
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				return nil, err
			}
			return []byte(s), nil
		case c == '\\':
			escaped = true
			i++ // the escaped byte; json.Unmarshal checks the escape
		case c < 0x20:
			d.i = i
			return nil, d.errorf("no control character in a string")
		}
	}
	d.i = len(d.b)
	return nil, d.errorf("the end of the string")
}
