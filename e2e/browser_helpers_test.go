package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// browserRunTimeout bounds one Chromium launch with all its calls. A run
// takes a few seconds; the margin is for 2 shared cores.
const browserRunTimeout = 90 * time.Second

// browserCall is one call of e2e/browser/run.mjs: window[fn](args).
type browserCall struct {
	Fn   string `json:"fn"`
	Args any    `json:"args,omitempty"`
}

// fetchResult is what the page's fetch functions return: what Chromium let
// the script see.
type fetchResult struct {
	// Status is the HTTP status, 0 when the fetch failed.
	Status int `json:"status"`
	// ETag is the ETag header as read from JS, nil when not exposed.
	ETag *string `json:"etag"`
	// Headers are the names of the response headers readable from JS.
	Headers []string `json:"headers"`
	// Body is the response body text.
	Body string `json:"body"`
	// Error is String(e) of the exception fetch threw, such as
	// "TypeError: Failed to fetch" for a CORS failure.
	Error string `json:"error"`
}

func (r fetchResult) String() string {
	etag := "<not readable>"
	if r.ETag != nil {
		etag = *r.ETag
	}
	if r.Error != "" {
		return fmt.Sprintf("error=%q", r.Error)
	}
	return fmt.Sprintf("status=%d etag=%s readable headers=%v body=%q", r.Status, etag, r.Headers, r.Body)
}

// runBrowser opens page in headless Chromium with e2e/browser/run.mjs and
// calls each function in order, in one launch. It returns the raw result of
// every call and the page's console lines. A missing Chromium, node or
// playwright-core skips the test outside CI and fails it in CI.
func runBrowser(t *testing.T, page string, calls []browserCall) ([]json.RawMessage, []string) {
	t.Helper()
	var out struct {
		Results []json.RawMessage `json:"results"`
		Console []string          `json:"console"`
	}
	runNodeScript(t, "run.mjs", map[string]any{"page": page, "calls": calls}, browserRunTimeout, &out)
	if len(out.Results) != len(calls) {
		t.Fatalf("chromium run: %d results for %d calls", len(out.Results), len(calls))
	}
	for _, line := range out.Console {
		t.Logf("chromium console: %s", line)
	}
	return out.Results, out.Console
}

// runNodeScript runs a script of e2e/browser with node, handing it spec as
// JSON, and decodes the JSON it prints into out. A missing Chromium, node
// or playwright-core skips the test outside CI and fails it in CI.
func runNodeScript(t *testing.T, script string, spec any, timeout time.Duration, out any) {
	t.Helper()
	chromium := testenv.RequireChromium(t)
	node := testenv.RequireNode(t, "e2e/browser", "playwright-core")
	root := testenv.RepoRoot(t)

	arg, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "e2e", "browser", script), string(arg))
	cmd.Env = append(os.Environ(), testenv.ChromiumBinEnv+"="+chromium)
	// On timeout, SIGTERM lets playwright close the browser it started;
	// whatever is left is killed 10 s later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	t.Logf("chromium run of %s in %v", script, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("chromium run timed out after %v\nstdout: %s\nstderr: %s", timeout, stdout.String(), stderr.String())
	}
	if err != nil {
		t.Fatalf("chromium run: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("chromium run: bad output: %v\n%s\nstderr: %s", err, stdout.String(), stderr.String())
	}
}

// fetchPage is the page served from origin A. Its functions are the calls
// the tests make; each returns what Chromium let the script see, or the
// error fetch threw.
const fetchPage = `<!doctype html>
<meta charset="utf-8">
<title>caddy-s3cors browser test</title>
<link rel="icon" href="data:,">
<script>
async function seen(res) {
  return {status: res.status, etag: res.headers.get('ETag'), headers: [...res.headers.keys()], body: await res.text()};
}
// GET an object cross-origin and read the ETag header (not CORS-safelisted:
// readable only when the rule exposes it).
window.getObject = async ({url}) => {
  try {
    return await seen(await fetch(url, {cache: 'no-store'}));
  } catch (e) {
    return {error: String(e)};
  }
};
// PUT an object cross-origin: the method and the headers force a preflight.
window.putObject = async ({url, headers, body}) => {
  try {
    return await seen(await fetch(url, {method: 'PUT', headers, body, cache: 'no-store'}));
  } catch (e) {
    return {error: String(e)};
  }
};
// Ask the test server (same origin) to do a step between two fetches.
window.control = async ({step}) => {
  const res = await fetch('/control/' + step, {method: 'POST', cache: 'no-store'});
  return {status: res.status, body: await res.text()};
};
</script>
<p>caddy-s3cors browser test page</p>
`

// runAWS runs the aws cli against endpoint with the given credentials and
// returns its output; it takes no *testing.T, since the page server calls
// it from its own goroutine.
func runAWS(ctx context.Context, aws, endpoint, accessKey, secretKey string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, aws, append([]string{"--endpoint-url", endpoint}, args...)...)
	cmd.Env = awsEnv(accessKey, secretKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
