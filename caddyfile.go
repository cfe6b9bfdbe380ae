package caddys3cors

import (
	"encoding/json"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// parseHandlerCaddyfile sets up the s3_cors handler from Caddyfile tokens.
func parseHandlerCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	if err := handler.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return handler, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	s3_cors [<matcher>] {
//		bucket path | host <base_domain>... | <placeholder expression>
//		keep_upstream_cors
//		report_only [all|default]
//		s3_api {
//			authorize  static | store
//			access_key <key>
//			secret_key <secret>
//			key        <access_key> <secret_key> [<bucket pattern>...]
//			region     <region>
//			body_timeout <duration>
//			probe_interval <duration>
//			bucket_check off | {
//				endpoint   <host:port>
//				access_key <key>
//				secret_key <secret>
//				region     <region>
//				tls
//				interval   <duration>
//			}
//		}
//		default {
//			rule {
//				id      <id>
//				origins <origin>...
//				methods <method>...
//				headers <header>...
//				expose  <header>...
//				max_age <seconds>
//			}
//		}
//		default_file <path>
//		bucket_config <bucket> {
//			rule { ... }
//		}
//		bucket_config <bucket> file <path>
//	}
//
// A bare `s3_cors` resolves path-style buckets and uses only the
// configurations set at run time. A configuration block holds one to 100
// `rule` blocks, checked with S3's validation; origins, methods, headers and
// expose may be repeated to continue a long list. Files hold PutBucketCors
// XML or the aws cli JSON shape.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for d.NextBlock(0) {
		name := d.Val()
		switch name {
		case "keep_upstream_cors", "report_only", "s3_api":
			if seen[name] {
				return d.Errf("s3_cors: duplicate %q", name)
			}
			seen[name] = true
		default: // the subdirectives the matcher shares
			if err := h.Source.unmarshalSubdirective(d, seen, "s3_cors"); err != nil {
				return err
			}
			continue
		}
		switch name {
		case "keep_upstream_cors":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.KeepUpstreamCORS = true
		case "report_only":
			h.ReportOnly = reportOnlyAll
			if d.NextArg() {
				h.ReportOnly = d.Val()
				if err := checkReportOnly(h.ReportOnly); err != nil {
					return d.Errf("s3_cors: %v", err)
				}
			}
			if d.NextArg() {
				return d.ArgErr()
			}
		case "s3_api":
			cfg, err := unmarshalS3API(d)
			if err != nil {
				return err
			}
			h.S3API = cfg
		}
	}
	return nil
}

// unmarshalS3API parses the s3_api block.
func unmarshalS3API(d *caddyfile.Dispenser) (*S3APIConfig, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	cfg := new(S3APIConfig)
	err := settingsBlock{
		what:      "s3_cors: s3_api",
		strings:   map[string]*string{"authorize": &cfg.Authorize, "access_key": &cfg.AccessKey, "secret_key": &cfg.SecretKey, "region": &cfg.Region},
		durations: map[string]*caddy.Duration{"body_timeout": &cfg.BodyTimeout, "probe_interval": &cfg.ProbeInterval},
		repeat:    map[string]bool{"key": true},
		other: func(name string) (bool, error) {
			switch name {
			case "key":
				var k S3APIKey
				if !d.NextArg() {
					return true, d.ArgErr()
				}
				k.AccessKey = d.Val()
				if !d.NextArg() {
					return true, d.ArgErr()
				}
				k.SecretKey = d.Val()
				k.Buckets = d.RemainingArgs()
				cfg.Keys = append(cfg.Keys, k)
				return true, nil
			case "bucket_check":
				bc, err := unmarshalBucketCheck(d)
				cfg.BucketCheck = bc
				return true, err
			}
			return false, nil
		},
	}.parse(d)
	if err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, d.Errf("s3_cors: s3_api: %v", err)
	}
	return cfg, nil
}

// unmarshalBucketCheck parses the bucket_check block, or `bucket_check off`.
func unmarshalBucketCheck(d *caddyfile.Dispenser) (*BucketCheckConfig, error) {
	cfg := new(BucketCheckConfig)
	if d.NextArg() {
		if d.Val() != "off" || d.NextArg() {
			return nil, d.Errf("s3_cors: s3_api: bucket_check takes a block, or off")
		}
		cfg.Disabled = true
		return cfg, nil
	}
	err := settingsBlock{
		what:      "s3_cors: s3_api: bucket_check",
		strings:   map[string]*string{"endpoint": &cfg.Endpoint, "access_key": &cfg.AccessKey, "secret_key": &cfg.SecretKey, "region": &cfg.Region},
		flags:     map[string]*bool{"tls": &cfg.TLS},
		durations: map[string]*caddy.Duration{"interval": &cfg.Interval},
	}.parse(d)
	if err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, d.Errf("s3_cors: s3_api: bucket_check: %v", err)
	}
	return cfg, nil
}

