package testenv

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recordingTB captures how RequireMinIO ends a test, without ending the
// real one.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runRequire calls RequireMinIO on a recordingTB in its own goroutine, since
// Skipf and Fatalf end the goroutine.
func runRequire(t *testing.T) (bin string, r *recordingTB) {
	r = &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		bin = RequireMinIO(r)
	}()
	<-done
	return bin, r
}

func TestRequireMinIO(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "minio")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(dir, "minio.txt")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		minioBin, ci         string
		wantBin              string
		wantSkip, wantFatal  bool
		wantMessageSubstring string
	}{
		{name: "MINIO_BIN wins", minioBin: fake, wantBin: fake},
		{name: "MINIO_BIN not executable, not CI: skip", minioBin: notExec, wantSkip: true,
			wantMessageSubstring: "not an executable"},
		{name: "MINIO_BIN missing in CI: fatal", minioBin: filepath.Join(dir, "nope"), ci: "true", wantFatal: true,
			wantMessageSubstring: "CI is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(MinIOBinEnv, tt.minioBin)
			t.Setenv("CI", tt.ci)
			bin, r := runRequire(t)
			switch {
			case tt.wantSkip && r.skipped == "", tt.wantFatal && r.fatal == "":
				t.Fatalf("skipped %q, fatal %q; want skip %v, fatal %v", r.skipped, r.fatal, tt.wantSkip, tt.wantFatal)
			case !tt.wantSkip && !tt.wantFatal && bin != tt.wantBin:
				t.Fatalf("bin = %q (skipped %q, fatal %q), want %q", bin, r.skipped, r.fatal, tt.wantBin)
			}
			if msg := r.skipped + r.fatal; !strings.Contains(msg, tt.wantMessageSubstring) {
				t.Errorf("message %q lacks %q", msg, tt.wantMessageSubstring)
			}
		})
	}
}

func TestStartMinIO(t *testing.T) {
	var m *MinIO
	t.Run("start", func(t *testing.T) {
		m = StartMinIO(t)
		resp, err := http.Get(m.URL + "/minio/health/live")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("live = %d", resp.StatusCode)
		}
		for _, addr := range []string{m.Endpoint, m.ConsoleAddr} {
			if !strings.HasPrefix(addr, "127.0.0.1:") {
				t.Errorf("address %s is not on loopback", addr)
			}
		}
	})
	if m == nil {
		return // skipped: no MinIO here
	}
	// The subtest's cleanup stopped the server.
	if resp, err := http.Get(m.URL + "/minio/health/live"); err == nil {
		resp.Body.Close()
		t.Fatalf("minio still answers after its test ended")
	}
}
