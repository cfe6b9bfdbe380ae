package s3cors

import (
	"net/http"
	"strconv"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// Kind tells a preflight from an actual request.
type Kind uint8

const (
	// Actual is any request that is not OPTIONS: it goes on to the store.
	Actual Kind = iota
	// Preflight is an OPTIONS request, answered by the engine itself.
	Preflight
)

// String returns "actual" or "preflight".
func (k Kind) String() string {
	if k == Preflight {
		return "preflight"
	}
	return "actual"
}

// Result is the outcome of evaluating one request.
type Result uint8

const (
	// Allowed: a rule matched; its headers are sent.
	Allowed Result = iota
	// Denied: the bucket has a configuration but no rule matched.
	Denied
	// NotConfigured: the bucket has no configuration (or does not exist).
	NotConfigured
	// NoOrigin: the request carries no Origin, so it is not cross-origin.
	NoOrigin
	// BadRequest: a preflight without a valid Access-Control-Request-Method
	// or with an oversized Access-Control-Request-Headers.
	BadRequest
)

var resultNames = [...]string{"allowed", "denied", "not_configured", "no_origin", "bad_request"}

// String returns the result's lower-case name, as metrics label it.
func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "result(" + strconv.Itoa(int(r)) + ")"
}

// Decision is what the engine decided for one request. It is a value: the
// evaluation allocates nothing beyond what the response headers need.
type Decision struct {
	// Kind is Preflight for OPTIONS, Actual otherwise.
	Kind Kind
	// Result is the outcome.
	Result Result
	// Rule is the index of the matched rule, -1 when none matched.
	Rule int
	// Error is the S3 error document a preflight is refused with; nil
	// for an allowed preflight and for every actual request.
	Error *Error

	decoration
}

// decoration is what an allowed response needs beyond the matched rule's
// precomputed values: the Access-Control-Allow-Origin and -Headers values
// of this request. A response writer keeps only this part of a Decision,
// so that handing a decision to a pooled writer copies three words of
// pointers, not the whole decision.
type decoration struct {
	rule *compiledRule // nil when no rule matched
	acao []string
	acah []string
}

// RuleID returns the ID of the matched rule, "" when it has none or no
// rule matched.
func (d *Decision) RuleID() string {
	if d.rule == nil {
		return ""
	}
	return d.rule.id
}

// Evaluate decides a request to a bucket governed by p (nil: no
// configuration), with S3's decision ladder (how S3 evaluates a
// configuration: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html;
// the exact answers are the recorded conformance cases). object tells whether the request addresses an object
// (a key after the bucket) or the bucket itself, which S3 reports in the
// ResourceType of a refused preflight.
func (p *Policy) Evaluate(r *http.Request, object bool) Decision {
	d := Decision{Rule: -1}
	if r.Method == http.MethodOptions {
		d.Kind = Preflight
		p.evaluatePreflight(&d, r, object)
	} else {
		p.evaluateActual(&d, r)
	}
	return d
}

// evaluateActual decides a request that is not a preflight.
func (p *Policy) evaluateActual(d *Decision, r *http.Request) {
	d.Result = p.matchActual(&d.decoration, r)
	if d.rule != nil {
		d.Rule = d.rule.index
	}
}

// matchActual decides a request that is not a preflight and sets every
// field of dec: the matched rule and its values when allowed, nothing
// otherwise. It writes into dec, not into a whole Decision, so that Wrap
// evaluates straight into its pooled response writer. A header present
// without any line (set to nil by some handler) is absent, as it is on
// the wire. An oversized Access-Control-Request-Headers matches no rule.
func (p *Policy) matchActual(dec *decoration, r *http.Request) Result {
	originLines := r.Header["Origin"]
	switch {
	case len(originLines) == 0 || originLines[0] == "":
		*dec = decoration{}
		return NoOrigin
	case p == nil || p.bucketMissing:
		*dec = decoration{}
		return NotConfigured
	}
	method := methodBit(r.Method)
	if acrm := r.Header["Access-Control-Request-Method"]; len(acrm) > 0 {
		method = methodBit(acrm[0])
	}
	result, _ := p.match(dec, originLines, method, r.Header["Access-Control-Request-Headers"])
	return result
}

