package caddys3cors

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Handler gives the buckets of an S3-compatible store behind it Amazon S3's
// per-bucket CORS.
//
// Preflights (OPTIONS on a bucket or object) are answered here and never
// reach the next handler: 200 with the matched rule's headers, or S3's
// 400/403 error documents. Actual requests go on to the next handler (the
// store, usually through reverse_proxy); as the store's response goes out,
// its own Access-Control-* headers and the Origin and
// Access-Control-Request-* tokens of its Vary are removed (other Vary
// tokens such as Accept-Encoding stay) and the matched rule's headers are
// added. Bodies stream: nothing is buffered.
//
// When the next handler returns an error before writing a response (a
// reverse_proxy that cannot reach the store answers 502 this way), Caddy's
// error handling writes the response outside this handler: it then carries
// no CORS headers at all, neither the store's nor the rule's, so a browser
// sees a failed CORS request as it would with S3 unreachable. To expose such
// errors to scripts, put `s3_cors` in `handle_errors` as well.
//
// This handler sets the placeholders:
//
// Placeholder | Description
// ------------|-------------
// `{http.s3_cors.bucket}` | the bucket the request addresses
// `{http.s3_cors.result}` | `allowed`, `denied`, `not_configured`, `no_origin` or `bad_request`; `would_deny` in report-only mode
// `{http.s3_cors.rule}` | the ID of the matched rule, or its index (from 0) when it has no ID; empty when none matched
//
// Requests that address no bucket set none. They are the service
// endpoint (`/`), a host under no base domain, and a path or host that
// stores read in different ways (see Source.Bucket): their preflights are
// refused with S3's "CORSResponse: Bucket not found" and their responses
// carry none of the store's CORS headers.
type Handler struct {
	Source

	// KeepUpstreamCORS keeps the store's own Access-Control-* headers and
	// Vary tokens on actual responses instead of removing them; the
	// matched rule's headers still replace those of the same name.
	KeepUpstreamCORS bool `json:"keep_upstream_cors,omitempty"`

	// S3API, when set, answers the S3 API's `PUT`, `GET` and `DELETE
	// /<bucket>?cors` (PutBucketCors, GetBucketCors, DeleteBucketCors) on
	// this site, for requests signed with AWS Signature Version 4 with
	// its credentials, so that the aws cli and the SDKs manage bucket CORS
	// through the endpoint they use for objects. Requests are recognised
	// by the exact query key `cors`; presigned object URLs go on to the
	// store.
	S3API *S3APIConfig `json:"s3_api,omitempty"`

	// ReportOnly computes, logs and counts every decision but enforces
	// none, for a safe migration from MinIO's global CORS: the store's own
	// CORS headers are kept, preflights go on to the store, and what the
	// rules would refuse is logged at info level and counted with the
	// result `would_deny`. `all` applies it to every bucket; `default`
	// only to buckets that fall back to the default configuration, while
	// buckets with their own configuration are enforced.
	ReportOnly string `json:"report_only,omitempty"`

	s3api      *api.S3API
	buckets    *bucketChecker // nil when bucket checks are disabled
	bucketsKey string         // the key of buckets in bucketCheckers
	logger     *zap.Logger
}

// ReportOnly values.
const (
	reportOnlyAll     = "all"
	reportOnlyDefault = "default"
)

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.s3_cors",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision compiles every configuration of the handler; an invalid one
// fails with S3's error text.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.ReportOnly != "" {
		if err := checkReportOnly(h.ReportOnly); err != nil {
			return fmt.Errorf("s3_cors: %v", err)
		}
	}
	if err := h.provision(ctx); err != nil {
		return fmt.Errorf("s3_cors: %v", err)
	}
	if err := h.provisionBuckets(ctx); err != nil {
		return fmt.Errorf("s3_cors: %v", err)
	}
	if h.S3API != nil {
		s3api, err := h.S3API.provision(h.app.Owner, ctx.Logger(), h.bucketExistence())
		if err != nil {
			return fmt.Errorf("s3_cors: s3_api: %v", err)
		}
		h.s3api = s3api
	}
	return nil
}

