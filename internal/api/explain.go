package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	// several s3_cors handlers differ (see GET /s3_cors/sources). Default:
	// 0, the first.
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
	// configuration, inline for one given in the request.
	Source string `json:"source"`
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
