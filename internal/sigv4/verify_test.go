package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

func putCORS(body []byte) clientRequest {
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	h.Set("X-Amz-Checksum-Crc32", crc32B64(body))
	h.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
	return clientRequest{method: http.MethodPut, path: "/photos", rawQuery: "cors", header: h, body: body}
}

func TestVerifyHeader(t *testing.T) {
	body := []byte(corsXML)
	bodyHash := sha256Hex(body)
	signedPut := func(t *testing.T) *http.Request {
		return sdkSign(t, putCORS(body), bodyHash, testNow, testCreds, testRegion)
	}
	type want struct {
		status        int
		code, message string
		fields        map[string]string
	}
	tests := []struct {
		name    string
		opts    Options
		request func(t *testing.T) *http.Request
		limit   int64
		want    want   // zero: success
		body    []byte // expected body on success
	}{
		{name: "PUT ?cors with hex payload hash", request: signedPut, body: body},
		{name: "PUT with UNSIGNED-PAYLOAD", body: body, request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), UnsignedPayload, testNow, testCreds, testRegion)
		}},
		{name: "GET ?cors", request: func(t *testing.T) *http.Request {
			return sdkSign(t, clientRequest{method: http.MethodGet, path: "/photos", rawQuery: "cors"}, EmptyPayload, testNow, testCreds, testRegion)
		}},
		{name: "DELETE ?cors", request: func(t *testing.T) *http.Request {
			return sdkSign(t, clientRequest{method: http.MethodDelete, path: "/photos", rawQuery: "cors"}, EmptyPayload, testNow, testCreds, testRegion)
		}},
		{name: "?cors sent bare, as botocore does, signed as cors=", request: func(t *testing.T) *http.Request {
			r := sdkSign(t, clientRequest{method: http.MethodGet, path: "/photos", rawQuery: "cors"}, EmptyPayload, testNow, testCreds, testRegion)
			if r.URL.RawQuery != "cors=" {
				t.Fatalf("the SDK sent ?%s", r.URL.RawQuery)
			}
			r.URL.RawQuery, r.RequestURI = "cors", "/photos?cors"
			return r
		}},
		{name: "virtual-hosted /?cors", request: func(t *testing.T) *http.Request {
			return sdkSign(t, clientRequest{method: http.MethodGet, path: "/", rawQuery: "cors"}, EmptyPayload, testNow, testCreds, testRegion)
		}},
		{name: "query with several parameters, spaces and repeated keys", request: func(t *testing.T) *http.Request {
			return sdkSign(t, clientRequest{method: http.MethodGet, path: "/photos",
				rawQuery: "prefix=a%20b%2Fc&cors&b=2&b=1&%C3%A9=%E2%82%AC"}, EmptyPayload, testNow, testCreds, testRegion)
		}},
		{name: "path with special characters, encoded by the client", request: func(t *testing.T) *http.Request {
			return sdkSign(t, clientRequest{method: http.MethodGet, path: "/photos/a b/c+d!é(1)$*'.txt",
				rawPath: "/photos/" + uriEncode("a b", true) + "/" + uriEncode("c+d!é(1)$*'.txt", true)},
				EmptyPayload, testNow, testCreds, testRegion)
		}},
		{name: "path with an encoded slash in a key segment", request: func(t *testing.T) *http.Request {
			return sdkSign(t, clientRequest{method: http.MethodGet, path: "/photos/a/b", rawPath: "/photos/a%2Fb"},
				EmptyPayload, testNow, testCreds, testRegion)
		}},
		{name: "path with reserved characters sent and signed raw", request: func(t *testing.T) *http.Request {
			return sdkSign(t, clientRequest{method: http.MethodGet, path: "/photos/a!b(c)", rawPath: "/photos/a!b(c)"},
				EmptyPayload, testNow, testCreds, testRegion)
		}},
		{name: "fixed region", opts: Options{Region: testRegion}, request: signedPut, body: body},
		{name: "other region accepted by default", body: body, request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), bodyHash, testNow, testCreds, "eu-central-1")
		}},
		{name: "clock skew just inside 15 minutes", body: body, request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), bodyHash, testNow.Add(-15*time.Minute+time.Second), testCreds, testRegion)
		}},
		{name: "header value with sequential spaces", body: body, request: func(t *testing.T) *http.Request {
			c := putCORS(body)
			c.header.Set("X-Amz-Meta-Note", "  a   b  c ")
			c.header.Add("X-Amz-Meta-Note", "second")
			return sdkSign(t, c, bodyHash, testNow, testCreds, testRegion)
		}},

		{name: "no authentication", request: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPut, "/photos?cors", bytes.NewReader(body))
		}, want: want{status: 403, code: "AccessDenied", message: "Access Denied"}},
		{name: "wrong region when fixed", opts: Options{Region: "eu-west-1"}, request: signedPut,
			want: want{status: 400, code: "AuthorizationHeaderMalformed",
				message: "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
				fields:  map[string]string{"Region": "eu-west-1"}}},
		{name: "unknown access key", request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), bodyHash, testNow, aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}, testRegion)
		}, want: want{status: 403, code: "InvalidAccessKeyId", message: msgInvalidAccessKeyID,
			fields: map[string]string{"AWSAccessKeyId": "AKIAUNKNOWN"}}},
		{name: "wrong secret", request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), bodyHash, testNow, aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: "wrong"}, testRegion)
		}, want: want{status: 403, code: "SignatureDoesNotMatch", message: msgSignatureMismatch,
			fields: map[string]string{"AWSAccessKeyId": testAccessKey}}},
		// Two Authorization lines: two credentials, one of them unchecked.
		{name: "Authorization twice, valid first", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Add("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAOTHER/20260314/us-east-1/s3/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64))
			return r
		}, want: want{status: 400, code: "InvalidArgument", message: msgOneMechanism}},
		{name: "Authorization twice, valid last", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header["Authorization"] = append([]string{"AWS4-HMAC-SHA256 Credential=AKIAOTHER/20260314/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("0", 64)}, r.Header["Authorization"]...)
			return r
		}, want: want{status: 400, code: "InvalidArgument", message: msgOneMechanism}},
		{name: "Authorization twice, the same", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, want: want{status: 400, code: "InvalidArgument", message: msgOneMechanism}},
		{name: "Authorization twice, first empty", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header["Authorization"] = append([]string{""}, r.Header["Authorization"]...)
			return r
		}, want: want{status: 400, code: "InvalidArgument", message: msgOneMechanism}},
		{name: "tampered signed header", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, want: want{status: 403, code: "SignatureDoesNotMatch"}},
		{name: "tampered host", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Host = "evil.example"
			return r
		}, want: want{status: 403, code: "SignatureDoesNotMatch"}},
		{name: "tampered method", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Method = http.MethodDelete
			return r
		}, want: want{status: 403, code: "SignatureDoesNotMatch"}},
		{name: "tampered path", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.RequestURI = "/other?cors="
			return r
		}, want: want{status: 403, code: "SignatureDoesNotMatch"}},
		{name: "tampered query", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.URL.RawQuery = "cors=&versionId=1"
			return r
		}, want: want{status: 403, code: "SignatureDoesNotMatch"}},
		{name: "unsigned x-amz header added", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Set("X-Amz-Expected-Bucket-Owner", "111122223333")
			r.Header.Set("X-Amz-Acl", "public-read")
			return r
		}, want: want{status: 403, code: "AccessDenied", message: msgHeadersNotSigned,
			fields: map[string]string{"HeadersNotSigned": "x-amz-acl, x-amz-expected-bucket-owner"}}},
		{name: "host not signed", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=x;", 1))
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";host;", ";", 1))
			return r
		}, want: want{status: 403, code: "AccessDenied", fields: map[string]string{"HeadersNotSigned": "host"}}},
		{name: "tampered body", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(corsXML, "3000", "9000", 1)))
			return r
		}, want: want{status: 400, code: "XAmzContentSHA256Mismatch", message: msgSHA256Mismatch,
			fields: map[string]string{"ClientComputedContentSHA256": bodyHash,
				"S3ComputedContentSHA256": sha256Hex([]byte(strings.Replace(corsXML, "3000", "9000", 1)))}}},
		{name: "body over the limit: truncated, hash not checked", limit: 10, body: body[:10], request: signedPut},
		{name: "request 16 minutes old", request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), bodyHash, testNow.Add(-16*time.Minute), testCreds, testRegion)
		}, want: want{status: 403, code: "RequestTimeTooSkewed", message: msgTooSkewed, fields: map[string]string{
			"RequestTime": "20260314T145326Z", "ServerTime": "2026-03-14T15:09:26Z", "MaxAllowedSkewMilliseconds": "900000"}}},
		{name: "request 16 minutes ahead", request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), bodyHash, testNow.Add(16*time.Minute), testCreds, testRegion)
		}, want: want{status: 403, code: "RequestTimeTooSkewed"}},
		{name: "missing x-amz-content-sha256", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Del("X-Amz-Content-Sha256")
			return r
		}, want: want{status: 400, code: "InvalidRequest", message: msgMissingSHA256}},
		{name: "invalid x-amz-content-sha256", request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), "abc", testNow, testCreds, testRegion)
		}, want: want{status: 400, code: "InvalidArgument", message: msgBadSHA256,
			fields: map[string]string{"ArgumentName": "x-amz-content-sha256", "ArgumentValue": "abc"}}},
		{name: "ECDSA streaming payload", request: func(t *testing.T) *http.Request {
			return sdkSign(t, putCORS(body), "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", testNow, testCreds, testRegion)
		}, want: want{status: 501, code: "NotImplemented"}},
		{name: "missing date", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Del("X-Amz-Date")
			return r
		}, want: want{status: 403, code: "AccessDenied", message: msgMissingDate}},
		{name: "malformed date", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Set("X-Amz-Date", "2026-03-14T15:09:26Z")
			return r
		}, want: want{status: 403, code: "AccessDenied", message: msgMissingDate}},
		{name: "credential date not the request date", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.Header.Set("X-Amz-Date", testNow.Add(-16*time.Hour).Format(iso8601))
			return r
		}, want: want{status: 400, code: "AuthorizationHeaderMalformed",
			message: "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."}},
		{name: "presigned parameters and Authorization together", request: func(t *testing.T) *http.Request {
			r := signedPut(t)
			r.URL.RawQuery += "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
			return r
		}, want: want{status: 400, code: "InvalidArgument", message: msgOneMechanism}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 64<<10 + 1
			}
			res, err := newTestVerifier(t, tt.opts).Verify(tt.request(t), limit)
			if tt.want.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.AccessKey != testAccessKey || !bytes.Equal(res.Body, tt.body) || res.Presigned {
					t.Fatalf("result = %+v, body %q", res, res.Body)
				}
				if res.Truncated != (tt.limit != 0 && int64(len(body)) > tt.limit) {
					t.Fatalf("Truncated = %v", res.Truncated)
				}
				return
			}
			e := wantError(t, err, tt.want.status, tt.want.code, tt.want.message)
			for name, value := range tt.want.fields {
				if got := field(t, e, name); got != value {
					t.Errorf("%s = %q, want %q", name, got, value)
				}
			}
		})
	}
}

