package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// Where a bucket's configuration comes from, in the order a handler looks:
// set at run time (admin API, S3 API, storage), static in the Caddy config
// (`bucket_config`, JSON `buckets` or `bucket_files`), the handler's
// `default`, or none; or a configuration set at run time that storage
// holds but this node cannot read, which refuses every CORS request of the
// bucket rather than let its bucket_config or the default apply.
const (
	SourceRuntime    = "runtime"
	SourceStatic     = "bucket_config"
	SourceDefault    = "default"
	SourceNone       = "none"
	SourceUnreadable = "unreadable"
)

// StaticSet is what one s3_cors handler (or matcher) holds in the Caddy
// config: its static configurations by bucket and its default.
type StaticSet struct {
	// Buckets are the static configurations, by bucket name.
	Buckets map[string]*s3cors.Configuration
	// Default applies to buckets without a configuration; nil for none.
	Default *s3cors.Configuration
}

// StaticConfigs is implemented by Configs that also know the handlers'
// static configurations and defaults, so that the sources routes and the
// explain route see a bucket as a handler does. Configs without it have
// run-time configurations only.
type StaticConfigs interface {
	// StaticSets returns the distinct sets of the running handlers and
	// matchers, in a stable order; set i is "handler i" in the answers.
	StaticSets() []StaticSet
}

// SourceList is the answer of GET /s3_cors/sources: every bucket with a
// configuration of its own, run-time or static, and the defaults.
type SourceList struct {
	// Buckets are sorted by name.
	Buckets []BucketSource `json:"buckets"`
	// Defaults are the default configurations, one per handler that has
	// one.
	Defaults []SourceConfig `json:"defaults"`
	// Handlers is the number of distinct handler settings (static
	// configurations and default); more than one means a bucket may be
	// configured differently on different sites.
	Handlers int `json:"handlers"`
}

// BucketSource is one bucket of a SourceList.
type BucketSource struct {
	// Bucket is the bucket's name.
	Bucket string `json:"bucket"`
	// Source is where its configuration comes from: runtime, which wins
	// over any static one, or bucket_config.
	Source string `json:"source"`
	// Rules is the number of rules of that configuration.
	Rules int `json:"rules"`
	// Overrides is true when a run-time configuration hides a static one.
	Overrides bool `json:"overrides,omitempty"`
}

// SourceConfig is one configuration with its origin, in the aws cli JSON
// shape and as GetBucketCors XML.
type SourceConfig struct {
	// Source is runtime, bucket_config or default.
	Source string `json:"source"`
	// Handler is the index of the handler settings it comes from; absent
	// for a run-time configuration, which every handler shares.
	Handler *int `json:"handler,omitempty"`
	// Active is true when it decides the bucket's requests on that
	// handler (a run-time configuration hides the static one and the
	// default).
	Active bool `json:"active"`
	// Configuration is the aws cli JSON shape {"CORSRules": [...]}.
	Configuration json.RawMessage `json:"configuration"`
	// XML is the GetBucketCors document.
	XML string `json:"xml"`
}

// BucketSources is the answer of GET /s3_cors/sources/<bucket>.
type BucketSources struct {
	// Bucket is the bucket's name.
	Bucket string `json:"bucket"`
	// Source decides the bucket's requests on handler 0: runtime,
	// bucket_config, default or none; unreadable when storage holds a
	// configuration this node cannot read, which refuses them all.
	Source string `json:"source"`
	// Configurations are every configuration that applies to the bucket,
	// the run-time one first, then each handler's static one and default.
	Configurations []SourceConfig `json:"configurations"`
}

// staticSets returns the handlers' sets, none when c does not know them.
func staticSets(c Configs) []StaticSet {
	if s, ok := c.(StaticConfigs); ok {
		return s.StaticSets()
	}
	return nil
}

// effective returns the configuration that decides a bucket's requests on
// handler h, and where it comes from; nil with SourceNone for none. The
// bucket name must have passed s3cors.ValidBucketName.
func effective(c Configs, bucket string, h int) (*s3cors.Configuration, string) {
	if cfg, ok := c.Configuration(bucket); ok {
		if cfg == nil {
			return &s3cors.Configuration{}, SourceUnreadable // no rule: as it is served
		}
		return cfg, SourceRuntime
	}
	sets := staticSets(c)
	if h < 0 || h >= len(sets) {
		return nil, SourceNone
	}
	if cfg, ok := sets[h].Buckets[bucket]; ok {
		return cfg, SourceStatic
	}
	if sets[h].Default != nil {
		return sets[h].Default, SourceDefault
	}
	return nil, SourceNone
}

