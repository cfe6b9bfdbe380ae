package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// CaddyBinEnv names a prebuilt Caddy binary with this module (scripts/test.sh
// builds it once for the whole run); without it the first test that needs
// one builds ./cmd/caddy, once per test process.
const CaddyBinEnv = "S3CORS_CADDY_BIN"

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// CaddyBinary returns the path of a Caddy binary built from this
// repository's cmd/caddy.
func CaddyBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(CaddyBinEnv); p != "" {
		if !isExecutable(p) {
			t.Fatalf("testenv: %s=%s is not an executable file", CaddyBinEnv, p)
		}
		return p
	}
	buildOnce.Do(func() {
		root, ok := repoRoot()
		if !ok {
			buildErr = fmt.Errorf("testenv: repository root not found")
			return
		}
		dir, err := os.MkdirTemp("", "s3cors-caddy-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "caddy")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/caddy")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("testenv: go build ./cmd/caddy: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// Caddy is a Caddy process started for one test.
type Caddy struct {
	// Admin is host:port of the admin endpoint.
	Admin string
	// Ports are the free ports handed to the Caddyfile, in order.
	Ports []int
	// Home is the process's HOME and XDG directories' parent: Caddy's data
	// directory (and so its default storage) lives under it.
	Home string
	// Caddyfile is the configuration file the process runs.
	Caddyfile string

	t      testing.TB
	bin    string
	env    []string
	dir    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
	out    lockedBuffer
}

// CaddyOptions tunes StartCaddy.
type CaddyOptions struct {
	// Ports is how many free ports to reserve for the Caddyfile, which
	// names them {{PORT0}}, {{PORT1}}, ...
	Ports int
	// Home reuses a home directory (Caddy's data directory with its
	// storage), to restart on the state of an earlier process.
	Home string
	// Env adds environment variables; {{ADMIN}} and {{PORTn}} are replaced
	// in them as in the Caddyfile, so that a Caddyfile can take its
	// addresses from {$VAR} placeholders.
	Env []string
	// Dir is the working directory of the process, against which the
	// Caddyfile's relative paths resolve; default the directory of the
	// written Caddyfile (a temporary one).
	Dir string
}

// StartCaddy runs the repository's Caddy with caddyfile until the test
// ends. In caddyfile, {{ADMIN}} is replaced by the admin address (add
// `admin {{ADMIN}}` to the global options) and {{PORTn}} by free ports. It
// waits until the admin endpoint answers.
func StartCaddy(t testing.TB, caddyfile string, opts CaddyOptions) *Caddy {
	t.Helper()
	bin := CaddyBinary(t)
	ports := FreePorts(t, opts.Ports+1)
	c := &Caddy{t: t, bin: bin, Admin: "127.0.0.1:" + strconv.Itoa(ports[0]), Ports: ports[1:], Home: opts.Home}
	if c.Home == "" {
		c.Home = t.TempDir()
	}
	caddyfile = c.expand(caddyfile)
	c.Caddyfile = filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(c.Caddyfile, []byte(caddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	c.env = append(os.Environ(),
		"HOME="+c.Home,
		"XDG_DATA_HOME="+filepath.Join(c.Home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(c.Home, "config"),
	)
	for _, kv := range opts.Env {
		c.env = append(c.env, c.expand(kv))
	}
	c.dir = opts.Dir
	c.start()
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("caddy output:\n%s", c.Output())
		}
	})
	return c
}

// expand replaces {{ADMIN}} and {{PORTn}} in s.
func (c *Caddy) expand(s string) string {
	s = strings.ReplaceAll(s, "{{ADMIN}}", c.Admin)
	for i, p := range c.Ports {
		s = strings.ReplaceAll(s, "{{PORT"+strconv.Itoa(i)+"}}", strconv.Itoa(p))
	}
	return s
}

// URL returns http://127.0.0.1:<Ports[i]>.
func (c *Caddy) URL(i int) string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Ports[i]))
}

// PID returns the process id of the running Caddy, 0 when it is not
// running.
func (c *Caddy) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Output returns what the process wrote so far.
func (c *Caddy) Output() string { return c.out.String() }

func (c *Caddy) start() {
	c.t.Helper()
	cmd := exec.Command(c.bin, "run", "--config", c.Caddyfile, "--adapter", "caddyfile")
	cmd.Env = c.env
	cmd.Dir = filepath.Dir(c.Caddyfile)
	if c.dir != "" {
		cmd.Dir = c.dir
	}
	cmd.Stdout, cmd.Stderr = &c.out, &c.out
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("testenv: run caddy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	c.mu.Lock()
	c.cmd, c.exited = cmd, exited
	c.mu.Unlock()
	if err := c.waitReady(exited); err != nil {
		c.t.Fatalf("testenv: caddy did not start: %v\n%s", err, c.Output())
	}
}

// waitReady polls the admin endpoint, then every site port, until they
// answer.
func (c *Caddy) waitReady(exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	if err := poll(ctx, client, "http://"+c.Admin+"/config/", exited); err != nil {
		return err
	}
	for _, p := range c.Ports {
		for {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case err := <-exited:
				return fmt.Errorf("caddy exited: %v", err)
			case <-ctx.Done():
				// A port the Caddyfile does not listen on is not an error.
				return nil
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Stop stops the process gracefully (SIGTERM, then SIGKILL after 10 s).
func (c *Caddy) Stop() {
	c.signal(syscall.SIGTERM, 10*time.Second)
}

// Kill kills the process with SIGKILL, as a crash would.
func (c *Caddy) Kill() {
	c.signal(syscall.SIGKILL, 10*time.Second)
}

// Restart starts the process again with the same configuration, ports and
// home directory.
func (c *Caddy) Restart() {
	c.t.Helper()
	c.Stop()
	c.start()
}

func (c *Caddy) signal(sig syscall.Signal, grace time.Duration) {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Run runs the repository's Caddy binary with args (a subcommand such as
// `s3-cors list`), with the process's environment, and returns its
// combined output and error.
func (c *Caddy) Run(stdin string, args ...string) (string, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
