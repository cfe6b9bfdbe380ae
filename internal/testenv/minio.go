// Package testenv starts the real external programs that tests run against,
// such as a MinIO server, and skips (or, in CI, fails) the test when a
// program is not installed.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MinIOBinEnv is the environment variable naming the MinIO binary to use,
// which wins over every other place.
const MinIOBinEnv = "MINIO_BIN"

// minioStartTimeout bounds how long StartMinIO waits for the server to
// answer its liveness probe. MinIO is usually live in under two seconds; the
// margin is for a loaded machine.
const minioStartTimeout = 60 * time.Second

// MinIO is a MinIO server started for one test.
type MinIO struct {
	// Endpoint is host:port of the S3 API, as minio-go wants it.
	Endpoint string
	// URL is the base URL of the S3 API, http://Endpoint.
	URL string
	// ConsoleAddr is host:port of the web console.
	ConsoleAddr string
	// AccessKey and SecretKey are the root credentials
	// (MINIO_ROOT_USER and MINIO_ROOT_PASSWORD).
	AccessKey string
	SecretKey string
	// DataDir is the server's data directory, a t.TempDir.
	DataDir string
	// Binary is the path of the MinIO binary that runs.
	Binary string

	env    []string // extra environment settings
	t      testing.TB
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
	out    lockedBuffer
}

// FindMinIO returns the path of the MinIO binary: $MINIO_BIN if set, else
// "minio" on PATH, in $(go env GOPATH)/bin, or in the repository's
// .cache/bin (where scripts/install-minio.sh puts it).
func FindMinIO() (string, error) {
	if p := os.Getenv(MinIOBinEnv); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("testenv: %s=%s is not an executable file", MinIOBinEnv, p)
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	var candidates []string
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		candidates = append(candidates, filepath.Join(dir, "bin", "minio"))
	}
	if root, ok := repoRoot(); ok {
		candidates = append(candidates, filepath.Join(root, ".cache", "bin", "minio"))
	}
	for _, p := range candidates {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("testenv: minio not found in $%s, PATH or %s (install it with scripts/install-minio.sh)",
		MinIOBinEnv, strings.Join(candidates, ", "))
}

// isExecutable reports whether p is a regular file with an execute bit.
func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// repoRoot finds the directory of the go.mod above the working directory
// (tests run in their package's directory).
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// RequireMinIO returns the MinIO binary, or ends the test: with t.Skip when
// it is missing on a developer machine, with t.Fatal when the environment
// variable CI is set, since CI must not silently skip end-to-end tests.
func RequireMinIO(t testing.TB) string {
	t.Helper()
	bin, err := FindMinIO()
	Require(t, err)
	return bin
}

// StartMinIO starts a MinIO server on 127.0.0.1 with a free port, its own
// root credentials and a temporary data directory, waits until it is live,
// and stops it when the test ends. See RequireMinIO for a missing binary.
// "Live" here means ready for S3 requests; see waitLive.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	return StartMinIOWithEnv(t)
}

// StartMinIOWithEnv is StartMinIO with settings of the server's
// environment, such as "MINIO_DOMAIN=s3.test" for virtual-hosted style.
func StartMinIOWithEnv(t testing.TB, env ...string) *MinIO {
	t.Helper()
	return startMinIOBinary(t, RequireMinIO(t), env)
}

// startMinIOBinary starts bin as StartMinIOWithEnv does.
func startMinIOBinary(t testing.TB, bin string, env []string) *MinIO {
	t.Helper()
	// A free port found by listening can be taken by someone else before
	// MinIO binds it; retrying with new ports makes that harmless.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		m, err := startMinIO(t, bin, env)
		if err == nil {
			return m
		}
		lastErr = err
	}
	t.Fatalf("testenv: start minio: %v", lastErr)
	return nil
}

// startMinIO makes one attempt at starting MinIO.
func startMinIO(t testing.TB, bin string, env []string) (*MinIO, error) {
	ports := FreePorts(t, 2)
	m := &MinIO{
		Endpoint:    net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		ConsoleAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		AccessKey:   "testenv-admin",
		SecretKey:   "testenv-secret-" + strconv.Itoa(os.Getpid()),
		DataDir:     t.TempDir(),
		Binary:      bin,
		env:         env,
		t:           t,
	}
	m.URL = "http://" + m.Endpoint
	if err := m.launch(); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("minio output:\n%s", m.out.String())
		}
	})
	return m, nil
}

// launch starts the server process on m's address and data directory and
// waits until it is live; on failure the process is stopped again.
func (m *MinIO) launch() error {
	cmd := exec.Command(m.Binary, "server", "--quiet",
		"--address", m.Endpoint, "--console-address", m.ConsoleAddr, m.DataDir)
	cmd.Env = minioEnv(m)
	cmd.Stdout, cmd.Stderr = &m.out, &m.out
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", m.Binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	m.mu.Lock()
	m.cmd, m.exited = cmd, exited
	m.mu.Unlock()
	if err := waitLive(m.URL, exited); err != nil {
		m.Stop()
		return fmt.Errorf("%w; output:\n%s", err, m.out.String())
	}
	return nil
}

// Stop stops the server; its data directory stays, so that Restart brings
// back the same objects. Stopping a stopped server does nothing.
func (m *MinIO) Stop() {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	// An interrupt lets MinIO shut down cleanly; it gets a few seconds
	// before it is killed.
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Restart stops the server if it runs and starts it again on the same
// address, credentials and data directory, waiting until it is live. The
// address was free when StartMinIO chose it and MinIO held it since, so
// it is normally still free; a failure ends the test.
func (m *MinIO) Restart() {
	m.t.Helper()
	m.Stop()
	if err := m.launch(); err != nil {
		m.t.Fatalf("testenv: restart minio: %v", err)
	}
}

// minioEnv is the environment of the server: the test's own, without any
// MINIO_ setting that could change the server's behaviour, plus the root
// credentials, no update checks (the tests run offline) and the settings
// the test asked for.
func minioEnv(m *MinIO) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIO_") {
			env = append(env, kv)
		}
	}
	return append(append(env,
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_UPDATE=off",
	), m.env...)
}

// waitLive waits until the server can serve S3 requests: first its
// liveness probe /minio/health/live answers 200, then /minio/health/cluster
// does. The second wait matters: MinIO answers the liveness probe as soon
// as its HTTP server runs, with the header "X-Minio-Server-Status: offline"
// while its object layer is still initializing, and S3 requests fail with
// "Server not initialized" until then; the cluster probe answers 200 only
// once the object layer is up with write quorum.
func waitLive(baseURL string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), minioStartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for _, probe := range []string{"/minio/health/live", "/minio/health/cluster"} {
		if err := poll(ctx, client, baseURL+probe, exited); err != nil {
			return err
		}
	}
	return nil
}

// poll requests url until it answers 200, the process exits, or ctx ends.
func poll(ctx context.Context, client *http.Client, url string, exited <-chan error) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("health request: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("minio exited before %s answered: %v", url, err)
		case <-ctx.Done():
			return errors.New("no 200 from " + url + " within " + minioStartTimeout.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lockedBuffer collects the server's output, written by exec's copying
// goroutines and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
