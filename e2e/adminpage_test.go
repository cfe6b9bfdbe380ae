package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// ScreenshotDirEnv names a directory for the operator page's screenshots;
// without it they go to the test's artifact directory (kept with
// `go test -artifacts -outputdir <dir>`).
const ScreenshotDirEnv = "S3CORS_SCREENSHOT_DIR"

// pageStep is one step of e2e/browser/admin-page.mjs.
type pageStep map[string]any

func step(do string, kv ...string) pageStep {
	s := pageStep{"do": do}
	for i := 0; i+1 < len(kv); i += 2 {
		s[kv[i]] = kv[i+1]
	}
	return s
}

// openPhotos searches the list for photos, waits until it is the only
// match, and opens it.
var openPhotos = [4]pageStep{
	step("fill", "sel", "#search", "value", "photos"),
	step("wait", "sel", "#count", "text", "1 of"),
	step("wait", "sel", `#buckets li:only-child [data-bucket="photos"]`),
	step("click", "sel", `[data-bucket="photos"]`),
}

// pageRun is what admin-page.mjs saw.
type pageRun struct {
	Results []json.RawMessage          `json:"results"`
	Named   map[string]json.RawMessage `json:"named"`
	Console []string                   `json:"console"`
	Errors  []string                   `json:"errors"`
	Failed  string                     `json:"failed"`
}

// runPage drives the page at url through steps in one Chromium launch.
func runPage(t *testing.T, url string, steps []pageStep) pageRun {
	t.Helper()
	var run pageRun
	runNodeScript(t, "admin-page.mjs", map[string]any{"page": url, "steps": steps,
		"viewport": map[string]int{"width": 1366, "height": 860}}, 2*browserRunTimeout, &run)
	for _, line := range run.Console {
		t.Logf("chromium console: %s", line)
	}
	for _, e := range run.Errors {
		t.Errorf("page error: %s", e)
	}
	if run.Failed != "" {
		t.Fatalf("chromium run stopped at %s", run.Failed)
	}
	return run
}