func (p *Policy) evaluatePreflight(d *Decision, r *http.Request, object bool) {
	originLines := r.Header["Origin"]
	origin := ""
	if len(originLines) > 0 {
		origin = originLines[0]
	}
	acrmLines := r.Header["Access-Control-Request-Method"]
	hasACRM := len(acrmLines) > 0
	acrm := ""
	if hasACRM {
		acrm = acrmLines[0]
	}
	methodField := acrm
	if methodField == "" {
		methodField = http.MethodOptions
	}
	switch {
	case origin == "":
		d.Result = NoOrigin
		d.Error = s3err.New(http.StatusBadRequest, "BadRequest", msgNoOrigin)
		d.Error.CloseConnection = true
		return
	case p != nil && p.bucketMissing:
		d.Result = NotConfigured
		d.Error = s3err.New(http.StatusForbidden, "AccessForbidden", msgBucketNotFound,
			Field{Name: "Method", Value: methodField}, Field{Name: "ResourceType", Value: s3err.ResourceBucket})
		return
	case p == nil:
		d.Result = NotConfigured
		d.Error = s3err.New(http.StatusForbidden, "AccessForbidden", msgNotEnabled,
			Field{Name: "Method", Value: methodField}, Field{Name: "ResourceType", Value: s3err.ResourceBucket})
		return
	case !hasACRM:
		d.Result = BadRequest
		d.Error = s3err.New(http.StatusBadRequest, "BadRequest", "Invalid Access-Control-Request-Method: null")
		return
	case methodBit(acrm) == 0:
		d.Result = BadRequest
		d.Error = s3err.New(http.StatusBadRequest, "BadRequest", "Invalid Access-Control-Request-Method: "+acrm)
		return
	}
	result, tooLarge := p.match(&d.decoration, originLines, methodBit(acrm), r.Header["Access-Control-Request-Headers"])
	if tooLarge {
		d.Result = BadRequest
		d.Error = s3err.New(http.StatusBadRequest, "RequestHeaderSectionTooLarge",
			"Your request header section exceeds the maximum allowed size.",
			Field{Name: "MaxSize", Value: strconv.Itoa(MaxRequestHeadersLength)})
		return
	}
	d.Result = result
	if d.rule != nil {
		d.Rule = d.rule.index
	}
	if d.Result == Denied {
		resourceType := s3err.ResourceBucket
		if object {
			resourceType = s3err.ResourceObject
		}
		d.Error = s3err.New(http.StatusForbidden, "AccessForbidden", msgNotAllowed,
			Field{Name: "Method", Value: acrm}, Field{Name: "ResourceType", Value: resourceType})
	}
}

// match finds the first rule admitting the request's first Origin line
// (not empty), method and Access-Control-Request-Headers, and sets every
// field of dec: the rule, the echoed origin and the allowed headers when
// one matched, nothing otherwise. Preflights and actual requests share
// it. It reports an oversized header list, which matches nothing. The
// list is parsed (in matchListed) only when the request has one, so the
// common request without it pays nothing for it.
func (p *Policy) match(dec *decoration, originLines []string, method uint8, acrhLines []string) (result Result, tooLarge bool) {
	if len(acrhLines) == 0 {
		return p.matchHeaders(dec, originLines, method, nil), false
	}
	return p.matchListed(dec, originLines, method, acrhLines)
}

// matchListed is match for a request that lists headers.
func (p *Policy) matchListed(dec *decoration, originLines []string, method uint8, acrhLines []string) (Result, bool) {
	var req requestHeaders
	req.parse(acrhLines)
	return p.matchHeaders(dec, originLines, method, &req), req.tooLarge
}

// matchHeaders is match with the header list parsed (nil: none).
func (p *Policy) matchHeaders(dec *decoration, originLines []string, method uint8, req *requestHeaders) Result {
	rule, exactValue := p.firstMatch(originLines[0], method, req)
	if rule == nil {
		*dec = decoration{}
		return Denied
	}
	dec.rule, dec.acao, dec.acah = rule, allowOrigin(rule, exactValue, originLines), nil
	if req.present() {
		dec.acah = req.allowHeaders()
	}
	return Allowed
}

// allowOrigin is the Access-Control-Allow-Origin value rule answers with:
// `*`, the index's shared value of an exactly matched origin, or the
// request's Origin line.
func allowOrigin(rule *compiledRule, exactValue, originLines []string) []string {
	switch {
	case rule.anyStar:
		return starValue
	case exactValue != nil:
		return exactValue
	case len(originLines) == 1:
		return originLines
	default:
		return []string{originLines[0]}
	}
}

// Shared header values: never modified in place.
var (
	starValue          = []string{"*"}
	trueValue          = []string{"true"}
	zeroValue          = []string{"0"}
	varyValue          = []string{"Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}
	varyValueFirstLine = varyValue[0]
)
