package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// ValidatePath checks a configuration as PutBucketCors would, without
// storing it.
const ValidatePath = "/s3_cors/validate"

// Validation is the answer of POST /s3_cors/validate: the body of a
// PutBucketCors (XML, or the aws cli JSON with Content-Type
// application/json; Content-MD5 and x-amz-checksum-* verified when
// present), judged exactly as PUT /s3_cors/buckets/<bucket> judges it,
// and nothing stored. A refused document is still a 200 answer: the
// verdict is in Valid and Error. A body over 64 KiB is refused as by the
// other routes, with S3's 400 MaxMessageLengthExceeded document.
type Validation struct {
	// Valid is true when a PUT of the same request would be stored.
	Valid bool `json:"valid"`
	// Error is the error S3 answers a PUT of this document with.
	Error *ValidationError `json:"error,omitempty"`
	// Rules is the number of rules of a valid document.
	Rules int `json:"rules,omitempty"`
	// Configuration is a valid document in the aws cli JSON shape.
	Configuration json.RawMessage `json:"configuration,omitempty"`
	// XML is a valid document as GetBucketCors would return it.
	XML string `json:"xml,omitempty"`
}

// ValidationError is S3's error for a refused document.
type ValidationError struct {
	// Status is the HTTP status S3 answers with.
	Status int `json:"status"`
	// Code is S3's error code, such as InvalidRequest or MalformedXML.
	Code string `json:"code"`
	// Message is S3's message, byte for byte.
	Message string `json:"message"`
	// Value is the offending value of the document, when the error names
	// one (an unsupported method, an origin with two wildcards, ...).
	Value string `json:"value,omitempty"`
	// Fields are the error document's extra elements, such as the
	// Content-MD5 of a BadDigest.
	Fields map[string]string `json:"fields,omitempty"`
}

func (a *Admin) serveValidate(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readPost(w, r, "validate")
	if !ok {
		return
	}
	cfg, err := putcors.Decode(r.Header, body, putcors.Options{Owner: a.owner()})
	var refused *s3err.Error
	switch {
	case err == nil:
		a.writeJSON(w, r, "validation", Validation{Valid: true, Rules: len(cfg.Rules),
			Configuration: cfg.JSON(), XML: string(cfg.XML())})
	case errors.As(err, &refused):
		a.writeJSON(w, r, "validation", Validation{Error: validationError(refused)})
	default:
		writeError(w, r, a.LogError, fmt.Errorf("s3_cors admin: validate: %w", err))
	}
}

// readPost begins a POST route that reads a body of at most
// s3cors.MaxBodySize: 405 for another method, then readBody. It returns
// false when it answered.
func (a *Admin) readPost(w http.ResponseWriter, r *http.Request, route string) ([]byte, bool) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, "SERVICE", http.MethodPost)
		return nil, false
	}
	return a.readBody(w, r, route)
}

// readBody reads a request body of at most s3cors.MaxBodySize, for the
// admin routes that take one: S3's 400 MaxMessageLengthExceeded at once
// when Content-Length says it is too large, else readError's answer for a
// body too large or cut off. what names the route in errors. It returns
// false when it answered.
func (a *Admin) readBody(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	if r.ContentLength > s3cors.MaxBodySize {
		s3err.TooLarge(s3cors.MaxBodySize).WriteTo(w)
		return nil, false
	}
	body, err := putcors.ReadBody(r.Body)
	if err != nil {
		readError(w, r, a.LogError, fmt.Errorf("s3_cors admin: %s: %w", what, err))
		return nil, false
	}
	return body, true
}

// validationError describes e, with the value its message names.
func validationError(e *s3err.Error) *ValidationError {
	v := &ValidationError{Status: e.Status, Code: e.Code, Message: e.Message, Value: offendingValue(e.Message)}
	if len(e.Fields) > 0 {
		v.Fields = make(map[string]string, len(e.Fields))
		for _, f := range e.Fields {
			v.Fields[f.Name] = f.Value
		}
	}
	return v
}

// offendingValues find the value in S3's messages for a refused
// configuration; TestOffendingValue drives every one through the engine,
// so that a reworded message fails there.
var offendingValues = []*regexp.Regexp{
	regexp.MustCompile(`(?s)^Found unsupported HTTP method in CORS config\. Unsupported method is (.*)$`),
	regexp.MustCompile(`(?s)^AllowedOrigin "(.*)" can not have more than one wildcard\.$`),
	regexp.MustCompile(`(?s)^AllowedHeader "(.*)" can not have more than one wildcard\.$`),
	regexp.MustCompile(`(?s)^AllowedHeader (.*) contains invalid character\.$`),
	regexp.MustCompile(`(?s)^ExposeHeader "(.*)" contains wildcard\. We currently do not support wildcard for ExposeHeader\.$`),
}

// offendingValue returns the value a validation message names, "" for
// none.
func offendingValue(message string) string {
	for _, re := range offendingValues {
		if m := re.FindStringSubmatch(message); m != nil {
			return m[1]
		}
	}
	return ""
}