// settingsBlock reads the subdirectives of a block into the fields its
// maps point at: strings take one argument, flags none, durations one
// positive duration. Any other subdirective goes to other, which reports
// whether it knows it (nil knows none). A subdirective may appear once
// unless repeat names it. what prefixes errors; unknown names what an
// unknown subdirective is ("subdirective" when empty).
type settingsBlock struct {
	what      string
	strings   map[string]*string
	flags     map[string]*bool
	durations map[string]*caddy.Duration
	repeat    map[string]bool
	other     func(name string) (known bool, err error)
	unknown   string
}

// parse reads the block that d is at the start of.
func (b settingsBlock) parse(d *caddyfile.Dispenser) error {
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if seen[name] && !b.repeat[name] {
			return d.Errf("%s: duplicate %q", b.what, name)
		}
		seen[name] = true
		if err := b.setting(d, name); err != nil {
			return err
		}
	}
	return nil
}

// setting reads one subdirective.
func (b settingsBlock) setting(d *caddyfile.Dispenser, name string) error {
	if target, ok := b.strings[name]; ok {
		if !d.AllArgs(target) {
			return d.ArgErr()
		}
		return nil
	}
	if target, ok := b.flags[name]; ok {
		if d.NextArg() {
			return d.ArgErr()
		}
		*target = true
		return nil
	}
	if target, ok := b.durations[name]; ok {
		dur, err := unmarshalPositiveDuration(d, b.what+": "+name)
		*target = dur
		return err
	}
	if b.other != nil {
		if known, err := b.other(name); known || err != nil {
			return err
		}
	}
	unknown := b.unknown
	if unknown == "" {
		unknown = "subdirective"
	}
	return d.Errf("%s: unknown %s %q", b.what, unknown, name)
}

