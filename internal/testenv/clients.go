package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MCBinEnv names MinIO's client mc, which wins over every other place.
const MCBinEnv = "MC_BIN"

// RequireS3cmd returns s3cmd on PATH (Debian's package), or ends the test
// as Require does.
func RequireS3cmd(t testing.TB) string {
	t.Helper()
	return requireOnPath(t, "s3cmd", "s3cmd")
}

// RequireBoto3 returns a python that can import boto3: python3 on PATH
// first, then Debian's /usr/bin/python3 (where the python3-boto3 package
// installs it), or ends the test as Require does.
func RequireBoto3(t testing.TB) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		if isExecutable(p) && exec.Command(p, "-c", "import boto3").Run() == nil {
			return p
		}
	}
	Require(t, fmt.Errorf("testenv: no python in %v can import boto3", candidates))
	return ""
}

// FindMC returns MinIO's client: $MC_BIN if set, else mc in the
// repository's .cache/bin (where scripts/install-test-deps.sh puts it). It
// never takes mc from PATH, which on Debian is Midnight Commander.
func FindMC() (string, error) {
	if p := os.Getenv(MCBinEnv); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("testenv: %s=%s is not an executable file", MCBinEnv, p)
	}
	root, ok := repoRoot()
	if !ok {
		return "", fmt.Errorf("testenv: repository root not found")
	}
	p := filepath.Join(root, ".cache", "bin", "mc")
	if !isExecutable(p) {
		return "", fmt.Errorf("testenv: MinIO's mc not found in $%s or %s", MCBinEnv, p)
	}
	return p, nil
}

// RequireMC returns MinIO's client mc, or ends the test as Require does.
func RequireMC(t testing.TB) string {
	t.Helper()
	p, err := FindMC()
	Require(t, err)
	return p
}
