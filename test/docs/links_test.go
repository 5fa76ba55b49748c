// Package docs checks the project's Markdown: every relative link in the
// README, CONTRIBUTING.md and docs/ names a file that exists and, with a
// #fragment, a heading of that file (by GitHub's slug).
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository, from this package's directory.
const root = "../.."

// documents lists the Markdown files whose links are checked.
func documents(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(root, "README.md"), filepath.Join(root, "CONTRIBUTING.md")}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	return append(files, docs...)
}

var (
	// inlineLink is [text](target) or ![alt](target "title").
	inlineLink = regexp.MustCompile(`\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	// refLink is a reference definition: [label]: target.
	refLink    = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+(\S+)`)
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	headingRe  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	mdLinkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
)

// prose returns the document's lines outside fenced code blocks, each with
// its 1-based line number.
func prose(text string) (lines []string, numbers []int) {
	fence := ""
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		lines = append(lines, line)
		numbers = append(numbers, i+1)
	}
	return lines, numbers
}

// slug is GitHub's anchor for a heading: its text lowercased, punctuation
// other than - and _ dropped, each space a hyphen.
func slug(heading string) string {
	text := mdLinkText.ReplaceAllString(heading, "$1")
	text = strings.NewReplacer("`", "", "*", "").Replace(text)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the set of heading anchors of a Markdown text, numbering
// repeated ones as GitHub does (x, x-1, x-2).
func anchors(text string) map[string]bool {
	set := map[string]bool{}
	seen := map[string]int{}
	lines, _ := prose(text)
	for _, line := range lines {
		m := headingRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			set[s+"-"+strconv.Itoa(n)] = true
		} else {
			set[s] = true
		}
		seen[s]++
	}
	return set
}

// links returns the relative link targets of a Markdown text with their
// line numbers, outside code.
func links(text string) (targets []string, numbers []int) {
	lines, nums := prose(text)
	for i, line := range lines {
		line = codeSpan.ReplaceAllString(line, "")
		var found []string
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			found = append(found, m[1])
		}
		if m := refLink.FindStringSubmatch(line); m != nil {
			found = append(found, m[1])
		}
		for _, target := range found {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			targets = append(targets, target)
			numbers = append(numbers, nums[i])
		}
	}
	return targets, numbers
}

func TestRelativeLinksResolve(t *testing.T) {
	cache := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if set, ok := cache[path]; ok {
			return set
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cache[path] = anchors(string(text))
		return cache[path]
	}
	for _, doc := range documents(t) {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(root, doc)
		targets, numbers := links(string(text))
		for i, target := range targets {
			file, fragment, _ := strings.Cut(target, "#")
			path := doc
			if file != "" {
				path = filepath.Join(filepath.Dir(doc), filepath.FromSlash(file))
				info, err := os.Stat(path)
				if err != nil {
					t.Errorf("%s:%d: link %s: no such file", name, numbers[i], target)
					continue
				}
				if info.IsDir() || !strings.HasSuffix(path, ".md") {
					if fragment != "" {
						t.Errorf("%s:%d: link %s: an anchor in a file that is not Markdown", name, numbers[i], target)
					}
					continue
				}
			}
			if fragment != "" && !anchorsOf(path)[fragment] {
				t.Errorf("%s:%d: link %s: no heading with that anchor", name, numbers[i], target)
			}
		}
	}
}

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ name, heading, want string }{
		{name: "words", heading: "Deploy to AWS", want: "deploy-to-aws"},
		{name: "apostrophe", heading: "Heroku's rate limit with a fleet", want: "herokus-rate-limit-with-a-fleet"},
		{name: "hyphen kept", heading: "The 30-second heartbeat", want: "the-30-second-heartbeat"},
		{name: "code span", heading: "`AUTOSCALE_POLICY` and `make run`", want: "autoscale_policy-and-make-run"},
		{name: "punctuation", heading: "Settings (all of them), in order.", want: "settings-all-of-them-in-order"},
		{name: "link text", heading: "See [the docs](docs/x.md)", want: "see-the-docs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := slug(tt.heading); got != tt.want {
				t.Errorf("slug(%q) = %q, want %q", tt.heading, got, tt.want)
			}
		})
	}
}

func TestAnchorsNumberRepeats(t *testing.T) {
	text := "# A\n## The token\n```\n# not a heading\n```\n### The token\n"
	got := anchors(text)
	for _, want := range []string{"a", "the-token", "the-token-1"} {
		if !got[want] {
			t.Errorf("anchors lack %q: %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block was taken for a heading")
	}
}

func TestLinksSkipCode(t *testing.T) {
	text := "see [a](b.md#c) and `[x](y.md)`\n```\n[z](w.md)\n```\n[ref]: r.md\n[web](https://example.com)\n"
	targets, _ := links(text)
	if strings.Join(targets, " ") != "b.md#c r.md" {
		t.Errorf("links = %q, want [b.md#c r.md]", targets)
	}
}
