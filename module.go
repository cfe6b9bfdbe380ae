// Package caddys3cors gives any S3-compatible object store (MinIO, Ceph,
// legacy storage) Amazon S3's per-bucket CORS, as Caddy modules:
//
//   - http.handlers.s3_cors (Caddyfile directive `s3_cors`, ordered before
//     `basic_auth`) answers CORS preflights itself and decorates the store's
//     responses with the matched rule's Access-Control-* headers;
//   - http.matchers.s3_cors matches preflights, configured buckets or
//     allowed CORS requests;
//   - the s3_cors app (global option `s3_cors`) holds the bucket CORS
//     configurations set at run time.
//
// The CORS behaviour itself lives in the engine, package
// github.com/s3cors/caddy-s3cors/s3cors; this package resolves the bucket,
// finds its policy and calls the engine.
package caddys3cors

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/s3cors/caddy-s3cors/internal/cli"
)

func init() {
	caddy.RegisterModule(new(App))
	caddy.RegisterModule(Handler{})
	caddy.RegisterModule(MatchS3CORS{})
	httpcaddyfile.RegisterHandlerDirective("s3_cors", parseHandlerCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("s3_cors", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterGlobalOption("s3_cors", parseGlobalOption)
	caddycmd.RegisterCommand(cli.Command())
}