// TestSignatureDoesNotMatchDocument checks the diagnostic elements S3 adds
// to SignatureDoesNotMatch, in S3's order.
func TestSignatureDoesNotMatchDocument(t *testing.T) {
	r := sdkSign(t, clientRequest{method: http.MethodGet, path: "/photos", rawQuery: "cors"}, EmptyPayload, testNow,
		aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: "wrong"}, testRegion)
	_, err := newTestVerifier(t, Options{}).Verify(r, 0)
	e := wantError(t, err, 403, "SignatureDoesNotMatch", msgSignatureMismatch)
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "AWSAccessKeyId,StringToSign,SignatureProvided,StringToSignBytes,CanonicalRequest,CanonicalRequestBytes" {
		t.Fatalf("fields = %s", got)
	}
	wantCR := "GET\n/photos\ncors=\nhost:" + testHost + "\nx-amz-content-sha256:" + EmptyPayload +
		"\nx-amz-date:20260314T150926Z\n\nhost;x-amz-content-sha256;x-amz-date\n" + EmptyPayload
	if got := field(t, e, "CanonicalRequest"); got != wantCR {
		t.Fatalf("CanonicalRequest = %q, want %q", got, wantCR)
	}
	sts := field(t, e, "StringToSign")
	if !strings.HasPrefix(sts, "AWS4-HMAC-SHA256\n20260314T150926Z\n20260314/us-east-1/s3/aws4_request\n") {
		t.Fatalf("StringToSign = %q", sts)
	}
	if got := field(t, e, "StringToSignBytes"); !strings.HasPrefix(got, "41 57 53 34 2d ") {
		t.Fatalf("StringToSignBytes = %q", got)
	}
	auth := r.Header.Get("Authorization")
	if got := field(t, e, "SignatureProvided"); got != auth[len(auth)-64:] {
		t.Fatalf("SignatureProvided = %q", got)
	}
	// The document renders with the elements before RequestId.
	doc := string(e.XML("REQ", "HOST"))
	if !strings.Contains(doc, "<AWSAccessKeyId>"+testAccessKey+"</AWSAccessKeyId><StringToSign>") ||
		!strings.HasSuffix(doc, "</CanonicalRequestBytes><RequestId>REQ</RequestId><HostId>HOST</HostId></Error>") {
		t.Fatalf("document = %s", doc)
	}
}

