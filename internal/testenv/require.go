package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ChromiumBinEnv names the Chromium binary to use, which wins over every
// other place. e2e/browser/run.mjs reads the same variable.
const ChromiumBinEnv = "CHROMIUM_BIN"

// Require ends the test when err says a component it needs is missing:
// with t.Skip on a developer machine, with t.Fatal when the environment
// variable CI is set, since CI must not silently skip end-to-end tests.
// It does nothing when err is nil.
func Require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%v (CI is set, so this is an error; scripts/install-test-deps.sh installs it)", err)
	}
	t.Skipf("skipping: %v (scripts/install-test-deps.sh installs it)", err)
}

// FindChromium returns the Chromium binary: $CHROMIUM_BIN if set, else
// chromium on PATH, else /usr/bin/chromium (Debian's package).
func FindChromium() (string, error) {
	if p := os.Getenv(ChromiumBinEnv); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("testenv: %s=%s is not an executable file", ChromiumBinEnv, p)
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if isExecutable("/usr/bin/chromium") {
		return "/usr/bin/chromium", nil
	}
	return "", fmt.Errorf("testenv: chromium not found in $%s, PATH or /usr/bin/chromium", ChromiumBinEnv)
}

// RequireChromium returns the Chromium binary, or ends the test as Require
// does.
func RequireChromium(t testing.TB) string {
	t.Helper()
	p, err := FindChromium()
	Require(t, err)
	return p
}

// RequireAWSCLI returns the aws cli on PATH, or ends the test as Require
// does.
func RequireAWSCLI(t testing.TB) string {
	t.Helper()
	return requireOnPath(t, "aws", "the aws cli")
}

// requireOnPath returns the program name on PATH, or ends the test as
// Require does, naming it as what.
func requireOnPath(t testing.TB, name, what string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		err = fmt.Errorf("testenv: %s is not on PATH: %v", what, err)
	}
	Require(t, err)
	return p
}

// RequireNode returns node on PATH after checking that every package in
// packages is installed in the node_modules of dir (relative to the
// repository root, such as "e2e/browser"), or ends the test as Require
// does.
func RequireNode(t testing.TB, dir string, packages ...string) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		Require(t, fmt.Errorf("testenv: node is not on PATH: %v", err))
		return ""
	}
	root, ok := repoRoot()
	if !ok {
		t.Fatal("testenv: repository root not found")
	}
	for _, pkg := range packages {
		pj := filepath.Join(root, dir, "node_modules", pkg, "package.json")
		if _, err := os.Stat(pj); err != nil {
			Require(t, fmt.Errorf("testenv: node package %s is not installed in %s", pkg, filepath.Join(dir, "node_modules")))
		}
	}
	return p
}

// RepoRoot returns the repository root: the directory of the go.mod above
// the working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, ok := repoRoot()
	if !ok {
		t.Fatal("testenv: repository root not found")
	}
	return root
}
