package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

const (
	algorithm = "AWS4-HMAC-SHA256"
	service   = "s3"
	terminal  = "aws4_request"

	// iso8601 is the X-Amz-Date layout.
	iso8601 = "20060102T150405Z"
	// yyyymmdd is the credential scope's date layout.
	yyyymmdd = "20060102"
)

// The payload values of x-amz-content-sha256 that are not a hash.
const (
	// UnsignedPayload leaves the body out of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingPayload is an aws-chunked body with a signature per chunk.
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer is StreamingPayload followed by signed
	// trailing headers.
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedTrailer is an aws-chunked body without signatures,
	// followed by trailing headers (usually a checksum).
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// EmptyPayload is the x-amz-content-sha256 of an empty body, its hex
// SHA-256.
const EmptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

const (
	// MaxSkew is how far the request time of a header-signed request may
	// be from the server's clock, as S3 allows.
	MaxSkew = 15 * time.Minute
	// MaxExpires is the longest X-Amz-Expires of a presigned request, in
	// seconds (seven days).
	MaxExpires = 604800
)

// Credentials is one access key and its secret.
type Credentials struct {
	AccessKey, SecretKey string
}

// Options configures a Verifier.
type Options struct {
	// Region is the only region accepted in the credential scope. Empty
	// accepts any region.
	Region string
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Verifier authenticates S3 requests signed with AWS Signature Version 4
// for the service "s3". It is safe for concurrent use.
type Verifier struct {
	secrets map[string]string
	region  string
	now     func() time.Time
}

// New returns a Verifier that accepts the given credentials. It fails when
// there are none, when one has an empty access key or secret, or when an
// access key appears twice.
func New(creds []Credentials, opts Options) (*Verifier, error) {
	if len(creds) == 0 {
		return nil, errors.New("sigv4: no credentials")
	}
	secrets := make(map[string]string, len(creds))
	for i, c := range creds {
		if c.AccessKey == "" || c.SecretKey == "" {
			return nil, fmt.Errorf("sigv4: credentials %d: empty access key or secret key", i)
		}
		if _, dup := secrets[c.AccessKey]; dup {
			return nil, fmt.Errorf("sigv4: credentials %d: duplicate access key %q", i, c.AccessKey)
		}
		secrets[c.AccessKey] = c.SecretKey
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Verifier{secrets: secrets, region: opts.Region, now: now}, nil
}

// Result describes an authenticated request.
type Result struct {
	// AccessKey is the access key that signed the request.
	AccessKey string
	// Region is the region of the credential scope.
	Region string
	// Time is the signing time (X-Amz-Date or Date).
	Time time.Time
	// Presigned reports query-string authentication.
	Presigned bool
	// ContentSHA256 is the payload hash the signature covers: a hex
	// SHA-256, UNSIGNED-PAYLOAD or one of the STREAMING-* values.
	ContentSHA256 string
	// SignedHeaders are the header names the signature covers, as the
	// client listed them (lower case for every SDK).
	SignedHeaders []string
	// Body is the payload, decoded from aws-chunked when it was sent so,
	// at most the limit given to Verify.
	Body []byte
	// Truncated reports that the payload is longer than the limit: Body
	// holds only its first bytes, and neither the payload hash nor the
	// signatures of the chunks past the limit were checked. The caller
	// must refuse the request.
	Truncated bool
	// Trailer holds the trailing headers of an aws-chunked body (such as
	// X-Amz-Checksum-Crc32), with canonical keys; nil when there are none.
	Trailer http.Header
}

// Verify authenticates r by its Authorization header or by presigned query
// parameters, then reads its body: at most limit bytes of payload (after
// aws-chunked decoding), verifying the payload hash or the chunk and
// trailer signatures. It does not close r.Body.
//
// Every failure is an *s3err.Error carrying S3's code, message, status
// and extra elements, except a failure to read the body, which is returned
// wrapped as it is.
func (v *Verifier) Verify(r *http.Request, limit int64) (*Result, error) {
	if limit < 0 {
		limit = 0
	}
	query := parseQuery(rawQuery(r))
	if err := checkOneCredential(r, query); err != nil {
		return nil, err
	}
	authz, hasAuthz := r.Header["Authorization"]
	hasAuthz = hasAuthz && len(authz) > 0 && authz[0] != ""
	presigned := false
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if _, ok := lookup(query, k); ok {
			presigned = true
			break
		}
	}
	_, v2Query := lookup(query, "AWSAccessKeyId")
	if _, ok := lookup(query, "Signature"); ok {
		v2Query = true
	}
	switch {
	case hasAuthz && (presigned || v2Query):
		return nil, errOneMechanism()
	case hasAuthz:
		return v.verifyHeader(r, authz[0], query, limit)
	case presigned:
		return v.verifyQuery(r, query, limit)
	case v2Query:
		return nil, errUnsupportedMechanism()
	default:
		return nil, s3err.AccessDenied()
	}
}

// CheckOneCredential refuses a request that carries two credentials: two
// Authorization lines, or a presigned parameter (X-Amz-Signature,
// X-Amz-Credential, ...) given twice. Whichever one a reader takes, the
// other goes unchecked, and the store may take the other. Verify does
// this first; a caller that lets the store authenticate must do it too.
// The error is S3's for two mechanisms (400 InvalidArgument); S3's answer
// to these exact cases is not recorded.
func CheckOneCredential(r *http.Request) error {
	if err := checkOneCredential(r, parseQuery(rawQuery(r))); err != nil {
		return err
	}
	return nil
}

func checkOneCredential(r *http.Request, query []queryPair) *s3err.Error {
	if len(r.Header["Authorization"]) > 1 {
		return errOneMechanism()
	}
	for _, k := range credentialParams {
		n := 0
		for _, p := range query {
			if p.key == k {
				n++
			}
		}
		if n > 1 {
			return errOneMechanism()
		}
	}
	return nil
}

// credentialParams are the query parameters that carry a presigned
// request's credentials.
var credentialParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Expires", "X-Amz-Date", "X-Amz-Security-Token"}

func rawQuery(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	return r.URL.RawQuery
}

// scope is a parsed credential: access key and scope.
type scope struct {
	accessKey, date, region string
}

func (s scope) String() string {
	return s.date + "/" + s.region + "/" + service + "/" + terminal
}

// credentialError names what is wrong with a Credential value; the header
// and query paths word it differently.
type credentialError struct {
	detail string
	region string // the expected region, for the wrong-region error
}

// parseCredential parses "<key>/<yyyymmdd>/<region>/s3/aws4_request" and
// checks the service, the terminal, the date and the region, in S3's order.
func (v *Verifier) parseCredential(value string) (scope, *credentialError) {
	parts := strings.Split(value, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" {
		return scope{}, &credentialError{detail: msgMalformedCred}
	}
	if parts[3] != service {
		return scope{}, &credentialError{detail: fmt.Sprintf("incorrect service %q. This endpoint belongs to %q.", parts[3], service)}
	}
	if parts[4] != terminal {
		return scope{}, &credentialError{detail: fmt.Sprintf("incorrect terminal %q. This endpoint uses %q.", parts[4], terminal)}
	}
	if _, err := time.Parse(yyyymmdd, parts[1]); err != nil || len(parts[1]) != 8 {
		return scope{}, &credentialError{detail: fmt.Sprintf("incorrect date format %q. This date in the credential must be in the format \"yyyyMMdd\".", parts[1])}
	}
	if v.region != "" && parts[2] != v.region {
		return scope{}, &credentialError{
			detail: "the region '" + parts[2] + "' is wrong; expecting '" + v.region + "'",
			region: v.region,
		}
	}
	return scope{accessKey: parts[0], date: parts[1], region: parts[2]}, nil
}

// authHeader is a parsed Authorization header.
type authHeader struct {
	credential, signedHeaders, signature string
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=...,
// SignedHeaders=..., Signature=...".
func parseAuthorization(value string) (authHeader, *s3err.Error) {
	alg, rest, ok := strings.Cut(value, " ")
	switch {
	case alg == "AWS":
		return authHeader{}, errUnsupportedMechanism()
	case alg != algorithm:
		if !ok {
			return authHeader{}, errInvalidArgument(msgOneSpace, "Authorization", value)
		}
		return authHeader{}, errInvalidArgument(msgUnsupportedType, "Authorization", value)
	}
	var a authHeader
	var seen [3]bool
	parts := strings.Split(rest, ",")
	if len(parts) != 3 {
		return a, errMalformed(msgThreeParts)
	}
	for _, part := range parts {
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return a, errMalformed(fmt.Sprintf("the authorization component %q is malformed.", part))
		}
		switch k {
		case "Credential":
			a.credential, seen[0] = val, true
		case "SignedHeaders":
			a.signedHeaders, seen[1] = val, true
		case "Signature":
			a.signature, seen[2] = val, true
		}
	}
	switch {
	case !seen[0]:
		return a, errMalformed("missing Credential.")
	case !seen[1]:
		return a, errMalformed("missing SignedHeaders.")
	case !seen[2]:
		return a, errMalformed("missing Signature.")
	}
	return a, nil
}

// requestTime finds the signing time of a header-signed request:
// X-Amz-Date, or else Date. raw is the value as sent.
func requestTime(r *http.Request) (t time.Time, raw string, ok bool) {
	if raw = r.Header.Get("X-Amz-Date"); raw != "" {
		t, err := time.Parse(iso8601, raw)
		return t, raw, err == nil
	}
	if raw = r.Header.Get("Date"); raw != "" {
		t, err := http.ParseTime(raw)
		return t.UTC(), raw, err == nil
	}
	return time.Time{}, "", false
}

// payloadKind classifies x-amz-content-sha256.
type payloadKind int

const (
	payloadHash payloadKind = iota
	payloadUnsigned
	payloadStreaming
	payloadStreamingTrailer
	payloadUnsignedTrailer
)

func classifyPayload(value string) (payloadKind, *s3err.Error) {
	switch value {
	case UnsignedPayload:
		return payloadUnsigned, nil
	case StreamingPayload:
		return payloadStreaming, nil
	case StreamingPayloadTrailer:
		return payloadStreamingTrailer, nil
	case StreamingUnsignedTrailer:
		return payloadUnsignedTrailer, nil
	case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		return 0, errNotImplemented("x-amz-content-sha256")
	}
	if len(value) != 64 {
		return 0, errBadSHA256(value)
	}
	if _, err := hex.DecodeString(value); err != nil {
		return 0, errBadSHA256(value)
	}
	return payloadHash, nil
}

// checkSignedHeaders parses the SignedHeaders list and refuses a request
// whose Host or x-amz-* headers are not all signed.
func checkSignedHeaders(r *http.Request, list string) ([]string, *s3err.Error) {
	signed := strings.Split(list, ";")
	has := func(name string) bool {
		return slices.ContainsFunc(signed, func(s string) bool { return strings.EqualFold(s, name) })
	}
	var missing []string
	if !has("host") {
		missing = append(missing, "host")
	}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") && !has(lk) {
			missing = append(missing, lk)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, errHeadersNotSigned(missing)
	}
	return signed, nil
}

// checkSignature rebuilds the canonical request for each canonical URI
// candidate and compares the signatures. On failure the error describes the
// first candidate, as S3 computes it.
func checkSignature(r *http.Request, key []byte, sc scope, amzDate, query string, signed []string,
	signedList, payload, provided string) *s3err.Error {
	headers := canonicalHeaders(r, signed)
	var firstCR, firstSTS string
	for i, uri := range canonicalURIs(rawPath(r)) {
		cr := canonicalRequest(r.Method, uri, query, headers, signedList, payload)
		sts := stringToSign(amzDate, sc.String(), cr)
		if equalSignatures(sign(key, sts), provided) {
			return nil
		}
		if i == 0 {
			firstCR, firstSTS = cr, sts
		}
	}
	return errSignatureMismatch(sc.accessKey, firstSTS, provided, firstCR)
}

func (v *Verifier) verifyHeader(r *http.Request, value string, query []queryPair, limit int64) (*Result, error) {
	a, serr := parseAuthorization(value)
	if serr != nil {
		return nil, serr
	}
	sc, cerr := v.parseCredential(a.credential)
	if cerr != nil {
		if cerr.region != "" {
			return nil, errMalformed(cerr.detail, s3err.Field{Name: "Region", Value: cerr.region})
		}
		return nil, errMalformed(cerr.detail)
	}
	t, rawTime, ok := requestTime(r)
	if !ok {
		return nil, errMissingDate()
	}
	secret, ok := v.secrets[sc.accessKey]
	if !ok {
		return nil, errInvalidAccessKeyID(sc.accessKey)
	}
	if t.Format(yyyymmdd) != sc.date {
		return nil, errMalformed("Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	now := v.now()
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return nil, errTooSkewed(rawTime, now)
	}
	payload, present := r.Header["X-Amz-Content-Sha256"]
	if !present || len(payload) == 0 {
		return nil, errMissingSHA256()
	}
	kind, serr := classifyPayload(payload[0])
	if serr != nil {
		return nil, serr
	}
	signed, serr := checkSignedHeaders(r, a.signedHeaders)
	if serr != nil {
		return nil, serr
	}
	key := signingKey(secret, sc.date, sc.region)
	amzDate := t.UTC().Format(iso8601)
	if serr := checkSignature(r, key, sc, amzDate, canonicalQuery(query, ""), signed,
		a.signedHeaders, payload[0], a.signature); serr != nil {
		return nil, serr
	}
	res := &Result{
		AccessKey:     sc.accessKey,
		Region:        sc.region,
		Time:          t,
		ContentSHA256: payload[0],
		SignedHeaders: signed,
	}
	var err error
	switch kind {
	case payloadHash:
		err = readHashed(r, limit, payload[0], res)
	case payloadUnsigned:
		err = readPlain(r, limit, res)
	default:
		c := &chunkReader{
			kind:    kind,
			key:     key,
			prevSig: a.signature,
			prefix:  amzDate + "\n" + sc.String() + "\n",
			access:  sc.accessKey,
		}
		err = c.decode(r, limit, res)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (v *Verifier) verifyQuery(r *http.Request, query []queryPair, limit int64) (*Result, error) {
	get := func(k string) string {
		s, _ := lookup(query, k)
		return s
	}
	switch alg := get("X-Amz-Algorithm"); {
	case alg == "":
		return nil, errQuery(msgQueryMissing)
	case alg != algorithm:
		return nil, errQuery(msgQueryAlgorithm)
	}
	credential := get("X-Amz-Credential")
	if credential == "" {
		return nil, errQuery(msgQueryMissing)
	}
	sc, cerr := v.parseCredential(credential)
	if cerr != nil {
		if cerr.region != "" {
			return nil, errQuery(queryCredPrefix+cerr.detail, s3err.Field{Name: "Region", Value: cerr.region})
		}
		return nil, errQuery(queryCredPrefix + cerr.detail)
	}
	amzDate := get("X-Amz-Date")
	if amzDate == "" {
		return nil, errQuery(msgQueryMissing)
	}
	t, err := time.Parse(iso8601, amzDate)
	if err != nil {
		return nil, errQuery(msgQueryDate)
	}
	if amzDate[:8] != sc.date {
		return nil, errQuery(fmt.Sprintf("Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", sc.date, amzDate[:8]))
	}
	provided := get("X-Amz-Signature")
	signedList := get("X-Amz-SignedHeaders")
	expiresRaw := get("X-Amz-Expires")
	if provided == "" || signedList == "" || expiresRaw == "" {
		return nil, errQuery(msgQueryMissing)
	}
	expires, err := strconv.ParseInt(expiresRaw, 10, 64)
	switch {
	case err != nil && !isInteger(expiresRaw):
		return nil, errQuery(msgExpiresNumber)
	case strings.HasPrefix(expiresRaw, "-"):
		return nil, errQuery(msgExpiresNeg)
	case err != nil || expires > MaxExpires:
		return nil, errQuery(msgExpiresLarge)
	}
	secret, ok := v.secrets[sc.accessKey]
	if !ok {
		return nil, errInvalidAccessKeyID(sc.accessKey)
	}
	now := v.now()
	if t.Sub(now) > MaxSkew {
		return nil, errNotYetValid()
	}
	if expiresAt := t.Add(time.Duration(expires) * time.Second); now.After(expiresAt) {
		return nil, errExpired(expires, expiresAt, now)
	}
	signed, serr := checkSignedHeaders(r, signedList)
	if serr != nil {
		return nil, serr
	}
	key := signingKey(secret, sc.date, sc.region)
	if serr := checkSignature(r, key, sc, amzDate, canonicalQuery(query, "X-Amz-Signature"), signed,
		signedList, UnsignedPayload, provided); serr != nil {
		return nil, serr
	}
	res := &Result{
		AccessKey:     sc.accessKey,
		Region:        sc.region,
		Time:          t,
		Presigned:     true,
		ContentSHA256: UnsignedPayload,
		SignedHeaders: signed,
	}
	if err := readPlain(r, limit, res); err != nil {
		return nil, err
	}
	return res, nil
}

// isInteger reports whether s is an optionally signed run of digits (too
// large for int64 or not).
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// readPlain reads at most limit bytes of the body into res.Body and
// records whether more followed.
func readPlain(r *http.Request, limit int64, res *Result) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err != nil {
		return fmt.Errorf("sigv4: read body: %w", err)
	}
	res.Body = body
	if int64(len(body)) == limit {
		var one [1]byte
		n, err := io.ReadFull(r.Body, one[:])
		if n > 0 {
			res.Truncated = true
		} else if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("sigv4: read body: %w", err)
		}
	}
	return nil
}

// readHashed reads the body and checks it against the hex SHA-256 the
// signature covers, unless it is longer than limit.
func readHashed(r *http.Request, limit int64, want string, res *Result) error {
	if err := readPlain(r, limit, res); err != nil {
		return err
	}
	if res.Truncated {
		return nil
	}
	sum := sha256.Sum256(res.Body)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
		return errSHA256Mismatch(want, got)
	}
	return nil
}