// checkReportOnly checks the report_only setting, for Provision and for
// the Caddyfile parser, which points at the token.
func checkReportOnly(mode string) error {
	switch mode {
	case reportOnlyAll, reportOnlyDefault:
		return nil
	}
	return fmt.Errorf("report_only %q is not %s or %s", mode, reportOnlyAll, reportOnlyDefault)
}

// Validate checks the handler's settings.
func (h *Handler) Validate() error {
	if err := h.validate(); err != nil {
		return fmt.Errorf("s3_cors: %v", err)
	}
	return nil
}

// Cleanup releases the handler's hold on a shared bucket checker.
func (h *Handler) Cleanup() error {
	return h.cleanupBuckets()
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	bucket, object := h.resolve(r, repl)
	if bucket == "" {
		return h.serveUnattributed(w, r, next)
	}
	// S3 has no CORS subresource on objects: `?cors` on an object of a
	// valid bucket is the store's business, like any other object request.
	// An invalid bucket name gets S3's InvalidBucketName from the module.
	// IsCORSRequest comes first: it settles a request without a query at
	// once, where the name check would scan every object request's bucket.
	if h.s3api != nil && h.s3api.IsCORSRequest(r) && (!object || !s3cors.ValidBucketName(bucket)) {
		h.serveS3API(w, r, bucket, next)
		return nil
	}
	if !object && (r.Method == http.MethodDelete || r.Method == http.MethodPut) {
		next = h.watchBucket(r, bucket, next)
	}
	p, name := h.lookup(bucket)
	if h.ReportOnly != "" && (h.ReportOnly == reportOnlyAll || p != nil && p == h.def) {
		return h.serveReportOnly(w, r, next, repl, name, p, object)
	}
	if r.Method == http.MethodOptions {
		if h.buckets != nil {
			p = h.preflightPolicy(r, bucket, p)
		}
		d := h.evaluate(p, r, object)
		setPlaceholders(repl, name, p, &d)
		if d.Result == s3cors.Denied && h.logger.Core().Enabled(zap.DebugLevel) {
			h.logDenied(r, name, p, object)
		}
		d.WritePreflight(w)
		return nil
	}
	return h.serveActual(w, r, next, repl, name, p, h.evaluate(p, r, object))
}

// serveUnattributed serves a request the module attributes to no bucket
// (the service endpoint, a host under no base domain, a path or host the
// store might read as another bucket). Its preflight is refused as S3
// refuses one to a bucket that does not exist, never forwarded: the store
// would answer it with its own CORS headers. Its actual response carries
// none of the store's CORS headers (unless keep_upstream_cors) and no
// rule's. In report-only mode it goes to the store untouched.
func (h *Handler) serveUnattributed(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if h.s3api != nil && h.pathStyle() && h.s3api.IsCORSRequest(r) {
		// `?cors` whose first path segment is no valid bucket name gets
		// S3's InvalidBucketName, as before the module stopped trusting
		// such paths; with a valid one the store answers: the module acts
		// on no bucket it cannot attribute.
		if first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); first != "" && !s3cors.ValidBucketName(first) {
			h.serveS3API(w, r, first, next)
			return nil
		}
	}
	if h.ReportOnly != "" {
		return next.ServeHTTP(w, r)
	}
	if r.Method == http.MethodOptions {
		d := h.evaluate(missingBucket, r, false)
		d.WritePreflight(w)
		return nil
	}
	if h.KeepUpstreamCORS {
		return next.ServeHTTP(w, r)
	}
	var none *s3cors.Policy
	return h.serveActual(w, r, next, nil, bucketName{}, nil, none.Evaluate(r, false))
}

// missingBucket is the policy of requests attributed to no bucket, and of
// buckets the store does not have (see preflightPolicy).
var missingBucket = s3cors.MissingBucket()

