package cli

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// result is what one run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// run executes `caddy s3-cors args...` in process, with the cobra command
// built from Command() as caddycmd builds it, and returns the exit status
// caddycmd.Main would give (1 for any error) and the outputs.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	c := Command()
	cmd := &cobra.Command{Use: c.Name + " " + c.Usage, Short: c.Short, Long: c.Long}
	c.CobraFunc(cmd)
	var stdout, stderr bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	res := result{stdout: stdout.String()}
	if err := cmd.Execute(); err != nil {
		res.code = 1
	}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// readFile returns a test file's content.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// normalized returns the GetBucketCors XML (or JSON) of a configuration
// file, as the commands print it.
func normalized(t *testing.T, name string, asJSON bool) string {
	t.Helper()
	cfg, err := s3cors.Parse([]byte(readFile(t, name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if asJSON {
		return string(cfg.JSON()) + "\n"
	}
	return string(cfg.XML()) + "\n"
}

// closedAddress returns a 127.0.0.1 address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// check compares a result with the expected exit status, exact stdout
// (when wantStdout is not nil) and the lines stderr must contain.
func check(t *testing.T, got result, wantCode int, wantStdout *string, wantStderr []string) {
	t.Helper()
	if got.code != wantCode {
		t.Errorf("exit status = %d, want %d\nstdout: %s\nstderr: %s", got.code, wantCode, got.stdout, got.stderr)
	}
	if wantStdout != nil && got.stdout != *wantStdout {
		t.Errorf("stdout = %q, want %q", got.stdout, *wantStdout)
	}
	for _, want := range wantStderr {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", got.stderr, want)
		}
	}
	if len(wantStderr) == 0 && got.stderr != "" {
		t.Errorf("stderr = %q, want nothing", got.stderr)
	}
}

func ptr(s string) *string { return &s }

func TestCommand(t *testing.T) {
	c := Command()
	// The checks of caddycmd.RegisterCommand, which panics on a failure.
	if !regexp.MustCompile(`^[a-z0-9]$|^([a-z0-9]+-?[a-z0-9]*)+[a-z0-9]$`).MatchString(c.Name) {
		t.Errorf("invalid command name %q", c.Name)
	}
	if c.Name != "s3-cors" || c.Short == "" || c.CobraFunc == nil {
		t.Errorf("Command() = %+v, want the s3-cors command with Short and CobraFunc", c)
	}
	cmd := &cobra.Command{Use: c.Name}
	c.CobraFunc(cmd)
	var names []string
	for _, sub := range cmd.Commands() {
		names = append(names, sub.Name())
		if sub.Short == "" || sub.Long == "" || sub.RunE == nil {
			t.Errorf("subcommand %s lacks Short, Long or RunE", sub.Name())
		}
	}
	want := []string{"delete", "explain", "get", "list", "page", "put", "validate"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("subcommands = %v, want %v", names, want)
	}
}

func TestAdminCommands(t *testing.T) {
	validXML := readFile(t, "testdata/valid.xml")
	validJSON := readFile(t, "testdata/valid.json")
	seed := map[string]string{"photos": validXML, "assets": validJSON}
	tooLarge := "<CORSConfiguration>" + strings.Repeat(" ", s3cors.MaxBodySize) + "</CORSConfiguration>"

	tests := []struct {
		name       string
		seed       map[string]string
		unix       bool
		stdin      string
		args       []string // $ADDR is the fake's address, $CONFIG a Caddy config naming it
		wantCode   int
		wantStdout *string
		wantStderr []string
		want       []recorded // Method, Path, ContentType, Accept and Body are compared
	}{
		{
			name: "put XML file",
			args: []string{"put", "photos", "testdata/valid.xml", "--address", "$ADDR"},
			want: []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/xml", Body: validXML}},
			// put prints nothing on success
			wantStdout: ptr(""),
		},
		{
			name:       "put JSON file",
			args:       []string{"put", "photos", "testdata/valid.json", "--address", "$ADDR"},
			want:       []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/json", Body: validJSON}},
			wantStdout: ptr(""),
		},
		{
			name:  "put JSON from stdin without file",
			stdin: validJSON,
			args:  []string{"put", "photos", "--address", "$ADDR"},
			want:  []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/json", Body: validJSON}},
		},
		{
			name:  "put XML from stdin with -",
			stdin: "\n\t " + validXML,
			args:  []string{"put", "photos", "-", "--address", "$ADDR"},
			want:  []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/xml", Body: "\n\t " + validXML}},
		},
		{
			name: "put bucket name escaped in the path",
			args: []string{"put", "a/../b", "testdata/valid.xml", "--address", "$ADDR"},
			want: []recorded{{Method: "PUT", Path: "/s3_cors/buckets/a%2F..%2Fb", ContentType: "application/xml", Body: validXML}},
		},
		{
			name:       "put refused: unsupported method",
			args:       []string{"put", "photos", "testdata/bad-method.xml", "--address", "$ADDR"},
			wantCode:   1,
			wantStdout: ptr(""),
			wantStderr: []string{"InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH\n", "  HTTP status: 400 Bad Request\n"},
			want:       []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/xml", Body: readFile(t, "testdata/bad-method.xml")}},
		},
		{
			name:       "put refused: malformed XML",
			args:       []string{"put", "photos", "testdata/malformed.xml", "--address", "$ADDR"},
			wantCode:   1,
			wantStderr: []string{"MalformedXML: The XML you provided was not well-formed or did not validate against our published schema\n"},
			want:       []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/xml", Body: readFile(t, "testdata/malformed.xml")}},
		},
		{
			name:       "put refused: JSON origin with two wildcards",
			args:       []string{"put", "photos", "testdata/bad-origin.json", "--address", "$ADDR"},
			wantCode:   1,
			wantStderr: []string{`InvalidRequest: AllowedOrigin "https://*.example.*" can not have more than one wildcard.` + "\n"},
			want:       []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/json", Body: readFile(t, "testdata/bad-origin.json")}},
		},
		{
			name:       "put too large refused locally",
			stdin:      tooLarge,
			args:       []string{"put", "photos", "--address", "$ADDR"},
			wantCode:   1,
			wantStderr: []string{"MaxMessageLengthExceeded: Your request was too big.\n"},
		},
		{
			name:       "put missing file",
			args:       []string{"put", "photos", "testdata/missing.xml", "--address", "$ADDR"},
			wantCode:   1,
			wantStderr: []string{"Error: reading configuration: open testdata/missing.xml: no such file or directory\n"},
		},
		{
			name:       "put empty bucket name",
			args:       []string{"put", "", "testdata/valid.xml", "--address", "$ADDR"},
			wantCode:   1,
			wantStderr: []string{"InvalidBucketName: The specified bucket is not valid.\n"},
		},
		{
			name:     "put without bucket",
			args:     []string{"put", "--address", "$ADDR"},
			wantCode: 1,
			// cobra's own argument check
			wantStderr: []string{"Error: accepts between 1 and 2 arg(s), received 0"},
		},
		{
			name: "put address from --config",
			args: []string{"put", "photos", "testdata/valid.xml", "--config", "$CONFIG"},
			want: []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/xml", Body: validXML}},
		},
		{
			name: "put over a unix socket",
			unix: true,
			args: []string{"put", "photos", "testdata/valid.xml", "--address", "$ADDR"},
			want: []recorded{{Method: "PUT", Path: "/s3_cors/buckets/photos", ContentType: "application/xml", Body: validXML}},
		},
		{
			name:       "get XML",
			seed:       seed,
			args:       []string{"get", "photos", "--address", "$ADDR"},
			wantStdout: ptr(normalized(t, "testdata/valid.xml", false)),
			want:       []recorded{{Method: "GET", Path: "/s3_cors/buckets/photos", Accept: "application/xml"}},
		},
		{
			name:       "get JSON",
			seed:       seed,
			args:       []string{"get", "assets", "--json", "--address", "$ADDR"},
			wantStdout: ptr(normalized(t, "testdata/valid.json", true)),
			want:       []recorded{{Method: "GET", Path: "/s3_cors/buckets/assets", Accept: "application/json"}},
		},
		{
			name:       "get without configuration",
			seed:       seed,
			args:       []string{"get", "videos", "--address", "$ADDR"},
			wantCode:   1,
			wantStdout: ptr(""),
			wantStderr: []string{"NoSuchCORSConfiguration: The CORS configuration does not exist\n", "  HTTP status: 404 Not Found\n", "  BucketName: videos\n"},
			want:       []recorded{{Method: "GET", Path: "/s3_cors/buckets/videos", Accept: "application/xml"}},
		},
		{
			name:       "get refused by Caddy",
			args:       []string{"get", "caddy-error", "--address", "$ADDR"},
			wantCode:   1,
			wantStderr: []string{"Error: admin API: GET /s3_cors/buckets/caddy-error: HTTP 403: client is not allowed to access from origin 'http://example.com'\n"},
			want:       []recorded{{Method: "GET", Path: "/s3_cors/buckets/caddy-error", Accept: "application/xml"}},
		},
		{
			name:       "get from no instance",
			args:       []string{"get", "photos", "--address", closedAddress(t)},
			wantCode:   1,
			wantStderr: []string{"Error: admin API at 127.0.0.1:", "connection refused"},
		},
		{
			name:       "delete",
			seed:       seed,
			args:       []string{"delete", "photos", "--address", "$ADDR"},
			wantStdout: ptr(""),
			want:       []recorded{{Method: "DELETE", Path: "/s3_cors/buckets/photos"}},
		},
		{
			name:       "delete without configuration",
			args:       []string{"delete", "photos", "--address", "$ADDR"},
			wantStdout: ptr(""),
			want:       []recorded{{Method: "DELETE", Path: "/s3_cors/buckets/photos"}},
		},
		{
			name:       "list",
			seed:       seed,
			args:       []string{"list", "--address", "$ADDR"},
			wantStdout: ptr("assets\nphotos\n"),
			want:       []recorded{{Method: "GET", Path: "/s3_cors/buckets", Accept: "application/json"}},
		},
		{
			name:       "list empty",
			args:       []string{"list", "--address", "$ADDR"},
			wantStdout: ptr(""),
			want:       []recorded{{Method: "GET", Path: "/s3_cors/buckets", Accept: "application/json"}},
		},
		{
			name:       "list with an argument",
			args:       []string{"list", "photos", "--address", "$ADDR"},
			wantCode:   1,
			wantStderr: []string{`Error: unknown command "photos" for "s3-cors list"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, addr := newFakeAdmin(t, tt.unix, tt.seed)
			config := filepath.Join(t.TempDir(), "caddy.json")
			if err := os.WriteFile(config, []byte(`{"admin": {"listen": "`+addr+`"}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.NewReplacer("$ADDR", addr, "$CONFIG", config).Replace(a)
			}
			got := run(t, tt.stdin, args...)
			check(t, got, tt.wantCode, tt.wantStdout, tt.wantStderr)

			reqs := fake.recorded()
			if len(reqs) != len(tt.want) {
				t.Fatalf("requests = %+v, want %+v", reqs, tt.want)
			}
			for i, req := range reqs {
				want := tt.want[i]
				if req.Method != want.Method || req.Path != want.Path || req.ContentType != want.ContentType ||
					req.Accept != want.Accept || req.Body != want.Body {
					t.Errorf("request %d = %+v, want %+v", i, req, want)
				}
				// AdminAPIRequest sends the Origin the admin listener
				// checks, except over a unix socket.
				if wantOrigin := "http://" + addr; !tt.unix && req.Origin != wantOrigin {
					t.Errorf("request %d: Origin = %q, want %q", i, req.Origin, wantOrigin)
				}
				if req.Method == "PUT" {
					sum := md5.Sum([]byte(req.Body))
					if want := base64.StdEncoding.EncodeToString(sum[:]); req.ContentMD5 != want {
						t.Errorf("request %d: Content-MD5 = %q, want %q", i, req.ContentMD5, want)
					}
				}
			}
		})
	}
}

func TestPutThenGet(t *testing.T) {
	_, addr := newFakeAdmin(t, false, nil)
	check(t, run(t, "", "put", "photos", "testdata/valid.json", "--address", addr), 0, ptr(""), nil)
	check(t, run(t, "", "get", "photos", "--address", addr), 0, ptr(normalized(t, "testdata/valid.xml", false)), nil)
	check(t, run(t, "", "list", "--address", addr), 0, ptr("photos\n"), nil)
	check(t, run(t, "", "delete", "photos", "--address", addr), 0, ptr(""), nil)
	check(t, run(t, "", "get", "photos", "--address", addr), 1, ptr(""), []string{"NoSuchCORSConfiguration: "})
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	var rules strings.Builder
	rules.WriteString("<CORSConfiguration>")
	for range s3cors.MaxRules + 1 {
		rules.WriteString("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>")
	}
	rules.WriteString("</CORSConfiguration>")
	tooMany := filepath.Join(dir, "too-many.xml")
	if err := os.WriteFile(tooMany, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	tooLarge := filepath.Join(dir, "too-large.json")
	if err := os.WriteFile(tooLarge, []byte(`{"CORSRules": [`+strings.Repeat(" ", s3cors.MaxBodySize)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	wantXML := normalized(t, "testdata/valid.xml", false)
	wantJSON := normalized(t, "testdata/valid.xml", true)

	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout *string
		wantStderr []string
	}{
		{name: "valid XML", args: []string{"testdata/valid.xml"}, wantStdout: &wantXML},
		{name: "valid XML as JSON", args: []string{"testdata/valid.xml", "--json"}, wantStdout: &wantJSON},
		{name: "valid JSON normalized to XML", args: []string{"testdata/valid.json"}, wantStdout: &wantXML},
		{name: "valid JSON", args: []string{"testdata/valid.json", "--json"}, wantStdout: &wantJSON},
		{name: "valid JSON from stdin", stdin: readFile(t, "testdata/valid.json"), args: []string{"-"}, wantStdout: &wantXML},
		{
			name:       "malformed XML",
			args:       []string{"testdata/malformed.xml"},
			wantCode:   1,
			wantStdout: ptr(""),
			wantStderr: []string{"MalformedXML: The XML you provided was not well-formed or did not validate against our published schema\n  HTTP status: 400 Bad Request\n"},
		},
		{
			name:       "unsupported method",
			args:       []string{"testdata/bad-method.xml"},
			wantCode:   1,
			wantStderr: []string{"InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH\n  HTTP status: 400 Bad Request\n"},
		},
		{
			name:       "too many rules",
			args:       []string{tooMany},
			wantCode:   1,
			wantStderr: []string{"InvalidRequest: The number of CORS rules should not exceed allowed limit of 100 rules.\n  HTTP status: 400 Bad Request\n"},
		},
		{
			name:       "too large",
			args:       []string{tooLarge},
			wantCode:   1,
			wantStderr: []string{"MaxMessageLengthExceeded: Your request was too big.\n  HTTP status: 400 Bad Request\n  MaxMessageLengthBytes: 65536\n"},
		},
		{
			name:       "JSON without rules",
			args:       []string{"testdata/no-rules.json"},
			wantCode:   1,
			wantStderr: []string{"MalformedXML: The XML you provided was not well-formed or did not validate against our published schema\n  HTTP status: 400 Bad Request\n"},
		},
		{
			name:       "JSON origin with two wildcards",
			args:       []string{"testdata/bad-origin.json"},
			wantCode:   1,
			wantStderr: []string{`InvalidRequest: AllowedOrigin "https://*.example.*" can not have more than one wildcard.` + "\n  HTTP status: 400 Bad Request\n"},
		},
		{
			name:       "JSON expose header with a wildcard",
			args:       []string{"testdata/wildcard-expose.json"},
			wantCode:   1,
			wantStderr: []string{`InvalidRequest: ExposeHeader "x-amz-meta-*" contains wildcard. We currently do not support wildcard for ExposeHeader.` + "\n  HTTP status: 400 Bad Request\n"},
		},
		{
			name:       "JSON not well-formed from stdin",
			stdin:      `{"CORSRules": [`,
			args:       []string{"-"},
			wantCode:   1,
			wantStderr: []string{"MalformedXML: "},
		},
		{
			name:       "missing file",
			args:       []string{"testdata/missing.json"},
			wantCode:   1,
			wantStderr: []string{"Error: reading configuration: open testdata/missing.json: no such file or directory\n"},
		},
		{
			name:       "no file",
			wantCode:   1,
			wantStderr: []string{"Error: accepts 1 arg(s), received 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.stdin, append([]string{"validate"}, tt.args...)...)
			check(t, got, tt.wantCode, tt.wantStdout, tt.wantStderr)
		})
	}
}

func TestExplain(t *testing.T) {
	validXML := readFile(t, "testdata/valid.xml")

	tests := []struct {
		name        string
		stdin       string
		args        []string // $ADDR is the fake admin API's address
		wantCode    int
		wantStdout  []string // lines stdout must contain
		wantStderr  []string
		wantRequest *api.ExplainRequest // the body sent to POST /s3_cors/explain
		wantAccept  string
	}{
		{
			name: "preflight allowed",
			args: []string{"--config", "testdata/valid.xml", "--origin", "https://app.example.com", "--request-method", "PUT",
				"--request-headers", "Content-Type, x-amz-meta-owner", "--path", "photo.jpg"},
			wantStdout: []string{
				"preflight request: ALLOWED\n", "status: 200\n",
				"  Access-Control-Allow-Origin: https://app.example.com\n",
				"  Access-Control-Allow-Methods: GET, PUT\n",
				"  Access-Control-Max-Age: 3000\n",
				"rule 0 (app): matches\n",
			},
		},
		{
			name:       "preflight denied: origin",
			args:       []string{"--config", "testdata/valid.xml", "--origin", "https://evil.example", "--request-method", "PUT", "--path", "photo.jpg"},
			wantStdout: []string{"preflight request: DENIED\n", "status: 403\n", "error: AccessForbidden: ", "rule 0 (app): no match\n", "rule 1: no match\n", "response headers: no CORS headers\n"},
		},
		{
			name: "preflight denied: request header",
			args: []string{"--config", "testdata/valid.xml", "--origin", "https://app.example.com", "--request-method", "GET",
				"--request-headers", "authorization"},
			wantStdout: []string{"preflight request: DENIED\n", "status: 403\n", "  ResourceType: BUCKET\n", "rule 0 (app): no match\n"},
		},
		{
			name:       "preflight without request method",
			args:       []string{"--config", "testdata/valid.xml", "--origin", "https://app.example.com", "--method", "options"},
			wantStdout: []string{"preflight request: BAD_REQUEST\n", "status: 400\n"},
		},
		{
			name:       "actual request allowed by the wildcard rule",
			args:       []string{"--config", "testdata/valid.json", "--origin", "https://other.example", "--method", "HEAD", "--path", "/photo.jpg"},
			wantStdout: []string{"actual request: ALLOWED\n", "  Access-Control-Allow-Origin: *\n", "rule 1: matches\n"},
		},
		{
			name:       "actual request denied",
			args:       []string{"--config", "testdata/valid.xml", "--origin", "https://other.example", "--method", "GET"},
			wantStdout: []string{"actual request: DENIED\n", "response headers: no CORS headers\n"},
		},
		{
			name:       "actual request without origin",
			args:       []string{"--config", "testdata/valid.xml"},
			wantStdout: []string{"actual request: NO_ORIGIN\n"},
		},
		{
			name:       "configuration from stdin as JSON",
			stdin:      validXML,
			args:       []string{"--config", "-", "--origin", "https://app.example.com", "--json"},
			wantStdout: []string{`"kind": "actual"`, `"result": "allowed"`, `"rule_id": "app"`},
		},
		{
			name:       "invalid configuration",
			args:       []string{"--config", "testdata/bad-method.xml", "--origin", "https://app.example.com"},
			wantCode:   1,
			wantStderr: []string{"InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH\n"},
		},
		{
			name:       "invalid method",
			args:       []string{"--config", "testdata/valid.xml", "--method", "G T"},
			wantCode:   1,
			wantStderr: []string{`Error: making the request to explain: net/http: invalid method "G T"`},
		},
		{
			name:       "neither configuration nor bucket",
			args:       []string{"--origin", "https://app.example.com"},
			wantCode:   1,
			wantStderr: []string{"Error: at least one of the flags in the group [config bucket] is required"},
		},
		{
			name:       "both configuration and bucket",
			args:       []string{"--config", "testdata/valid.xml", "--bucket", "photos"},
			wantCode:   1,
			wantStderr: []string{"Error: if any flags in the group [config bucket] are set none of the others can be"},
		},
		{
			name: "bucket on the running instance",
			args: []string{"--bucket", "photos", "--origin", "https://app.example.com", "--request-method", "PUT",
				"--request-headers", "content-type", "--path", "photo.jpg", "--address", "$ADDR"},
			wantStdout: []string{"preflight request: ALLOWED\n", "rule 0 (app): matches\n"},
			wantRequest: &api.ExplainRequest{Bucket: "photos", Method: "OPTIONS", Path: "/photo.jpg", Origin: "https://app.example.com",
				Headers: map[string]string{"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}},
			wantAccept: "text/plain",
		},
		{
			name:        "bucket root on the running instance as JSON",
			args:        []string{"--bucket", "photos", "--origin", "https://other.example", "--json", "--address", "$ADDR"},
			wantStdout:  []string{`"kind":"actual"`, `"result":"denied"`},
			wantRequest: &api.ExplainRequest{Bucket: "photos", Method: "GET", Path: "/", Origin: "https://other.example"},
			wantAccept:  "application/json",
		},
		{
			name:        "bucket without configuration on the running instance",
			args:        []string{"--bucket", "videos", "--address", "$ADDR"},
			wantCode:    1,
			wantStderr:  []string{"NoSuchCORSConfiguration: The CORS configuration does not exist\n", "  BucketName: videos\n"},
			wantRequest: &api.ExplainRequest{Bucket: "videos", Method: "GET", Path: "/"},
			wantAccept:  "text/plain",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, addr := newFakeAdmin(t, false, map[string]string{"photos": validXML})
			args := []string{"explain"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "$ADDR", addr))
			}
			got := run(t, tt.stdin, args...)
			check(t, got, tt.wantCode, nil, tt.wantStderr)
			for _, want := range tt.wantStdout {
				if !strings.Contains(got.stdout, want) {
					t.Errorf("stdout = %q, want it to contain %q", got.stdout, want)
				}
			}

			reqs := fake.recorded()
			if tt.wantRequest == nil {
				if len(reqs) != 0 {
					t.Errorf("requests = %+v, want none", reqs)
				}
				return
			}
			if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/s3_cors/explain" ||
				reqs[0].ContentType != "application/json" || reqs[0].Accept != tt.wantAccept {
				t.Fatalf("requests = %+v, want one POST /s3_cors/explain, JSON, Accept %s", reqs, tt.wantAccept)
			}
			var body api.ExplainRequest
			if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil {
				t.Fatalf("request body %q: %v", reqs[0].Body, err)
			}
			if len(body.Headers) == 0 {
				body.Headers = nil
			}
			if !reflect.DeepEqual(body, *tt.wantRequest) {
				t.Errorf("request body = %+v, want %+v", body, *tt.wantRequest)
			}
		})
	}
}

func TestParentCommand(t *testing.T) {
	got := run(t, "", "frobnicate")
	if got.code != 1 || !strings.Contains(got.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown subcommand: %+v", got)
	}
	got = run(t, "")
	if got.code != 0 || !strings.Contains(got.stdout, "Available Commands:") {
		t.Errorf("no subcommand: %+v", got)
	}
}
