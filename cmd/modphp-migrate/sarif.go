package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// sarifRuleProps is a rule's property bag.
type sarifRuleProps struct {
	// SecuritySeverity is GitHub code scanning's score, 0.0 to 10.0 as a
	// string (docs.github.com, "SARIF support for code scanning").
	SecuritySeverity string `json:"security-severity"`
}

// securitySeverity maps a severity to GitHub's security-severity score:
// error 8.0 (high: over 7.0), warning 5.0 (medium: 4.0 to 6.9), info 2.0
// (low: 0.1 to 3.9).
func securitySeverity(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "8.0"
	case rules.Warning:
		return "5.0"
	}
	return "2.0"
}

// sarifMessage is the finding's message and, when it has one, its fix, as
// the github format shows them: code scanning displays the message only.
func sarifMessage(d rules.Diagnostic) string {
	if d.Fix == "" {
		return d.Message
	}
	return d.Message + "\nfix:\n" + d.Fix
}

// sarifResultProps is a result's property bag: its origin, "switch" or
// "today" (docs/lint.md).
type sarifResultProps struct {
	Origin string `json:"origin"`
}

type sarifFix struct {
	Description     sarifText           `json:"description"`
	ArtifactChanges []sarifArtifactEdit `json:"artifactChanges"`
}

type sarifArtifactEdit struct {
	ArtifactLocation sarifArtifact      `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifRegion  `json:"deletedRegion"`
	InsertedContent sarifContent `json:"insertedContent"`
}

type sarifContent struct {
	Text string `json:"text"`
}

// sarifFixes returns the SARIF fix of a finding whose fix replaces its own
// lines: the directive from its column to the end of its last line is
// replaced by the fix, later lines indented as the directive is. A fix
// meant for another file (a php-fpm pool, .user.ini) or a command has no
// place to apply it and is carried by the message alone.
func sarifFixes(d rules.Diagnostic, lines *lineCache) []sarifFix {
	if d.Fix == "" || !d.FixReplaces || d.Pos.Line == 0 {
		return nil
	}
	indent := lines.indent(d.Pos.File, d.Pos.Line)
	text := strings.ReplaceAll(strings.TrimRight(d.Fix, "\n"), "\n", "\n"+indent)
	region := sarifRegion{StartLine: d.Pos.Line, StartColumn: max(d.Pos.Col, 1)}
	if d.EndLine > d.Pos.Line {
		region.EndLine = d.EndLine
	}
	what := fmt.Sprintf("replace line %d", d.Pos.Line)
	if region.EndLine > 0 {
		what = fmt.Sprintf("replace lines %d-%d", d.Pos.Line, d.EndLine)
	}
	return []sarifFix{{
		Description: sarifText{Text: what + " with:\n" + d.Fix},
		ArtifactChanges: []sarifArtifactEdit{{
			ArtifactLocation: sarifArtifact{URI: sarifURI(d.Pos.File)},
			Replacements:     []sarifReplacement{{DeletedRegion: region, InsertedContent: sarifContent{Text: text}}},
		}},
	}}
}

// lineCache reads the leading whitespace of lines that fixes replace, each
// file once.
type lineCache struct {
	files map[string][]string
}

// indent returns the leading blanks of line n (1-based) of file, "" when
// the file cannot be read.
func (c *lineCache) indent(file string, n int) string {
	if c.files == nil {
		c.files = map[string][]string{}
	}
	ls, ok := c.files[file]
	if !ok {
		ls = readIndents(file)
		c.files[file] = ls
	}
	if n < 1 || n > len(ls) {
		return ""
	}
	return ls[n-1]
}

func readIndents(file string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		out = append(out, l[:len(l)-len(strings.TrimLeft(l, " \t"))])
	}
	return out
}
