package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	// The modules the examples use: the standard ones and this one, as in
	// cmd/caddy.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/s3cors/caddy-s3cors"
	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// TestExamplesAdapt adapts every examples/*/Caddyfile in process, so that
// the examples never rot: each must adapt without error or warning and use
// the s3_cors handler.
func TestExamplesAdapt(t *testing.T) {
	root := testenv.RepoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "examples", "*", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d example Caddyfiles, want at least 5: %v", len(files), files)
	}
	adapter := caddyfile.Adapter{ServerType: httpcaddyfile.ServerType{}}
	for _, file := range files {
		name, _ := filepath.Rel(root, file)
		t.Run(filepath.Base(filepath.Dir(file)), func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, warnings, err := adapter.Adapt(body, map[string]any{"filename": name})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, w := range warnings {
				t.Errorf("%s: warning: %s", name, w.String())
			}
			if !strings.Contains(string(cfg), `"handler":"s3_cors"`) {
				t.Errorf("%s: no s3_cors handler in the adapted config:\n%s", name, cfg)
			}
		})
	}
}
