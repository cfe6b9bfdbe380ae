package s3cors

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Explanation tells why the engine decides a request the way it does: the
// decision, the exact response headers (or the error document of a refused
// preflight), and for each rule which of origin, method and headers
// failed, on which value. It is for operators; the request path never
// builds one.
type Explanation struct {
	// Kind is "preflight" or "actual".
	Kind string `json:"kind"`
	// Result is the decision: allowed, denied, not_configured, no_origin
	// or bad_request.
	Result string `json:"result"`
	// Rule is the index of the matched rule, -1 when none matched.
	Rule int `json:"rule"`
	// RuleID is the matched rule's ID, when it has one.
	RuleID string `json:"rule_id,omitempty"`
	// Status is the status of a preflight answer; 0 for an actual
	// request, whose status is the store's.
	Status int `json:"status,omitempty"`
	// Headers are the CORS headers the response carries.
	Headers http.Header `json:"headers"`
	// Error is the S3 error of a refused preflight.
	Error *ExplainedError `json:"error,omitempty"`
	// Rules reports, rule by rule, what matched and what did not. Empty
	// when the rules were not evaluated.
	Rules []RuleReport `json:"rules,omitempty"`
	// Reason sums the decision up in one sentence.
	Reason string `json:"reason"`
	// Readable says, for an allowed actual request, which response headers
	// the page's scripts can read: the CORS-safelisted ones and those the
	// matched rule exposes. Any other header of the store's response, such
	// as the ETag an upload library reads, stays hidden from scripts.
	// Empty for other decisions.
	Readable string `json:"readable,omitempty"`
}

// safelistedResponseHeaders are the response headers a browser lets
// scripts read without Access-Control-Expose-Headers (Fetch standard).
const safelistedResponseHeaders = "Cache-Control, Content-Language, Content-Length, Content-Type, Expires, Last-Modified, Pragma"

// ExplainedError is an S3 error document, for an Explanation.
type ExplainedError struct {
	// Code is the S3 error code, such as AccessForbidden.
	Code string `json:"code"`
	// Message is S3's message, byte for byte.
	Message string `json:"message"`
	// Fields are the extra elements (Method, ResourceType, ...).
	Fields map[string]string `json:"fields,omitempty"`
}

// RuleReport is one rule's part of an Explanation.
type RuleReport struct {
	// Index is the rule's position, from 0.
	Index int `json:"index"`
	// ID is the rule's ID, when it has one.
	ID string `json:"id,omitempty"`
	// Origin tells whether the rule admits the request's origin.
	Origin bool `json:"origin"`
	// Method tells whether it admits the (requested) method.
	Method bool `json:"method"`
	// Headers tells whether it admits every requested header.
	Headers bool `json:"headers"`
	// Failures say, for each failed test, on which value.
	Failures []string `json:"failures,omitempty"`
}

// Explain evaluates r like Evaluate and explains the decision.
func (p *Policy) Explain(r *http.Request, object bool) *Explanation {
	d := p.Evaluate(r, object)
	e := &Explanation{Kind: d.Kind.String(), Result: d.Result.String(), Rule: d.Rule, RuleID: d.RuleID()}
	// The headers WritePreflight and Decorate would write, without a
	// ResponseWriter: a refused preflight is its error document alone.
	e.Headers = http.Header{}
	switch {
	case d.Kind == Preflight && d.Error != nil:
		e.Status = d.Error.Status
	case d.Kind == Preflight:
		d.addCORS(e.Headers, false)
		e.Status = http.StatusOK
	default:
		d.Decorate(e.Headers, false)
	}
	if d.Error != nil {
		e.Error = &ExplainedError{Code: d.Error.Code, Message: d.Error.Message, Fields: map[string]string{}}
		for _, f := range d.Error.Fields {
			e.Error.Fields[f.Name] = f.Value
		}
	}
	switch d.Result {
	case NoOrigin:
		e.Reason = "the request has no Origin header, so it is not a CORS request"
		return e
	case NotConfigured:
		e.Reason = "the bucket has no CORS configuration"
		if p != nil && p.bucketMissing {
			e.Reason = "the bucket does not exist"
		}
		return e
	case BadRequest:
		e.Reason = "the preflight is malformed: " + d.Error.Message
		return e
	}
	e.Rules = p.reportRules(r)
	if d.Result == Allowed {
		e.Reason = fmt.Sprintf("rule %d is the first rule that allows the origin, the method and every requested header", d.Rule)
		if d.Kind == Actual {
			e.Readable = readable(p.config.Rules[d.Rule].ExposeHeaders)
		}
	} else {
		e.Reason = "no rule allows the origin, the method and every requested header together"
	}
	return e
}

