package caddys3cors

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile" // the caddyfile adapter
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/caddyfile")

// adapt adapts a Caddyfile to indented JSON; any warning fails t.
func adapt(t testing.TB, caddyfile []byte) ([]byte, error) {
	t.Helper()
	return adaptWarn(t, caddyfile, true)
}

// adaptWarn adapts a Caddyfile to indented JSON; formatting warnings fail t
// only when strict.
func adaptWarn(t testing.TB, caddyfile []byte, strict bool) ([]byte, error) {
	t.Helper()
	adapter := caddyconfig.GetAdapter("caddyfile")
	out, warnings, err := adapter.Adapt(caddyfile, map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		if !strict && strings.Contains(w.Message, "not formatted") {
			continue
		}
		t.Errorf("adapt warning: %s", w.String())
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "\t"); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func TestCaddyfileAdapt(t *testing.T) {
	inputs, err := filepath.Glob("testdata/caddyfile/*.caddyfile")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".caddyfile")
		t.Run(name, func(t *testing.T) {
			caddyfile, err := os.ReadFile(input)
			if err != nil {
				t.Fatal(err)
			}
			got, err := adapt(t, caddyfile)
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			golden := strings.TrimSuffix(input, ".caddyfile") + ".json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("adapted %s differs from %s (run with -update to accept):\n%s", input, golden, got)
			}
		})
	}
}

