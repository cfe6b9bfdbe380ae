package cli

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// addAdminFlags adds the flags that find the admin API, as 'caddy stop'
// and 'caddy reload' have them.
func addAdminFlags(cmd *cobra.Command) {
	cmd.Flags().StringP("config", "c", "", "Configuration file to use to parse the admin address, if --address is not used")
	cmd.Flags().StringP("adapter", "a", "", "Name of config adapter to apply (when --config is used)")
	cmd.Flags().StringP("address", "", "", "The address to use to reach the admin API endpoint, if not the default")
}

// putCommand is `caddy s3-cors put`: PUT /s3_cors/buckets/<bucket>.
func putCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "put <bucket> [<file>|-] [--config <path> [--adapter <name>]] [--address <interface>]",
		Short: "Sets the CORS configuration of a bucket",
		Long: `
Sets the CORS configuration of a bucket on the running Caddy instance,
replacing the one it has, as S3's PutBucketCors does.

The configuration is read from the given file, or from stdin if the file is
- or omitted. It is the PutBucketCors XML or the JSON shape of the aws cli
({"CORSRules": [...]}), told apart by its first non-space character.

The instance validates the configuration as S3 does; an invalid one is
refused with S3's error, printed as "Code: Message".
`,
		Args: cobra.RangeArgs(1, 2),
		RunE: runE(cmdPut),
	}
	addAdminFlags(cmd)
	return cmd
}

// getCommand is `caddy s3-cors get`: GET /s3_cors/buckets/<bucket>.
func getCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get <bucket> [--json] [--config <path> [--adapter <name>]] [--address <interface>]",
		Short: "Prints the CORS configuration of a bucket",
		Long: `
Prints the CORS configuration of a bucket on the running Caddy instance: the
GetBucketCors XML, or the JSON shape of the aws cli with --json.

A bucket without a configuration is S3's NoSuchCORSConfiguration error.
`,
		Args: cobra.ExactArgs(1),
		RunE: runE(cmdGet),
	}
	addAdminFlags(cmd)
	cmd.Flags().BoolP("json", "", false, "Print the configuration as the aws cli JSON")
	return cmd
}

// deleteCommand is `caddy s3-cors delete`: DELETE /s3_cors/buckets/<bucket>.
func deleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete <bucket> [--config <path> [--adapter <name>]] [--address <interface>]",
		Short: "Deletes the CORS configuration of a bucket",
		Long: `
Deletes the CORS configuration of a bucket on the running Caddy instance, as
S3's DeleteBucketCors does. Deleting a configuration that does not exist is
not an error.
`,
		Args: cobra.ExactArgs(1),
		RunE: runE(cmdDelete),
	}
	addAdminFlags(cmd)
	return cmd
}

// listCommand is `caddy s3-cors list`: GET /s3_cors/buckets.
func listCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list [--config <path> [--adapter <name>]] [--address <interface>]",
		Short: "Lists the buckets that have a CORS configuration",
		Long: `
Lists the buckets that have a CORS configuration on the running Caddy
instance, one a line.
`,
		Args: cobra.NoArgs,
		RunE: runE(cmdList),
	}
	addAdminFlags(cmd)
	return cmd
}

// cmdPut sends a configuration file to the admin API, with its Content-Type
// (told by isJSON) and Content-MD5.
func cmdPut(s streams, fl caddycmd.Flags) (int, error) {
	bucket := fl.Arg(0)
	if bucket == "" {
		return caddy.ExitCodeFailedStartup, s3err.InvalidBucketName(bucket)
	}
	body, err := readConfiguration(s, fl.Arg(1))
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	adminAddr, err := adminAddress(fl)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	headers := make(http.Header)
	headers.Set("Content-Type", "application/xml")
	if s3cors.IsJSON(body) {
		headers.Set("Content-Type", "application/json")
	}
	sum := md5.Sum(body)
	headers.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	resp, err := adminRequest(adminAddr, http.MethodPut, bucketPath(bucket), headers, bytes.NewReader(body))
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	resp.Body.Close()
	return caddy.ExitCodeSuccess, nil
}

// cmdGet prints a bucket's configuration as the admin API returns it.
func cmdGet(s streams, fl caddycmd.Flags) (int, error) {
	bucket := fl.Arg(0)
	if bucket == "" {
		return caddy.ExitCodeFailedStartup, s3err.InvalidBucketName(bucket)
	}
	adminAddr, err := adminAddress(fl)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	headers := make(http.Header)
	headers.Set("Accept", "application/xml")
	if fl.Bool("json") {
		headers.Set("Accept", "application/json")
	}
	resp, err := adminRequest(adminAddr, http.MethodGet, bucketPath(bucket), headers, nil)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("reading the configuration of bucket %s: %v", bucket, err)
	}
	if err := writeBody(s.out, body); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("writing the configuration: %v", err)
	}
	return caddy.ExitCodeSuccess, nil
}