// unmarshalPositiveDuration reads the one argument of a duration setting.
func unmarshalPositiveDuration(d *caddyfile.Dispenser, what string) (caddy.Duration, error) {
	var v string
	if !d.AllArgs(&v) {
		return 0, d.ArgErr()
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil {
		return 0, d.Errf("%s %q: %v", what, v, err)
	}
	if dur <= 0 {
		return 0, d.Errf("%s %q must be positive", what, v)
	}
	return caddy.Duration(dur), nil
}

// UnmarshalCaddyfile sets up the matcher from Caddyfile tokens. Syntax:
//
//	s3_cors preflight | configured | allowed {
//		bucket ...
//		default { ... }
//		default_file <path>
//		bucket_config <bucket> ...
//	}
//
// The block takes the bucket resolution and configuration subdirectives of
// the s3_cors directive.
func (m *MatchS3CORS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	seen := map[string]bool{}
	for d.Next() { // consume matcher name
		if m.Mode != "" {
			return d.Errf("s3_cors matcher: duplicate %q", d.Val())
		}
		if !d.NextArg() {
			return d.ArgErr()
		}
		switch mode := d.Val(); mode {
		case modePreflight, modeConfigured, modeAllowed:
			m.Mode = mode
		default:
			return d.Errf("s3_cors matcher: unknown mode %q (%s, %s or %s)", mode, modePreflight, modeConfigured, modeAllowed)
		}
		if d.NextArg() {
			return d.ArgErr()
		}
		for nesting := d.Nesting(); d.NextBlock(nesting); {
			if err := m.Source.unmarshalSubdirective(d, seen, "s3_cors matcher"); err != nil {
				return err
			}
		}
	}
	return nil
}

// unmarshalSubdirective parses one subdirective shared by the handler and
// the matcher, the one d is on. what prefixes error messages.
func (s *Source) unmarshalSubdirective(d *caddyfile.Dispenser, seen map[string]bool, what string) error {
	name := d.Val()
	once := func() error {
		if seen[name] {
			return d.Errf("%s: duplicate %q", what, name)
		}
		seen[name] = true
		return nil
	}
	switch name {
	case "bucket":
		if err := once(); err != nil {
			return err
		}
		if !d.NextArg() {
			return d.ArgErr()
		}
		s.Bucket = d.Val()
		if s.Bucket == "" {
			// In JSON an empty bucket is the default, path; in the
			// Caddyfile it is a quoted "" and a mistake.
			return d.Errf("%s: bucket is empty", what)
		}
		if s.Bucket == bucketHost {
			s.BaseDomains = d.RemainingArgs()
			if len(s.BaseDomains) == 0 {
				return d.ArgErr()
			}
		} else if d.NextArg() {
			return d.ArgErr()
		}
		if err := s.validate(); err != nil {
			return d.Errf("%s: %v", what, err)
		}

	case "default":
		if seen["default_file"] {
			return d.Errf("%s: default and default_file are exclusive", what)
		}
		if err := once(); err != nil {
			return err
		}
		if d.NextArg() {
			return d.ArgErr()
		}
		cfg, err := unmarshalConfiguration(d, what, "default")
		if err != nil {
			return err
		}
		s.Default = cfg

	case "default_file":
		if seen["default"] {
			return d.Errf("%s: default and default_file are exclusive", what)
		}
		if err := once(); err != nil {
			return err
		}
		if !d.AllArgs(&s.DefaultFile) {
			return d.ArgErr()
		}

	case "bucket_config":
		if !d.NextArg() {
			return d.ArgErr()
		}
		bucket := d.Val()
		if seen["bucket_config "+bucket] {
			return d.Errf("%s: duplicate bucket_config %q", what, bucket)
		}
		seen["bucket_config "+bucket] = true
		if d.NextArg() {
			if d.Val() != "file" {
				return d.Errf("%s: bucket_config %s: unknown argument %q (want a block or file <path>)", what, bucket, d.Val())
			}
			var file string
			if !d.AllArgs(&file) {
				return d.ArgErr()
			}
			if s.BucketFiles == nil {
				s.BucketFiles = map[string]string{}
			}
			s.BucketFiles[bucket] = file
			if d.NextBlock(d.Nesting()) {
				return d.Errf("%s: bucket_config %s file takes no block", what, bucket)
			}
			return nil
		}
		cfg, err := unmarshalConfiguration(d, what, "bucket_config "+bucket)
		if err != nil {
			return err
		}
		if s.Buckets == nil {
			s.Buckets = map[string]json.RawMessage{}
		}
		s.Buckets[bucket] = cfg

	default:
		return d.Errf("%s: unknown subdirective %q", what, name)
	}
	return nil
}

// unmarshalConfiguration parses a block of rule blocks into the aws cli JSON
// shape, validated by the engine as S3 would validate it. where names the
// configuration in error messages.
func unmarshalConfiguration(d *caddyfile.Dispenser, what, where string) (json.RawMessage, error) {
	var rules []s3cors.Rule
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != "rule" {
			return nil, d.Errf("%s: %s: unknown subdirective %q (want rule)", what, where, d.Val())
		}
		if d.NextArg() {
			return nil, d.ArgErr()
		}
		rule, err := unmarshalRule(d, what, where, len(rules))
		if err != nil {
			return nil, err
		}
		rules = append(rules, rule)
	}
	if len(rules) == 0 {
		// S3 answers MalformedXML to an empty configuration; a Caddyfile
		// block can say what is missing.
		return nil, d.Errf("%s: %s: needs at least one rule", what, where)
	}
	cfg, err := s3cors.ParseJSON(configJSON(rules))
	if err != nil {
		return nil, d.Errf("%s: %s: %s", what, where, s3Text(err))
	}
	return cfg.JSON(), nil
}

// unmarshalRule parses one rule block and checks it alone with the
// engine, so that an error names the rule.
func unmarshalRule(d *caddyfile.Dispenser, what, where string, index int) (s3cors.Rule, error) {
	var rule s3cors.Rule
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		once := func() error {
			if seen[name] {
				return d.Errf("%s: %s: rule: duplicate %q", what, where, name)
			}
			seen[name] = true
			return nil
		}
		list := func(into *[]string) error {
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			*into = append(*into, args...)
			return nil
		}
		var err error
		switch name {
		case "id":
			if err = once(); err == nil {
				var id string
				if !d.AllArgs(&id) {
					return rule, d.ArgErr()
				}
				rule.ID = &id
			}
		case "origins":
			err = list(&rule.AllowedOrigins)
		case "methods":
			err = list(&rule.AllowedMethods)
		case "headers":
			err = list(&rule.AllowedHeaders)
		case "expose":
			err = list(&rule.ExposeHeaders)
		case "max_age":
			if err = once(); err == nil {
				var v string
				if !d.AllArgs(&v) {
					return rule, d.ArgErr()
				}
				n, convErr := strconv.ParseInt(v, 10, 32)
				if convErr != nil {
					return rule, d.Errf("%s: %s: rule: max_age %q is not a 32-bit integer", what, where, v)
				}
				seconds := int(n)
				rule.MaxAgeSeconds = &seconds
			}
		default:
			err = d.Errf("%s: %s: rule: unknown subdirective %q", what, where, name)
		}
		if err != nil {
			return rule, err
		}
	}
	if _, err := s3cors.ParseJSON(configJSON([]s3cors.Rule{rule})); err != nil {
		label := "#" + strconv.Itoa(index+1)
		if rule.ID != nil {
			label = strconv.Quote(*rule.ID)
		}
		return rule, d.Errf("%s: %s: rule %s: %s", what, where, label, s3Text(err))
	}
	return rule, nil
}

