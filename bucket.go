package caddys3cors

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Bucket resolution modes of Source.Bucket.
const (
	bucketPath = "path"
	bucketHost = "host"
)

// Source says how a request names its bucket and where that bucket's CORS
// configuration comes from. The handler and the matcher share it, so both
// see a request the same way.
//
// A bucket's configuration is, in this order: the one set at run time
// (the s3_cors app: admin API, S3 API, storage), the static one in
// `buckets` or `bucket_files`, the `default` one, or none.
type Source struct {
	// Bucket says where a request names its bucket:
	//
	// - `path` (the default): path style, the first path segment is the
	//   bucket and whatever follows it the object key;
	// - `host`: virtual-hosted style, the labels left of one of
	//   `base_domains` are the bucket (`photos.s3.example.com` with base
	//   domain `s3.example.com` is bucket `photos`) and a non-empty path
	//   after `/` is an object key. A host equal to a base domain is the
	//   service endpoint, addressed path style, as S3 does; a host under no
	//   base domain, or with an upper-case letter or a trailing dot, or
	//   that two base domains read differently (`s3.example.com` with
	//   base domains `s3.example.com` and `example.com`), or whose bucket
	//   would be `minio` (MinIO in Kubernetes serves `minio.<domain>` path
	//   style), addresses no bucket: stores read those in different ways;
	// - anything else is a placeholder expression, such as
	//   `{http.request.header.X-Bucket}`, whose value is the bucket; the
	//   request addresses an object when its path is not `/`.
	//
	// A path-style request addresses no bucket when its first segment is
	// empty (`//photos/k`) or percent-encoded (`/photos%2Fk`), or when a
	// segment is `.` or `..`: stores read such paths in different ways.
	//
	// A request that addresses no bucket gets none of the store's CORS
	// headers and no rule's; its preflight is refused as one to a bucket
	// that does not exist (403 AccessForbidden, "CORSResponse: Bucket not
	// found").
	Bucket string `json:"bucket,omitempty"`

	// BaseDomains are the domains under which buckets are addressed when
	// Bucket is `host`, such as `s3.example.com`. A label `*` matches any
	// one label: with `*.example.org`, `photos.eu.example.org` is bucket
	// `photos`. Compared without the port, with hosts in lower case.
	BaseDomains []string `json:"base_domains,omitempty"`

	// Default is the CORS configuration of buckets that have none, in the
	// aws cli JSON shape `{"CORSRules": [...]}`.
	Default json.RawMessage `json:"default,omitempty"`

	// DefaultFile is a file holding the default configuration, as
	// PutBucketCors XML or in the aws cli JSON shape. Exclusive with
	// Default.
	DefaultFile string `json:"default_file,omitempty"`

	// Buckets are static configurations, by bucket name, in the aws cli
	// JSON shape `{"CORSRules": [...]}`. A configuration set at run time
	// for the same bucket takes precedence.
	Buckets map[string]json.RawMessage `json:"buckets,omitempty"`

	// BucketFiles are static configurations read from files, by bucket
	// name, as PutBucketCors XML or in the aws cli JSON shape. A bucket
	// cannot be in both Buckets and BucketFiles.
	BucketFiles map[string]string `json:"bucket_files,omitempty"`

	app    *App
	static map[string]bucketEntry
	def    *s3cors.Policy
}

// provision resolves the app and compiles every static configuration;
// an invalid one fails with S3's error text.
func (s *Source) provision(ctx caddy.Context) error {
	appIface, err := ctx.App("s3_cors")
	if err != nil {
		return fmt.Errorf("getting s3_cors app: %v", err)
	}
	s.app = appIface.(*App)
	if err := s.compile(); err != nil {
		return err
	}
	s.app.statics.add(s)
	return nil
}