func TestMalformedAuthorization(t *testing.T) {
	cred := "Credential=" + testAccessKey + "/20260314/us-east-1/s3/aws4_request"
	sig := "Signature=" + strings.Repeat("0", 64)
	tests := []struct {
		name, value string
		status      int
		code, msg   string
	}{
		{"signature version 2", "AWS " + testAccessKey + ":abc", 400, "InvalidRequest", msgUnsupportedMech},
		{"unknown type", "Bearer token", 400, "InvalidArgument", msgUnsupportedType},
		{"no space", "Basic", 400, "InvalidArgument", msgOneSpace},
		{"two components", "AWS4-HMAC-SHA256 " + cred + ", " + sig, 400, "AuthorizationHeaderMalformed",
			"The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature."},
		{"component without =", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders, " + sig, 400, "AuthorizationHeaderMalformed",
			`The authorization header is malformed; the authorization component "SignedHeaders" is malformed.`},
		{"misspelt Credential", "AWS4-HMAC-SHA256 Credentials=x, SignedHeaders=host, " + sig, 400, "AuthorizationHeaderMalformed",
			"The authorization header is malformed; missing Credential."},
		{"Signature twice", "AWS4-HMAC-SHA256 " + cred + ", " + sig + ", " + sig, 400, "AuthorizationHeaderMalformed",
			"The authorization header is malformed; missing SignedHeaders."},
		{"credential with four parts", "AWS4-HMAC-SHA256 Credential=AK/20260314/us-east-1/s3, SignedHeaders=host, " + sig, 400,
			"AuthorizationHeaderMalformed", "The authorization header is malformed; " + msgMalformedCred},
		{"wrong service", "AWS4-HMAC-SHA256 Credential=AK/20260314/us-east-1/iam/aws4_request, SignedHeaders=host, " + sig, 400,
			"AuthorizationHeaderMalformed", `The authorization header is malformed; incorrect service "iam". This endpoint belongs to "s3".`},
		{"wrong terminal", "AWS4-HMAC-SHA256 Credential=AK/20260314/us-east-1/s3/aws5_request, SignedHeaders=host, " + sig, 400,
			"AuthorizationHeaderMalformed", `The authorization header is malformed; incorrect terminal "aws5_request". This endpoint uses "aws4_request".`},
		{"bad credential date", "AWS4-HMAC-SHA256 Credential=AK/2026-03-14/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig, 400,
			"AuthorizationHeaderMalformed", `The authorization header is malformed; incorrect date format "2026-03-14". This date in the credential must be in the format "yyyyMMdd".`},
		{"unknown key wins over a bad signature", "AWS4-HMAC-SHA256 Credential=NOPE/20260314/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig,
			403, "InvalidAccessKeyId", msgInvalidAccessKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/photos?cors", nil)
			r.Header.Set("X-Amz-Date", testNow.Format(iso8601))
			r.Header.Set("X-Amz-Content-Sha256", EmptyPayload)
			r.Header.Set("Authorization", tt.value)
			_, err := newTestVerifier(t, Options{}).Verify(r, 0)
			wantError(t, err, tt.status, tt.code, tt.msg)
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	get := clientRequest{method: http.MethodGet, path: "/photos", rawQuery: "cors"}
	presign := func(expires string, at time.Time) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request { return sdkPresign(t, get, expires, at, testCreds, testRegion) }
	}
	editQuery := func(f func(string) string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := presign("300", testNow)(t)
			r.URL.RawQuery = f(r.URL.RawQuery)
			r.RequestURI = r.URL.Path + "?" + r.URL.RawQuery
			return r
		}
	}
	tests := []struct {
		name    string
		opts    Options
		request func(t *testing.T) *http.Request
		status  int
		code    string
		msg     string
		fields  map[string]string
	}{
		{name: "valid", request: presign("300", testNow)},
		{name: "valid with a PUT body", request: func(t *testing.T) *http.Request {
			c := get
			c.method, c.body = http.MethodPut, []byte(corsXML)
			return sdkPresign(t, c, "300", testNow, testCreds, testRegion)
		}},
		{name: "valid, signed a week ago for a week", request: presign("604800", testNow.Add(-604800*time.Second))},
		{name: "valid, signed 14 minutes ahead", request: presign("60", testNow.Add(14*time.Minute))},
		{name: "expired", request: presign("300", testNow.Add(-301*time.Second)), status: 403, code: "AccessDenied", msg: msgExpired,
			fields: map[string]string{"X-Amz-Expires": "300", "Expires": "2026-03-14T15:09:25Z", "ServerTime": "2026-03-14T15:09:26Z"}},
		{name: "not valid yet", request: presign("300", testNow.Add(16*time.Minute)), status: 403, code: "AccessDenied", msg: msgNotYetValid},
		{name: "expires over a week", request: presign("604801", testNow), status: 400, code: "AuthorizationQueryParametersError", msg: msgExpiresLarge},
		{name: "expires negative", request: presign("-1", testNow), status: 400, code: "AuthorizationQueryParametersError", msg: msgExpiresNeg},
		{name: "expires not a number", request: presign("soon", testNow), status: 400, code: "AuthorizationQueryParametersError", msg: msgExpiresNumber},
		{name: "tampered query value", request: editQuery(func(q string) string { return strings.Replace(q, "X-Amz-Expires=300", "X-Amz-Expires=299", 1) }),
			status: 403, code: "SignatureDoesNotMatch"},
		{name: "query parameter added", request: editQuery(func(q string) string { return q + "&versionId=2" }),
			status: 403, code: "SignatureDoesNotMatch"},
		{name: "signature altered", request: editQuery(func(q string) string { return q[:len(q)-1] + "0" }),
			status: 403, code: "SignatureDoesNotMatch"},
		{name: "signature missing", request: editQuery(func(q string) string { return q[:strings.Index(q, "&X-Amz-Signature")] }),
			status: 400, code: "AuthorizationQueryParametersError", msg: msgQueryMissing},
		{name: "other algorithm", request: editQuery(func(q string) string {
			return strings.Replace(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1", 1)
		}), status: 400, code: "AuthorizationQueryParametersError", msg: msgQueryAlgorithm},
		{name: "bad X-Amz-Date", request: editQuery(func(q string) string {
			return strings.Replace(q, "X-Amz-Date=20260314T150926Z", "X-Amz-Date=2026", 1)
		}), status: 400, code: "AuthorizationQueryParametersError", msg: msgQueryDate},
		{name: "X-Amz-Date on another day", request: editQuery(func(q string) string {
			return strings.Replace(q, "X-Amz-Date=20260314T150926Z", "X-Amz-Date=20260315T000000Z", 1)
		}), status: 400, code: "AuthorizationQueryParametersError",
			msg: `Invalid credential date "20260314". This date is not the same as X-Amz-Date: "20260315".`},
		{name: "wrong region when fixed", opts: Options{Region: "eu-west-1"}, request: presign("300", testNow),
			status: 400, code: "AuthorizationQueryParametersError",
			msg: "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'"},
		{name: "unknown key", request: func(t *testing.T) *http.Request {
			return sdkPresign(t, get, "300", testNow, aws.Credentials{AccessKeyID: "NOPE", SecretAccessKey: "x"}, testRegion)
		}, status: 403, code: "InvalidAccessKeyId"},
		// A parameter twice: two credentials, one of them unchecked.
		{name: "X-Amz-Signature twice, valid first", request: editQuery(func(q string) string { return q + "&X-Amz-Signature=" + strings.Repeat("0", 64) }),
			status: 400, code: "InvalidArgument", msg: msgOneMechanism},
		{name: "X-Amz-Signature twice, valid last", request: editQuery(func(q string) string {
			return strings.Replace(q, "X-Amz-Signature=", "X-Amz-Signature="+strings.Repeat("0", 64)+"&X-Amz-Signature=", 1)
		}), status: 400, code: "InvalidArgument", msg: msgOneMechanism},
		{name: "X-Amz-Signature twice, same value", request: editQuery(func(q string) string {
			return q + "&" + q[strings.Index(q, "X-Amz-Signature="):]
		}), status: 400, code: "InvalidArgument", msg: msgOneMechanism},
		{name: "X-Amz-Credential twice", request: editQuery(func(q string) string {
			return q + "&X-Amz-Credential=" + testAccessKey + "%2F20260314%2Fus-east-1%2Fs3%2Faws4_request"
		}), status: 400, code: "InvalidArgument", msg: msgOneMechanism},
		{name: "X-Amz-Date twice", request: editQuery(func(q string) string { return q + "&X-Amz-Date=20260314T150926Z" }),
			status: 400, code: "InvalidArgument", msg: msgOneMechanism},
		{name: "v2 presigned", request: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/photos?cors&AWSAccessKeyId=AK&Expires=1&Signature=x", nil)
		}, status: 400, code: "InvalidRequest", msg: msgUnsupportedMech},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := newTestVerifier(t, tt.opts).Verify(tt.request(t), 64<<10+1)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !res.Presigned || res.AccessKey != testAccessKey || res.ContentSHA256 != UnsignedPayload {
					t.Fatalf("result = %+v", res)
				}
				return
			}
			e := wantError(t, err, tt.status, tt.code, tt.msg)
			for name, value := range tt.fields {
				if got := field(t, e, name); got != value {
					t.Errorf("%s = %q, want %q", name, got, value)
				}
			}
		})
	}
}