// configJSON renders rules in the aws cli shape {"CORSRules": [...]}.
func configJSON(rules []s3cors.Rule) []byte {
	if rules == nil {
		rules = []s3cors.Rule{}
	}
	body, err := json.Marshal(s3cors.Configuration{Rules: rules})
	if err != nil {
		// Only strings, string slices and ints: marshalling cannot fail.
		panic("s3_cors: marshal rules: " + err.Error())
	}
	return body
}

// parseGlobalOption sets up the s3_cors app from the global option. Syntax:
//
//	s3_cors {
//		sync_interval <duration>
//		full_sync_interval <duration>
//		owner <account id>
//		storage <module> ...
//		object_store {
//			endpoint   <host:port>
//			access_key <key>
//			secret_key <secret>
//			bucket     <bucket>
//			prefix     <prefix>
//			region     <region>
//			tls
//			notifications on|off
//		}
//	}
//
// storage and object_store are exclusive.
func parseGlobalOption(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Errf("s3_cors: duplicate global option")
	}
	app := new(App)
	d.Next() // consume option name
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	err := settingsBlock{
		what:      "s3_cors",
		unknown:   "global option subdirective",
		durations: map[string]*caddy.Duration{"sync_interval": &app.SyncInterval, "full_sync_interval": &app.FullSyncInterval},
		other: func(name string) (bool, error) {
			switch name {
			case "owner":
				if !d.AllArgs(&app.Owner) {
					return true, d.ArgErr()
				}
				if err := checkOwner(app.Owner); err != nil {
					return true, d.Errf("s3_cors: %v", err)
				}
			case "storage":
				if !d.NextArg() {
					return true, d.ArgErr()
				}
				modName := d.Val()
				unm, err := caddyfile.UnmarshalModule(d, "caddy.storage."+modName)
				if err != nil {
					return true, err
				}
				storage, ok := unm.(caddy.StorageConverter)
				if !ok {
					return true, d.Errf("s3_cors: storage module %q is not a storage converter", modName)
				}
				app.StorageRaw = caddyconfig.JSONModuleObject(storage, "module", modName, nil)
			case "object_store":
				cfg, err := unmarshalObjectStore(d)
				if err != nil {
					return true, err
				}
				app.ObjectStore = cfg
			default:
				return false, nil
			}
			return true, nil
		},
	}.parse(d)
	if err != nil {
		return nil, err
	}
	if app.StorageRaw != nil && app.ObjectStore != nil {
		return nil, d.Errf("s3_cors: storage and object_store are exclusive")
	}
	return httpcaddyfile.App{Name: "s3_cors", Value: caddyconfig.JSON(app, nil)}, nil
}

// unmarshalObjectStore parses the object_store block of the global option.
func unmarshalObjectStore(d *caddyfile.Dispenser) (*ObjectStoreConfig, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	cfg := new(ObjectStoreConfig)
	err := settingsBlock{
		what: "s3_cors: object_store",
		strings: map[string]*string{
			"endpoint": &cfg.Endpoint, "access_key": &cfg.AccessKey, "secret_key": &cfg.SecretKey,
			"bucket": &cfg.Bucket, "prefix": &cfg.Prefix, "region": &cfg.Region,
		},
		flags: map[string]*bool{"tls": &cfg.TLS},
		other: func(name string) (bool, error) {
			if name != "notifications" {
				return false, nil
			}
			var v string
			if !d.AllArgs(&v) {
				return true, d.ArgErr()
			}
			switch v {
			case "on", "off":
				on := v == "on"
				cfg.Notifications = &on
				return true, nil
			}
			return true, d.Errf("s3_cors: object_store: notifications must be on or off, not %q", v)
		},
	}.parse(d)
	if err != nil {
		return nil, err
	}
	for _, required := range []struct{ name, value string }{
		{"endpoint", cfg.Endpoint}, {"access_key", cfg.AccessKey}, {"secret_key", cfg.SecretKey}, {"bucket", cfg.Bucket},
	} {
		if required.value == "" {
			return nil, d.Errf("s3_cors: object_store: %s is required", required.name)
		}
	}
	return cfg, nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*Handler)(nil)
	_ caddyfile.Unmarshaler = (*MatchS3CORS)(nil)
)
