package s3err

import (
	"net/http"
	"strconv"
)

// The messages of the errors in this file, byte for byte as S3 sends
// them. The codes, statuses and most messages are listed in
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
const (
	msgAccessDenied       = "Access Denied"
	msgNoSuchCORS         = "The CORS configuration does not exist"
	msgNoSuchBucket       = "The specified bucket does not exist"
	msgTooLarge           = "Your request was too big."
	msgInvalidBucket      = "The specified bucket is not valid."
	msgMethodNotAllowed   = "The specified method is not allowed against this resource."
	msgInternal           = "We encountered an internal error. Please try again."
	msgServiceUnavailable = "Service is unable to handle request."
	msgIncompleteBody     = "You did not provide the number of bytes specified by the Content-Length HTTP header."
	msgRequestTimeout     = "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."
)

// The ResourceType values of S3's error documents.
const (
	ResourceBucket = "BUCKET"
	ResourceObject = "OBJECT"
)

// New returns the error document with this status, code, message and
// extra elements.
func New(status int, code, message string, fields ...Field) *Error {
	return &Error{Status: status, Code: code, Message: message, Fields: fields}
}

// AccessDenied is S3's plain 403.
func AccessDenied() *Error {
	return New(http.StatusForbidden, "AccessDenied", msgAccessDenied)
}

// NoSuchCORSConfiguration is S3's 404 for GetBucketCors on a bucket
// without a configuration.
func NoSuchCORSConfiguration(bucket string) *Error {
	return New(http.StatusNotFound, "NoSuchCORSConfiguration", msgNoSuchCORS, Field{"BucketName", bucket})
}

// NoSuchBucket is S3's 404 for a bucket that does not exist.
func NoSuchBucket(bucket string) *Error {
	return New(http.StatusNotFound, "NoSuchBucket", msgNoSuchBucket, Field{"BucketName", bucket})
}

// TooLarge is the answer to a PutBucketCors body over limit bytes. S3's
// exact answer was never captured; this is its generic oversize-body error.
func TooLarge(limit int) *Error {
	return New(http.StatusBadRequest, "MaxMessageLengthExceeded", msgTooLarge,
		Field{"MaxMessageLengthBytes", strconv.Itoa(limit)})
}

// InvalidBucketName is S3's answer to a bucket name it would not accept.
func InvalidBucketName(bucket string) *Error {
	return New(http.StatusBadRequest, "InvalidBucketName", msgInvalidBucket, Field{"BucketName", bucket})
}

// MethodNotAllowed is S3's 405 for a method the resource (ResourceBucket
// or ResourceObject) does not take.
func MethodNotAllowed(method, resourceType string) *Error {
	return New(http.StatusMethodNotAllowed, "MethodNotAllowed", msgMethodNotAllowed,
		Field{"Method", method}, Field{"ResourceType", resourceType})
}

// InvalidRequest is S3's 400 InvalidRequest with its message.
func InvalidRequest(message string) *Error {
	return New(http.StatusBadRequest, "InvalidRequest", message)
}

// InvalidArgument is S3's 400 for a request parameter it cannot use.
func InvalidArgument(message string, fields ...Field) *Error {
	return New(http.StatusBadRequest, "InvalidArgument", message, fields...)
}

// InternalError is S3's 500.
func InternalError() *Error {
	return New(http.StatusInternalServerError, "InternalError", msgInternal)
}

// ServiceUnavailable is S3's 503.
func ServiceUnavailable() *Error {
	return New(http.StatusServiceUnavailable, "ServiceUnavailable", msgServiceUnavailable)
}

// IncompleteBody is S3's 400 for a body shorter than its Content-Length.
func IncompleteBody() *Error {
	return New(http.StatusBadRequest, "IncompleteBody", msgIncompleteBody)
}

// RequestTimeout is S3's 400 for a body that did not arrive in time.
func RequestTimeout() *Error {
	return New(http.StatusBadRequest, "RequestTimeout", msgRequestTimeout)
}
