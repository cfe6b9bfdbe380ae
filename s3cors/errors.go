package s3cors

import (
	"net/http"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// Error is an S3 error document: the HTTP status, the Code and Message
// elements, and the extra elements S3 adds for some errors. ParseXML,
// ParseJSON and a refused preflight's Decision give one; its WriteTo
// writes it as S3 does.
//
// It is an alias of the module's one error document type, which the
// signature check and the configuration APIs answer with too, so that
// none of them depends on the CORS engine and the engine's callers need
// no other import.
type Error = s3err.Error

// Field is one extra element of an S3 error document.
type Field = s3err.Field

// The messages of the engine's own errors, byte for byte as S3 sends them.
const (
	msgMalformedXML   = "The XML you provided was not well-formed or did not validate against our published schema"
	msgNoOrigin       = "Insufficient information. Origin request header needed."
	msgBucketNotFound = "CORSResponse: Bucket not found"
	msgNotEnabled     = "CORSResponse: CORS is not enabled for this bucket."
	msgNotAllowed     = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
	msgTooManyRules   = "The number of CORS rules should not exceed allowed limit of 100 rules."
	msgIDTooLong      = "ID length should not exceed allowed limit of 255"
)

// errMalformedXML is S3's answer to a body that is not a valid CORS
// configuration document.
func errMalformedXML() *Error {
	return s3err.New(http.StatusBadRequest, "MalformedXML", msgMalformedXML)
}

// errTooLarge is the answer to a configuration over MaxBodySize.
func errTooLarge() *Error {
	return s3err.TooLarge(MaxBodySize)
}
