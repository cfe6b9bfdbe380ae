package sigv4

import (
	"net/http"
	"strings"
	"time"
)

// Sign signs r with creds for the service "s3" in region at time at, in the
// Authorization header, over the headers Host, X-Amz-Content-Sha256 and
// X-Amz-Date, which it sets; the payload must be empty. It exists for the
// probe that checks a store refuses unknown keys (s3_api's store mode):
// a request signed exactly as an SDK signs it, so that the only thing
// wrong with it is the key.
func Sign(r *http.Request, creds Credentials, region string, at time.Time) {
	at = at.UTC()
	amzDate := at.Format(iso8601)
	r.Header.Set("X-Amz-Date", amzDate)
	r.Header.Set("X-Amz-Content-Sha256", EmptyPayload)
	signed := []string{"host", "x-amz-content-sha256", "x-amz-date"}
	sc := scope{accessKey: creds.AccessKey, date: at.Format(yyyymmdd), region: region}
	cr := canonicalRequest(r.Method, canonicalURIs(rawPath(r))[0], canonicalQuery(parseQuery(rawQuery(r)), ""),
		canonicalHeaders(r, signed), strings.Join(signed, ";"), EmptyPayload)
	sig := sign(signingKey(creds.SecretKey, sc.date, region), stringToSign(amzDate, sc.String(), cr))
	r.Header.Set("Authorization", algorithm+" Credential="+creds.AccessKey+"/"+sc.String()+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
}

// SigningRegion returns the region of the credential scope r is signed
// for (Authorization header or presigned X-Amz-Credential), "" when it
// cannot tell.
func SigningRegion(r *http.Request) string {
	cred := ""
	if a, err := parseAuthorization(r.Header.Get("Authorization")); err == nil {
		cred = a.credential
	} else if v, ok := lookup(parseQuery(rawQuery(r)), "X-Amz-Credential"); ok {
		cred = v
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[2]
}

// ReadPayload reads the payload of a request whose signature another
// party verifies (the store, in s3_api's store mode): at most limit bytes,
// decoded from aws-chunked when x-amz-content-sha256 says so, with the
// trailing headers of a chunked body. What it can check without the
// secret, it checks: a hex x-amz-content-sha256 must be the body's hash
// (the signature covers that header, so the body is authenticated too),
// the chunk framing and x-amz-decoded-content-length. Chunk signatures
// need the secret, so the signed streaming variants are refused with 501
// NotImplemented: their body would be authenticated by nobody. An absent
// x-amz-content-sha256 (a presigned request) reads the body as
// UNSIGNED-PAYLOAD.
func ReadPayload(r *http.Request, limit int64) (*Result, error) {
	if limit < 0 {
		limit = 0
	}
	res := &Result{}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return res, readPlain(r, limit, res)
	}
	kind, serr := classifyPayload(payload)
	if serr != nil {
		return nil, serr
	}
	res.ContentSHA256 = payload
	switch kind {
	case payloadHash:
		return res, readHashed(r, limit, payload, res)
	case payloadUnsigned:
		return res, readPlain(r, limit, res)
	case payloadUnsignedTrailer:
		return res, (&chunkReader{kind: kind}).decode(r, limit, res)
	default:
		return nil, errNotImplemented("x-amz-content-sha256")
	}
}
