package parser

import (
	"os"
	"testing"
)

// TestGrammarEBNF keeps the grammar's EBNF in a golden file so that
// changes to it are deliberate (go test -run EBNF -update).
func TestGrammarEBNF(t *testing.T) {
	const golden = "testdata/grammar.ebnf"
	got := Grammar() + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("grammar changed:\n%s\nwant:\n%s", got, want)
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{``, nil},
		{`  a  b `, []string{"a", "b"}},
		{`"a b" 'c d'`, []string{"a b", "c d"}},
		{`"a\"b" 'c\'d' "e\\f" "g\h"`, []string{`a"b`, `c'd`, `e\f`, `g\h`}},
		{`a\\b a\"b a"b`, []string{`a\b`, `a\"b`, `a"b`}},
		{`"x"y`, []string{"x", "y"}},
		{`"unterminated run`, []string{"unterminated run"}},
		{`""`, []string{""}},
		{`'it'"'"'s'`, []string{"it", `'`, "s"}},
	} {
		got := splitWords(tc.in)
		if len(got) != len(tc.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("splitWords(%q) = %q, want %q", tc.in, got, tc.want)
				break
			}
		}
	}
}
