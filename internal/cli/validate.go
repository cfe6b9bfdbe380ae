package cli

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// validateCommand is `caddy s3-cors validate`, local only.
func validateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate <file>|- [--json]",
		Short: "Validates a bucket CORS configuration file",
		Long: `
Validates a bucket CORS configuration locally, exactly as S3 validates the
body of a PutBucketCors request; no running instance is needed.

The configuration is read from the given file, or from stdin if the file is
-. It is the PutBucketCors XML or the JSON shape of the aws cli
({"CORSRules": [...]}), told apart by its first non-space character.

A valid configuration is printed normalized, as GetBucketCors would return
it (the XML, or the aws cli JSON with --json), and the exit status is 0. For
an invalid one, S3's error is printed on stderr as "Code: Message" with its
HTTP status, and the exit status is non-zero.
`,
		Args: cobra.ExactArgs(1),
		RunE: runE(cmdValidate),
	}
	cmd.Flags().BoolP("json", "", false, "Print the configuration as the aws cli JSON")
	return cmd
}

// cmdValidate parses a configuration file with the engine and prints it
// normalized, or returns S3's error.
func cmdValidate(s streams, fl caddycmd.Flags) (int, error) {
	body, err := readConfiguration(s, fl.Arg(0))
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	cfg, err := s3cors.Parse(body)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	out := cfg.XML()
	if fl.Bool("json") {
		out = cfg.JSON()
	}
	if err := writeBody(s.out, out); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("writing the configuration: %v", err)
	}
	return caddy.ExitCodeSuccess, nil
}
