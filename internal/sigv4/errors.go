package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// The messages of the signature errors, byte for byte where S3's text is
// known (the codes: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList;
// the checks: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html).
// The errors other packages answer too are internal/s3err's.
const (
	msgInvalidAccessKeyID = "The AWS Access Key Id you provided does not exist in our records."
	msgSignatureMismatch  = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgTooSkewed          = "The difference between the request time and the current time is too large."
	msgExpired            = "Request has expired"
	msgNotYetValid        = "Request is not valid yet"
	msgMissingDate        = "AWS authentication requires a valid Date or x-amz-date header"
	msgHeadersNotSigned   = "There were headers present in the request which were not signed"
	msgSHA256Mismatch     = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgMissingSHA256      = "Missing required header for this request: x-amz-content-sha256"
	msgBadSHA256          = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value."
	msgNotImplemented     = "A header you provided implies functionality that is not implemented"
	msgUnsupportedMech    = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
	msgOneMechanism       = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"
	msgUnsupportedType    = "Unsupported Authorization Type"
	msgOneSpace           = "Authorization header is invalid -- one and only one ' ' (space) required."
	msgMissingLength      = "You must provide the Content-Length HTTP header."
	msgMalformedTrailer   = "The request contained trailing data that was not well-formed or did not conform to our published schema."

	malformedPrefix   = "The authorization header is malformed; "
	queryCredPrefix   = "Error parsing the X-Amz-Credential parameter; "
	msgMalformedCred  = `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
	msgThreeParts     = "the authorization header requires three components: Credential, SignedHeaders, and Signature."
	msgQueryMissing   = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
	msgQueryAlgorithm = `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`
	msgQueryDate      = `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`
	msgExpiresNumber  = "X-Amz-Expires should be a number"
	msgExpiresNeg     = "X-Amz-Expires must be non-negative"
	msgExpiresLarge   = "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"

	// serverTimeFormat is how S3 writes ServerTime, Expires and similar
	// elements of its error documents.
	serverTimeFormat = "2006-01-02T15:04:05Z"
)

func errInvalidAccessKeyID(accessKey string) *s3err.Error {
	return s3err.New(http.StatusForbidden, "InvalidAccessKeyId", msgInvalidAccessKeyID,
		s3err.Field{Name: "AWSAccessKeyId", Value: accessKey})
}

// errSignatureMismatch is S3's SignatureDoesNotMatch with the diagnostic
// elements S3 sends: the string to sign and the canonical request, as text
// and as space-separated hexadecimal bytes.
func errSignatureMismatch(accessKey, stringToSign, provided, canonicalRequest string) *s3err.Error {
	fields := []s3err.Field{
		{Name: "AWSAccessKeyId", Value: accessKey},
		{Name: "StringToSign", Value: stringToSign},
		{Name: "SignatureProvided", Value: provided},
		{Name: "StringToSignBytes", Value: hexBytes(stringToSign)},
	}
	if canonicalRequest != "" {
		fields = append(fields,
			s3err.Field{Name: "CanonicalRequest", Value: canonicalRequest},
			s3err.Field{Name: "CanonicalRequestBytes", Value: hexBytes(canonicalRequest)})
	}
	return s3err.New(http.StatusForbidden, "SignatureDoesNotMatch", msgSignatureMismatch, fields...)
}

func errTooSkewed(requestTime string, now time.Time) *s3err.Error {
	return s3err.New(http.StatusForbidden, "RequestTimeTooSkewed", msgTooSkewed,
		s3err.Field{Name: "RequestTime", Value: requestTime},
		s3err.Field{Name: "ServerTime", Value: now.UTC().Format(serverTimeFormat)},
		s3err.Field{Name: "MaxAllowedSkewMilliseconds", Value: strconv.FormatInt(MaxSkew.Milliseconds(), 10)})
}

func errExpired(expires int64, expiresAt, now time.Time) *s3err.Error {
	return s3err.New(http.StatusForbidden, "AccessDenied", msgExpired,
		s3err.Field{Name: "X-Amz-Expires", Value: strconv.FormatInt(expires, 10)},
		s3err.Field{Name: "Expires", Value: expiresAt.UTC().Format(serverTimeFormat)},
		s3err.Field{Name: "ServerTime", Value: now.UTC().Format(serverTimeFormat)})
}

func errNotYetValid() *s3err.Error {
	return s3err.New(http.StatusForbidden, "AccessDenied", msgNotYetValid)
}

func errMissingDate() *s3err.Error {
	return s3err.New(http.StatusForbidden, "AccessDenied", msgMissingDate)
}

func errHeadersNotSigned(names []string) *s3err.Error {
	return s3err.New(http.StatusForbidden, "AccessDenied", msgHeadersNotSigned,
		s3err.Field{Name: "HeadersNotSigned", Value: strings.Join(names, ", ")})
}

func errSHA256Mismatch(client, computed string) *s3err.Error {
	return s3err.New(http.StatusBadRequest, "XAmzContentSHA256Mismatch", msgSHA256Mismatch,
		s3err.Field{Name: "ClientComputedContentSHA256", Value: client},
		s3err.Field{Name: "S3ComputedContentSHA256", Value: computed})
}

func errMissingSHA256() *s3err.Error {
	return s3err.New(http.StatusBadRequest, "InvalidRequest", msgMissingSHA256)
}

func errInvalidArgument(msg, name, value string) *s3err.Error {
	return s3err.InvalidArgument(msg,
		s3err.Field{Name: "ArgumentName", Value: name},
		s3err.Field{Name: "ArgumentValue", Value: value})
}

func errBadSHA256(value string) *s3err.Error {
	return errInvalidArgument(msgBadSHA256, "x-amz-content-sha256", value)
}

func errNotImplemented(header string) *s3err.Error {
	return s3err.New(http.StatusNotImplemented, "NotImplemented", msgNotImplemented,
		s3err.Field{Name: "Header", Value: header})
}

func errUnsupportedMechanism() *s3err.Error {
	return s3err.New(http.StatusBadRequest, "InvalidRequest", msgUnsupportedMech)
}

func errOneMechanism() *s3err.Error {
	return s3err.New(http.StatusBadRequest, "InvalidArgument", msgOneMechanism)
}

// errMalformed is AuthorizationHeaderMalformed with S3's common prefix.
func errMalformed(detail string, fields ...s3err.Field) *s3err.Error {
	return s3err.New(http.StatusBadRequest, "AuthorizationHeaderMalformed", malformedPrefix+detail, fields...)
}

// errQuery is AuthorizationQueryParametersError.
func errQuery(msg string, fields ...s3err.Field) *s3err.Error {
	return s3err.New(http.StatusBadRequest, "AuthorizationQueryParametersError", msg, fields...)
}

func errMissingContentLength() *s3err.Error {
	return s3err.New(http.StatusLengthRequired, "MissingContentLength", msgMissingLength)
}

func errMalformedTrailer() *s3err.Error {
	return s3err.New(http.StatusBadRequest, "MalformedTrailerError", msgMalformedTrailer)
}

// hexBytes writes s as S3 does in StringToSignBytes: two lower-case hex
// digits per byte, separated by single spaces.
func hexBytes(s string) string {
	const digits = "0123456789abcdef"
	if s == "" {
		return ""
	}
	b := make([]byte, 0, 3*len(s)-1)
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, digits[s[i]>>4], digits[s[i]&0x0f])
	}
	return string(b)
}
