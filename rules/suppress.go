package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
)

// The codes the engine reports about suppression comments.
var (
	ignoreWithoutReason = register(&Rule{
		Code:     "MPM0010",
		Title:    "ignore comment without a reason",
		Severity: Warning,
		Origin:   Today,
		Doc: Doc{
			Text: `A suppression comment must say why the finding does not apply.

The comment is still honoured, but a reviewer of the configuration cannot tell whether the finding was understood. Write the reason after the code.`,
			Before: "# modphp-migrate:ignore MPM1004\nphp_value memory_limit 256M\n",
			After:  "# modphp-migrate:ignore MPM1004 this vhost keeps mod_php until 2027\nphp_value memory_limit 256M\n",
			Since:  "0.1.0",
		},
	})
	ignoreUnused = register(&Rule{
		Code:     "MPM0011",
		Title:    "ignore comment that matches nothing",
		Severity: Warning,
		Origin:   Today,
		Doc: Doc{
			Text: `A suppression comment did not silence any finding: the code is wrong, the comment is not directly above the line it was meant for, or the problem was fixed. A comment meant as a suppression but not written as one (` + "`# modphp-migrate: ignore`" + ` with a space, another case, ` + "`ignore-file`, `disable`" + `) silences nothing and is reported too.

Remove the comment, move it above the directive the finding is reported on, or spell it ` + "`# modphp-migrate:ignore CODE reason`" + ` (` + "`# modphp-migrate:file-ignore CODE reason`" + ` for a whole file). A stale ignore would silently hide a future finding on that line. Ignores for a rule that did not run (` + "`--disable`, `--enable`, `--no-permissions`" + `) are not reported.`,
			Before: "# modphp-migrate:ignore MPM1006 legacy\nSetEnv APP_ENV production\n",
			After:  "SetEnv APP_ENV production\n",
			Since:  "0.1.0",
		},
	})
)

// ignore is one parsed suppression comment.
type ignore struct {
	node      *parser.Node
	file      string
	codes     []string
	wholeFile bool
	from, to  int // line range it covers (ignored for wholeFile)
	used      map[string]bool
}

const (
	ignorePrefix     = "modphp-migrate:ignore"
	fileIgnorePrefix = "modphp-migrate:file-ignore"
)

// parseIgnores finds the suppression comments of the tree.
func parseIgnores(idx *facts.Index) (igs []*ignore, bad []Diagnostic) {
	for _, e := range idx.Comments() {
		text := strings.TrimSpace(e.Node.Name)
		var whole bool
		var rest string
		switch {
		case strings.HasPrefix(text, fileIgnorePrefix):
			whole, rest = true, text[len(fileIgnorePrefix):]
		case strings.HasPrefix(text, ignorePrefix):
			rest = text[len(ignorePrefix):]
		default:
			continue
		}
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
			continue // "modphp-migrate:ignored" and the like
		}
		fields := strings.Fields(rest)
		ig := &ignore{node: e.Node, file: e.Node.Pos.File, wholeFile: whole, used: map[string]bool{}}
		if len(fields) > 0 {
			for _, c := range strings.Split(fields[0], ",") {
				if c = strings.TrimSpace(c); c != "" {
					ig.codes = append(ig.codes, strings.ToUpper(c))
				}
			}
		}
		if len(fields) < 2 {
			msg := "add the reason after the code: # modphp-migrate:ignore CODE reason"
			if len(fields) == 0 {
				msg = "name the code and the reason: # modphp-migrate:ignore CODE reason"
			}
			bad = append(bad, Diagnostic{Pos: e.Node.Pos, Code: ignoreWithoutReason.Code, Severity: ignoreWithoutReason.Severity, Origin: Today, Message: msg})
		}
		if !whole {
			next := nextSibling(e)
			if next == nil {
				ig.from, ig.to = -1, -1
			} else {
				ig.from = next.Pos.Line
				ig.to = max(next.Pos.Line, next.EndLine, next.ClosePos().Line)
			}
		}
		igs = append(igs, ig)
	}
	return igs, bad
}

