// Package cli implements the `caddy s3-cors` command: managing the bucket
// CORS configurations of a running Caddy instance through its admin API
// (put, get, delete, list), checking a configuration file locally
// (validate), and explaining how a configuration decides a request
// (explain), either locally or on the running instance.
//
// The root package registers the command with caddycmd.RegisterCommand.
package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// Command returns the `caddy s3-cors` command and its subcommands, for
// caddycmd.RegisterCommand.
func Command() caddycmd.Command {
	return caddycmd.Command{
		Name:  "s3-cors",
		Usage: "put|get|delete|list|validate|explain|page [<args>]",
		Short: "Manages and explains the S3 bucket CORS configurations",
		Long: `
Manages the per-bucket CORS configurations of the s3_cors module, which
gives S3-compatible object stores Amazon S3's bucket CORS.

The put, get, delete and list subcommands talk to the running Caddy
instance through its admin API (the /s3_cors/ endpoints), which must be
enabled and accessible. The address of the admin API is taken from the
--address flag, or from the given --config file (with --adapter), or is
the default, as 'caddy reload' and 'caddy stop' do.

The page subcommand opens the operator page of the running instance
(GET /s3_cors/ on its admin API) to a browser on this machine.

The validate subcommand checks a configuration file locally, exactly as
S3 would check the body of a PutBucketCors request. The explain subcommand
tells how a configuration decides a request, rule by rule: locally for a
configuration file, or on the running instance for a bucket.

Configuration files are the PutBucketCors XML or the JSON shape of the aws
cli ({"CORSRules": [...]}), told apart by their first non-space character.

Errors that S3 would answer are printed as "Code: Message" on stderr, and
the command exits with a non-zero status.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
				}
				return cmd.Help()
			}
			cmd.AddCommand(putCommand(), getCommand(), deleteCommand(), listCommand(),
				validateCommand(), explainCommand(), pageCommand())
		},
	}
}

// streams are where a subcommand reads and writes: its cobra command's
// input and outputs, which tests replace.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// commandFunc is a subcommand's function. Like a caddycmd.CommandFunc it
// takes the parsed flags (and the positional arguments through them) and
// returns an exit code and an error; it also gets the streams.
type commandFunc func(s streams, fl caddycmd.Flags) (int, error)

// runE turns f into a cobra RunE. An error is printed on stderr (an S3
// error as "Code: Message") rather than through Caddy's logger, since it is
// the command's answer; the exit status is then non-zero, as caddycmd.Main
// exits 1 on any error returned.
func runE(f commandFunc) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		s := streams{in: cmd.InOrStdin(), out: cmd.OutOrStdout(), err: cmd.ErrOrStderr()}
		code, err := f(s, caddycmd.Flags{FlagSet: cmd.Flags()})
		if err == nil && code == caddy.ExitCodeSuccess {
			return nil
		}
		cmd.SilenceErrors = true
		cmd.SilenceUsage = true
		if err == nil {
			err = fmt.Errorf("exit status %d", code)
		}
		printError(s.err, err)
		return err
	}
}

// printError writes err for the user: an S3 error document as
// "Code: Message", then its HTTP status and extra elements, one a line;
// anything else as "Error: " and the message.
func printError(w io.Writer, err error) {
	var docErr *s3err.Error
	if !errors.As(err, &docErr) {
		fmt.Fprintf(w, "Error: %v\n", err)
		return
	}
	fmt.Fprintf(w, "%s: %s\n", docErr.Code, docErr.Message)
	if docErr.Status != 0 {
		fmt.Fprintf(w, "  HTTP status: %d %s\n", docErr.Status, http.StatusText(docErr.Status))
	}
	for _, f := range docErr.Fields {
		fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Value)
	}
}

// readConfiguration reads a configuration file, or stdin for "" or "-",
// refusing more than s3cors.MaxBodySize bytes as S3 does.
func readConfiguration(s streams, file string) ([]byte, error) {
	r := s.in
	if file != "" && file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("reading configuration: %w", err)
		}
		defer f.Close()
		r = f
	}
	body, err := putcors.ReadBody(r)
	if err != nil {
		var docErr *s3err.Error
		if errors.As(err, &docErr) {
			return nil, err
		}
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return body, nil
}

// writeBody writes b to w, with a final newline for the terminal.
func writeBody(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		_, err := io.WriteString(w, "\n")
		return err
	}
	return nil
}
