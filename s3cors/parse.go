package s3cors

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// ParseXML parses and validates a PutBucketCors body. It accepts the
// CORSConfiguration with or without the S3 namespace and the rule's
// elements in any order. On failure it returns an *Error with S3's status,
// code and message.
func ParseXML(body []byte) (*Configuration, error) {
	return parse(body, (*builder).parseXML)
}

// ParseStoredXML parses a configuration read back from storage. It is
// ParseXML without the checks added after such a configuration may have
// been written (an AllowedOrigin with a control character or white space
// around it), so that an upgrade never stops serving a stored
// configuration; the APIs refuse those values in new writes.
func ParseStoredXML(body []byte) (*Configuration, error) {
	return parse(body, func(b *builder, body []byte) *Error {
		b.stored = true
		return b.parseXML(body)
	})
}

// ParseJSON parses and validates the aws cli / SDK shape
// {"CORSRules": [...]} (or the S3 console's bare array of rules). Errors
// are the ones S3 gives for the XML this JSON turns into, with the values
// checked in the order the SDKs serialize them (ID, AllowedHeaders,
// AllowedMethods, AllowedOrigins, ExposeHeaders, MaxAgeSeconds).
func ParseJSON(body []byte) (*Configuration, error) {
	return parse(body, (*builder).parseJSON)
}

// parse refuses a body over MaxBodySize, then builds the configuration
// with read, the XML or the JSON reader.
func parse(body []byte, read func(*builder, []byte) *Error) (*Configuration, error) {
	if len(body) > MaxBodySize {
		return nil, errTooLarge()
	}
	var b builder
	if err := read(&b, body); err != nil {
		return nil, err
	}
	return b.finish()
}

// Parse parses a configuration in either shape: the aws cli JSON when
// IsJSON says so, PutBucketCors XML otherwise. It is for files and request
// bodies that carry no Content-Type.
func Parse(body []byte) (*Configuration, error) {
	if IsJSON(body) {
		return ParseJSON(body)
	}
	return ParseXML(body)
}

// IsJSON tells the aws cli JSON shape from PutBucketCors XML by the first
// byte after spaces, tabs and line breaks: `{`, or the `[` of the S3
// console's bare list of rules. An XML document starts with `<`.
func IsJSON(body []byte) bool {
	trimmed := bytes.TrimLeft(body, whiteSpace)
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// whiteSpace is the white space of JSON (RFC 8259) and of XML 1.0 alike:
// space, tab, CR and LF. bytes.TrimSpace would also take Unicode spaces
// (U+0085, U+00A0, U+2000...), which neither allows: encoding/json refuses
// them, and encoding/xml hands them over as text.
const whiteSpace = " \t\r\n"

// builder collects the rules element by element, in document order, and
// keeps the first value-level error it meets. Schema errors (MalformedXML)
// stop parsing at once and win over value errors, since S3 validates the
// document against its schema before it looks at the values.
type builder struct {
	rules      []Rule
	firstError *Error
	// per rule being built
	open       bool
	hasElement bool
	// stored relaxes the checks added since configurations were first
	// stored (see ParseStoredXML).
	stored bool
}

// element names, XML and JSON alike
const (
	elID            = "ID"
	elAllowedHeader = "AllowedHeader"
	elAllowedMethod = "AllowedMethod"
	elAllowedOrigin = "AllowedOrigin"
	elExposeHeader  = "ExposeHeader"
	elMaxAge        = "MaxAgeSeconds"
)

func (b *builder) startRule() {
	b.rules = append(b.rules, Rule{})
	b.open = true
	b.hasElement = false
}

// endRule checks the rule's required members.
func (b *builder) endRule() *Error {
	b.open = false
	r := &b.rules[len(b.rules)-1]
	if !b.hasElement || len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
		return errMalformedXML()
	}
	return nil
}

// addElement adds one element's value to the rule being built. A value
// XML cannot carry (a control character, invalid UTF-8: only JSON can hold
// one) is a schema error, as S3 gives for the XML the SDKs would send.
func (b *builder) addElement(name, value string) *Error {
	if !isXMLText(value) {
		return errMalformedXML()
	}
	r := &b.rules[len(b.rules)-1]
	b.hasElement = true
	switch name {
	case elID:
		if r.ID != nil {
			return errMalformedXML()
		}
		r.ID = &value
		b.note(validateID(value))
	case elAllowedHeader:
		r.AllowedHeaders = append(r.AllowedHeaders, value)
		b.note(validateAllowedHeader(value))
	case elAllowedMethod:
		r.AllowedMethods = append(r.AllowedMethods, value)
		b.note(validateMethod(value))
	case elAllowedOrigin:
		r.AllowedOrigins = append(r.AllowedOrigins, value)
		b.note(validateOrigin(value, b.stored))
	case elExposeHeader:
		r.ExposeHeaders = append(r.ExposeHeaders, value)
		b.note(validateExposeHeader(value))
	case elMaxAge:
		if r.MaxAgeSeconds != nil {
			return errMalformedXML()
		}
		n, ok := parseXSDInt(value)
		if !ok {
			return errMalformedXML()
		}
		r.MaxAgeSeconds = &n
	default:
		return errMalformedXML()
	}
	return nil
}

