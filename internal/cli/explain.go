package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// explainCommand is `caddy s3-cors explain`: local with --config, through
// POST /s3_cors/explain with --bucket.
func explainCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain --config <file>|--bucket <name> [--origin <origin>] [--method <method>] [--request-method <method>] [--request-headers <list>] [--path <key>] [--json] [--address <interface>]",
		Short: "Explains how a CORS configuration decides a request",
		Long: `
Explains how a bucket CORS configuration decides a request, as S3 would:
the result (allowed, denied, not_configured, no_origin or bad_request), the
CORS response headers or the error of a refused preflight, and for each rule
whether its origins, methods and headers match, and on which value not.

With --config, the configuration file (XML or aws cli JSON, - for stdin) is
evaluated locally; no running instance is needed. With --bucket, the running
Caddy instance evaluates the configuration it has for that bucket, through
its admin API at --address (or the default).

The request is described by --origin (the Origin header; none if empty),
--method (GET by default) and --path (the object key, or empty for the
bucket itself). --request-method sets Access-Control-Request-Method, which
makes the request a preflight: the method is then OPTIONS unless --method is
given. --request-headers sets Access-Control-Request-Headers.

With --json, the explanation is printed as JSON instead of text.
`,
		Args: cobra.NoArgs,
		RunE: runE(cmdExplain),
	}
	cmd.Flags().StringP("config", "c", "", "CORS configuration file to evaluate locally, - for stdin")
	cmd.Flags().StringP("bucket", "b", "", "Bucket whose configuration the running instance evaluates")
	cmd.Flags().StringP("origin", "o", "", "Origin header of the request")
	cmd.Flags().StringP("method", "m", http.MethodGet, "Method of the request; OPTIONS for a preflight")
	cmd.Flags().StringP("request-method", "", "", "Access-Control-Request-Method header; makes the request a preflight")
	cmd.Flags().StringP("request-headers", "", "", "Access-Control-Request-Headers header")
	cmd.Flags().StringP("path", "p", "", "Object key of the request; empty for the bucket itself")
	cmd.Flags().BoolP("json", "", false, "Print the explanation as JSON")
	cmd.Flags().StringP("address", "", "", "The address to use to reach the admin API endpoint (with --bucket), if not the default")
	cmd.MarkFlagsMutuallyExclusive("config", "bucket")
	cmd.MarkFlagsOneRequired("config", "bucket")
	return cmd
}

// cmdExplain builds the request the flags describe and explains how the
// configuration decides it.
func cmdExplain(s streams, fl caddycmd.Flags) (int, error) {
	configFile := fl.String("config")
	bucket := fl.String("bucket")
	key := strings.TrimPrefix(fl.String("path"), "/")
	method := strings.ToUpper(fl.String("method"))
	requestMethod := fl.String("request-method")
	if requestMethod != "" && !fl.Changed("method") {
		method = http.MethodOptions
	}
	headers := map[string]string{}
	if requestMethod != "" {
		headers["Access-Control-Request-Method"] = requestMethod
	}
	if rh := fl.String("request-headers"); rh != "" {
		headers["Access-Control-Request-Headers"] = rh
	}

	if configFile == "" {
		return explainRemote(s, fl, api.ExplainRequest{
			Bucket:  bucket,
			Method:  method,
			Path:    "/" + key,
			Origin:  fl.String("origin"),
			Headers: headers,
		})
	}

	body, err := readConfiguration(s, configFile)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	cfg, err := s3cors.Parse(body)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	path := "/bucket"
	if key != "" {
		path += "/" + key
	}
	u := url.URL{Scheme: "http", Host: "localhost", Path: path}
	r, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("making the request to explain: %v", err)
	}
	if origin := fl.String("origin"); origin != "" {
		r.Header.Set("Origin", origin)
	}
	for name, value := range headers {
		r.Header.Set(name, value)
	}
	explanation := s3cors.Compile(cfg).Explain(r, key != "")
	var out []byte
	if fl.Bool("json") {
		out, err = json.MarshalIndent(explanation, "", "\t")
		if err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("encoding the explanation: %v", err)
		}
	} else {
		out = []byte(explanation.String())
	}
	if err := writeBody(s.out, out); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("writing the explanation: %v", err)
	}
	return caddy.ExitCodeSuccess, nil
}

// explainRemote asks the running instance to explain req.
func explainRemote(s streams, fl caddycmd.Flags, req api.ExplainRequest) (int, error) {
	if req.Bucket == "" {
		return caddy.ExitCodeFailedStartup, s3err.InvalidBucketName(req.Bucket)
	}
	adminAddr, err := caddycmd.DetermineAdminAPIAddress(fl.String("address"), nil, "", "")
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("couldn't determine admin API address: %v", err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("encoding the request to explain: %v", err)
	}
	headers := make(http.Header)
	headers.Set("Accept", "text/plain")
	if fl.Bool("json") {
		headers.Set("Accept", "application/json")
	}
	resp, err := adminRequest(adminAddr, http.MethodPost, api.ExplainPath, headers, bytes.NewReader(body))
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("reading the explanation: %v", err)
	}
	if err := writeBody(s.out, out); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("writing the explanation: %v", err)
	}
	return caddy.ExitCodeSuccess, nil
}
