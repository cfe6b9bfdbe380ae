// Package sigv4 verifies AWS Signature Version 4 on S3 requests exactly as
// Amazon S3 does, for the S3 API that caddy-s3cors answers itself
// (PutBucketCors, GetBucketCors and DeleteBucketCors on "?cors").
//
// A Verifier holds one or more Credentials and an optional fixed region.
// Verify authenticates a request by its Authorization header or by
// presigned query parameters, then reads the body, at most a limit given by
// the caller, decoding aws-chunked bodies and checking the payload hash,
// every chunk signature and the trailer signature. Every failure is an
// *s3err.Error with S3's status, code, message and extra elements.
//
// The package is pure: no Caddy import, no global state; the clock is the
// Options.Now seam.
//
// # Canonicalisation
//
//   - The canonical URI is the path as sent, each segment decoded once and
//     URI-encoded again (S3 does not double-encode; an encoded "/" in a
//     segment stays %2F). When the raw path differs from that form (a client
//     that leaves "!" or "(" unencoded and signs what it sends), the raw
//     path is tried as well.
//   - The canonical query is every parameter decoded and URI-encoded, sorted
//     by key then value; "?cors" canonicalises as "cors=". A "+" in the query
//     is a space, as in form encoding.
//   - Canonical header values are trimmed, runs of spaces collapsed, and
//     several lines of one header joined with ",". Host must be signed, and
//     so must every x-amz-* header present (else 403 AccessDenied "There
//     were headers present in the request which were not signed" with
//     HeadersNotSigned).
//
// # Choices where S3's exact behaviour is not known
//
//   - Checks run in this order: the Authorization header's shape, the
//     credential (service, terminal, date format, region), the request date,
//     the access key, the credential date against X-Amz-Date, the clock skew,
//     x-amz-content-sha256, the signed headers, the signature, then the body.
//     Presigned requests: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date and
//     its day, the presence of X-Amz-Signature, X-Amz-SignedHeaders and
//     X-Amz-Expires, the expiry value, the access key, "not valid yet" (more
//     than 15 minutes ahead), "expired", the signed headers, the signature.
//   - Authorization together with presigned (or Signature V2) query
//     parameters is 400 InvalidArgument "Only one auth mechanism allowed;
//     ..."; Signature Version 2 is 400 InvalidRequest "The authorization
//     mechanism you have provided is not supported. Please use
//     AWS4-HMAC-SHA256."
//   - A credential date other than the request date is 400
//     AuthorizationHeaderMalformed "The authorization header is malformed;
//     Invalid credential date. Date is not the same as X-Amz-Date."
//   - A missing or unparsable date is 403 AccessDenied "AWS authentication
//     requires a valid Date or x-amz-date header".
//   - Malformed aws-chunked framing, a premature end of the body and a
//     decoded length other than x-amz-decoded-content-length are 400
//     IncompleteBody; a missing or invalid x-amz-decoded-content-length is
//     411 MissingContentLength; trailing headers that were not announced in
//     x-amz-trailer, are missing, repeated or malformed are 400
//     MalformedTrailerError. The 8 KiB minimum chunk size of S3 is not
//     enforced. The final CRLF of a chunked body may be missing.
//   - A chunk or trailer signature that does not match is 403
//     SignatureDoesNotMatch with the chunk's StringToSign (no canonical
//     request).
//   - X-Amz-Expires=0 is accepted as S3 does: the URL is valid during the
//     second it was signed in.
//   - The ECDSA (SigV4a) payload values are 501 NotImplemented.
package sigv4