func (b *builder) note(err *Error) {
	if err != nil && b.firstError == nil {
		b.firstError = err
	}
}

func (b *builder) finish() (*Configuration, error) {
	if len(b.rules) == 0 {
		return nil, errMalformedXML()
	}
	if len(b.rules) > MaxRules {
		return nil, s3err.InvalidRequest(msgTooManyRules)
	}
	if b.firstError != nil {
		return nil, b.firstError
	}
	return &Configuration{Rules: b.rules}, nil
}

// isXMLText reports whether s is valid UTF-8 made of XML 1.0 characters.
func isXMLText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		switch {
		case c == '\t' || c == '\n' || c == '\r':
		case c < 0x20, c >= 0xD800 && c < 0xE000, c == 0xFFFE, c == 0xFFFF:
			return false
		}
	}
	return true
}

// parseXSDInt parses an xs:int: optional sign, decimal digits, surrounding
// XML white space collapsed, within 32 bits.
func parseXSDInt(s string) (int, bool) {
	s = strings.Trim(s, whiteSpace)
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && !(i == 0 && (c == '+' || c == '-')) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// parseXML walks the tokens: CORSConfiguration, then CORSRule elements,
// then leaf elements holding text. Anything else is MalformedXML. The walk
// never recurses, so deeply nested input costs no stack.
func (b *builder) parseXML(body []byte) *Error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	const (
		beforeRoot = iota
		inRoot
		inRule
		inLeaf
		afterRoot
	)
	state := beforeRoot
	var leafName string
	var leafText strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if state != afterRoot {
				return errMalformedXML()
			}
			return nil
		}
		if err != nil {
			return errMalformedXML()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" && t.Name.Space != Namespace {
				return errMalformedXML()
			}
			switch {
			case state == beforeRoot && t.Name.Local == "CORSConfiguration":
				state = inRoot
			case state == inRoot && t.Name.Local == "CORSRule":
				b.startRule()
				state = inRule
			case state == inRule:
				leafName = t.Name.Local
				leafText.Reset()
				state = inLeaf
			default:
				return errMalformedXML()
			}
		case xml.EndElement:
			switch state {
			case inLeaf:
				if err := b.addElement(leafName, leafText.String()); err != nil {
					return err
				}
				state = inRule
			case inRule:
				if err := b.endRule(); err != nil {
					return err
				}
				state = inRoot
			case inRoot:
				state = afterRoot
			}
		case xml.CharData:
			if state == inLeaf {
				leafText.Write(t)
			} else if len(bytes.Trim(t, whiteSpace)) != 0 { // text out of a leaf
				return errMalformedXML()
			}
		case xml.Directive:
			// A DOCTYPE could declare entities; S3 refuses it.
			return errMalformedXML()
		}
	}
}

// jsonRule is a rule in the SDK shape; pointers tell absent from empty.
type jsonRule struct {
	ID             *string
	AllowedHeaders []string
	AllowedMethods []string
	AllowedOrigins []string
	ExposeHeaders  []string
	MaxAgeSeconds  *json.Number
}

func (b *builder) parseJSON(body []byte) *Error {
	if !utf8.Valid(body) {
		// JSON is UTF-8; encoding/json would silently replace the bytes.
		return errMalformedXML()
	}
	rules, err := decodeJSONRules(body) // skips JSON's white space around the value
	if err != nil {
		return errMalformedXML()
	}
	for _, jr := range rules {
		b.startRule()
		if jr.ID != nil {
			if err := b.addElement(elID, *jr.ID); err != nil {
				return err
			}
		}
		for _, group := range []struct {
			name   string
			values []string
		}{
			{elAllowedHeader, jr.AllowedHeaders},
			{elAllowedMethod, jr.AllowedMethods},
			{elAllowedOrigin, jr.AllowedOrigins},
			{elExposeHeader, jr.ExposeHeaders},
		} {
			for _, v := range group.values {
				if err := b.addElement(group.name, v); err != nil {
					return err
				}
			}
		}
		if jr.MaxAgeSeconds != nil {
			if err := b.addElement(elMaxAge, jr.MaxAgeSeconds.String()); err != nil {
				return err
			}
		}
		if err := b.endRule(); err != nil {
			return err
		}
	}
	return nil
}
