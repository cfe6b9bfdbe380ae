// Package s3cors reproduces Amazon S3's bucket CORS exactly: the
// PutBucketCors document (XML and the aws cli JSON shape) with S3's
// validation and error documents, the GetBucketCors serialization, and the
// request-time evaluation of preflight and actual requests with S3's
// decision ladder and response headers.
//
// The package is pure: it imports no Caddy package and keeps no global
// state. ParseXML and ParseJSON make a Configuration, Compile turns it into
// an immutable Policy, Policy.Evaluate decides one request, and
// Decision.WritePreflight or a ResponseWriter applies the decision. Wrap
// puts the whole together as net/http middleware for one bucket.
//
// # Choices where S3's behaviour is not known
//
// The conformance cases of testdata/conformance/cases.json were recorded
// against Amazon S3 or taken from test suites run against it; those marked
// "inferred" (ids starting with inf-) are best guesses. Where S3's
// behaviour was not recorded, this package decides it as follows.
//
//   - A body over 64 KiB is refused with 400 MaxMessageLengthExceeded,
//     "Your request was too big.", and a MaxMessageLengthBytes element.
//   - Schema errors (MalformedXML: malformed XML, no rules, an empty rule,
//     a rule without AllowedOrigin or AllowedMethod, a non-integer or
//     repeated MaxAgeSeconds, an unknown element, a foreign namespace, a
//     DOCTYPE) win over value errors; then more than 100 rules; then the
//     first offending value in document order. ParseJSON checks the values
//     of a rule in the order the SDKs serialize them: ID, AllowedHeaders,
//     AllowedMethods, AllowedOrigins, ExposeHeaders.
//   - An AllowedHeader or ExposeHeader with a character outside the HTTP
//     token characters is 400 InvalidRequest "AllowedHeader <value>
//     contains invalid character." (S3's reported wording, for both).
//   - An ID over 255 characters is 400 InvalidArgument "ID length should
//     not exceed allowed limit of 255"; duplicate IDs are accepted.
//   - MaxAgeSeconds is an xs:int: any 32-bit value, 0 and negative
//     included, is stored and sent as it is.
//   - An empty Origin value is treated as no Origin. The stored empty
//     AllowedOrigin "" therefore matches nothing; `*` matches every
//     non-empty origin, "null" included, which is compared like any string.
//   - With several Origin or Access-Control-Request-Method lines, the first
//     is used. Several Access-Control-Request-Headers lines form one
//     comma-separated list, as HTTP defines.
//   - An Access-Control-Request-Headers value of only commas and spaces
//     names no header: it is treated as absent (no check, no
//     Access-Control-Allow-Headers).
//   - An Access-Control-Request-Headers value over 8 KiB (S3's limit for a
//     whole header section) refuses a preflight with 400
//     RequestHeaderSectionTooLarge and matches no rule on an actual request.
//   - A preflight checks, in order: Origin, bucket existence, configuration,
//     then Access-Control-Request-Method (missing: "Invalid
//     Access-Control-Request-Method: null"), then the rules.
//   - An actual request whose Access-Control-Request-Method is not one of
//     the five methods matches no rule and passes through.
//   - A rule listing `*` among other origins answers
//     Access-Control-Allow-Origin `*` for every origin.
//   - Successful preflights carry no x-amz-request-id: only error
//     documents do, equal to their RequestId and HostId.
//   - When the store's response has Vary tokens of its own (such as
//     Accept-Encoding), they are kept on their own lines after S3's Vary
//     line; the store's Origin and Access-Control-Request-* tokens are
//     always removed.
package s3cors
