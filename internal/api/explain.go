package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// ExplainRequest is the JSON body of POST /s3_cors/explain: a request to
// explain, and the configuration to explain it with, either a bucket's live
// configuration or one given inline.
//
//	{"bucket": "photos", "method": "OPTIONS", "path": "album/cat.jpg",
//	 "origin": "https://app.example.com",
//	 "headers": {"Access-Control-Request-Method": "PUT",
//	             "Access-Control-Request-Headers": "content-type"}}
//
// The answer is the engine's s3cors.Explanation as JSON, or as text with
// Accept: text/plain. A faulty request is 400 InvalidArgument; an inline
// configuration that S3 would refuse gets S3's error for it.
type ExplainRequest struct {
	// Bucket names the bucket whose live configuration decides, when
	// Configuration is not given, as a handler finds it: the one set at
	// run time, else the handler's static one (bucket_config), else its
	// default; a bucket without any explains as not configured. With
	// Configuration it is optional and only checked.
	Bucket string `json:"bucket,omitempty"`
	// Handler picks whose static configurations and default apply when
	// several s3_cors handlers differ: 0 up to one less than the
	// "handlers" of GET /s3_cors/sources, which numbers them the same
	// way; only 0 when it counts none. Another number is 400
	// InvalidArgument, also with Configuration, where it is otherwise
	// unused (then only a negative number is refused). Default: 0, the
	// first.
	Handler int `json:"handler,omitempty"`
	// Configuration is an inline configuration used instead of the
	// bucket's: a JSON string holding the PutBucketCors XML or the aws cli
	// JSON, or that JSON object itself.
	Configuration json.RawMessage `json:"configuration,omitempty"`
	// Method is the request's method: OPTIONS for a preflight, any other
	// for an actual request. Required.
	Method string `json:"method"`
	// Path is the object key, empty (or "/") for the bucket itself.
	Path string `json:"path,omitempty"`
	// Origin is the Origin header; empty leaves it to Headers.
	Origin string `json:"origin,omitempty"`
	// Headers are further request headers, such as
	// Access-Control-Request-Method and Access-Control-Request-Headers.
	Headers map[string]string `json:"headers,omitempty"`
}

func (a *Admin) serveExplain(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readPost(w, r, "explain")
	if !ok {
		return
	}
	var req ExplainRequest
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&req); err != nil {
		s3err.InvalidArgument("The explain request is not valid JSON: " + err.Error()).WriteTo(w)
		return
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		s3err.InvalidArgument("The explain request has data after its JSON object.").WriteTo(w)
		return
	}
	if req.Bucket != "" && !s3cors.ValidBucketName(req.Bucket) {
		s3err.InvalidBucketName(req.Bucket).WriteTo(w)
		return
	}
	probe, err := req.request(r)
	if err != nil {
		writeError(w, r, a.LogError, err)
		return
	}
	var cfg *s3cors.Configuration
	source := "inline"
	switch {
	case len(req.Configuration) > 0 && string(req.Configuration) != "null":
		if req.Handler < 0 { // unused, and no app needed to count handlers
			handlerOutOfRange(req.Handler, "handlers are numbered from 0").WriteTo(w)
			return
		}
		if cfg, err = parseInline(req.Configuration); err != nil {
			writeError(w, r, a.LogError, err)
			return
		}
	case req.Bucket == "":
		s3err.InvalidArgument("The explain request needs a bucket or a configuration.").WriteTo(w)
		return
	default:
		c := a.configs(w)
		if c == nil {
			return
		}
		if n := len(staticSets(c)); req.Handler < 0 || req.Handler >= max(n, 1) {
			handlerOutOfRange(req.Handler, handlersCounted(n)).WriteTo(w)
			return
		}
		cfg, source = effective(c, req.Bucket, req.Handler)
	}
	e := explained{Explanation: s3cors.Compile(cfg).Explain(probe, strings.Trim(req.Path, "/") != ""), Source: source}
	if negotiate(r.Header.Get("Accept"), "application/json", "text/plain") == "text/plain" {
		write(w, http.StatusOK, "text/plain; charset=utf-8", []byte(e.String()+"configuration: "+source+"\n"))
		return
	}
	out, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		writeError(w, r, a.LogError, fmt.Errorf("s3_cors admin: explain: encode explanation: %w", err))
		return
	}
	write(w, http.StatusOK, "application/json", append(out, '\n'))
}

// explained is the answer of the explain route: the engine's explanation,
// and where the configuration that decided came from.
type explained struct {
	*s3cors.Explanation
	// Source is runtime, bucket_config, default or none for a bucket's
	// configuration (unreadable when storage holds one this node cannot
	// read: explained as a configuration without rules, as it is served),
	// inline for one given in the request.
	Source string `json:"source"`
}

// handlerOutOfRange is the error for an explain request's handler index
// that names no handler; why says which indexes there are.
func handlerOutOfRange(h int, why string) *s3err.Error {
	return s3err.InvalidArgument(fmt.Sprintf("The explain request's handler %d is out of range: %s.", h, why),
		s3err.Field{Name: "ArgumentName", Value: "handler"}, s3err.Field{Name: "ArgumentValue", Value: strconv.Itoa(h)})
}

// handlersCounted describes the valid handler indexes when GET
// /s3_cors/sources counts n handlers (its "handlers"): 0 to n-1, or only
// 0 when no handler has a static configuration or a default.
func handlersCounted(n int) string {
	if n == 0 {
		return "GET /s3_cors/sources counts 0 handlers, so only handler 0 (run-time configurations) applies"
	}
	return fmt.Sprintf("GET /s3_cors/sources counts %d handlers, numbered 0 to %d", n, n-1)
}

// request builds the request to explain.
func (req *ExplainRequest) request(r *http.Request) (*http.Request, error) {
	if req.Method == "" {
		return nil, s3err.InvalidArgument("The explain request needs a method.")
	}
	bucket := req.Bucket
	if bucket == "" {
		bucket = "bucket"
	}
	probe, err := http.NewRequestWithContext(r.Context(), req.Method, "http://s3.invalid/", nil)
	if err != nil {
		return nil, s3err.InvalidArgument("The explain request's method " + req.Method + " is not a valid HTTP method.")
	}
	probe.URL.Path = "/" + bucket + "/" + strings.TrimPrefix(req.Path, "/")
	for name, value := range req.Headers {
		probe.Header.Set(name, value)
	}
	if req.Origin != "" {
		probe.Header.Set("Origin", req.Origin)
	}
	return probe, nil
}

// parseInline reads an inline configuration: a JSON string holding XML or
// JSON, or a JSON object or array.
func parseInline(raw json.RawMessage) (*s3cors.Configuration, error) {
	doc := []byte(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, s3err.InvalidArgument("The explain request's configuration is not a valid JSON string.")
		}
		doc = []byte(s)
	}
	return s3cors.Parse(doc)
}
