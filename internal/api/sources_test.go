package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// staticMem is a memConfigs that also knows handlers' static sets, as the
// Caddy app does.
type staticMem struct {
	*memConfigs
	sets []StaticSet
}

func (s *staticMem) StaticSets() []StaticSet { return s.sets }

const (
	staticJSON  = `{"CORSRules":[{"ID":"assets","AllowedOrigins":["https://www.example.com"],"AllowedMethods":["GET","HEAD"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":600}]}`
	defaultJSON = `{"CORSRules":[{"AllowedOrigins":["https://any.example.com"],"AllowedMethods":["GET"]}]}`
	hostileName = `<img src=x onerror=alert(1)>`
)

// newStaticAdmin serves run-time configurations photos and shadowed, and
// two handlers: 0 with static assets, shadowed and a hostile name and a
// default, 1 with a static only-one.
func newStaticAdmin(t *testing.T) (*Admin, *staticMem) {
	t.Helper()
	m := &staticMem{memConfigs: newMem(t, map[string]string{"photos": photosJSON, "shadowed": otherXML})}
	m.sets = []StaticSet{
		{Buckets: map[string]*s3cors.Configuration{
			"assets":    mustConfig(t, staticJSON),
			"shadowed":  mustConfig(t, staticJSON),
			hostileName: mustConfig(t, staticJSON),
		}, Default: mustConfig(t, defaultJSON)},
		{Buckets: map[string]*s3cors.Configuration{"only-one": mustConfig(t, staticJSON)}},
	}
	return &Admin{Lookup: func() Configs { return m }}, m
}

func TestAdminSourceList(t *testing.T) {
	a, _ := newStaticAdmin(t)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, newRequest("GET", "/s3_cors/sources", ""))
	var got SourceList
	decodeJSONAnswer(t, rec, &got)
	want := []BucketSource{
		{Bucket: hostileName, Source: SourceStatic, Rules: 1},
		{Bucket: "assets", Source: SourceStatic, Rules: 1},
		{Bucket: "only-one", Source: SourceStatic, Rules: 1},
		{Bucket: "photos", Source: SourceRuntime, Rules: 1},
		{Bucket: "shadowed", Source: SourceRuntime, Rules: 1, Overrides: true},
	}
	if !reflect.DeepEqual(got.Buckets, want) {
		t.Errorf("buckets\n got %+v\nwant %+v", got.Buckets, want)
	}
	if got.Handlers != 2 || len(got.Defaults) != 1 || *got.Defaults[0].Handler != 0 || got.Defaults[0].Source != SourceDefault {
		t.Errorf("handlers %d, defaults %+v", got.Handlers, got.Defaults)
	}
	if cfg, err := s3cors.ParseJSON(got.Defaults[0].Configuration); err != nil || !cfg.Equal(mustConfig(t, defaultJSON)) {
		t.Errorf("default configuration %s: %v", got.Defaults[0].Configuration, err)
	}
}

func TestAdminSourceListRuntimeOnly(t *testing.T) {
	m := newMem(t, map[string]string{"photos": photosJSON})
	rec := httptest.NewRecorder()
	newAdmin(m, nil).ServeHTTP(rec, newRequest("GET", "/s3_cors/sources/", ""))
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	const want = `{"buckets":[{"bucket":"photos","source":"runtime","rules":1}],"defaults":[],"handlers":0}` + "\n"
	if rec.Body.String() != want {
		t.Errorf("got  %s\nwant %s", rec.Body, want)
	}
}

