package caddys3cors

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

func TestResolve(t *testing.T) {
	hostSource := Source{Bucket: bucketHost, BaseDomains: []string{"s3.example.com", "*.example.org"}}
	nestedSource := Source{Bucket: bucketHost, BaseDomains: []string{"s3.example.com", "example.com", "other.org"}}
	for _, tc := range []struct {
		name       string
		source     Source
		host, path string
		header     string // X-Bucket
		bucket     string
		object     bool
	}{
		{name: "path default root", path: "/", bucket: ""},
		{name: "path bucket", path: "/photos", bucket: "photos"},
		{name: "path bucket slash", path: "/photos/", bucket: "photos"},
		{name: "path object", path: "/photos/a/b.jpg", bucket: "photos", object: true},
		{name: "path double slash", path: "//photos/a", bucket: ""},
		{name: "path encoded slash", path: "/%2Fphotos/a", bucket: ""},
		{name: "path encoded bucket", path: "/photos%2Fa", bucket: ""},
		{name: "path dot-dot", path: "/photos/../private/a", bucket: ""},
		{name: "path explicit", source: Source{Bucket: bucketPath}, path: "/docs/x", bucket: "docs", object: true},
		{name: "host bucket", source: hostSource, host: "photos.s3.example.com", path: "/", bucket: "photos"},
		{name: "host bucket with port", source: hostSource, host: "photos.s3.example.com:8443", path: "/", bucket: "photos"},
		{name: "host object", source: hostSource, host: "photos.s3.example.com", path: "/key.txt", bucket: "photos", object: true},
		{name: "host dotted bucket", source: hostSource, host: "my.photos.s3.example.com", path: "/k", bucket: "my.photos", object: true},
		// MinIO serves these path style or as another bucket: no bucket.
		{name: "host upper case", source: hostSource, host: "Photos.S3.Example.COM", path: "/", bucket: ""},
		{name: "host upper-case bucket", source: hostSource, host: "PHOTOS.s3.example.com", path: "/k", bucket: ""},
		{name: "host upper-case base", source: hostSource, host: "photos.S3.example.com", path: "/k", bucket: ""},
		{name: "host trailing dot", source: hostSource, host: "photos.s3.example.com.", path: "/", bucket: ""},
		{name: "host trailing dot with port", source: hostSource, host: "photos.s3.example.com.:8443", path: "/private/k", bucket: ""},
		{name: "host base trailing dot", source: hostSource, host: "s3.example.com.", path: "/photos/k", bucket: ""},
		{name: "host base double slash", source: hostSource, host: "s3.example.com", path: "//photos/k", bucket: ""},
		{name: "host wildcard base", source: hostSource, host: "photos.eu.example.org", path: "/k", bucket: "photos", object: true},
		{name: "host wildcard base itself is path style", source: hostSource, host: "eu.example.org", path: "/docs/k", bucket: "docs", object: true},
		{name: "host base is path style", source: hostSource, host: "s3.example.com", path: "/docs", bucket: "docs"},
		{name: "host base root is no bucket", source: hostSource, host: "s3.example.com:80", path: "/", bucket: ""},
		{name: "host foreign", source: hostSource, host: "photos.example.net", path: "/k", bucket: ""},
		{name: "host suffix without dot", source: hostSource, host: "photoss3.example.com", path: "/k", bucket: ""},
		{name: "host empty label", source: hostSource, host: ".s3.example.com", path: "/k", bucket: ""},
		{name: "host ipv6", source: hostSource, host: "[::1]:8080", path: "/k", bucket: ""},
		// Base domains one under another read some hosts two ways, and
		// stores pick one in their own order (MinIO sorts its domains by
		// name and accepts such sets of three): no bucket.
		{name: "nested bases, host is the inner base", source: nestedSource, host: "s3.example.com", path: "/photos/k", bucket: ""},
		{name: "nested bases, host under both", source: nestedSource, host: "photos.s3.example.com", path: "/k", bucket: ""},
		{name: "nested bases, host under the outer only", source: nestedSource, host: "photos.example.com", path: "/k", bucket: "photos", object: true},
		{name: "nested bases, other base", source: nestedSource, host: "photos.other.org", path: "/k", bucket: "photos", object: true},
		{name: "wildcard over literal base, same reading", source: Source{Bucket: bucketHost, BaseDomains: []string{"*.example.org", "eu.example.org"}},
			host: "photos.eu.example.org", path: "/k", bucket: "photos", object: true},
		{name: "wildcard base over literal base itself", source: Source{Bucket: bucketHost, BaseDomains: []string{"eu.example.org", "*.example.org", "example.org"}},
			host: "eu.example.org", path: "/photos/k", bucket: ""},
		// MinIO in a Kubernetes pod serves minio.<domain> path style, as
		// its endpoint: GET /photos/k there is bucket photos, not minio.
		{name: "host minio label", source: hostSource, host: "minio.s3.example.com", path: "/photos/k", bucket: ""},
		{name: "host minio label with port", source: hostSource, host: "minio.s3.example.com:8443", path: "/", bucket: ""},
		{name: "host minio label under another", source: hostSource, host: "x.minio.s3.example.com", path: "/k", bucket: "x.minio", object: true},
		{name: "placeholder", source: Source{Bucket: "{http.request.header.X-Bucket}"}, header: "photos", path: "/", bucket: "photos"},
		{name: "placeholder object", source: Source{Bucket: "{http.request.header.X-Bucket}"}, header: "photos", path: "/k", bucket: "photos", object: true},
		{name: "placeholder empty", source: Source{Bucket: "{http.request.header.X-Bucket}"}, path: "/k", bucket: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://localhost"+tc.path, nil)
			if tc.host != "" {
				r.Host = tc.host
			}
			if tc.header != "" {
				r.Header.Set("X-Bucket", tc.header)
			}
			repl := caddy.NewReplacer()
			repl.Map(func(key string) (any, bool) {
				if key == "http.request.header.X-Bucket" {
					return r.Header.Get("X-Bucket"), true
				}
				return nil, false
			})
			bucket, object := tc.source.resolve(r, repl)
			if bucket != tc.bucket || bucket != "" && object != tc.object {
				t.Errorf("resolve = %q, %v; want %q, %v", bucket, object, tc.bucket, tc.object)
			}
		})
	}
}

func TestSourceValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		source Source
		err    string
	}{
		{name: "default"},
		{name: "path", source: Source{Bucket: "path"}},
		{name: "host", source: Source{Bucket: "host", BaseDomains: []string{"s3.example.com", "*.example.org"}}},
		{name: "placeholder", source: Source{Bucket: "{http.request.header.X-Bucket}"}},
		{name: "host without domains", source: Source{Bucket: "host"}, err: "needs at least one base domain"},
		{name: "domains without host", source: Source{BaseDomains: []string{"s3.example.com"}}, err: "base_domains need"},
		{name: "domains with placeholder", source: Source{Bucket: "{x}", BaseDomains: []string{"s3.example.com"}}, err: "base_domains need"},
		{name: "bad domain", source: Source{Bucket: "host", BaseDomains: []string{"s3..example.com"}}, err: "is not a domain name"},
		{name: "domain with port", source: Source{Bucket: "host", BaseDomains: []string{"s3.example.com:443"}}, err: "is not a domain name"},
		{name: "partial wildcard", source: Source{Bucket: "host", BaseDomains: []string{"s3-*.example.com"}}, err: "whole label"},
		{name: "unknown mode", source: Source{Bucket: "vhost"}, err: `bucket resolution "vhost" is not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.source.validate()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("validate = %v, want %q", err, tc.err)
			}
		})
	}
}

const (
	getRuleJSON = `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`
	putRuleJSON = `{"CORSRules":[{"AllowedOrigins":["https://a.example"],"AllowedMethods":["PUT"]}]}`
	putRuleXML  = `<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>`
)

func TestSourceCompile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	xmlFile := write("put.xml", putRuleXML)
	jsonFile := write("get.json", "\n  "+getRuleJSON)
	badFile := write("bad.xml", `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>`)

	for _, tc := range []struct {
		name   string
		source Source
		err    string
		check  map[string]string // bucket → a method its policy allows ("" none)
	}{
		{name: "nothing", check: map[string]string{"any": ""}},
		{name: "inline default", source: Source{Default: json.RawMessage(getRuleJSON)}, check: map[string]string{"any": "GET"}},
		{name: "default file xml", source: Source{DefaultFile: xmlFile}, check: map[string]string{"any": "PUT"}},
		{name: "default file json", source: Source{DefaultFile: jsonFile}, check: map[string]string{"any": "GET"}},
		{name: "static beats default", source: Source{
			Default:     json.RawMessage(getRuleJSON),
			BucketFiles: map[string]string{"up": xmlFile},
		}, check: map[string]string{"up": "PUT", "other": "GET"}},
		{name: "both defaults", source: Source{Default: json.RawMessage(getRuleJSON), DefaultFile: xmlFile}, err: "default and default_file are exclusive"},
		{name: "invalid default", source: Source{Default: json.RawMessage(`{"CORSRules":[]}`)}, err: "default configuration: MalformedXML: "},
		{name: "invalid bucket", source: Source{Buckets: map[string]json.RawMessage{"b": json.RawMessage(`{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["PATCH"]}]}`)}},
			err: "configuration of bucket b: InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH"},
		{name: "invalid file", source: Source{DefaultFile: badFile}, err: "default_file: " + badFile + ": InvalidRequest: "},
		{name: "missing file", source: Source{BucketFiles: map[string]string{"b": filepath.Join(dir, "none.xml")}}, err: "no such file"},
		{name: "bucket twice", source: Source{
			Buckets:     map[string]json.RawMessage{"b": json.RawMessage(getRuleJSON)},
			BucketFiles: map[string]string{"b": xmlFile},
		}, err: "bucket b is in both buckets and bucket_files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.source
			err := s.compile()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("compile = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cors: ") {
					t.Errorf("compile = %q stutters: the S3 code and message carry the engine's prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for bucket, method := range tc.check {
				p, name := s.lookup(bucket)
				if name.String() != bucket {
					t.Errorf("lookup(%s) name %v", bucket, name)
				}
				if (p == nil) != (method == "") {
					t.Fatalf("lookup(%s) = %v, want a policy allowing %q", bucket, p, method)
				}
				if p != nil && p.Configuration().Rules[0].AllowedMethods[0] != method {
					t.Errorf("lookup(%s) allows %v, want %s", bucket, p.Configuration().Rules[0].AllowedMethods, method)
				}
			}
		})
	}
}

func TestLookupOrder(t *testing.T) {
	app := newTestApp(t, t.TempDir())
	s := Source{
		Default: json.RawMessage(getRuleJSON),
		Buckets: map[string]json.RawMessage{"static": json.RawMessage(getRuleJSON), "both": json.RawMessage(getRuleJSON)},
		app:     app,
	}
	if err := s.compile(); err != nil {
		t.Fatal(err)
	}
	put, err := s3cors.ParseXML([]byte(putRuleXML))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"both", "dynamic"} {
		if err := app.SetConfiguration(context.Background(), b, put, "test"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ bucket, method string }{
		{"both", "PUT"},    // app before static
		{"dynamic", "PUT"}, // app
		{"static", "GET"},  // static
		{"other", "GET"},   // default
	} {
		p, _ := s.lookup(tc.bucket)
		if got := p.Configuration().Rules[0].AllowedMethods[0]; got != tc.method {
			t.Errorf("%s: policy allows %s, want %s", tc.bucket, got, tc.method)
		}
	}
}