// evaluate decides a request and counts the decision. One decision in 64
// is timed, which keeps the clock off the request path almost always.
func (h *Handler) evaluate(p *s3cors.Policy, r *http.Request, object bool) s3cors.Decision {
	if rand.Uint32()&63 != 0 {
		d := p.Evaluate(r, object)
		metrics.countDecision(&d)
		return d
	}
	start := time.Now()
	d := p.Evaluate(r, object)
	metrics.decisionSeconds.Observe(time.Since(start).Seconds())
	metrics.countDecision(&d)
	return d
}

// logDenied logs, at debug level, why a preflight was refused: for each
// rule, which of origin, method and headers failed and on which value.
func (h *Handler) logDenied(r *http.Request, bucket bucketName, p *s3cors.Policy, object bool) {
	e := p.Explain(r, object)
	fields := []zap.Field{
		zap.String("bucket", bucket.String()),
		zap.String("origin", r.Header.Get("Origin")),
		zap.String("request_method", r.Header.Get("Access-Control-Request-Method")),
		zap.String("request_headers", r.Header.Get("Access-Control-Request-Headers")),
		zap.String("path", r.URL.Path),
	}
	for _, rep := range e.Rules {
		fields = append(fields, zap.Strings(fmt.Sprintf("rule_%d", rep.Index), rep.Failures))
	}
	h.logger.Debug("preflight denied: "+e.Reason, fields...)
}

// serveReportOnly lets a request through as if s3_cors were not there
// (the store answers preflights and keeps its own CORS headers), after
// deciding, counting and logging what enforcing would have done.
func (h *Handler) serveReportOnly(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler,
	repl *caddy.Replacer, name bucketName, p *s3cors.Policy, object bool,
) error {
	d := p.Evaluate(r, object)
	setPlaceholders(repl, name, p, &d)
	if wouldDeny(&d) {
		metrics.wouldDeny[d.Kind].Inc()
		if repl != nil {
			repl.Set(placeholderResult, reportOnlyResult)
		}
		e := p.Explain(r, object)
		h.logger.Info("report_only: s3_cors would deny this request: "+e.Reason,
			zap.String("bucket", name.String()),
			zap.String("kind", d.Kind.String()),
			zap.String("result", d.Result.String()),
			zap.String("origin", r.Header.Get("Origin")),
			zap.String("method", r.Method),
			zap.String("request_method", r.Header.Get("Access-Control-Request-Method")),
			zap.String("request_headers", r.Header.Get("Access-Control-Request-Headers")),
			zap.String("path", r.URL.Path))
	} else {
		metrics.countDecision(&d)
	}
	return next.ServeHTTP(w, r)
}

// wouldDeny reports whether enforcing d would refuse a cross-origin
// request: a refused preflight, or an actual request from an origin that
// would get no CORS headers.
func wouldDeny(d *s3cors.Decision) bool {
	if d.Kind == s3cors.Preflight {
		return d.Error != nil && d.Result != s3cors.NoOrigin
	}
	return d.Result == s3cors.Denied || d.Result == s3cors.NotConfigured
}

// serveActual sends an actual request on to next, decorating the response.
// It is apart from ServeHTTP so that only the actual path's Decision moves
// to the heap.
func (h *Handler) serveActual(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler,
	repl *caddy.Replacer, name bucketName, p *s3cors.Policy, d s3cors.Decision,
) error {
	setPlaceholders(repl, name, p, &d)
	cw := s3cors.AcquireResponseWriter(w, &d, h.KeepUpstreamCORS)
	defer cw.Release()
	err := next.ServeHTTP(cw, r)
	if cw.WroteHeader() {
		cw.Finish() // the store's CORS trailers
		return err
	}
	if err != nil {
		// Caddy's error handling answers with w, outside cw: let no CORS
		// header of the store through, and add none of the rule's.
		if !h.KeepUpstreamCORS {
			s3cors.StripCORS(w.Header())
		}
		return err
	}
	cw.Finish()
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