// compile compiles the default and the static configurations.
func (s *Source) compile() error {
	switch {
	case len(s.Default) > 0 && s.DefaultFile != "":
		return fmt.Errorf("default and default_file are exclusive")
	case len(s.Default) > 0:
		cfg, err := s3cors.ParseJSON(s.Default)
		if err != nil {
			return fmt.Errorf("default configuration: %s", s3Text(err))
		}
		s.def = s3cors.Compile(cfg)
	case s.DefaultFile != "":
		cfg, err := readConfigFile(s.DefaultFile)
		if err != nil {
			return fmt.Errorf("default_file: %v", err)
		}
		s.def = s3cors.Compile(cfg)
	}

	s.static = make(map[string]bucketEntry, len(s.Buckets)+len(s.BucketFiles))
	for bucket, raw := range s.Buckets {
		if bucket == "" {
			return fmt.Errorf("buckets: empty bucket name")
		}
		cfg, err := s3cors.ParseJSON(raw)
		if err != nil {
			return fmt.Errorf("configuration of bucket %s: %s", bucket, s3Text(err))
		}
		s.static[bucket] = newEntry(bucket, s3cors.Compile(cfg))
	}
	for bucket, file := range s.BucketFiles {
		if bucket == "" {
			return fmt.Errorf("bucket_files: empty bucket name")
		}
		if _, dup := s.static[bucket]; dup {
			return fmt.Errorf("bucket %s is in both buckets and bucket_files", bucket)
		}
		cfg, err := readConfigFile(file)
		if err != nil {
			return fmt.Errorf("configuration file of bucket %s: %v", bucket, err)
		}
		s.static[bucket] = newEntry(bucket, s3cors.Compile(cfg))
	}
	return nil
}

// validate checks the resolution settings.
func (s *Source) validate() error {
	switch s.Bucket {
	case "", bucketPath:
		if len(s.BaseDomains) > 0 {
			return fmt.Errorf("base_domains need bucket resolution %q", bucketHost)
		}
	case bucketHost:
		if len(s.BaseDomains) == 0 {
			return fmt.Errorf("bucket resolution %q needs at least one base domain", bucketHost)
		}
		for _, d := range s.BaseDomains {
			if err := checkBaseDomain(d); err != nil {
				return err
			}
		}
	default:
		if len(s.BaseDomains) > 0 {
			return fmt.Errorf("base_domains need bucket resolution %q", bucketHost)
		}
		if !strings.Contains(s.Bucket, "{") {
			return fmt.Errorf("bucket resolution %q is not %q, %q or a placeholder expression", s.Bucket, bucketPath, bucketHost)
		}
	}
	return nil
}

func checkBaseDomain(d string) error {
	if d == "" || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") || strings.Contains(d, ":") {
		return fmt.Errorf("base domain %q is not a domain name", d)
	}
	for label := range strings.SplitSeq(d, ".") {
		if strings.Contains(label, "*") && label != "*" {
			return fmt.Errorf("base domain %q: a wildcard must be a whole label", d)
		}
	}
	return nil
}

// resolve returns the bucket a request addresses and whether it addresses
// an object in it. It returns "" when the request names no bucket, and
// when the store might read the request as naming another bucket than the
// module would: the module then adds no rule's headers (see
// s3cors.SplitURL for paths, hostname for hosts). repl may be nil outside
// Caddy's HTTP server, where placeholder expressions resolve to no bucket.
func (s *Source) resolve(r *http.Request, repl *caddy.Replacer) (bucket string, object bool) {
	switch {
	case s.pathStyle():
		return s3cors.SplitURL(r.URL)
	case s.Bucket == bucketHost:
		host, ok := hostname(r.Host)
		if !ok {
			return "", false
		}
		matched, prefix := false, ""
		for _, base := range s.BaseDomains {
			p, ok := underDomain(host, base)
			if !ok {
				continue
			}
			if matched && p != prefix {
				// Base domains one under another read this host two
				// ways (s3.example.com is the endpoint of one and
				// bucket s3 of example.com), and stores pick one in
				// their own order: MinIO sorts its domains by name.
				return "", false
			}
			matched, prefix = true, p
		}
		switch {
		case !matched, prefix == minioEndpointLabel:
			return "", false
		case prefix == "":
			return s3cors.SplitURL(r.URL) // the service endpoint: path style
		}
		return prefix, hasKey(r.URL.Path)
	default:
		if repl == nil {
			return "", false
		}
		return repl.ReplaceAll(s.Bucket, ""), hasKey(r.URL.Path)
	}
}