func TestCaddyfileErrors(t *testing.T) {
	site := func(directive string) string {
		return ":8080 {\n" + directive + "\nreverse_proxy localhost:9000\n}\n"
	}
	rules101 := "s3_cors {\ndefault {\n" + strings.Repeat("rule {\norigins *\nmethods GET\n}\n", 101) + "}\n}"
	for _, tc := range []struct {
		name, caddyfile string
		want            string // substring of the error, naming the token
		line            int    // the line the error points at
	}{
		{"argument", site("s3_cors photos"), "after 'photos'", 2},
		{"unknown subdirective", site("s3_cors {\nbukket path\n}"), `s3_cors: unknown subdirective "bukket"`, 3},
		{"keep_upstream_cors argument", site("s3_cors {\nkeep_upstream_cors yes\n}"), "after 'yes'", 3},
		{"keep_upstream_cors twice", site("s3_cors {\nkeep_upstream_cors\nkeep_upstream_cors\n}"), `s3_cors: duplicate "keep_upstream_cors"`, 4},
		{"bucket without argument", site("s3_cors {\nbucket\n}"), "after 'bucket'", 3},
		{"bucket twice", site("s3_cors {\nbucket path\nbucket path\n}"), `s3_cors: duplicate "bucket"`, 4},
		{"bucket unknown", site("s3_cors {\nbucket vhost\n}"), `s3_cors: bucket resolution "vhost" is not "path", "host" or a placeholder expression`, 3},
		{"bucket empty", site("s3_cors {\nbucket \"\"\n}"), `s3_cors: bucket is empty`, 3},
		{"bucket path argument", site("s3_cors {\nbucket path extra\n}"), "after 'extra'", 3},
		{"bucket host without domain", site("s3_cors {\nbucket host\n}"), "after 'host'", 3},
		{"bucket host bad domain", site("s3_cors {\nbucket host s3..example.com\n}"), `s3_cors: base domain "s3..example.com" is not a domain name`, 3},
		{"bucket host wildcard in a label", site("s3_cors {\nbucket host s3.example.com *s3.example.net\n}"), `s3_cors: base domain "*s3.example.net": a wildcard must be a whole label`, 3},
		{"bucket placeholder argument", site("s3_cors {\nbucket {http.request.header.X-Bucket} extra\n}"), "after 'extra'", 3},
		{"default argument", site("s3_cors {\ndefault photos {\n}\n}"), "after 'photos'", 3},
		{"default empty", site("s3_cors {\ndefault {\n}\n}"), "s3_cors: default: needs at least one rule", 4},
		{"bucket_config empty", site("s3_cors {\nbucket_config photos {\n}\n}"), "s3_cors: bucket_config photos: needs at least one rule", 4},
		{"default twice", site("s3_cors {\ndefault {\nrule {\norigins *\nmethods GET\n}\n}\ndefault {\n}\n}"), `s3_cors: duplicate "default"`, 9},
		{"default and default_file", site("s3_cors {\ndefault_file /x.xml\ndefault {\n}\n}"), "s3_cors: default and default_file are exclusive", 4},
		{"default_file and default", site("s3_cors {\ndefault {\nrule {\norigins *\nmethods GET\n}\n}\ndefault_file /x.xml\n}"), "s3_cors: default and default_file are exclusive", 9},
		{"default_file without path", site("s3_cors {\ndefault_file\n}"), "after 'default_file'", 3},
		{"default_file two paths", site("s3_cors {\ndefault_file /a /b\n}"), "after '/a'", 3},
		{"default_file twice", site("s3_cors {\ndefault_file /a\ndefault_file /b\n}"), `s3_cors: duplicate "default_file"`, 4},
		{"config unknown subdirective", site("s3_cors {\ndefault {\nrules {\n}\n}\n}"), `s3_cors: default: unknown subdirective "rules" (want rule)`, 4},
		{"rule argument", site("s3_cors {\ndefault {\nrule main {\n}\n}\n}"), "after 'main'", 4},
		{"rule unknown subdirective", site("s3_cors {\ndefault {\nrule {\norigin *\n}\n}\n}"), `s3_cors: default: rule: unknown subdirective "origin"`, 5},
		{"rule id twice", site("s3_cors {\ndefault {\nrule {\nid a\nid b\n}\n}\n}"), `s3_cors: default: rule: duplicate "id"`, 6},
		{"rule id without value", site("s3_cors {\ndefault {\nrule {\nid\n}\n}\n}"), "after 'id'", 5},
		{"rule origins without value", site("s3_cors {\ndefault {\nrule {\norigins\n}\n}\n}"), "after 'origins'", 5},
		{"rule max_age not a number", site("s3_cors {\ndefault {\nrule {\nmax_age soon\n}\n}\n}"), `s3_cors: default: rule: max_age "soon" is not a 32-bit integer`, 5},
		{"rule max_age too large", site("s3_cors {\ndefault {\nrule {\nmax_age 2147483648\n}\n}\n}"), `max_age "2147483648" is not a 32-bit integer`, 5},
		{"rule max_age twice", site("s3_cors {\ndefault {\nrule {\nmax_age 1\nmax_age 2\n}\n}\n}"), `s3_cors: default: rule: duplicate "max_age"`, 6},
		{"rule invalid method", site("s3_cors {\ndefault {\nrule {\nid main\norigins *\nmethods PATCH\n}\n}\n}"),
			`s3_cors: default: rule "main": InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH`, 8},
		{"rule without methods", site("s3_cors {\nbucket_config photos {\nrule {\norigins *\n}\n}\n}"),
			"s3_cors: bucket_config photos: rule #1: MalformedXML: The XML you provided was not well-formed or did not validate against our published schema", 6},
		{"rule invalid header", site("s3_cors {\ndefault {\nrule {\norigins *\nmethods GET\n}\nrule {\norigins *\nmethods GET\nexpose a,b\n}\n}\n}"),
			"s3_cors: default: rule #2: InvalidRequest: AllowedHeader a,b contains invalid character.", 12},
		{"too many rules", site(rules101), "s3_cors: default: InvalidRequest: The number of CORS rules should not exceed allowed limit of 100 rules.", 408},
		{"bucket_config without name", site("s3_cors {\nbucket_config\n}"), "after 'bucket_config'", 3},
		{"bucket_config twice", site("s3_cors {\nbucket_config b file /a\nbucket_config b file /b\n}"), `s3_cors: duplicate bucket_config "b"`, 4},
		{"bucket_config unknown argument", site("s3_cors {\nbucket_config b path /a\n}"), `s3_cors: bucket_config b: unknown argument "path"`, 3},
		{"bucket_config file without path", site("s3_cors {\nbucket_config b file\n}"), "after 'file'", 3},
		{"bucket_config file with block", site("s3_cors {\nbucket_config b file /a {\nrule {\n}\n}\n}"), "s3_cors: bucket_config b file takes no block", 4},
		{"matcher without mode", site("@m s3_cors\nrespond @m 204"), "after 's3_cors'", 2},
		{"matcher unknown mode", site("@m s3_cors options\nrespond @m 204"), `s3_cors matcher: unknown mode "options"`, 2},
		{"matcher extra argument", site("@m s3_cors preflight photos\nrespond @m 204"), "after 'photos'", 2},
		{"matcher twice", site("@m {\ns3_cors preflight\ns3_cors allowed\n}\nrespond @m 204"), `s3_cors matcher: duplicate "s3_cors"`, 4},
		{"matcher unknown subdirective", site("@m s3_cors allowed {\nkeep_upstream_cors\n}\nrespond @m 204"), `s3_cors matcher: unknown subdirective "keep_upstream_cors"`, 3},
		{"matcher bucket twice", site("@m s3_cors allowed {\nbucket path\nbucket path\n}\nrespond @m 204"), `s3_cors matcher: duplicate "bucket"`, 4},
		{"global argument", "{\ns3_cors on\n}\n" + site("s3_cors"), "after 'on'", 2},
		{"global unknown", "{\ns3_cors {\ncolour blue\n}\n}\n" + site("s3_cors"), `s3_cors: unknown global option subdirective "colour"`, 3},
		{"global storage missing module", "{\ns3_cors {\nstorage\n}\n}\n" + site("s3_cors"), "after 'storage'", 3},
		{"global storage unknown module", "{\ns3_cors {\nstorage nowhere\n}\n}\n" + site("s3_cors"), "caddy.storage.nowhere", 3},
		{"global object_store unknown", "{\ns3_cors {\nobject_store {\nendpoint a:9000\nbukket x\n}\n}\n}\n" + site("s3_cors"), `s3_cors: object_store: unknown subdirective "bukket"`, 5},
		{"global object_store duplicate", "{\ns3_cors {\nobject_store {\nendpoint a:9000\nendpoint b:9000\n}\n}\n}\n" + site("s3_cors"), `s3_cors: object_store: duplicate "endpoint"`, 5},
		{"global object_store missing bucket", "{\ns3_cors {\nobject_store {\nendpoint a:9000\naccess_key k\nsecret_key s\n}\n}\n}\n" + site("s3_cors"), "s3_cors: object_store: bucket is required", 7},
		{"global object_store missing argument", "{\ns3_cors {\nobject_store {\nendpoint\n}\n}\n}\n" + site("s3_cors"), "after 'endpoint'", 4},
		{"global storage and object_store", "{\ns3_cors {\nstorage file_system /tmp/x\nobject_store {\nendpoint a:9000\naccess_key k\nsecret_key s\nbucket b\n}\n}\n}\n" + site("s3_cors"), "s3_cors: storage and object_store are exclusive", 10},
		{"report_only bad mode", site("s3_cors {\nreport_only some\n}"), `s3_cors: report_only "some" is not all or default`, 3},
		{"report_only empty mode", site("s3_cors {\nreport_only \"\"\n}"), `s3_cors: report_only "" is not all or default`, 3},
		{"report_only extra argument", site("s3_cors {\nreport_only all now\n}"), "after 'now'", 3},
		{"report_only twice", site("s3_cors {\nreport_only\nreport_only\n}"), `s3_cors: duplicate "report_only"`, 4},
		{"s3_api unknown", site("s3_cors {\ns3_api {\naccess_key k\nsecret_key s\nkeys x\n}\n}"), `s3_cors: s3_api: unknown subdirective "keys"`, 6},
		{"s3_api key without secret", site("s3_cors {\ns3_api {\nkey x\n}\n}"), "wrong argument count", 4},
		{"s3_api authorize unknown", site("s3_cors {\ns3_api {\nauthorize iam\n}\n}"), `s3_cors: s3_api: authorize "iam" is not static or store`, 5},
		{"s3_api authorize store with key", site("s3_cors {\ns3_api {\nauthorize store\naccess_key k\nsecret_key s\n}\n}"), "s3_cors: s3_api: authorize store takes no access_key", 7},
		{"s3_api probe_interval static", site("s3_cors {\ns3_api {\naccess_key k\nsecret_key s\nprobe_interval 1m\n}\n}"), "probe_interval applies to authorize store only", 7},
		{"s3_api probe_interval zero", site("s3_cors {\ns3_api {\nauthorize store\nprobe_interval 0s\n}\n}"), `s3_cors: s3_api: probe_interval "0s" must be positive`, 5},
		{"s3_api bucket_check argument", site("s3_cors {\ns3_api {\nauthorize store\nbucket_check on\n}\n}"), "bucket_check takes a block, or off", 5},
		{"s3_api bucket_check unknown", site("s3_cors {\ns3_api {\nauthorize store\nbucket_check {\nhost x\n}\n}\n}"), `bucket_check: unknown subdirective "host"`, 6},
		{"s3_api bucket_check duplicate", site("s3_cors {\ns3_api {\nauthorize store\nbucket_check {\nregion a\nregion b\n}\n}\n}"), `s3_cors: s3_api: bucket_check: duplicate "region"`, 7},
		{"s3_api bucket_check tls argument", site("s3_cors {\ns3_api {\nauthorize store\nbucket_check {\ntls yes\n}\n}\n}"), "after 'yes'", 6},
		{"s3_api bucket_check interval zero", site("s3_cors {\ns3_api {\nauthorize store\nbucket_check {\ninterval 0s\n}\n}\n}"), `s3_cors: s3_api: bucket_check: interval "0s" must be positive`, 6},
		{"global object_store notifications value", "{\ns3_cors {\nobject_store {\nnotifications maybe\n}\n}\n}\n" + site("s3_cors"), `s3_cors: object_store: notifications must be on or off, not "maybe"`, 4},
		{"global object_store notifications missing", "{\ns3_cors {\nobject_store {\nnotifications\n}\n}\n}\n" + site("s3_cors"), "after 'notifications'", 4},
		{"global object_store tls twice", "{\ns3_cors {\nobject_store {\ntls\ntls\n}\n}\n}\n" + site("s3_cors"), `s3_cors: object_store: duplicate "tls"`, 5},
		{"s3_api bucket_check no key", site("s3_cors {\ns3_api {\nauthorize store\nbucket_check {\nendpoint m:9000\n}\n}\n}"), "bucket_check: endpoint needs access_key and secret_key", 7},
		{"s3_api missing secret", site("s3_cors {\ns3_api {\naccess_key k\n}\n}"), "s3_cors: s3_api: access_key and secret_key are required", 5},
		{"s3_api duplicate", site("s3_cors {\ns3_api {\naccess_key k\naccess_key j\n}\n}"), `s3_cors: s3_api: duplicate "access_key"`, 5},
		{"s3_api twice", site("s3_cors {\ns3_api {\naccess_key k\nsecret_key s\n}\ns3_api {\naccess_key k\nsecret_key s\n}\n}"), `s3_cors: duplicate "s3_api"`, 7},
		{"s3_api body_timeout invalid", site("s3_cors {\ns3_api {\naccess_key k\nsecret_key s\nbody_timeout soon\n}\n}"), `s3_cors: s3_api: body_timeout "soon"`, 6},
		{"s3_api body_timeout zero", site("s3_cors {\ns3_api {\naccess_key k\nsecret_key s\nbody_timeout 0s\n}\n}"), `s3_cors: s3_api: body_timeout "0s" must be positive`, 6},
		{"s3_api argument", site("s3_cors {\ns3_api on {\naccess_key k\nsecret_key s\n}\n}"), "after 'on'", 3},
		{"global duplicate", "{\ns3_cors {\nowner 123456789012\nowner 123456789012\n}\n}\n" + site("s3_cors"), `s3_cors: duplicate "owner"`, 4},
		{"global owner missing", "{\ns3_cors {\nowner\n}\n}\n" + site("s3_cors"), "after 'owner'", 3},
		{"global owner invalid", "{\ns3_cors {\nowner 42\n}\n}\n" + site("s3_cors"), `s3_cors: owner "42" is not a 12-digit account id`, 3},
		{"global sync_interval missing", "{\ns3_cors {\nsync_interval\n}\n}\n" + site("s3_cors"), "after 'sync_interval'", 3},
		{"global sync_interval invalid", "{\ns3_cors {\nsync_interval often\n}\n}\n" + site("s3_cors"), `s3_cors: sync_interval "often"`, 3},
		{"global sync_interval zero", "{\ns3_cors {\nsync_interval 0s\n}\n}\n" + site("s3_cors"), `s3_cors: sync_interval "0s" must be positive`, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adapt(t, []byte(tc.caddyfile))
			if err == nil {
				t.Fatalf("adapted without error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if at := "Caddyfile:" + itoa(tc.line); !strings.Contains(err.Error(), at) {
				t.Errorf("error %q does not point at %s", err, at)
			}
			if strings.Contains(err.Error(), "s3cors: ") {
				t.Errorf("error %q stutters: the S3 code and message carry the engine's prefix", err)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
