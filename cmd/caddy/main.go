// Command caddy is a Caddy build with the standard modules and the s3_cors
// modules of this repository, so `go build ./cmd/caddy` gives a ready binary.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// The standard Caddy modules.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// The s3_cors modules.
	_ "github.com/s3cors/caddy-s3cors"
)

func main() {
	caddycmd.Main()
}
