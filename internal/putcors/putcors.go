// Package putcors reads a PutBucketCors request as S3 does, for the
// configuration APIs (the admin routes and the S3 API on the site): the
// body limit, x-amz-expected-bucket-owner, the integrity headers
// (Content-MD5, x-amz-checksum-*), then the document, which the CORS
// engine parses. It is request plumbing, kept out of the engine so that
// the engine's API is about CORS.
//
// S3's rules:
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html
// (Content-MD5 or x-amz-checksum-* required, x-amz-expected-bucket-owner)
// and https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
// (the checksum algorithms). Where S3's behaviour is not known:
//
//   - A body over 64 KiB is refused with 400 MaxMessageLengthExceeded;
//     ReadBody reads at most 64 KiB + 1 bytes.
//   - x-amz-expected-bucket-owner is refused with AccessDenied when no
//     owner is configured, since the expectation cannot be confirmed.
package putcors

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// The messages of the errors in this file, byte for byte as S3 sends them.
const (
	msgMissingDigest = "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"
	msgInvalidDigest = "The Content-MD5 you specified was invalid."
	msgBadDigest     = "The Content-MD5 you specified did not match what we received."
	msgInvalidOwner  = "The value of the expected bucket owner parameter must be an AWS Account ID... ["
)

// crc64NVME is CRC-64/NVME in Go's reflected form, as S3 computes
// x-amz-checksum-crc64nvme.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksumAlgorithms are the x-amz-checksum-* headers S3 verifies, with
// the size of their digest.
var checksumAlgorithms = []struct {
	name   string // lower case, as in the header and x-amz-sdk-checksum-algorithm
	header string // the header's canonical form, as http.Header keys it
	size   int
	new    func() hash.Hash
}{
	{"crc32", "X-Amz-Checksum-Crc32", 4, func() hash.Hash { return crc32.NewIEEE() }},
	{"crc32c", "X-Amz-Checksum-Crc32c", 4, func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	{"crc64nvme", "X-Amz-Checksum-Crc64nvme", 8, func() hash.Hash { return crc64.New(crc64NVME) }},
	{"sha1", "X-Amz-Checksum-Sha1", sha1.Size, sha1.New},
	{"sha256", "X-Amz-Checksum-Sha256", sha256.Size, sha256.New},
}

// VerifyIntegrity checks a PutBucketCors body against its integrity
// headers, as S3 does: one of Content-MD5 or an x-amz-checksum-* header is
// required, and every one present must be well formed and match the body.
func VerifyIntegrity(h http.Header, body []byte) *s3err.Error {
	md5Value, hasMD5 := h["Content-Md5"]
	if hasMD5 {
		raw, err := base64.StdEncoding.DecodeString(md5Value[0])
		if err != nil || len(raw) != md5.Size {
			return s3err.New(http.StatusBadRequest, "InvalidDigest", msgInvalidDigest,
				s3err.Field{Name: "Content-MD5", Value: md5Value[0]})
		}
		sum := md5.Sum(body)
		if string(sum[:]) != string(raw) {
			return s3err.New(http.StatusBadRequest, "BadDigest", msgBadDigest,
				s3err.Field{Name: "ExpectedDigest", Value: md5Value[0]},
				s3err.Field{Name: "CalculatedDigest", Value: base64.StdEncoding.EncodeToString(sum[:])})
		}
	}
	found := 0
	for _, alg := range checksumAlgorithms {
		values, ok := h[alg.header]
		if !ok {
			continue
		}
		found++
		if found > 1 {
			return s3err.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		raw, err := base64.StdEncoding.DecodeString(values[0])
		if err != nil || len(raw) != alg.size {
			return s3err.InvalidRequest("Value for x-amz-checksum-" + alg.name + " header is invalid.")
		}
		d := alg.new()
		d.Write(body)
		if string(d.Sum(nil)) != string(raw) {
			return s3err.New(http.StatusBadRequest, "BadDigest",
				"The "+strings.ToUpper(alg.name)+" you specified did not match the calculated checksum.")
		}
	}
	if sdkAlg := h.Get("X-Amz-Sdk-Checksum-Algorithm"); sdkAlg != "" && found == 0 && h.Get("X-Amz-Trailer") == "" {
		return s3err.InvalidRequest("x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.")
	}
	if !hasMD5 && found == 0 {
		return s3err.InvalidRequest(msgMissingDigest)
	}
	return nil
}

// CheckExpectedOwner applies x-amz-expected-bucket-owner: a value that is
// not a 12-digit account id is S3's InvalidBucketOwnerAWSAccountID, and
// one that is not owner is AccessDenied. With no owner configured, any
// expectation is refused, since it cannot be confirmed.
func CheckExpectedOwner(h http.Header, owner string) *s3err.Error {
	values, ok := h["X-Amz-Expected-Bucket-Owner"]
	if !ok {
		return nil
	}
	v := values[0]
	if !IsAccountID(v) {
		return s3err.New(http.StatusBadRequest, "InvalidBucketOwnerAWSAccountID", msgInvalidOwner+v+"]")
	}
	if v != owner {
		return s3err.AccessDenied()
	}
	return nil
}

// IsAccountID reports whether v is a 12-digit AWS account id, the shape of
// x-amz-expected-bucket-owner and of the s3_cors app's owner.
func IsAccountID(v string) bool {
	if len(v) != 12 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// Options says how Decode treats a PutBucketCors request.
type Options struct {
	// Owner is the account id x-amz-expected-bucket-owner is checked against.
	Owner string
	// RequireIntegrity refuses a body with neither Content-MD5 nor an
	// x-amz-checksum-* header, as S3 does; when false they are verified
	// only when present.
	RequireIntegrity bool
}

// Decode turns a PutBucketCors request into a configuration with S3's
// checks in S3's order: the expected owner, the body size, the integrity
// headers, then the document itself, as JSON when the Content-Type says
// so and as XML otherwise.
func Decode(h http.Header, body []byte, opts Options) (*s3cors.Configuration, error) {
	if err := CheckExpectedOwner(h, opts.Owner); err != nil {
		return nil, err
	}
	if len(body) > s3cors.MaxBodySize {
		return nil, s3err.TooLarge(s3cors.MaxBodySize)
	}
	if opts.RequireIntegrity || hasIntegrityHeader(h) {
		if err := VerifyIntegrity(h, body); err != nil {
			return nil, err
		}
	}
	if isJSON(h.Get("Content-Type")) {
		return s3cors.ParseJSON(body)
	}
	return s3cors.ParseXML(body)
}

// ReadBody reads a PutBucketCors body from r, reading no more than
// s3cors.MaxBodySize+1 bytes, and answers s3err.TooLarge for a longer one.
func ReadBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, s3cors.MaxBodySize+1))
	if err != nil {
		return nil, err
	}
	if len(body) > s3cors.MaxBodySize {
		return nil, s3err.TooLarge(s3cors.MaxBodySize)
	}
	return body, nil
}

func hasIntegrityHeader(h http.Header) bool {
	if _, ok := h["Content-Md5"]; ok {
		return true
	}
	for _, alg := range checksumAlgorithms {
		if _, ok := h[alg.header]; ok {
			return true
		}
	}
	return false
}

func isJSON(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "application/json")
}
