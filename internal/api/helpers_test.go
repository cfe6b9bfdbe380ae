package api

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// memConfigs is an in-memory Configs that counts its calls and can be
// made to fail its writes, as a storage failure would.
type memConfigs struct {
	mu       sync.Mutex
	configs  map[string]*s3cors.Configuration
	calls    int
	sources  []string
	failSet  error
	failDel  error
	lastSeen string
}

func newMem(t testing.TB, buckets map[string]string) *memConfigs {
	t.Helper()
	m := &memConfigs{configs: map[string]*s3cors.Configuration{}}
	for b, doc := range buckets {
		m.configs[b] = mustConfig(t, doc)
	}
	return m
}

func (m *memConfigs) Configuration(bucket string) (*s3cors.Configuration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.lastSeen = bucket
	c, ok := m.configs[bucket]
	return c, ok
}

func (m *memConfigs) SetConfiguration(_ context.Context, bucket string, cfg *s3cors.Configuration, source string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.lastSeen = bucket
	if m.failSet != nil {
		return m.failSet
	}
	if cfg == nil {
		return errors.New("mem: no configuration")
	}
	m.configs[bucket] = cfg
	m.sources = append(m.sources, source)
	return nil
}

func (m *memConfigs) DeleteConfiguration(_ context.Context, bucket, source string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.lastSeen = bucket
	if m.failDel != nil {
		return m.failDel
	}
	delete(m.configs, bucket)
	m.sources = append(m.sources, source)
	return nil
}

func (m *memConfigs) Buckets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	var out []string
	for b := range m.configs {
		out = append(out, b)
	}
	return out
}

// get returns the stored configuration of bucket without counting a call.
func (m *memConfigs) get(bucket string) (*s3cors.Configuration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.configs[bucket]
	return c, ok
}

func (m *memConfigs) callCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

func mustConfig(t testing.TB, doc string) *s3cors.Configuration {
	t.Helper()
	var (
		cfg *s3cors.Configuration
		err error
	)
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		cfg, err = s3cors.ParseJSON([]byte(doc))
	} else {
		cfg, err = s3cors.ParseXML([]byte(doc))
	}
	if err != nil {
		t.Fatalf("configuration %s: %v", doc, err)
	}
	return cfg
}

// Configurations used across the tests.
const (
	photosJSON = `{"CORSRules":[{"ID":"app","AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET","PUT"],"AllowedHeaders":["content-type"],"MaxAgeSeconds":600}]}`
	otherXML   = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	owner      = "111122223333"
)

// checkHeaders checks that h holds each of want once, with its value.
func checkHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for name, value := range want {
		if got := h.Values(name); len(got) != 1 || got[0] != value {
			t.Errorf("header %s = %q, want %q", name, got, value)
		}
	}
}

// checkStored checks that bucket holds the configuration doc, or none
// when doc is "-".
func checkStored(t *testing.T, m *memConfigs, bucket, doc string) {
	t.Helper()
	got, ok := m.get(bucket)
	switch {
	case doc == "-" && ok:
		t.Errorf("%s still configured: %s", bucket, got.XML())
	case doc != "-" && (!ok || !got.Equal(mustConfig(t, doc))):
		t.Errorf("%s holds %v %s, want %s", bucket, ok, got.XML(), doc)
	}
}

// md5Base64 is the Content-MD5 value of body.
func md5Base64(body string) string {
	sum := md5.Sum([]byte(body))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// newRequest builds a request with headers given as name, value pairs.
func newRequest(method, target, body string, kv ...string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	return req
}

// checkError checks that rec is the S3 error document code with status,
// the given extra elements, and ids equal to the response headers.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string, fields map[string]string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type %q, want application/xml", ct)
	}
	doc := conformance.ParseErrorDoc(t, rec.Body.Bytes())
	if doc.Code != code {
		t.Errorf("code %q (%q), want %q", doc.Code, doc.Message, code)
	}
	for name, want := range fields {
		if got, ok := doc.Fields[name]; !ok || got != want {
			t.Errorf("element %s = %q (present %v), want %q", name, got, ok, want)
		}
	}
	checkIDs(t, rec.Header())
	if doc.Fields["RequestId"] != rec.Header().Get("X-Amz-Request-Id") || doc.Fields["HostId"] != rec.Header().Get("X-Amz-Id-2") {
		t.Errorf("document ids %q %q differ from headers %v", doc.Fields["RequestId"], doc.Fields["HostId"], rec.Header())
	}
}

// checkIDs checks that a response carries S3's request ids.
func checkIDs(t *testing.T, h http.Header) {
	t.Helper()
	if len(h.Get("X-Amz-Request-Id")) != 16 || h.Get("X-Amz-Id-2") == "" {
		t.Errorf("request ids missing: x-amz-request-id %q, x-amz-id-2 %q", h.Get("X-Amz-Request-Id"), h.Get("X-Amz-Id-2"))
	}
}

// decodeJSONAnswer checks that rec is a 200 JSON answer with S3's request
// ids, and decodes its body into v.
func decodeJSONAnswer(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	checkIDs(t, rec.Header())
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatal(err)
	}
}

// errLog collects the errors a handler reports.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) log(_ *http.Request, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
