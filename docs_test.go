package caddys3cors

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// markdownLink matches an inline link's target: [text](target).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinks checks that every relative link of README.md and docs/*.md
// names a file of the repository and, when it has a #fragment into a
// Markdown page, a heading of that page: moving a section must not leave a
// link behind.
func TestDocsLinks(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"README.md"}, pages...)
	linked := map[string]bool{}
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range markdownLinks(string(text)) {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, fragment, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
			}
			linked[filepath.ToSlash(filepath.Clean(path))] = true
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %q: %v", page, target, err)
				continue
			}
			if fragment == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			anchors, err := headingAnchors(path)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors[fragment] {
				t.Errorf("%s: link %q: no heading #%s in %s", page, target, fragment, path)
			}
		}
	}
	for _, page := range pages[1:] {
		if !linked[filepath.ToSlash(page)] {
			t.Errorf("README.md and the other pages link nowhere to %s", page)
		}
	}
}

// TestReadmeGivesCICommand checks that README.md gives the command CI runs
// (.ci/run's exec line), as .ci/run promises.
func TestReadmeGivesCICommand(t *testing.T) {
	ci, err := os.ReadFile(filepath.Join(".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var command string
	for line := range strings.Lines(string(ci)) {
		if rest, ok := strings.CutPrefix(line, "exec "); ok {
			command = strings.TrimSpace(rest)
		}
	}
	if command == "" {
		t.Fatal(".ci/run has no exec line")
	}
	if !strings.Contains(string(readme), "\n"+command+"\n") {
		t.Errorf("README.md does not give CI's command %q on a line of its own", command)
	}
}

// markdownLinks returns the link targets of text outside fenced code blocks.
func markdownLinks(text string) []string {
	var targets []string
	fenced := false
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		for _, m := range markdownLink.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
	}
	return targets
}

// headingAnchors returns the anchors GitHub gives the headings of a Markdown
// file: lower case, spaces to hyphens, punctuation other than - and _
// dropped, -1, -2, ... appended to repeats.
func headingAnchors(path string) (map[string]bool, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	anchors := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for line := range strings.Lines(string(text)) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		anchor := b.String()
		if n := seen[anchor]; n > 0 {
			seen[anchor]++
			anchor += "-" + strconv.Itoa(n)
		} else {
			seen[anchor] = 1
		}
		anchors[anchor] = true
	}
	return anchors, nil
}

// TestDocsJSON decodes the examples of docs/json.md into the module's
// types strictly, as Caddy does when it loads a config: a field renamed or
// removed in the code must not live on in the reference.
func TestDocsJSON(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(string(text), -1)
	if len(blocks) != 4 {
		t.Fatalf("docs/json.md has %d JSON blocks, want 4: handler, s3_api forms, matcher, app", len(blocks))
	}
	strict := func(what, doc string, v any) {
		t.Helper()
		d := json.NewDecoder(strings.NewReader(doc))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			t.Errorf("docs/json.md, %s: %v\n%s", what, err, doc)
		}
	}

	var handler map[string]json.RawMessage
	if err := json.Unmarshal([]byte(blocks[0][1]), &handler); err != nil {
		t.Fatalf("docs/json.md, handler: %v", err)
	}
	if string(handler["handler"]) != `"s3_cors"` {
		t.Errorf(`docs/json.md, handler: "handler" is %s, want "s3_cors"`, handler["handler"])
	}
	delete(handler, "handler") // the module name, which Caddy removes before decoding
	doc, err := json.Marshal(handler)
	if err != nil {
		t.Fatal(err)
	}
	strict("handler", string(doc), new(Handler))

	// The s3_api forms are members of a handler, one a line.
	forms := regexp.MustCompile(`(?m)^"s3_api": `).Split(blocks[1][1], -1)
	if len(forms) != 3 {
		t.Errorf(`docs/json.md: %d "s3_api" forms, want 2`, len(forms)-1)
	}
	for i, form := range forms[1:] {
		strict(fmt.Sprintf("s3_api form %d", i+1), `{"s3_api": `+form+`}`, new(Handler))
	}

	strict("matcher", blocks[2][1], new(map[string]MatchS3CORS))
	strict("app", blocks[3][1], new(struct {
		Apps struct {
			S3CORS App `json:"s3_cors"`
		} `json:"apps"`
	}))
}