func TestAdminBucketSources(t *testing.T) {
	zero, one := 0, 1
	type layer struct {
		source  string
		handler *int
		active  bool
		doc     string
	}
	tests := []struct {
		name   string
		bucket string
		status int
		code   string
		source string
		want   []layer
	}{
		{name: "run time", bucket: "photos", status: 200, source: SourceRuntime, want: []layer{
			{SourceRuntime, nil, true, photosJSON}, {SourceDefault, &zero, false, defaultJSON}}},
		{name: "run time over static", bucket: "shadowed", status: 200, source: SourceRuntime, want: []layer{
			{SourceRuntime, nil, true, otherXML}, {SourceStatic, &zero, false, staticJSON}, {SourceDefault, &zero, false, defaultJSON}}},
		{name: "static", bucket: "assets", status: 200, source: SourceStatic, want: []layer{
			{SourceStatic, &zero, true, staticJSON}, {SourceDefault, &zero, false, defaultJSON}}},
		{name: "static on the second handler", bucket: "only-one", status: 200, source: SourceDefault, want: []layer{
			{SourceDefault, &zero, true, defaultJSON}, {SourceStatic, &one, true, staticJSON}}},
		{name: "default", bucket: "nothing-here", status: 200, source: SourceDefault, want: []layer{
			{SourceDefault, &zero, true, defaultJSON}}},
		{name: "static name that is no S3 name", bucket: hostileName, status: 200, source: SourceStatic, want: []layer{
			{SourceStatic, &zero, true, staticJSON}, {SourceDefault, &zero, false, defaultJSON}}},
		{name: "invalid name", bucket: "..%2F..%2Fx", status: 400, code: "InvalidBucketName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, m := newStaticAdmin(t)
			before := m.callCount()
			rec := httptest.NewRecorder()
			req := newRequest("GET", "/s3_cors/sources/x", "")
			req.URL.Path = "/s3_cors/sources/" + tt.bucket // as Go's router hands it over, decoded
			if tt.bucket == "..%2F..%2Fx" {
				req.URL.Path = "/s3_cors/sources/../../x"
			}
			a.ServeHTTP(rec, req)
			if tt.code != "" {
				checkError(t, rec, tt.status, tt.code, nil)
				if m.lastSeen != "" && m.callCount() != before {
					t.Errorf("an invalid name reached Configs: %q", m.lastSeen)
				}
				return
			}
			if rec.Code != tt.status {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			var got BucketSources
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Bucket != tt.bucket || got.Source != tt.source || len(got.Configurations) != len(tt.want) {
				t.Fatalf("got %+v", got)
			}
			for i, w := range tt.want {
				g := got.Configurations[i]
				if g.Source != w.source || !reflect.DeepEqual(g.Handler, w.handler) || g.Active != w.active {
					t.Errorf("configuration %d: %s handler %v active %v, want %s %v %v", i, g.Source, g.Handler, g.Active, w.source, w.handler, w.active)
				}
				cfg, err := s3cors.ParseJSON(g.Configuration)
				if err != nil || !cfg.Equal(mustConfig(t, w.doc)) {
					t.Errorf("configuration %d: %s: %v", i, g.Configuration, err)
				}
				if x, err := s3cors.ParseXML([]byte(g.XML)); err != nil || !x.Equal(cfg) {
					t.Errorf("configuration %d XML %s: %v", i, g.XML, err)
				}
			}
		})
	}
	t.Run("a hostile name never reaches Configs", func(t *testing.T) {
		a, m := newStaticAdmin(t)
		a.ServeHTTP(httptest.NewRecorder(), newRequest("GET", "/s3_cors/sources/x", ""))
		m.lastSeen = ""
		req := newRequest("GET", "/s3_cors/sources/x", "")
		req.URL.Path = "/s3_cors/sources/" + hostileName
		a.ServeHTTP(httptest.NewRecorder(), req)
		if m.lastSeen != "" {
			t.Errorf("Configs saw %q", m.lastSeen)
		}
	})
}

func TestAdminSourcesMethods(t *testing.T) {
	a, _ := newStaticAdmin(t)
	for _, path := range []string{"/s3_cors/sources", "/s3_cors/sources/photos"} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, newRequest("POST", path, "{}"))
		checkError(t, rec, http.StatusMethodNotAllowed, "MethodNotAllowed", nil)
		if rec.Header().Get("Allow") != "GET" {
			t.Errorf("%s: Allow %q", path, rec.Header().Get("Allow"))
		}
	}
	rec := httptest.NewRecorder()
	(&Admin{Lookup: func() Configs { return nil }}).ServeHTTP(rec, newRequest("GET", "/s3_cors/sources", ""))
	checkError(t, rec, http.StatusServiceUnavailable, "ServiceUnavailable", nil)
}

