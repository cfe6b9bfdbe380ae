package api

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestAdminPage(t *testing.T) {
	tests := []struct {
		name, method, path, contentType, contains string
	}{
		{"page", "GET", "/s3_cors/", "text/html; charset=utf-8", `<script src="page.js" defer></script>`},
		{"stylesheet", "GET", "/s3_cors/page.css", "text/css; charset=utf-8", ".verdict"},
		{"script", "GET", "/s3_cors/page.js", "text/javascript; charset=utf-8", "'/s3_cors'"},
		{"head", "HEAD", "/s3_cors/", "text/html; charset=utf-8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			// The page needs no live app: it is served even while none runs.
			(&Admin{Lookup: func() Configs { return nil }}).ServeHTTP(rec, newRequest(tt.method, tt.path, ""))
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			h := rec.Header()
			want := map[string]string{
				"Content-Type":            tt.contentType,
				"Content-Security-Policy": pageSecurityPolicy,
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
			}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, h.Get(k), v)
				}
			}
			if tt.method == "HEAD" {
				if rec.Body.Len() != 0 {
					t.Errorf("HEAD with a body of %d bytes", rec.Body.Len())
				}
				return
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		newAdmin(newMem(t, nil), nil).ServeHTTP(rec, newRequest("POST", "/s3_cors/", "x"))
		checkError(t, rec, http.StatusMethodNotAllowed, "MethodNotAllowed", nil)
	})
	t.Run("other paths stay not found", func(t *testing.T) {
		rec := httptest.NewRecorder()
		newAdmin(newMem(t, nil), nil).ServeHTTP(rec, newRequest("GET", "/s3_cors/page.html", ""))
		checkError(t, rec, http.StatusNotFound, "NotFound", nil)
	})
}

// TestPageRendersText guards the page's one rule against script
// injection: data reaches the DOM as text only. The browser test
// (e2e TestAdminPage) shows hostile values; this catches an HTML sink
// added where no test shows one, and the policy forbids inline script.
func TestPageRendersText(t *testing.T) {
	js, err := pageFiles.ReadFile("page/page.js")
	if err != nil {
		t.Fatal(err)
	}
	sinks := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(['"]on|\.on[a-z]+\s*=`)
	for i, line := range strings.Split(string(js), "\n") {
		if m := sinks.FindString(line); m != "" {
			t.Errorf("page.js:%d uses %s: %s", i+1, m, strings.TrimSpace(line))
		}
	}
	html, err := pageFiles.ReadFile("page/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if inline := regexp.MustCompile(`<script>|<style>|\son[a-z]+=`).Find(html); inline != nil {
		t.Errorf("index.html has inline code %q, which the Content-Security-Policy blocks", inline)
	}
	if strings.Contains(pageSecurityPolicy, "unsafe-inline") || !strings.Contains(pageSecurityPolicy, "frame-ancestors 'none'") {
		t.Errorf("policy %q", pageSecurityPolicy)
	}
}

// TestPageSendsToken: the page sends the secret of `caddy s3-cors page` in
// the header the command checks, taken from the URL's fragment.
func TestPageSendsToken(t *testing.T) {
	js, err := pageFiles.ReadFile("page/page.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`const TOKEN_HEADER = '` + PageTokenHeader + `';`, `#token=`, `headers[TOKEN_HEADER] = token`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("page.js lacks %s", want)
		}
	}
	if strings.Contains(string(js), "document.cookie") {
		t.Error("page.js uses a cookie: a browser sends those of 127.0.0.1 to every port of it")
	}
}
