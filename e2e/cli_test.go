package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// preflightSite is a site whose s3_cors answers preflights with no store
// behind it: these tests look only at configurations and preflights.
const preflightSite = `http://127.0.0.1:{{PORT0}} {
	s3_cors
	respond "store" 200
}
`

// TestAdminAPI drives the admin endpoints of the running binary: PUT and
// GET in XML and JSON, list, DELETE twice, the S3 errors, and a bucket
// name that Go's router decodes into a path traversal.
func TestAdminAPI(t *testing.T) {
	t.Parallel()
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s")+preflightSite, testenv.CaddyOptions{Ports: 1})
	base := "http://" + c.Admin + "/s3_cors/buckets"
	const xmlDoc = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>x</ID><AllowedOrigin>https://x.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>`
	const jsonDoc = `{"CORSRules":[{"AllowedOrigins":["https://j.example"],"AllowedMethods":["PUT","GET"],"AllowedHeaders":["*"]}]}`
	xmlCfg, err := s3cors.ParseXML([]byte(xmlDoc))
	if err != nil {
		t.Fatal(err)
	}
	jsonCfg, err := s3cors.ParseJSON([]byte(jsonDoc))
	if err != nil {
		t.Fatal(err)
	}

	// The steps run in order: each sees the state the earlier ones left.
	steps := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     string // S3 error code, for failures
		check                    func(t *testing.T, res response)
	}{
		{name: "put XML", method: "PUT", path: "/xml-bucket", body: xmlDoc, status: 200},
		{name: "put JSON", method: "PUT", path: "/json-bucket", body: jsonDoc, header: []string{"Content-Type", "application/json"}, status: 200},
		{name: "get XML", method: "GET", path: "/xml-bucket", status: 200, check: func(t *testing.T, res response) {
			if ct := res.header.Get("Content-Type"); ct != "application/xml" {
				t.Errorf("Content-Type %q", ct)
			}
			got, err := s3cors.ParseXML([]byte(res.body))
			if err != nil || !got.Equal(xmlCfg) {
				t.Errorf("GetBucketCors XML %s: %v", res.body, err)
			}
		}},
		{name: "get XML of the JSON put", method: "GET", path: "/json-bucket", status: 200, check: func(t *testing.T, res response) {
			got, err := s3cors.ParseXML([]byte(res.body))
			if err != nil || !got.Equal(jsonCfg) {
				t.Errorf("GetBucketCors XML %s: %v", res.body, err)
			}
		}},
		{name: "get JSON", method: "GET", path: "/xml-bucket", header: []string{"Accept", "application/json"}, status: 200,
			check: func(t *testing.T, res response) {
				if ct := res.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				got, err := s3cors.ParseJSON([]byte(res.body))
				if err != nil || !got.Equal(xmlCfg) {
					t.Errorf("JSON %s: %v", res.body, err)
				}
			}},
		{name: "list", method: "GET", path: "", status: 200, check: wantList("json-bucket", "xml-bucket")},
		{name: "invalid configuration", method: "PUT", path: "/bad-bucket", status: 400, code: "InvalidRequest",
			body: `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["PATCH"]}]}`, header: []string{"Content-Type", "application/json"}},
		{name: "malformed XML", method: "PUT", path: "/bad-bucket", body: "<CORSConfiguration>", status: 400, code: "MalformedXML"},
		{name: "wrong Content-MD5", method: "PUT", path: "/bad-bucket", body: xmlDoc, header: []string{"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
			status: 400, code: "BadDigest"},
		{name: "delete", method: "DELETE", path: "/xml-bucket", status: 204},
		{name: "delete again", method: "DELETE", path: "/xml-bucket", status: 204},
		{name: "get deleted", method: "GET", path: "/xml-bucket", status: 404, code: "NoSuchCORSConfiguration"},
		{name: "get never configured", method: "GET", path: "/other-bucket", status: 404, code: "NoSuchCORSConfiguration"},
		{name: "list after delete", method: "GET", path: "", status: 200, check: wantList("json-bucket")},
		{name: "encoded traversal get", method: "GET", path: "/..%2F..%2Fx", status: 400, code: "InvalidBucketName"},
		{name: "encoded traversal put", method: "PUT", path: "/..%2F..%2Fx", body: xmlDoc, status: 400, code: "InvalidBucketName"},
		{name: "encoded traversal delete", method: "DELETE", path: "/..%2F..%2Fx", status: 400, code: "InvalidBucketName"},
		{name: "upper-case bucket", method: "PUT", path: "/Photos", body: xmlDoc, status: 400, code: "InvalidBucketName"},
		{name: "wrong method", method: "POST", path: "/json-bucket", status: 405, code: "MethodNotAllowed"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := send(t, newRequest(t, st.method, base+st.path, st.body, st.header...))
			if res.status != st.status {
				t.Fatalf("%s %s: %d, want %d: %s", st.method, st.path, res.status, st.status, res.body)
			}
			if st.code != "" && s3Code(res.body) != st.code {
				t.Errorf("code %q, want %q: %s", s3Code(res.body), st.code, res.body)
			}
			if st.check != nil {
				st.check(t, res)
			}
		})
	}

	// Nothing was written outside the storage for the traversal.
	err = filepath.Walk(c.Home, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if filepath.Base(p) == "x.xml" || filepath.Base(p) == "x" {
			t.Errorf("traversal wrote %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The JSON put governs preflights.
	res := preflight(t, c.URL(0), "/json-bucket/k", "https://j.example", "PUT", "x-amz-acl")
	if res.status != 200 || res.header.Get("Access-Control-Allow-Headers") != "x-amz-acl" {
		t.Errorf("preflight: %d %v", res.status, res.header)
	}
}

// wantList checks the admin bucket list.
func wantList(buckets ...string) func(t *testing.T, res response) {
	return func(t *testing.T, res response) {
		var got struct {
			Buckets []string `json:"buckets"`
		}
		if err := json.Unmarshal([]byte(res.body), &got); err != nil {
			t.Fatalf("list %s: %v", res.body, err)
		}
		if !reflect.DeepEqual(got.Buckets, buckets) {
			t.Errorf("list %v, want %v", got.Buckets, buckets)
		}
	}
}

// TestCLI runs `caddy s3-cors` subcommands of the built binary against the
// running instance (put, get, list, explain, delete) and locally
// (validate).
func TestCLI(t *testing.T) {
	t.Parallel()
	c := testenv.StartCaddy(t, globalOptions("sync_interval 1s")+preflightSite, testenv.CaddyOptions{Ports: 1})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"CORSRules":[{"ID":"web","AllowedOrigins":["https://cli.example"],"AllowedMethods":["GET","HEAD"],"ExposeHeaders":["ETag"]}]}`)
	goodXML := write("good.xml", `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`)
	bad := write("bad.json", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"ExposeHeaders":["x-amz-meta-*"]}]}`)
	addr := "--address=" + c.Admin

	steps := []struct {
		name    string
		stdin   string
		args    []string
		fail    bool
		outHas  []string // substrings of the combined output
		outNot  []string
		preflit int // when set, the status of a preflight from https://cli.example afterwards
	}{
		{name: "validate good", args: []string{"validate", good, "--json"}, outHas: []string{`"AllowedOrigins"`, "https://cli.example"}},
		{name: "validate bad", args: []string{"validate", bad}, fail: true,
			outHas: []string{"InvalidRequest:", `ExposeHeader "x-amz-meta-*" contains wildcard`, "HTTP status: 400"}},
		{name: "validate stdin", stdin: "<CORSConfiguration/>", args: []string{"validate", "-"}, fail: true, outHas: []string{"MalformedXML"}},
		{name: "get before put", args: []string{"get", "cli-bucket", addr}, fail: true, outHas: []string{"NoSuchCORSConfiguration"}},
		{name: "put bad", args: []string{"put", "cli-bucket", bad, addr}, fail: true, outHas: []string{"InvalidRequest"}, preflit: 403},
		{name: "put JSON", args: []string{"put", "cli-bucket", good, addr}, preflit: 200},
		{name: "put XML from stdin", stdin: "<CORSConfiguration><CORSRule><AllowedOrigin>https://cli.example</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>",
			args: []string{"put", "stdin-bucket", "-", addr}},
		{name: "put XML file", args: []string{"put", "xml-bucket", goodXML, addr}},
		{name: "get", args: []string{"get", "cli-bucket", addr}, outHas: []string{"<AllowedOrigin>https://cli.example</AllowedOrigin>", "<ID>web</ID>"}},
		{name: "get JSON", args: []string{"get", "cli-bucket", "--json", addr}, outHas: []string{`"ExposeHeaders"`}},
		{name: "list", args: []string{"list", addr}, outHas: []string{"cli-bucket\nstdin-bucket\nxml-bucket\n"}},
		{name: "explain allowed", args: []string{"explain", "--bucket", "cli-bucket", "--origin", "https://cli.example",
			"--request-method", "GET", "--path", "a.txt", addr}, outHas: []string{"preflight request: ALLOWED", "Access-Control-Allow-Methods: GET, HEAD"}},
		{name: "explain denied", args: []string{"explain", "--bucket", "cli-bucket", "--origin", "https://cli.example",
			"--request-method", "PUT", addr, "--json"}, outHas: []string{`"denied"`}},
		{name: "explain local", args: []string{"explain", "--config", good, "--origin", "https://other.example", "--method", "GET"},
			outHas: []string{"actual request: DENIED", `origin "https://other.example" matches none`}},
		{name: "delete", args: []string{"delete", "cli-bucket", addr}, preflit: 403},
		{name: "delete again", args: []string{"delete", "cli-bucket", addr}},
		{name: "list after delete", args: []string{"list", addr}, outHas: []string{"stdin-bucket\nxml-bucket\n"}, outNot: []string{"cli-bucket"}},
		{name: "invalid bucket", args: []string{"get", "Bad_Bucket", addr}, fail: true, outHas: []string{"InvalidBucketName"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, err := c.Run(st.stdin, append([]string{"s3-cors"}, st.args...)...)
			if (err != nil) != st.fail {
				t.Fatalf("caddy s3-cors %s: error %v, want failure %v\n%s", strings.Join(st.args, " "), err, st.fail, out)
			}
			for _, s := range st.outHas {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range st.outNot {
				if strings.Contains(out, s) {
					t.Errorf("output has %q:\n%s", s, out)
				}
			}
			if st.preflit != 0 {
				if res := preflight(t, c.URL(0), "/cli-bucket/a.txt", "https://cli.example", "GET", ""); res.status != st.preflit {
					t.Errorf("preflight afterwards: %d, want %d: %s", res.status, st.preflit, res.body)
				}
			}
		})
	}
	if t.Failed() {
		return
	}
	// What the CLI put from stdin is what the admin API serves.
	wantConfig(t, adminOf(t, c), "stdin-bucket", `{"CORSRules":[{"AllowedOrigins":["https://cli.example"],"AllowedMethods":["PUT"]}]}`)
}