// readable tells which response headers scripts can read under a rule
// exposing exposed, and says so when ETag, which upload libraries read, is
// not among them.
func readable(exposed []string) string {
	if len(exposed) == 0 {
		return "only the CORS-safelisted response headers (" + safelistedResponseHeaders +
			"): the rule has no ExposeHeader, so scripts cannot read ETag or any x-amz-* header"
	}
	s := "the CORS-safelisted response headers (" + safelistedResponseHeaders + ") and the exposed " + strings.Join(exposed, ", ")
	for _, h := range exposed {
		if strings.EqualFold(h, "ETag") {
			return s
		}
	}
	return s + "; scripts cannot read ETag"
}

// reportRules tests every rule on its own, through the configuration, so
// that the report does not depend on the index.
func (p *Policy) reportRules(r *http.Request) []RuleReport {
	origin := r.Header.Get("Origin")
	method := r.Method
	if acrm := r.Header["Access-Control-Request-Method"]; len(acrm) > 0 {
		method = acrm[0]
	}
	var req requestHeaders
	req.parse(r.Header["Access-Control-Request-Headers"])
	reports := make([]RuleReport, len(p.rules))
	for i := range p.rules {
		cr := &p.rules[i]
		rule := p.config.Rules[i]
		rep := RuleReport{Index: i, ID: cr.id}
		for _, o := range rule.AllowedOrigins {
			if newPattern(o).match(origin) {
				rep.Origin = true
				break
			}
		}
		if !rep.Origin {
			rep.Failures = append(rep.Failures, fmt.Sprintf("origin %q matches none of AllowedOrigin %q (origins compare case-sensitively, scheme and port included)", origin, rule.AllowedOrigins))
		}
		rep.Method = cr.methods&methodBit(method) != 0
		if !rep.Method {
			rep.Failures = append(rep.Failures, fmt.Sprintf("method %q is not among AllowedMethod %q (methods compare case-sensitively)", method, rule.AllowedMethods))
		}
		rep.Headers = true
		for j := 0; j < req.n; j++ {
			it := req.item(j)
			if !cr.headers.allows(it.name, it.hash) {
				rep.Headers = false
				if len(rule.AllowedHeaders) == 0 {
					rep.Failures = append(rep.Failures, fmt.Sprintf("requested header %q is not allowed: the rule has no AllowedHeader", it.name))
				} else {
					rep.Failures = append(rep.Failures, fmt.Sprintf("requested header %q matches none of AllowedHeader %q", it.name, rule.AllowedHeaders))
				}
			}
		}
		if req.tooLarge {
			rep.Headers = false
			rep.Failures = append(rep.Failures, "Access-Control-Request-Headers is longer than 8 KiB")
		}
		reports[i] = rep
	}
	return reports
}

// String renders the explanation as text for a terminal.
func (e *Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s request: %s\n", e.Kind, strings.ToUpper(e.Result))
	fmt.Fprintf(&b, "reason: %s\n", e.Reason)
	if e.Status != 0 {
		fmt.Fprintf(&b, "status: %d\n", e.Status)
	}
	if e.Error != nil {
		fmt.Fprintf(&b, "error: %s: %s\n", e.Error.Code, e.Error.Message)
		names := make([]string, 0, len(e.Error.Fields))
		for name := range e.Error.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(&b, "  %s: %s\n", name, e.Error.Fields[name])
		}
	}
	if len(e.Headers) > 0 {
		b.WriteString("response headers:\n")
		names := make([]string, 0, len(e.Headers))
		for name := range e.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, v := range e.Headers[name] {
				fmt.Fprintf(&b, "  %s: %s\n", name, v)
			}
		}
	} else {
		b.WriteString("response headers: no CORS headers\n")
	}
	if e.Readable != "" {
		fmt.Fprintf(&b, "readable by scripts: %s\n", e.Readable)
	}
	for _, rep := range e.Rules {
		label := fmt.Sprintf("rule %d", rep.Index)
		if rep.ID != "" {
			label += " (" + terminalText(rep.ID) + ")"
		}
		if len(rep.Failures) == 0 {
			mark := "matches"
			if rep.Index != e.Rule {
				mark = "would match, but an earlier rule won"
			}
			fmt.Fprintf(&b, "%s: %s\n", label, mark)
			continue
		}
		fmt.Fprintf(&b, "%s: no match\n", label)
		for _, f := range rep.Failures {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	return b.String()
}

// terminalText is s as the text explanation prints a value it does not
// quote otherwise (a rule ID, which whoever may put the bucket's CORS
// chooses): as it is when every character prints, else Go-quoted, so that
// a line break, a carriage return, a C1 control or a bidi override cannot
// forge or hide a line on the operator's terminal.
func terminalText(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
