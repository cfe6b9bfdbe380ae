package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The aws-chunked encoder of the tests, written from the AWS documentation
// independently of the decoder (TestAWSDocumentationChunkedUpload checks
// it against the published example).

type trailerKV struct{ name, value string }

func testHMAC(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func testSigningKey(secret, date, region string) []byte {
	k := testHMAC([]byte("AWS4"+secret), date)
	k = testHMAC(k, region)
	k = testHMAC(k, "s3")
	return testHMAC(k, "aws4_request")
}

// encodeSigned encodes data as STREAMING-AWS4-HMAC-SHA256-PAYLOAD (or the
// -TRAILER variant when trailers is not nil). prefix is "<amz date>\n<scope>\n".
func encodeSigned(t testing.TB, data []byte, chunkSize int, key []byte, seed, prefix string, trailers []trailerKV) []byte {
	t.Helper()
	var b bytes.Buffer
	prev := seed
	chunk := func(p []byte) {
		sum := sha256.Sum256(p)
		sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + prefix + prev + "\n" + EmptyPayload + "\n" + hex.EncodeToString(sum[:])
		prev = hex.EncodeToString(testHMAC(key, sts))
		b.WriteString(strconv.FormatInt(int64(len(p)), 16) + ";chunk-signature=" + prev + "\r\n")
		b.Write(p)
		if len(p) > 0 || trailers == nil {
			b.WriteString("\r\n")
		}
	}
	for off := 0; off < len(data); off += chunkSize {
		chunk(data[off:min(off+chunkSize, len(data))])
	}
	chunk(nil)
	if trailers != nil {
		var canonical strings.Builder
		for _, tr := range trailers {
			b.WriteString(tr.name + ":" + tr.value + "\r\n")
			canonical.WriteString(tr.name + ":" + tr.value + "\n")
		}
		sum := sha256.Sum256([]byte(canonical.String()))
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + prefix + prev + "\n" + hex.EncodeToString(sum[:])
		b.WriteString("x-amz-trailer-signature:" + hex.EncodeToString(testHMAC(key, sts)) + "\r\n\r\n")
	}
	return b.Bytes()
}

// encodeUnsigned encodes data as STREAMING-UNSIGNED-PAYLOAD-TRAILER.
func encodeUnsigned(data []byte, chunkSize int, trailers []trailerKV) []byte {
	var b bytes.Buffer
	for off := 0; off < len(data); off += chunkSize {
		p := data[off:min(off+chunkSize, len(data))]
		b.WriteString(strconv.FormatInt(int64(len(p)), 16) + "\r\n")
		b.Write(p)
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\n")
	for _, tr := range trailers {
		b.WriteString(tr.name + ":" + tr.value + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func crc32B64(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(sum[:])
}

const corsXML = `<CORSConfiguration><CORSRule><AllowedOrigin>https://example.com</AllowedOrigin>` +
	`<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`

// streamingRequest signs the headers of a streaming PutBucketCors with the
// SDK and attaches the encoded body made by encode from the seed signature.
func streamingRequest(t testing.TB, mode string, decoded []byte, trailerHeader string, encode func(seed string) []byte) *http.Request {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Encoding", "aws-chunked")
	h.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(decoded)))
	if trailerHeader != "" {
		h.Set("X-Amz-Trailer", trailerHeader)
	}
	r := sdkSign(t, clientRequest{method: http.MethodPut, path: "/photos", rawQuery: "cors", header: h, noContentLength: true},
		mode, testNow, testCreds, testRegion)
	auth := r.Header.Get("Authorization")
	seed := auth[strings.LastIndex(auth, "Signature=")+len("Signature="):]
	body := encode(seed)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

func TestStreaming(t *testing.T) {
	body := []byte(strings.Repeat(corsXML, 40)) // about 6.5 KB, several chunks of 1 KiB
	key := testSigningKey(testSecretKey, testNow.Format("20060102"), testRegion)
	prefix := testNow.Format("20060102T150405Z") + "\n" + testNow.Format("20060102") + "/" + testRegion + "/s3/aws4_request\n"
	crc := []trailerKV{{"x-amz-checksum-crc32", crc32B64(body)}}
	signed := func(data []byte, trailers []trailerKV) func(string) []byte {
		return func(seed string) []byte { return encodeSigned(t, data, 1024, key, seed, prefix, trailers) }
	}
	unsigned := func(data []byte, trailers []trailerKV) func(string) []byte {
		return func(string) []byte { return encodeUnsigned(data, 1024, trailers) }
	}
	edit := func(enc func(string) []byte, f func([]byte) []byte) func(string) []byte {
		return func(seed string) []byte { return f(enc(seed)) }
	}
	tamper := func(b []byte) []byte { // change one byte of the first chunk's data
		i := bytes.Index(b, []byte("<CORSRule>"))
		b[i+1] = 'X'
		return b
	}
	tests := []struct {
		name        string
		mode        string
		trailerHdr  string
		decodedLen  []byte // the body announced in x-amz-decoded-content-length; nil: body
		encode      func(seed string) []byte
		limit       int64
		wantStatus  int
		wantCode    string
		wantTrailer string
		truncated   bool
	}{
		{name: "signed chunks", mode: StreamingPayload, encode: signed(body, nil)},
		{name: "signed chunks, one chunk", mode: StreamingPayload,
			encode: func(seed string) []byte { return encodeSigned(t, body, 1<<20, key, seed, prefix, nil) }},
		{name: "signed chunks with signed trailer", mode: StreamingPayloadTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: signed(body, crc), wantTrailer: crc[0].value},
		{name: "unsigned chunks with trailer", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: unsigned(body, crc), wantTrailer: crc[0].value},
		{name: "unsigned chunks, final CRLF missing", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: edit(unsigned(body, crc), func(b []byte) []byte { return b[:len(b)-2] }), wantTrailer: crc[0].value},
		{name: "empty body, signed", mode: StreamingPayload, decodedLen: []byte{}, encode: signed(nil, nil)},
		{name: "over the limit", mode: StreamingPayload, encode: signed(body, nil), limit: 2000, truncated: true},
		{name: "tampered chunk data", mode: StreamingPayload, encode: edit(signed(body, nil), tamper),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "tampered chunk data, trailer variant", mode: StreamingPayloadTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: edit(signed(body, crc), tamper), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "tampered trailer value", mode: StreamingPayloadTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: edit(signed(body, crc), func(b []byte) []byte {
				return bytes.Replace(b, []byte(crc[0].value), []byte("AAAAAA=="), 1)
			}), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "trailer signature missing", mode: StreamingPayloadTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: edit(signed(body, crc), func(b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature:"))
				return append(b[:i:i], "\r\n"...)
			}), wantStatus: 400, wantCode: "MalformedTrailerError"},
		{name: "trailer not announced", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32c",
			encode: unsigned(body, crc), wantStatus: 400, wantCode: "MalformedTrailerError"},
		{name: "announced trailer missing", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: unsigned(body, nil), wantStatus: 400, wantCode: "MalformedTrailerError"},
		{name: "empty trailer value", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: unsigned(body, []trailerKV{{"x-amz-checksum-crc32", ""}}), wantStatus: 400, wantCode: "MalformedTrailerError"},
		{name: "trailer line without colon", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: edit(unsigned(body, crc), func(b []byte) []byte {
				return bytes.Replace(b, []byte("x-amz-checksum-crc32:"), []byte("x-amz-checksum-crc32 "), 1)
			}), wantStatus: 400, wantCode: "MalformedTrailerError"},
		{name: "repeated trailer", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: unsigned(body, append(crc, crc...)), wantStatus: 400, wantCode: "MalformedTrailerError"},
		{name: "truncated body", mode: StreamingPayload,
			encode:     edit(signed(body, nil), func(b []byte) []byte { return b[:len(b)/2] }),
			wantStatus: 400, wantCode: "IncompleteBody"},
		{name: "decoded length larger than sent", mode: StreamingPayload, decodedLen: append(body, 'x'),
			encode: signed(body, nil), wantStatus: 400, wantCode: "IncompleteBody"},
		{name: "decoded length smaller than sent", mode: StreamingPayload, decodedLen: body[:100],
			encode: signed(body, nil), wantStatus: 400, wantCode: "IncompleteBody"},
		{name: "bad chunk size", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode:     edit(unsigned(body, crc), func(b []byte) []byte { return append([]byte("zz"), b[3:]...) }),
			wantStatus: 400, wantCode: "IncompleteBody"},
		{name: "missing CRLF after chunk data", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode: edit(unsigned(body, crc), func(b []byte) []byte {
				i := bytes.Index(b, []byte("\r\n400\r\n"))
				return append(b[:i:i], b[i+2:]...)
			}), wantStatus: 400, wantCode: "IncompleteBody"},
		{name: "signed chunk without signature", mode: StreamingPayload,
			encode: unsigned(body, nil), wantStatus: 400, wantCode: "IncompleteBody"},
		{name: "chunk header line too long", mode: StreamingPayload,
			encode:     func(string) []byte { return []byte(strings.Repeat("0", 5000) + "\r\n") },
			wantStatus: 400, wantCode: "IncompleteBody"},
		{name: "huge chunk size", mode: StreamingUnsignedTrailer, trailerHdr: "x-amz-checksum-crc32",
			encode:     func(string) []byte { return []byte("7fffffffffffffff\r\n") },
			wantStatus: 400, wantCode: "IncompleteBody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decoded := body
			if tt.decodedLen != nil {
				decoded = tt.decodedLen
			}
			r := streamingRequest(t, tt.mode, decoded, tt.trailerHdr, tt.encode)
			limit := tt.limit
			if limit == 0 {
				limit = 64<<10 + 1
			}
			res, err := newTestVerifier(t, Options{}).Verify(r, limit)
			if tt.wantCode != "" {
				wantError(t, err, tt.wantStatus, tt.wantCode, "")
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := decoded
			if tt.truncated {
				want = decoded[:limit]
			}
			if !bytes.Equal(res.Body, want) || res.Truncated != tt.truncated {
				t.Fatalf("body %d bytes (truncated %v), want %d (%v)", len(res.Body), res.Truncated, len(want), tt.truncated)
			}
			if res.ContentSHA256 != tt.mode {
				t.Fatalf("ContentSHA256 = %q", res.ContentSHA256)
			}
			if tt.trailerHdr != "" && !tt.truncated {
				if got := res.Trailer.Get(tt.trailerHdr); got != tt.wantTrailer {
					t.Fatalf("trailer %s = %q, want %q (%v)", tt.trailerHdr, got, tt.wantTrailer, res.Trailer)
				}
			}
		})
	}
}

func TestStreamingMissingDecodedLength(t *testing.T) {
	r := sdkSign(t, clientRequest{method: http.MethodPut, path: "/photos", rawQuery: "cors", noContentLength: true},
		StreamingPayload, testNow, testCreds, testRegion)
	_, err := newTestVerifier(t, Options{}).Verify(r, 100)
	wantError(t, err, http.StatusLengthRequired, "MissingContentLength", msgMissingLength)
}
