package sigv4

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The examples of Amazon S3's documentation ("Signature Calculations for
// the Authorization Header", "... Transferring Payload in Multiple
// Chunks", "Authenticating Requests: Using Query Parameters"), with their
// published signatures: they check the canonicalisation against S3 itself,
// independently of any SDK.
const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docCred      = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

	docSeedSignature   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	docChunk1Signature = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	docChunk2Signature = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
	docFinalSignature  = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
)

var docTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func docVerifier(t testing.TB) *Verifier {
	t.Helper()
	v, err := New([]Credentials{{AccessKey: docAccessKey, SecretKey: docSecretKey}},
		Options{Region: "us-east-1", Now: func() time.Time { return docTime }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAWSDocumentationExamples(t *testing.T) {
	type header struct{ name, value string }
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		headers []header
		auth    string
	}{
		{
			name:   "GET Object with Range",
			method: http.MethodGet, target: "/test.txt",
			headers: []header{
				{"Range", "bytes=0-9"},
				{"X-Amz-Content-Sha256", EmptyPayload},
				{"X-Amz-Date", "20130524T000000Z"},
			},
			auth: "AWS4-HMAC-SHA256 " + docCred + ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," +
				"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name:   "PUT Object with $ in the key and a Date header",
			method: http.MethodPut, target: "/test$file.text", body: "Welcome to Amazon S3.",
			headers: []header{
				{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
				{"X-Amz-Date", "20130524T000000Z"},
				{"X-Amz-Storage-Class", "REDUCED_REDUNDANCY"},
				{"X-Amz-Content-Sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
			},
			auth: "AWS4-HMAC-SHA256 " + docCred + ",SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class," +
				"Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name:   "GET bucket lifecycle: a value-less sub-resource like ?cors",
			method: http.MethodGet, target: "/?lifecycle",
			headers: []header{
				{"X-Amz-Date", "20130524T000000Z"},
				{"X-Amz-Content-Sha256", EmptyPayload},
			},
			auth: "AWS4-HMAC-SHA256 " + docCred + ",SignedHeaders=host;x-amz-content-sha256;x-amz-date," +
				"Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name:   "GET bucket list with sorted query",
			method: http.MethodGet, target: "/?max-keys=2&prefix=J",
			headers: []header{
				{"X-Amz-Date", "20130524T000000Z"},
				{"X-Amz-Content-Sha256", EmptyPayload},
			},
			auth: "AWS4-HMAC-SHA256 " + docCred + ",SignedHeaders=host;x-amz-content-sha256;x-amz-date," +
				"Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
		{
			name:   "presigned GET Object",
			method: http.MethodGet,
			target: "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
				"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
				"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
				"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
		},
	}
	v := docVerifier(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			r.Host = "examplebucket.s3.amazonaws.com"
			for _, h := range tt.headers {
				r.Header.Set(h.name, h.value)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			res, err := v.Verify(r, 1<<10)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKey != docAccessKey || string(res.Body) != tt.body || res.Truncated {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

// docChunkedBody is the body of the documentation's chunked upload: 66560
// bytes of "a" in a chunk of 65536, one of 1024 and the final empty one,
// with the published chunk signatures.
func docChunkedBody(sig1, sig2, sig3 string) []byte {
	var b bytes.Buffer
	for _, c := range []struct {
		size int
		sig  string
	}{{65536, sig1}, {1024, sig2}, {0, sig3}} {
		b.WriteString(strconv.FormatInt(int64(c.size), 16) + chunkSignature + c.sig + "\r\n")
		b.Write(bytes.Repeat([]byte("a"), c.size))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func docChunkedRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/examplebucket/chunkObject.txt", bytes.NewReader(body))
	r.Host = "s3.amazonaws.com"
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 "+docCred+
		",SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class"+
		",Signature="+docSeedSignature)
	return r
}

func TestAWSDocumentationChunkedUpload(t *testing.T) {
	want := bytes.Repeat([]byte("a"), 66560)
	tests := []struct {
		name      string
		body      []byte
		limit     int64
		wantErr   string
		truncated bool
	}{
		{name: "published body", body: docChunkedBody(docChunk1Signature, docChunk2Signature, docFinalSignature), limit: 1 << 20},
		{name: "our encoder gives the published body",
			body: encodeSigned(t, want, 65536, signingKey(docSecretKey, "20130524", "us-east-1"),
				docSeedSignature, "20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n", nil), limit: 1 << 20},
		{name: "second chunk signature altered", body: docChunkedBody(docChunk1Signature, docChunk1Signature, docFinalSignature),
			limit: 1 << 20, wantErr: "SignatureDoesNotMatch"},
		{name: "final chunk signature altered", body: docChunkedBody(docChunk1Signature, docChunk2Signature, docChunk2Signature),
			limit: 1 << 20, wantErr: "SignatureDoesNotMatch"},
		{name: "over the limit: first bytes, truncated", body: docChunkedBody(docChunk1Signature, docChunk2Signature, docFinalSignature),
			limit: 64<<10 + 1, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := docVerifier(t).Verify(docChunkedRequest(tt.body), tt.limit)
			if tt.wantErr != "" {
				wantError(t, err, http.StatusForbidden, tt.wantErr, msgSignatureMismatch)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Truncated != tt.truncated {
				t.Fatalf("Truncated = %v", res.Truncated)
			}
			if n := min(int64(len(want)), tt.limit); !bytes.Equal(res.Body, want[:n]) {
				t.Fatalf("body: %d bytes, want %d", len(res.Body), n)
			}
		})
	}
	// The encoder's first chunk line matches the published one.
	enc := encodeSigned(t, want, 65536, signingKey(docSecretKey, "20130524", "us-east-1"),
		docSeedSignature, "20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n", nil)
	if !bytes.Equal(enc, docChunkedBody(docChunk1Signature, docChunk2Signature, docFinalSignature)) {
		t.Fatalf("encodeSigned does not reproduce the documentation's body")
	}
}
