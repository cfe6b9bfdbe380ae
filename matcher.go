package caddys3cors

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Matcher modes.
const (
	modePreflight  = "preflight"
	modeConfigured = "configured"
	modeAllowed    = "allowed"
)

// MatchS3CORS matches requests by how S3's bucket CORS sees them. It
// resolves the bucket and finds its configuration exactly as the s3_cors
// handler does, with the same options; requests that address no bucket
// never match.
//
// Caddyfile, in a named matcher:
//
//	@preflight s3_cors preflight
//	@cors s3_cors allowed {
//		bucket host s3.example.com
//	}
type MatchS3CORS struct {
	Source

	// Mode is what to match:
	//
	// - `preflight`: OPTIONS requests to a bucket or object, which the
	//   s3_cors handler answers itself;
	// - `configured`: requests to a bucket that has a CORS configuration
	//   (set at run time, static, or the default);
	// - `allowed`: requests for which a CORS rule matches: allowed
	//   preflights, and actual requests that get CORS headers.
	Mode string `json:"mode"`
}

// CaddyModule returns the Caddy module information.
func (MatchS3CORS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.matchers.s3_cors",
		New: func() caddy.Module { return new(MatchS3CORS) },
	}
}

// Provision compiles the matcher's configurations.
func (m *MatchS3CORS) Provision(ctx caddy.Context) error {
	if err := m.provision(ctx); err != nil {
		return fmt.Errorf("s3_cors matcher: %v", err)
	}
	return nil
}

// Validate checks the mode and the resolution settings.
func (m *MatchS3CORS) Validate() error {
	switch m.Mode {
	case modePreflight, modeConfigured, modeAllowed:
	case "":
		return fmt.Errorf("s3_cors matcher: no mode (%s, %s or %s)", modePreflight, modeConfigured, modeAllowed)
	default:
		return fmt.Errorf("s3_cors matcher: unknown mode %q (%s, %s or %s)", m.Mode, modePreflight, modeConfigured, modeAllowed)
	}
	if err := m.validate(); err != nil {
		return fmt.Errorf("s3_cors matcher: %v", err)
	}
	return nil
}

// Match returns true if r matches m.
func (m *MatchS3CORS) Match(r *http.Request) bool {
	ok, _ := m.MatchWithError(r)
	return ok
}

// MatchWithError returns true if r matches m. It never fails.
func (m *MatchS3CORS) MatchWithError(r *http.Request) (bool, error) {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	bucket, object := m.resolve(r, repl)
	if bucket == "" {
		return false, nil
	}
	switch m.Mode {
	case modePreflight:
		return r.Method == http.MethodOptions, nil
	case modeConfigured:
		p, _ := m.lookup(bucket)
		return p != nil, nil
	case modeAllowed:
		p, _ := m.lookup(bucket)
		d := p.Evaluate(r, object)
		return d.Result == s3cors.Allowed, nil
	}
	return false, nil
}

// Interface guards
var (
	_ caddy.Provisioner                 = (*MatchS3CORS)(nil)
	_ caddy.Validator                   = (*MatchS3CORS)(nil)
	_ caddyhttp.RequestMatcherWithError = (*MatchS3CORS)(nil)
)