// TestAdminExplainStatic: the explain route decides with what a handler
// would use: the run-time configuration, else the handler's static one,
// else its default.
func TestAdminExplainStatic(t *testing.T) {
	tests := []struct {
		name, body, result, source string
	}{
		{"run time", `{"bucket":"photos","method":"GET","origin":"https://app.example.com"}`, "allowed", SourceRuntime},
		{"static", `{"bucket":"assets","method":"GET","origin":"https://www.example.com"}`, "allowed", SourceStatic},
		{"run time hides static", `{"bucket":"shadowed","method":"GET","origin":"https://www.example.com"}`, "allowed", SourceRuntime},
		{"default", `{"bucket":"elsewhere","method":"GET","origin":"https://any.example.com"}`, "allowed", SourceDefault},
		{"default refuses", `{"bucket":"elsewhere","method":"OPTIONS","origin":"https://www.example.com","headers":{"Access-Control-Request-Method":"GET"}}`, "denied", SourceDefault},
		{"second handler's static", `{"bucket":"only-one","handler":1,"method":"GET","origin":"https://www.example.com"}`, "allowed", SourceStatic},
		{"second handler has no default", `{"bucket":"elsewhere","handler":1,"method":"GET","origin":"https://any.example.com"}`, "not_configured", SourceNone},
		{"inline", `{"configuration":` + `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}` + `,"method":"GET","origin":"https://x.example"}`, "allowed", "inline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newStaticAdmin(t)
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, newRequest("POST", "/s3_cors/explain", tt.body, "Content-Type", "application/json"))
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			var got struct {
				Result string `json:"result"`
				Source string `json:"source"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Result != tt.result || got.Source != tt.source {
				t.Errorf("result %q source %q, want %q %q: %s", got.Result, got.Source, tt.result, tt.source, rec.Body)
			}
		})
	}
}

// TestAdminUnreadableConfiguration checks how the admin routes show a
// bucket whose stored configuration this node cannot read (Configs gives
// nil and true): a configuration that refuses every request, not none,
// so that neither its bucket_config nor the default is shown as applying.
func TestAdminUnreadableConfiguration(t *testing.T) {
	a, m := newStaticAdmin(t)
	m.configs["assets"] = nil // static too, and handler 0 has a default

	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, newRequest("GET", "/s3_cors/sources", ""))
	var list SourceList
	decodeJSONAnswer(t, rec, &list)
	if i := slices.IndexFunc(list.Buckets, func(b BucketSource) bool { return b.Bucket == "assets" }); i < 0 ||
		list.Buckets[i] != (BucketSource{Bucket: "assets", Source: SourceUnreadable, Overrides: true}) {
		t.Errorf("sources list %+v, want assets unreadable, overriding its bucket_config", list.Buckets)
	}

	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, newRequest("GET", "/s3_cors/sources/assets", ""))
	var one BucketSources
	decodeJSONAnswer(t, rec, &one)
	if one.Source != SourceUnreadable {
		t.Errorf("bucket source %q, want %q", one.Source, SourceUnreadable)
	}
	for _, c := range one.Configurations {
		if c.Active {
			t.Errorf("%s configuration shown as applying", c.Source)
		}
	}

	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, newRequest("GET", "/s3_cors/buckets/assets", ""))
	checkError(t, rec, http.StatusInternalServerError, "InternalError", nil)

	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, newRequest("POST", "/s3_cors/explain",
		`{"bucket":"assets","method":"GET","origin":"https://any.example.com"}`, "Content-Type", "application/json"))
	var e struct{ Result, Source string }
	decodeJSONAnswer(t, rec, &e)
	if e.Result != "denied" || e.Source != SourceUnreadable {
		t.Errorf("explained %+v, want denied by the unreadable configuration", e)
	}
}

// TestAdminExplainHandlerRange: a handler index outside what GET
// /s3_cors/sources counts is refused, never explained as not configured.
func TestAdminExplainHandlerRange(t *testing.T) {
	const explainOn = `"method":"GET","origin":"https://any.example.com"}`
	tests := []struct {
		name     string
		handlers int // static sets: 2 from newStaticAdmin, or none
		body     string
		message  string // "" for an explanation
	}{
		{name: "last handler", handlers: 2, body: `{"bucket":"elsewhere","handler":1,` + explainOn},
		{name: "one past the last", handlers: 2, body: `{"bucket":"elsewhere","handler":2,` + explainOn,
			message: "The explain request's handler 2 is out of range: GET /s3_cors/sources counts 2 handlers, numbered 0 to 1."},
		{name: "far past the last", handlers: 2, body: `{"bucket":"elsewhere","handler":7,` + explainOn,
			message: "The explain request's handler 7 is out of range: GET /s3_cors/sources counts 2 handlers, numbered 0 to 1."},
		{name: "negative", handlers: 2, body: `{"bucket":"elsewhere","handler":-1,` + explainOn,
			message: "The explain request's handler -1 is out of range: GET /s3_cors/sources counts 2 handlers, numbered 0 to 1."},
		{name: "run-time only, handler 0", handlers: 0, body: `{"bucket":"photos","handler":0,` + explainOn},
		{name: "run-time only, handler 1", handlers: 0, body: `{"bucket":"photos","handler":1,` + explainOn,
			message: "The explain request's handler 1 is out of range: GET /s3_cors/sources counts 0 handlers, so only handler 0 (run-time configurations) applies."},
		{name: "negative with an inline configuration", handlers: 2,
			body:    `{"configuration":{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]},"handler":-1,` + explainOn,
			message: "The explain request's handler -1 is out of range: handlers are numbered from 0."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, m := newStaticAdmin(t)
			if tt.handlers == 0 {
				m.sets = nil
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, newRequest("POST", "/s3_cors/explain", tt.body, "Content-Type", "application/json"))
			if tt.message == "" {
				if rec.Code != 200 {
					t.Fatalf("%d %s", rec.Code, rec.Body)
				}
				return
			}
			checkError(t, rec, http.StatusBadRequest, "InvalidArgument",
				map[string]string{"ArgumentName": "handler"})
			if doc := conformance.ParseErrorDoc(t, rec.Body.Bytes()); doc.Message != tt.message {
				t.Errorf("message %q\nwant    %q", doc.Message, tt.message)
			}
		})
	}
}
