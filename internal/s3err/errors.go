// Package s3err is S3's error document: the Error type that every part of
// caddy-s3cors answers with (the CORS engine, the signature check, the
// configuration APIs), how it is written, and the errors more than one of
// them answers, with S3's messages byte for byte. The errors only one part
// raises stay beside the code that raises them (the engine's preflight
// denials in s3cors, the signature errors in internal/sigv4, the integrity
// and owner checks in internal/putcors), built on this package, which
// imports nothing of the module: checking a signature does not depend on
// CORS.
//
// The documents follow S3's REST error responses:
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
package s3err

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
// It is also a Go error, so the engine's parse functions return it directly.
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

// Error implements the error interface with the code and message. The
// "s3cors: " prefix is the engine's, whose public API returns this type.
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
	WriteElement(&b, "Code", e.Code)
	WriteElement(&b, "Message", e.Message)
	for _, f := range e.Fields {
		WriteElement(&b, f.Name, f.Value)
	}
	WriteElement(&b, "RequestId", requestID)
	WriteElement(&b, "HostId", hostID)
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

// WriteElement writes <name>value</name> with value escaped, the way S3
// writes the elements of its documents (the engine's GetBucketCors body
// too).
func WriteElement(b *bytes.Buffer, name, value string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	_ = xml.EscapeText(b, []byte(value)) // writes to a bytes.Buffer cannot fail
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}
