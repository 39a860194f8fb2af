package rules

import (
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/rules/internal/conf"
)

// misspelledIgnoreRE matches comments meant as suppressions that the
// engine does not take as such: a space around the colon
// ("modphp-migrate: ignore"), no colon, another separator or case, the
// words swapped ("ignore-file") or another linter's verb ("disable").
// "modphp-migrate ignores this file because…" is prose and does not match.
var misspelledIgnoreRE = regexp.MustCompile(`(?i)^mod[-_ ]?php[-_ ]?migrate\s*[:=]?\s*(file[-_ ]?ignore|ignore[-_ ]?file|ignore|disable|nolint)(\s|:|$)`)

// misspelledIgnores reports the comments that look like suppressions but
// are not, so that a finding the author meant to silence is not silently
// reported (or a stale one hidden) without a word about the comment.
func misspelledIgnores(idx *conf.Index) []Diagnostic {
	var out []Diagnostic
	for _, e := range idx.Comments() {
		text := strings.TrimSpace(e.Node.Name)
		if isIgnore(text) {
			continue // the real syntax (parseIgnores)
		}
		m := misspelledIgnoreRE.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		want := ignorePrefix
		if strings.Contains(strings.ToLower(m[1]), "file") {
			want = fileIgnorePrefix
		}
		out = append(out, Diagnostic{Pos: e.Node.Pos, Code: ignoreUnused.Code, Severity: ignoreUnused.Severity,
			Message: "this comment is not a suppression and silences nothing: write # " + want + " CODE reason (no space around the colon)"})
	}
	return out
}

// isIgnore reports whether a comment is written as a suppression: the
// prefix, then a blank or nothing.
func isIgnore(text string) bool {
	for _, p := range []string{ignorePrefix, fileIgnorePrefix} {
		if rest, ok := strings.CutPrefix(text, p); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return true
		}
	}
	return false
}