// startPageBridge runs `caddy s3-cors page` against the admin API and
// returns the URL it printed.
func startPageBridge(t *testing.T, admin string) string {
	t.Helper()
	cmd := exec.Command(testenv.CaddyBinary(t), "s3-cors", "page", "--address", admin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	urlRe := regexp.MustCompile(`http://127\.0\.0\.1:\d+/s3_cors/#token=[\w-]+`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u := urlRe.FindString(sc.Text()); u != "" {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(20 * time.Second):
		t.Fatalf("caddy s3-cors page printed no URL; stderr: %s", stderr.String())
		return ""
	}
}

// seedBuckets writes n run-time configurations straight into a file
// system storage, as the admin API would have, so that the page starts
// with a large list without n PUTs.
func seedBuckets(t *testing.T, root string, n int) {
	t.Helper()
	dir := filepath.Join(root, "s3_cors", "buckets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		doc := fmt.Sprintf(`<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>https://site-%05d.example.com</AllowedOrigin></CORSRule></CORSConfiguration>`, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("bucket-%05d.xml", i)), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// The hostile values of TestAdminPage: each would run a script if the page
// put it into the DOM as HTML.
const (
	hostileOrigin = `"><img src=x onerror="window.__pwned='origin'">`
	hostileID     = `<script>window.__pwned='id'</script>`
	hostileBucket = `<img src=x onerror=window.__pwned=1>`
)

// TestAdminPage drives the operator page of the built binary in headless
// Chromium, through `caddy s3-cors page`: a list of 10,000 buckets and its
// search, a bucket's rules table, hostile values shown as text, an invalid
// edit refused with S3's error and nothing saved, a valid edit that the
// next preflight through the sidecar follows, the tester's verdicts for an
// allowed and a refused preflight, and a delete that asks first. It saves
// screenshots on a laptop-size and a narrow window.
func TestAdminPage(t *testing.T) {
	testenv.RequireChromium(t)
	testenv.RequireNode(t, "e2e/browser", "playwright-core")
	const seeded = 10000
	storage := t.TempDir()
	seedBuckets(t, storage, seeded)
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
	storage file_system `+storage+`
	s3_cors {
		sync_interval 1s
	}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors {
		default {
			rule {
				origins https://any.example.com
				methods GET
			}
		}
		bucket_config static-assets {
			rule {
				id assets
				origins https://www.example.com
				methods GET HEAD
				expose ETag
				max_age 600
			}
		}
		bucket_config "`+hostileBucket+`" {
			rule {
				origins https://www.example.com
				methods GET
			}
		}
	}
	respond "store" 200
}
`, testenv.CaddyOptions{Ports: 1})
	a := adminOf(t, c)
	a.mustPut("photos", `{"CORSRules":[{"ID":"app","AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET","PUT"],"AllowedHeaders":["content-type"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":300}]}`)
	hostileDoc, err := json.Marshal(map[string]any{"CORSRules": []any{map[string]any{
		"ID": hostileID, "AllowedOrigins": []string{hostileOrigin}, "AllowedMethods": []string{"GET"},
		"ExposeHeaders": []string{"x-amz-meta-a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	a.mustPut("hostile", string(hostileDoc))
	const photosBefore = `{"CORSRules":[{"ID":"app","AllowedHeaders":["content-type"],"AllowedMethods":["GET","PUT"],"AllowedOrigins":["https://app.example.com"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":300}]}`
	wantConfig(t, a, "photos", photosBefore)

	shots := os.Getenv(ScreenshotDirEnv)
	if shots == "" {
		shots = t.ArtifactDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) pageStep {
		return pageStep{"do": "screenshot", "path": filepath.Join(shots, name+".png")}
	}
	const invalidEdit = `{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET","PATCH"]}]}`
	const validEdit = `{"CORSRules":[{"ID":"new-app","AllowedOrigins":["https://new.example.com"],"AllowedMethods":["PUT","GET"],"AllowedHeaders":["content-type","x-amz-*"],"MaxAgeSeconds":120}]}`

	// Why the page has a bridge: Caddy's admin listener refuses what a
	// browser sends when the page's address is typed in (Sec-Fetch-Mode
	// without an Origin), whatever its origins setting.
	t.Run("the admin listener refuses a browser's navigation", func(t *testing.T) {
		res := send(t, newRequest(t, http.MethodGet, "http://"+c.Admin+"/s3_cors/", "",
			"Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "none", "Sec-Fetch-Dest", "document"))
		if res.status != http.StatusForbidden {
			t.Errorf("navigation to the admin page: %d, want 403 (does Caddy now let browsers in? then the page needs no bridge)", res.status)
		}
	})

	url := startPageBridge(t, c.Admin)
	steps := []pageStep{
		step("goto"),
		step("wait", "sel", "#buckets li"),
		step("text", "sel", "#count", "as", "count"),
		step("fill", "sel", "#search", "value", "bucket-0999"),
		step("wait", "sel", "#count", "text", "10 of"),
		step("count", "sel", "#buckets li", "as", "matches"),
		openPhotos[0], openPhotos[1], openPhotos[2], openPhotos[3],
		step("wait", "sel", "#rules code", "text", "https://app.example.com"),
		step("text", "sel", "#rules tbody", "as", "rules"),
		shot("laptop-bucket"),
		// Hostile values are text.
		step("fill", "sel", "#search", "value", "hostile"),
		step("wait", "sel", `#buckets li:only-child [data-bucket="hostile"]`),
		step("click", "sel", `[data-bucket="hostile"]`),
		step("wait", "sel", "#rules code", "text", "onerror"),
		step("text", "sel", "#rules tbody", "as", "hostile rules"),
		step("fill", "sel", "#search", "value", "img"),
		step("wait", "sel", `#buckets li:only-child [data-bucket="`+hostileBucket+`"]`),
		step("text", "sel", "#buckets", "as", "hostile list"),
		step("click", "sel", "#buckets li button"),
		step("wait", "sel", "#name", "text", "onerror"),
		step("text", "sel", "#name", "as", "hostile title"),
		step("eval", "expr", "String(window.__pwned) + ' ' + document.querySelectorAll('main img, main script').length", "as", "pwned"),
		// An invalid edit shows S3's error and saves nothing.
		openPhotos[0], openPhotos[1], openPhotos[2], openPhotos[3],
		step("wait", "sel", "#name", "text", "photos"),
		step("click", "sel", "#edit"),
		step("wait", "sel", "#check.ok"),
		step("fill", "sel", "#text", "value", invalidEdit),
		step("wait", "sel", "#check.bad"),
		step("text", "sel", "#check", "as", "check"),
		step("eval", "expr", "document.getElementById('save').disabled", "as", "save disabled"),
		shot("laptop-invalid-edit"),
		// A valid edit is saved.
		step("fill", "sel", "#text", "value", validEdit),
		step("wait", "sel", "#check.ok"),
		step("click", "sel", "#save"),
		step("wait", "sel", "#rules code", "text", "https://new.example.com"),
		step("text", "sel", "#rules tbody", "as", "saved rules"),
		// The tester: allowed, then refused.
		step("fill", "sel", "#t-origin", "value", "https://new.example.com"),
		step("select", "sel", "#t-method", "value", "PUT"),
		step("fill", "sel", "#t-headers", "value", "Content-Type, X-Amz-Meta-Tag"),
		step("fill", "sel", "#t-path", "value", "album/cat.jpg"),
		step("click", "sel", "#test"),
		step("wait", "sel", "#verdict-box[data-result=allowed]"),
		step("text", "sel", "#verdict", "as", "allowed"),
		shot("laptop-test-allowed"),
		step("fill", "sel", "#t-origin", "value", "https://app.example.com"),
		step("click", "sel", "#test"),
		step("wait", "sel", "#verdict-box[data-result=denied]"),
		step("text", "sel", "#verdict", "as", "refused"),
		shot("laptop-test-refused"),
		step("fill", "sel", "#search", "value", ""),
		step("wait", "sel", "#count", "text", "showing 200"),
		step("eval", "expr", "window.scrollTo(0, 0)"),
		{"do": "screenshot", "path": filepath.Join(shots, "laptop-full.png"), "full": true},
		{"do": "viewport", "width": 390, "height": 844},
		step("eval", "expr", "document.getElementById('verdict-box').scrollIntoView()"),
		shot("narrow-test-refused"),
		{"do": "eval", "expr": "window.scrollTo(0, 0)"},
		shot("narrow-bucket"),
	}
	run := runPage(t, url, steps)
	str := func(name string) string {
		var s string
		if err := json.Unmarshal(run.Named[name], &s); err != nil {
			t.Fatalf("result %q: %s: %v", name, run.Named[name], err)
		}
		return s
	}
	t.Logf("screenshots in %s", shots)

	checks := []struct {
		name string
		want []string
	}{
		{"count", []string{"10,004 buckets"}}, // the seeded, photos, hostile and the two static ones
		{"rules", []string{"app", "https://app.example.com", "GET", "PUT", "content-type", "ETag", "300 s"}},
		{"hostile rules", []string{hostileOrigin, hostileID}},
		{"hostile list", []string{hostileBucket}},
		{"hostile title", []string{hostileBucket}},
		{"check", []string{"InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is PATCH", "PATCH", "400", "Nothing was saved"}},
		{"saved rules", []string{"new-app", "https://new.example.com", "x-amz-*", "120 s"}},
		{"allowed", []string{"ALLOWED", "HTTP 200", "Access-Control-Allow-Origin", "https://new.example.com", "Access-Control-Allow-Headers", "content-type, x-amz-meta-tag", "new-app"}},
		{"refused", []string{"REFUSED", "HTTP 403", "AccessForbidden", "CORSResponse: This CORS request is not allowed.", `origin "https://app.example.com" matches none`}},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			got := str(ch.name)
			for _, w := range ch.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
		})
	}
	var matches int
	if err := json.Unmarshal(run.Named["matches"], &matches); err != nil || matches != 10 {
		t.Errorf("search bucket-0999: %s rows, want 10", run.Named["matches"])
	}
	if got := str("pwned"); got != "undefined 0" {
		t.Errorf("hostile values ran or became elements: window.__pwned, img+script count = %q", got)
	}
	if string(run.Named["save disabled"]) != "true" {
		t.Errorf("Save enabled for an invalid document: %s", run.Named["save disabled"])
	}

	// The sidecar answers the next preflights with the valid edit, which
	// is all that was stored (the invalid one saved nothing), and exactly
	// as the tester said.
	t.Run("sidecar follows the valid edit", func(t *testing.T) {
		wantConfig(t, a, "photos", `{"CORSRules":[{"ID":"new-app","AllowedHeaders":["content-type","x-amz-*"],"AllowedMethods":["PUT","GET"],"AllowedOrigins":["https://new.example.com"],"MaxAgeSeconds":120}]}`)
		res := preflight(t, c.URL(0), "/photos/album/cat.jpg", "https://new.example.com", "PUT", "Content-Type, X-Amz-Meta-Tag")
		checkCORS(t, "preflight of the new origin", res.header, map[string]string{
			"Access-Control-Allow-Origin":      "https://new.example.com",
			"Access-Control-Allow-Methods":     "PUT, GET",
			"Access-Control-Allow-Headers":     "content-type, x-amz-meta-tag",
			"Access-Control-Max-Age":           "120",
			"Access-Control-Allow-Credentials": "true",
			"Vary":                             corsVary,
		})
		if res.status != http.StatusOK {
			t.Errorf("preflight of the new origin: %d", res.status)
		}
		if res := preflight(t, c.URL(0), "/photos/album/cat.jpg", "https://app.example.com", "PUT", ""); res.status != http.StatusForbidden {
			t.Errorf("preflight of the old origin: %d, want 403", res.status)
		}
	})

	// Delete asks first; once confirmed, the bucket falls back to the
	// default, in the page and at the sidecar.
	run = runPage(t, url, []pageStep{
		step("goto"),
		openPhotos[0], openPhotos[1], openPhotos[2], openPhotos[3],
		step("wait", "sel", "#name", "text", "photos"),
		step("click", "sel", "#delete"),
		step("wait", "sel", "#confirm"),
		step("text", "sel", "#confirm", "as", "confirm"),
		step("click", "sel", "#confirm-no"),
		step("eval", "expr", "document.getElementById('confirm').hidden", "as", "confirm hidden"),
		step("click", "sel", "#delete"),
		step("click", "sel", "#confirm-yes"),
		step("wait", "sel", "#source", "text", "default"),
		step("text", "sel", "#note", "as", "note"),
	})
	if got := str("confirm"); !strings.Contains(got, "Delete the CORS configuration of photos?") {
		t.Errorf("confirmation %q", got)
	}
	if string(run.Named["confirm hidden"]) != "true" {
		t.Errorf("the confirmation stayed after Cancel: %s", run.Named["confirm hidden"])
	}
	if got := str("note"); !strings.Contains(got, "default applies") {
		t.Errorf("note after delete %q", got)
	}
	if res := send(t, newRequest(t, http.MethodGet, "http://"+c.Admin+"/s3_cors/buckets/photos", "")); res.status != http.StatusNotFound {
		t.Errorf("photos after the page's delete: %d %s", res.status, res.body)
	}
	if res := preflight(t, c.URL(0), "/photos/k", "https://any.example.com", "GET", ""); res.status != http.StatusOK {
		t.Errorf("preflight after delete, by the default: %d", res.status)
	}
}

// TestAdminPageSecretStaysOnItsPort: a browser sends the cookies of
// 127.0.0.1 to every port of 127.0.0.1 (cookies do not keep to a port), so
// the secret of `caddy s3-cors page` in a cookie would reach any other
// local user's server that the browser visits, even through a link on
// another site, and with it the admin routes. The page works, and such a
// server sees nothing of the secret.
func TestAdminPageSecretStaysOnItsPort(t *testing.T) {
	testenv.RequireChromium(t)
	testenv.RequireNode(t, "e2e/browser", "playwright-core")
	c := testenv.StartCaddy(t, `{
	admin {{ADMIN}}
}
http://127.0.0.1:{{PORT0}} {
	s3_cors
	respond "store" 200
}
`, testenv.CaddyOptions{Ports: 1})
	adminOf(t, c).mustPut("photos", `{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET"]}]}`)
	pageURL := startPageBridge(t, c.Admin)
	secret := pageURL[strings.LastIndex(pageURL, "=")+1:]

	var (
		mu   sync.Mutex
		seen []string
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		_ = r.Write(&b) // the whole request as it came: line, headers, body
		mu.Lock()
		seen = append(seen, b.String())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<p id="loaded">another local server</p><img src="/pixel.png">`)
	}))
	defer other.Close()
	if !strings.HasPrefix(other.URL, "http://127.0.0.1:") {
		t.Fatalf("the other server is at %s, not on 127.0.0.1", other.URL)
	}

	runPage(t, pageURL, []pageStep{
		step("goto"),
		step("wait", "sel", "#count", "text", "1 bucket"),
		step("wait", "sel", `[data-bucket="photos"]`),
		step("goto", "url", other.URL+"/"),
		step("wait", "sel", "#loaded"),
		step("eval", "expr", `new Promise((done) => { const i = document.images[0]; if (i.complete) done(1); else i.onload = i.onerror = () => done(1); })`),
	})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 {
		t.Fatalf("the other server saw %d requests, want the page and its image", len(seen))
	}
	for _, req := range seen {
		if strings.Contains(req, secret) {
			t.Errorf("another port of 127.0.0.1 received the page's secret:\n%s", req)
		}
	}
}