// TestBotocoreRequestShape replays the request aws-cli v1 (botocore 1.43)
// sends for put-bucket-cors over plain HTTP: the CRC32 checksum headers
// signed, no Content-MD5, no Content-Type, content-length not signed, a
// hex payload hash and a bare "?cors".
func TestBotocoreRequestShape(t *testing.T) {
	body := []byte(corsXML)
	h := http.Header{}
	h.Set("X-Amz-Checksum-Crc32", crc32B64(body))
	h.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
	h.Set("User-Agent", "aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18 md/arch#x86_64 lang/python#3.11.7 cfg/retry-mode#legacy botocore/1.43.11")
	r := sdkSign(t, clientRequest{method: http.MethodPut, path: "/photos", rawQuery: "cors", header: h, body: body, noContentLength: true},
		sha256Hex(body), testNow, testCreds, testRegion)
	r.URL.RawQuery, r.RequestURI = "cors", "/photos?cors"
	if !strings.Contains(r.Header.Get("Authorization"), "SignedHeaders=host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-sdk-checksum-algorithm,") {
		t.Fatalf("Authorization = %s", r.Header.Get("Authorization"))
	}
	res, err := newTestVerifier(t, Options{}).Verify(r, 64<<10+1)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !bytes.Equal(res.Body, body) {
		t.Fatalf("body = %q", res.Body)
	}
	if err := putcors.VerifyIntegrity(r.Header, res.Body); err != nil {
		t.Fatalf("VerifyIntegrity: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := sdkSign(t, putCORS([]byte(corsXML)), UnsignedPayload, testNow, testCreds, testRegion)
	r.Body = io.NopCloser(iotest.ErrReader(boom))
	_, err := newTestVerifier(t, Options{}).Verify(r, 100)
	var docErr *s3err.Error
	if !errors.Is(err, boom) || errors.As(err, &docErr) || !strings.HasPrefix(err.Error(), "sigv4: read body: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name  string
		creds []Credentials
		err   string
	}{
		{"none", nil, "sigv4: no credentials"},
		{"empty secret", []Credentials{{AccessKey: "a"}}, "sigv4: credentials 0: empty access key or secret key"},
		{"duplicate", []Credentials{{"a", "b"}, {"a", "c"}}, `sigv4: credentials 1: duplicate access key "a"`},
		{"ok", []Credentials{{"a", "b"}, {"c", "d"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.creds, Options{})
			if got := ""; err != nil {
				got = err.Error()
				if got != tt.err {
					t.Fatalf("err = %q, want %q", got, tt.err)
				}
			} else if tt.err != "" {
				t.Fatalf("err = nil, want %q", tt.err)
			}
		})
	}
}

func TestCanonicalHelpers(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"bare cors", canonicalQuery(parseQuery("cors"), ""), "cors="},
		{"sorted by key then value", canonicalQuery(parseQuery("b=2&a=z&b=1&a"), ""), "a=&a=z&b=1&b=2"},
		{"encoding", canonicalQuery(parseQuery("k=a+b%2Fc~d*"), ""), "k=a%20b%2Fc~d%2A"},
		{"skip signature", canonicalQuery(parseQuery("X-Amz-Signature=x&a=1"), "X-Amz-Signature"), "a=1"},
		{"empty pieces", canonicalQuery(parseQuery("&&a=1&"), ""), "a=1"},
		{"uri: no double encoding", canonicalURIs("/b/a%20b")[0], "/b/a%20b"},
		{"uri: lower-case escapes normalised", canonicalURIs("/b/a%2fb")[0], "/b/a%2Fb"},
		{"uri: reserved characters encoded", canonicalURIs("/b/a!b")[0], "/b/a%21b"},
		{"uri: raw form kept as second candidate", canonicalURIs("/b/a!b")[1], "/b/a!b"},
		{"uri: empty", canonicalURIs("")[0], "/"},
		{"collapse", collapseSpaces("  a   b  "), "a b"},
		{"hex bytes", hexBytes("AWS"), "41 57 53"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