// minioEndpointLabel is the one label left of a base domain that MinIO,
// in a Kubernetes pod, serves path style, as an endpoint, instead of as a
// bucket (cmd/api-router.go: `minio.<domain>` is "ignored by the bucketDNS
// style"); elsewhere it is bucket minio, which MinIO reserves. Either
// reading may be the store's, so such a host addresses no bucket.
const minioEndpointLabel = "minio"

// pathStyle reports whether buckets are named by the first path segment.
func (s *Source) pathStyle() bool { return s.Bucket == "" || s.Bucket == bucketPath }

// lookup finds the policy of bucket (nil: none) and the bucket's name as
// the placeholder value.
func (s *Source) lookup(bucket string) (*s3cors.Policy, bucketName) {
	if s.app != nil {
		if e, ok := s.app.lookup(bucket); ok {
			return e.policy, e.name
		}
	}
	if e, ok := s.static[bucket]; ok {
		return e.policy, e.name
	}
	return s.def, bucketName{bucket}
}

// hasKey reports whether a virtual-hosted path names an object.
func hasKey(path string) bool {
	return len(path) > 1 || len(path) == 1 && path[0] != '/'
}

// hostname returns the host of a Host header without its port, and false
// when the host is not in the one form that every store reads alike:
// lower case, without a trailing dot. Stores differ on the others (MinIO
// matches its domain case-sensitively and takes no trailing dot:
// `photos.s3.test.` is path style to it, `PHOTOS.s3.test` is bucket
// `PHOTOS`), so the module attributes such a host to no bucket rather
// than guess. Browsers lower-case host names themselves.
func hostname(host string) (string, bool) {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	if strings.HasSuffix(host, ".") {
		return "", false
	}
	for i := range len(host) {
		if c := host[i]; 'A' <= c && c <= 'Z' {
			return "", false
		}
	}
	return host, true
}

// underDomain matches host against base, label by label from the right
// (a `*` label of base matches any one label). It returns the labels of
// host left of base ("" when host is base itself) and whether host is
// base or under it.
func underDomain(host, base string) (prefix string, ok bool) {
	h, b := host, base
	for b != "" {
		bi := strings.LastIndexByte(b, '.')
		blabel := b[bi+1:]
		hi := strings.LastIndexByte(h, '.')
		hlabel := h[hi+1:]
		if hlabel == "" || blabel != "*" && !strings.EqualFold(blabel, hlabel) {
			return "", false
		}
		if bi < 0 {
			b = ""
		} else {
			b = b[:bi]
		}
		if hi < 0 {
			if b != "" {
				return "", false
			}
			return "", true
		}
		h = h[:hi]
	}
	if h == "" {
		return "", false // host ended with ".base"
	}
	return h, true
}

// readConfigFile reads a CORS configuration file in either shape that
// s3cors.Parse tells apart: the aws cli JSON or PutBucketCors XML.
func readConfigFile(name string) (*s3cors.Configuration, error) {
	body, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	cfg, err := s3cors.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", name, s3Text(err))
	}
	return cfg, nil
}

// s3Text is an engine error as S3 names it, "Code: Message", without the
// "s3cors: " of its Error: behind "s3_cors: ..." in a provisioning or
// Caddyfile error the code and message are said once.
func s3Text(err error) string {
	var s3err *s3cors.Error
	if errors.As(err, &s3err) {
		return s3err.Code + ": " + s3err.Message
	}
	return err.Error()
}
