package rules_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// unitTested are codes no txtar scenario can trigger with the real loader,
// and the test that covers them instead.
var unitTested = map[string]string{
	"MPM0009": "TestUnknownLoaderKind",
}

// TestEveryRuleHasDocsTestsAndChangelog fails when a rule lacks
// documentation, a positive scenario (a `# want` for its code), a negative
// scenario (MPM1xxx: an archive with no expectation), a CHANGELOG entry, or
// a Since that names a released version of the CHANGELOG.
func TestEveryRuleHasDocsTestsAndChangelog(t *testing.T) {
	changelog, err := os.ReadFile("../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	codeRE := regexp.MustCompile(`^MPM[0-9]{4}$`)
	seen := map[string]bool{}
	for _, r := range rules.All() {
		if !codeRE.MatchString(r.Code) || seen[r.Code] {
			t.Errorf("%s: bad or duplicate code", r.Code)
		}
		seen[r.Code] = true
		if bad := titleCase(r.Title); r.Title == "" || bad != "" {
			t.Errorf("%s: title %q must be lowercase but for acronyms and names (%q)", r.Code, r.Title, bad)
		}
		if r.Severity.Rank() == 0 {
			t.Errorf("%s: bad severity %q", r.Code, r.Severity)
		}
		if r.Doc.Text == "" || r.Doc.Since == "" {
			t.Errorf("%s: Doc.Text and Doc.Since are required", r.Code)
		}
		if _, ok := unitTested[r.Code]; !ok && (r.Doc.Before == "" || r.Doc.After == "") {
			t.Errorf("%s: Doc.Before and Doc.After are required", r.Code)
		}
		if !strings.Contains(string(changelog), r.Code) {
			t.Errorf("%s: no entry in CHANGELOG.md", r.Code)
		}
		// A rule added after the last release says "unreleased" until the
		// release that ships it is cut.
		if r.Doc.Since != "" && r.Doc.Since != "unreleased" && !strings.Contains(string(changelog), "\n## ["+r.Doc.Since+"] - ") {
			t.Errorf("%s: Doc.Since %q is neither \"unreleased\" nor a release section of CHANGELOG.md (## [%s] - DATE)", r.Code, r.Doc.Since, r.Doc.Since)
		}
		if _, ok := unitTested[r.Code]; ok {
			continue
		}
		files, _ := filepath.Glob(filepath.Join("testdata", r.Code, "*.txtar"))
		positive, negative := false, false
		for _, f := range files {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wants := 0
			for _, af := range ar.Files {
				for _, line := range strings.Split(string(af.Data), "\n") {
					if m := wantRE.FindStringSubmatch(line); m != nil {
						wants++
						if strings.Contains(m[4], r.Code) {
							positive = true
						}
					}
				}
			}
			if wants == 0 {
				negative = true
			}
		}
		if !positive {
			t.Errorf("%s: no scenario in testdata/%s expects it", r.Code, r.Code)
		}
		if strings.HasPrefix(r.Code, "MPM1") && !negative {
			t.Errorf("%s: no negative scenario (an archive without # want) in testdata/%s", r.Code, r.Code)
		}
	}
}

// titleWords are the words a rule title keeps in capitals: acronyms,
// directive and variable names as written.
var titleWords = map[string]bool{"PHP": true, "URL": true, "MPM": true, "[PT]": true, "DirectoryIndex": true, "PHP_FCGI_CHILDREN": true}

// titleCase returns the first word of a title that is neither lowercase
// nor one of titleWords, "" when there is none. Acronyms stay upper-case
// ("PHP routed to php-fpm by URL"), the rest is lowercase.
func titleCase(title string) string {
	for _, w := range strings.Fields(title) {
		if w != strings.ToLower(w) && !titleWords[w] {
			return w
		}
	}
	for _, acronym := range []string{"php", "url", "mpm"} {
		for _, w := range strings.Fields(title) {
			if w == acronym {
				return w
			}
		}
	}
	return ""
}

// TestDocsUpToDate regenerates docs/rules into memory and compares: run
// go generate ./rules when it fails.
func TestDocsUpToDate(t *testing.T) {
	files := rules.DocFiles()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "docs", "rules", name))
		if err != nil || string(got) != want {
			t.Errorf("docs/rules/%s is stale: run go generate ./rules", name)
		}
	}
	onDisk, _ := filepath.Glob(filepath.Join("..", "docs", "rules", "*.md"))
	for _, p := range onDisk {
		if _, ok := files[filepath.Base(p)]; !ok {
			t.Errorf("docs/rules/%s belongs to no rule: run go generate ./rules", filepath.Base(p))
		}
	}
}