// cmdDelete deletes a bucket's configuration.
func cmdDelete(_ streams, fl caddycmd.Flags) (int, error) {
	bucket := fl.Arg(0)
	if bucket == "" {
		return caddy.ExitCodeFailedStartup, s3err.InvalidBucketName(bucket)
	}
	adminAddr, err := adminAddress(fl)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	resp, err := adminRequest(adminAddr, http.MethodDelete, bucketPath(bucket), nil, nil)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	resp.Body.Close()
	return caddy.ExitCodeSuccess, nil
}

// cmdList prints the buckets that have a configuration, one a line.
func cmdList(s streams, fl caddycmd.Flags) (int, error) {
	adminAddr, err := adminAddress(fl)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	headers := make(http.Header)
	headers.Set("Accept", "application/json")
	resp, err := adminRequest(adminAddr, http.MethodGet, api.BucketsPath, headers, nil)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	defer resp.Body.Close()
	var list struct {
		Buckets []string `json:"buckets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("decoding the bucket list: %v", err)
	}
	for _, b := range list.Buckets {
		if _, err := fmt.Fprintln(s.out, b); err != nil {
			return caddy.ExitCodeFailedStartup, fmt.Errorf("writing the bucket list: %v", err)
		}
	}
	return caddy.ExitCodeSuccess, nil
}

// bucketPath is the admin API route of one bucket's configuration.
func bucketPath(bucket string) string {
	return api.BucketsPath + "/" + url.PathEscape(bucket)
}

// adminAddress finds the admin API from the --address, --config and
// --adapter flags, as 'caddy stop' does.
func adminAddress(fl caddycmd.Flags) (string, error) {
	addr, err := caddycmd.DetermineAdminAPIAddress(fl.String("address"), nil, fl.String("config"), fl.String("adapter"))
	if err != nil {
		return "", fmt.Errorf("couldn't determine admin API address: %v", err)
	}
	return addr, nil
}

// adminRequest sends a request to the admin API with
// caddycmd.AdminAPIRequest, and turns an error answer into an error: an
// *s3err.Error for S3's error document, an *apiError otherwise.
func adminRequest(adminAddr, method, uri string, headers http.Header, body io.Reader) (*http.Response, error) {
	resp, err := caddycmd.AdminAPIRequest(adminAddr, method, uri, headers, body)
	if err == nil {
		return resp, nil
	}
	// AdminAPIRequest reads the body of an answer of status 400 or more
	// into its error, after this prefix.
	const prefix = "caddy responded with error: HTTP "
	rest, ok := strings.CutPrefix(err.Error(), prefix)
	if !ok {
		return nil, fmt.Errorf("admin API at %s: %v", adminAddr, err)
	}
	code, respBody, _ := strings.Cut(rest, ": ")
	status, convErr := strconv.Atoi(code)
	if convErr != nil {
		return nil, fmt.Errorf("admin API at %s: %v", adminAddr, err)
	}
	if docErr := parseErrorDocument(status, []byte(respBody)); docErr != nil {
		return nil, docErr
	}
	return nil, &apiError{Status: status, Method: method, URI: uri, Message: caddyErrorMessage(respBody)}
}

// apiError is an error answer of the admin API that is not an S3 error
// document, such as Caddy's own {"error": "..."}.
type apiError struct {
	Status      int
	Method, URI string
	Message     string
}

// Error implements the error interface.
func (e *apiError) Error() string {
	msg := fmt.Sprintf("admin API: %s %s: HTTP %d", e.Method, e.URI, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Status == http.StatusNotFound && strings.HasPrefix(e.URI, api.AdminPrefix) {
		msg += " (is the s3_cors module in this Caddy build?)"
	}
	return msg
}

// caddyErrorMessage returns the message of Caddy's JSON error answer, or
// the body as it is.
func caddyErrorMessage(body string) string {
	var doc struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &doc) == nil && doc.Error != "" {
		return doc.Error
	}
	return strings.TrimSpace(body)
}

// parseErrorDocument parses S3's XML error document; nil when body is not
// one. The RequestId and HostId elements are left out.
func parseErrorDocument(status int, body []byte) *s3err.Error {
	var doc struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
		Extra   []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || doc.Code == "" {
		return nil
	}
	e := &s3err.Error{Status: status, Code: doc.Code, Message: doc.Message}
	for _, x := range doc.Extra {
		if x.XMLName.Local == "RequestId" || x.XMLName.Local == "HostId" {
			continue
		}
		e.Fields = append(e.Fields, s3err.Field{Name: x.XMLName.Local, Value: x.Value})
	}
	return e
}
