package conformance

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"strings"
)

// maxBodySize is the PutBucketCors body limit (s3cors.MaxBodySize, which
// this package cannot import).
const maxBodySize = 64 << 10

// Owner is the account id the put cases take as the bucket's owner: their
// x-amz-expected-bucket-owner values are checked against it.
const Owner = "000000000001"

// PutBodies returns the bodies a put case is sent as: its XML, its JSON,
// or both. The case put-too-large gets generated bodies just over 64 KiB.
func PutBodies(c *Case) (xmlBody, jsonBody []byte) {
	if c.BodyXML != nil {
		xmlBody = []byte(*c.BodyXML)
	}
	if len(c.CORSJSON) > 0 {
		jsonBody = c.CORSJSON
	}
	if c.ID == "put-too-large" {
		var b strings.Builder
		b.WriteString("<CORSConfiguration>")
		for b.Len() <= maxBodySize {
			b.WriteString("<CORSRule><AllowedOrigin>http://www.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>")
		}
		b.WriteString("</CORSConfiguration>")
		xmlBody = []byte(b.String())
		jsonBody = []byte(`{"CORSRules":[` + strings.Repeat(`{"AllowedOrigins":["*"],"AllowedMethods":["GET"]},`, maxBodySize/40) + `{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`)
	}
	return xmlBody, jsonBody
}

// PutHeaders builds a put case's request headers: the Content-Type, a
// valid x-amz-checksum-crc32 of body unless the case says otherwise, then
// the case's own headers (a nil value removes the header; the name
// "x-amz-checksum-*" with nil removes the checksum).
func PutHeaders(c *Case, body []byte, contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("X-Amz-Checksum-Crc32", CRC32(body))
	for name, v := range c.Headers {
		switch {
		case name == "x-amz-checksum-*" && v == nil:
			h.Del("X-Amz-Checksum-Crc32")
		case v == nil:
			h.Del(name)
		default:
			h.Set(name, *v)
		}
	}
	return h
}

// CRC32 is the x-amz-checksum-crc32 value of body: the big-endian IEEE
// CRC-32 in base64.
func CRC32(body []byte) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE(body))
	return base64.StdEncoding.EncodeToString(b[:])
}