// nextSibling returns the first non-comment node after the comment in the
// same block.
func nextSibling(e *facts.Entry) *parser.Node {
	var sibs []*parser.Node
	if p := e.Node.Parent; p != nil && p.Kind == parser.KindSection {
		sibs = p.Children
	} else if e.File != nil {
		sibs = e.File.Nodes
	}
	for i, n := range sibs {
		if n != e.Node {
			continue
		}
		for _, m := range sibs[i+1:] {
			if m.Kind != parser.KindComment {
				return m
			}
		}
		return nil
	}
	return nil
}

// covers reports whether the ignore applies to position p.
func (ig *ignore) covers(p parser.Pos) bool {
	if p.File != ig.file {
		return false
	}
	return ig.wholeFile || (p.Line >= ig.from && p.Line <= ig.to && p.Line > 0)
}

// matches reports whether the ignore silences d, and records the use.
func (ig *ignore) matches(d Diagnostic) bool {
	hit := false
	for _, c := range ig.codes {
		if c != d.Code {
			continue
		}
		if ig.covers(d.Pos) {
			hit = true
		}
		for _, r := range d.Related {
			if ig.covers(r.Pos) {
				hit = true
			}
		}
		if hit {
			ig.used[c] = true
		}
	}
	return hit
}

// suppress drops the diagnostics silenced by ignore comments and adds the
// diagnostics about the comments themselves.
func suppress(idx *facts.Index, diags []Diagnostic, opt *Options) []Diagnostic {
	igs, bad := parseIgnores(idx)
	if opt.enabled(ignoreUnused) {
		bad = append(bad, misspelledIgnores(idx)...)
	}
	if len(igs) == 0 && len(bad) == 0 {
		return diags
	}
	out := diags[:0]
	for _, d := range diags {
		silenced := false
		for _, ig := range igs {
			if ig.matches(d) {
				silenced = true
			}
		}
		if !silenced {
			out = append(out, d)
		}
	}
	for _, d := range bad {
		if d.Code == ignoreUnused.Code || opt.enabled(ignoreWithoutReason) {
			out = append(out, d)
		}
	}
	if opt.enabled(ignoreUnused) {
		for _, ig := range igs {
			for _, c := range ig.codes {
				if ig.used[c] {
					continue
				}
				r, ok := Lookup(c)
				switch {
				case !ok:
					out = append(out, Diagnostic{Pos: ig.node.Pos, Code: ignoreUnused.Code, Severity: ignoreUnused.Severity, Origin: Today,
						Message: fmt.Sprintf("no rule has code %s: fix the code or remove this ignore (see modphp-migrate rules)", c)})
				case r.Run != nil && opt.enabled(r):
					where := "on the next directive"
					if ig.wholeFile {
						where = "in this file"
					}
					out = append(out, Diagnostic{Pos: ig.node.Pos, Code: ignoreUnused.Code, Severity: ignoreUnused.Severity, Origin: Today,
						Message: fmt.Sprintf("this ignore matches no %s finding %s: remove it", c, where)})
				}
			}
		}
	}
	return out
}

// misspelledIgnoreRE matches comments meant as suppressions that the
// engine does not take as such: a space around the colon
// ("modphp-migrate: ignore"), no colon, another separator or case, the
// words swapped ("ignore-file") or another linter's verb ("disable").
// "modphp-migrate ignores this file because…" is prose and does not match.
var misspelledIgnoreRE = regexp.MustCompile(`(?i)^mod[-_ ]?php[-_ ]?migrate\s*[:=]?\s*(file[-_ ]?ignore|ignore[-_ ]?file|ignore|disable|nolint)(\s|:|$)`)

// misspelledIgnores reports the comments that look like suppressions but
// are not, so that a finding the author meant to silence is not silently
// reported (or a stale one hidden) without a word about the comment.
func misspelledIgnores(idx *facts.Index) []Diagnostic {
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
		out = append(out, Diagnostic{Pos: e.Node.Pos, Code: ignoreUnused.Code, Severity: ignoreUnused.Severity, Origin: Today,
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
