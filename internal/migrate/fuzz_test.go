package migrate

import (
	"strings"
	"testing"
)

// FuzzDiffOps checks the edit script: the kept and removed lines give back
// a, the kept and added lines b, and the unified diff is empty exactly
// when a == b.
func FuzzDiffOps(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n")
	f.Add("", "x\n")
	f.Add("same\n", "same\n")
	f.Add("no newline", "no newline\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		x, y := splitLines(a), splitLines(b)
		var gotA, gotB strings.Builder
		for _, o := range diffOps(x, y) {
			if o.kind != '+' {
				gotA.WriteString(o.line)
			}
			if o.kind != '-' {
				gotB.WriteString(o.line)
			}
		}
		if gotA.String() != a || gotB.String() != b {
			t.Fatalf("edit script does not rebuild the inputs: %q %q", gotA.String(), gotB.String())
		}
		if (UnifiedDiff("a", "b", a, b) == "") != (a == b) {
			t.Fatal("empty diff for different inputs, or a diff for equal ones")
		}
	})
}

// FuzzINIKeys reads arbitrary .user.ini text without panicking, and finds
// a key it has just appended.
func FuzzINIKeys(f *testing.F) {
	f.Add("; comment\nmemory_limit = 256M\n[section]\n")
	f.Add("a=b\n=\n\n")
	f.Fuzz(func(t *testing.T, src string) {
		m := iniKeys(src + "\nzz_key = 1\n")
		if m["zz_key"] != "1" {
			t.Fatalf("appended key not found: %v", m)
		}
	})
}

// FuzzWrapLines wraps runs of lines: every original line survives, in
// order, and each run adds one opener and one closer.
func FuzzWrapLines(f *testing.F) {
	f.Add("a\nb\nc\n", 2, 2)
	f.Add("x", 1, 1)
	f.Fuzz(func(t *testing.T, src string, first, last int) {
		lines := splitLines(src)
		if first < 1 || last < first || last > len(lines) {
			return
		}
		out := wrapLines(src, []span{{first: first, last: last}})
		if got := strings.Count(out, "<IfModule mod_php.c>\n") - strings.Count(src, "<IfModule mod_php.c>\n"); got != 1 {
			t.Fatalf("%d openers added", got)
		}
		rest := out
		for _, l := range lines {
			l = strings.TrimSuffix(l, "\n")
			i := strings.Index(rest, l)
			if i < 0 {
				t.Fatalf("line %q lost or out of order in %q", l, out)
			}
			rest = rest[i+len(l):]
		}
	})
}
