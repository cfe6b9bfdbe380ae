package s3cors

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// Error is an S3 error document: the HTTP status, the Code and Message
// elements, and the extra elements S3 adds for some errors (Method and
// ResourceType on CORS denials, BucketName on NoSuchCORSConfiguration, ...).
// It is also a Go error, so the parse functions return it directly.
type Error struct {
	// Status is the HTTP status code of the response.
	Status int
	// Code is the S3 error code, such as MalformedXML or AccessForbidden.
	Code string
	// Message is the human-readable text, byte for byte as S3 sends it.
	Message string
	// Fields are the extra elements, in document order. They are written
	// between Message and RequestId.
	Fields []Field
	// CloseConnection asks for `Connection: close`, as S3 sends on its
	// 400 answer to a preflight without Origin.
	CloseConnection bool
}

// Field is one extra element of an S3 error document.
type Field struct {
	Name, Value string
}

// Error implements the error interface with the code and message.
func (e *Error) Error() string {
	return "s3cors: " + e.Code + ": " + e.Message
}

// Field returns the value of the named extra element and whether it exists.
func (e *Error) Field(name string) (string, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// XML renders the error document with the given request and host ids.
func (e *Error) XML(requestID, hostID string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header[:len(xml.Header)-1]) // without the trailing newline, as S3
	b.WriteString("<Error>")
	writeElement(&b, "Code", e.Code)
	writeElement(&b, "Message", e.Message)
	for _, f := range e.Fields {
		writeElement(&b, f.Name, f.Value)
	}
	writeElement(&b, "RequestId", requestID)
	writeElement(&b, "HostId", hostID)
	b.WriteString("</Error>")
	return b.Bytes()
}

// WriteTo writes the error as an S3 response: status, Content-Type, the
// x-amz-request-id and x-amz-id-2 headers (equal to the document's
// RequestId and HostId, as S3 does) and the XML body.
func (e *Error) WriteTo(w http.ResponseWriter) {
	requestID, hostID := NewRequestIDs()
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("X-Amz-Request-Id", requestID)
	h.Set("X-Amz-Id-2", hostID)
	if e.CloseConnection {
		h.Set("Connection", "close")
	}
	body := e.XML(requestID, hostID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body) // the client went away; nothing more to tell it
}

// NewRequestIDs returns a fresh pair of S3-shaped ids: a 16-character
// upper-case hexadecimal request id and a base64 host id.
func NewRequestIDs() (requestID, hostID string) {
	var raw [8 + 48]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
	return strings.ToUpper(hex.EncodeToString(raw[:8])), base64.StdEncoding.EncodeToString(raw[8:])
}

func writeElement(b *bytes.Buffer, name, value string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	_ = xml.EscapeText(b, []byte(value)) // writes to a bytes.Buffer cannot fail
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// The S3 messages, byte for byte.
const (
	msgMalformedXML    = "The XML you provided was not well-formed or did not validate against our published schema"
	msgNoOrigin        = "Insufficient information. Origin request header needed."
	msgBucketNotFound  = "CORSResponse: Bucket not found"
	msgNotEnabled      = "CORSResponse: CORS is not enabled for this bucket."
	msgNotAllowed      = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
	msgTooManyRules    = "The number of CORS rules should not exceed allowed limit of 100 rules."
	msgNoSuchCORS      = "The CORS configuration does not exist"
	msgTooLarge        = "Your request was too big."
	msgMissingDigest   = "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"
	msgInvalidDigest   = "The Content-MD5 you specified was invalid."
	msgBadDigest       = "The Content-MD5 you specified did not match what we received."
	msgAccessDenied    = "Access Denied"
	msgInvalidOwner    = "The value of the expected bucket owner parameter must be an AWS Account ID... ["
	msgInvalidBucket   = "The specified bucket is not valid."
	msgMethodNotAllow  = "The specified method is not allowed against this resource."
	msgIDTooLong       = "ID length should not exceed allowed limit of 255"
	resourceTypeBucket = "BUCKET"
	resourceTypeObject = "OBJECT"
)

// ErrMalformedXML is S3's answer to a body that is not a valid CORS
// configuration document.
func ErrMalformedXML() *Error {
	return &Error{Status: http.StatusBadRequest, Code: "MalformedXML", Message: msgMalformedXML}
}

// ErrNoSuchCORSConfiguration is S3's 404 for GetBucketCors on a bucket
// without a configuration.
func ErrNoSuchCORSConfiguration(bucket string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "NoSuchCORSConfiguration", Message: msgNoSuchCORS,
		Fields: []Field{{"BucketName", bucket}}}
}

// ErrTooLarge is the answer to a PutBucketCors body over MaxBodySize. S3's
// exact answer was never captured; this is its generic oversize-body error.
func ErrTooLarge() *Error {
	return &Error{Status: http.StatusBadRequest, Code: "MaxMessageLengthExceeded", Message: msgTooLarge,
		Fields: []Field{{"MaxMessageLengthBytes", strconv.Itoa(MaxBodySize)}}}
}

// ErrInvalidBucketName is S3's answer to a bucket name it would not accept.
func ErrInvalidBucketName(bucket string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "InvalidBucketName", Message: msgInvalidBucket,
		Fields: []Field{{"BucketName", bucket}}}
}

// ErrMethodNotAllowed is S3's 405 for a method the resource does not take.
func ErrMethodNotAllowed(method, resourceType string) *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", Message: msgMethodNotAllow,
		Fields: []Field{{"Method", method}, {"ResourceType", resourceType}}}
}

// ErrAccessDenied is S3's plain 403.
func ErrAccessDenied() *Error {
	return &Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: msgAccessDenied}
}

func errInvalidRequest(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "InvalidRequest", Message: msg}
}

func errPreflight(status int, code, msg string, fields ...Field) *Error {
	return &Error{Status: status, Code: code, Message: msg, Fields: fields}
}