func (a *Admin) serveSources(w http.ResponseWriter, r *http.Request) {
	c := a.readConfigs(w, r, "SERVICE")
	if c == nil {
		return
	}
	sets := staticSets(c)
	list := SourceList{Buckets: []BucketSource{}, Defaults: []SourceConfig{}, Handlers: len(sets)}
	static := map[string]*s3cors.Configuration{}
	for i := len(sets) - 1; i >= 0; i-- { // handler 0's wins, as in effective
		for bucket, cfg := range sets[i].Buckets {
			static[bucket] = cfg
		}
	}
	for _, bucket := range c.Buckets() {
		cfg, ok := c.Configuration(bucket)
		if !ok {
			continue // deleted since Buckets
		}
		_, overrides := static[bucket]
		source, rules := SourceRuntime, 0
		if cfg == nil {
			source = SourceUnreadable
		} else {
			rules = len(cfg.Rules)
		}
		list.Buckets = append(list.Buckets, BucketSource{Bucket: bucket, Source: source,
			Rules: rules, Overrides: overrides})
		delete(static, bucket)
	}
	for bucket, cfg := range static {
		list.Buckets = append(list.Buckets, BucketSource{Bucket: bucket, Source: SourceStatic, Rules: len(cfg.Rules)})
	}
	sort.Slice(list.Buckets, func(i, j int) bool { return list.Buckets[i].Bucket < list.Buckets[j].Bucket })
	for i, set := range sets {
		if set.Default != nil {
			list.Defaults = append(list.Defaults, sourceConfig(SourceDefault, i, true, set.Default))
		}
	}
	a.writeJSON(w, r, "sources", list)
}

func (a *Admin) serveBucketSources(w http.ResponseWriter, r *http.Request, bucket string) {
	c := a.readConfigs(w, r, "BUCKET")
	if c == nil {
		return
	}
	sets := staticSets(c)
	valid := s3cors.ValidBucketName(bucket)
	if !valid && !isStatic(sets, bucket) {
		s3err.InvalidBucketName(bucket).WriteTo(w)
		return
	}
	out := BucketSources{Bucket: bucket, Source: SourceNone, Configurations: []SourceConfig{}}
	runtime := false
	if valid { // only S3 bucket names reach Configs; a static name may be any
		if cfg, ok := c.Configuration(bucket); ok {
			runtime = true
			if cfg == nil {
				out.Source = SourceUnreadable // nothing to show; nothing else applies
			} else {
				out.Source = SourceRuntime
				out.Configurations = append(out.Configurations, sourceConfig(SourceRuntime, -1, true, cfg))
			}
		}
	}
	for i, set := range sets {
		cfg, static := set.Buckets[bucket]
		if static {
			out.Configurations = append(out.Configurations, sourceConfig(SourceStatic, i, !runtime, cfg))
		}
		if set.Default != nil {
			out.Configurations = append(out.Configurations, sourceConfig(SourceDefault, i, !runtime && !static, set.Default))
		}
		if i == 0 && !runtime {
			switch {
			case static:
				out.Source = SourceStatic
			case set.Default != nil:
				out.Source = SourceDefault
			}
		}
	}
	a.writeJSON(w, r, "sources of "+bucket, out)
}

// readConfigs begins a read-only route: 405 MethodNotAllowed for a method
// other than GET, 503 without a live app; it returns nil when it answered.
func (a *Admin) readConfigs(w http.ResponseWriter, r *http.Request, resourceType string) Configs {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, resourceType, http.MethodGet)
		return nil
	}
	return a.configs(w)
}

// isStatic reports whether a handler has a static configuration for bucket.
func isStatic(sets []StaticSet, bucket string) bool {
	for _, set := range sets {
		if _, ok := set.Buckets[bucket]; ok {
			return true
		}
	}
	return false
}

// sourceConfig describes cfg; handler < 0 is none.
func sourceConfig(source string, handler int, active bool, cfg *s3cors.Configuration) SourceConfig {
	sc := SourceConfig{Source: source, Active: active, Configuration: cfg.JSON(), XML: string(cfg.XML())}
	if handler >= 0 {
		sc.Handler = &handler
	}
	return sc
}

// writeJSON answers 200 with v as JSON; what names it in errors.
func (a *Admin) writeJSON(w http.ResponseWriter, r *http.Request, what string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, a.LogError, fmt.Errorf("s3_cors admin: encode %s: %w", what, err))
		return
	}
	write(w, http.StatusOK, "application/json", append(body, '\n'))
}
