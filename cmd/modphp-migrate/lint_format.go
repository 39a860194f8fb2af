package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fatih/color"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// lintVersion is the version lint reports in SARIF: the binary's own.
var lintVersion = buildVersion()

// docsURL is where a rule's page is published.
func docsURL(code string) string {
	return "https://github.com/modphp-migrate/modphp-migrate/blob/main/docs/rules/" + code + ".md"
}

// jsonDiag is one element of the --format=json array.
type jsonDiag struct {
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Column   int           `json:"column"`
	EndLine  int           `json:"end_line,omitempty"`
	Code     string        `json:"code"`
	Severity string        `json:"severity"`
	Origin   string        `json:"origin"`
	Title    string        `json:"title,omitempty"`
	Message  string        `json:"message"`
	Related  []jsonRelated `json:"related,omitempty"`
	Fix      string        `json:"fix,omitempty"`
	URL      string        `json:"url,omitempty"`
}

type jsonRelated struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func title(code string) string {
	if r, ok := rules.Lookup(code); ok {
		return r.Title
	}
	return ""
}

// writeJSON prints one JSON array (never null) of findings, indented by
// two spaces, exactly as encoding/json would print []jsonDiag. It writes
// one finding at a time, field by field (encoding/json's reflection and
// indentation pass cost as much as the rules on a large tree), so the
// output is never held whole in memory.
func writeJSON(w io.Writer, diags []rules.Diagnostic) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if len(diags) == 0 {
		bw.WriteString("[]\n")
		return bw.Flush()
	}
	jw := &jsonWriter{w: bw}
	jw.str = json.NewEncoder(&jw.buf)
	bw.WriteString("[\n")
	for i, d := range diags {
		jw.diag(d)
		if i < len(diags)-1 {
			bw.WriteByte(',')
		}
		if _, err := bw.WriteString("\n"); err != nil {
			return err
		}
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// jsonWriter writes the fields of jsonDiag in its order, with its
// omitempty rules; strings are quoted by encoding/json.
type jsonWriter struct {
	w   *bufio.Writer
	buf bytes.Buffer
	str *json.Encoder
}

// diag writes one element of the array at an indent of two spaces,
// without the comma or newline after it.
func (jw *jsonWriter) diag(d rules.Diagnostic) {
	w := jw.w
	w.WriteString("  {\n")
	jw.field("    ", "file", d.Pos.File, true)
	jw.num("    ", "line", d.Pos.Line)
	jw.num("    ", "column", d.Pos.Col)
	if d.EndLine > d.Pos.Line {
		jw.num("    ", "end_line", d.EndLine)
	}
	jw.field("    ", "code", d.Code, true)
	jw.field("    ", "severity", string(d.Severity), true)
	jw.field("    ", "origin", originOf(d), true)
	if t := title(d.Code); t != "" {
		jw.field("    ", "title", t, true)
	}
	fix, url := d.Fix, docsURL(d.Code)
	jw.field("    ", "message", d.Message, len(d.Related) > 0 || fix != "" || url != "")
	if len(d.Related) > 0 {
		w.WriteString("    \"related\": [\n")
		for i, r := range d.Related {
			w.WriteString("      {\n")
			jw.field("        ", "file", r.Pos.File, true)
			jw.num("        ", "line", r.Pos.Line)
			jw.num("        ", "column", r.Pos.Col)
			jw.field("        ", "message", r.Message, false)
			w.WriteString("      }")
			if i < len(d.Related)-1 {
				w.WriteByte(',')
			}
			w.WriteByte('\n')
		}
		w.WriteString("    ]")
		if fix != "" || url != "" {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
	}
	if fix != "" {
		jw.field("    ", "fix", fix, url != "")
	}
	if url != "" {
		jw.field("    ", "url", url, false)
	}
	w.WriteString("  }")
}

// field writes indent"key": "value", with a comma when more follow.
func (jw *jsonWriter) field(indent, key, value string, more bool) {
	jw.key(indent, key)
	jw.buf.Reset()
	_ = jw.str.Encode(value) // a string always encodes
	jw.w.Write(bytes.TrimSuffix(jw.buf.Bytes(), []byte("\n")))
	jw.end(more)
}

// num writes indent"key": n, and a comma (an int field is never last).
func (jw *jsonWriter) num(indent, key string, n int) {
	jw.key(indent, key)
	jw.w.Write(strconv.AppendInt(jw.w.AvailableBuffer(), int64(n), 10))
	jw.end(true)
}

func (jw *jsonWriter) key(indent, key string) {
	jw.w.WriteString(indent)
	jw.w.WriteByte('"')
	jw.w.WriteString(key)
	jw.w.WriteString("\": ")
}

func (jw *jsonWriter) end(more bool) {
	if more {
		jw.w.WriteByte(',')
	}
	jw.w.WriteByte('\n')
}

// originHeadings head the text output's groups, in this order.
var originHeadings = []struct {
	origin  rules.Origin
	heading string
}{
	{rules.Switch, "What the switch to php-fpm changes"},
	{rules.Today, "What is already so today, under mod_php"},
}

// originOf is a finding's origin, switch when the rule set none.
func originOf(d rules.Diagnostic) string {
	if d.Origin == "" {
		return string(rules.Switch)
	}
	return string(d.Origin)
}

// byOrigin splits findings into the groups of originHeadings, keeping
// their order; a finding without an origin counts as switch.
func byOrigin(diags []rules.Diagnostic) [][]rules.Diagnostic {
	out := make([][]rules.Diagnostic, len(originHeadings))
	for _, d := range diags {
		i := 0
		if d.Origin == rules.Today {
			i = 1
		}
		out[i] = append(out[i], d)
	}
	return out
}

// writeText prints findings grouped by origin (a heading per origin that
// has findings), within each sorted and grouped by file, related
// positions and fixes indented below each, then counts per code.
func writeText(w io.Writer, diags []rules.Diagnostic, useColor bool, files int) error {
	paint := func(attrs ...color.Attribute) func(string) string {
		c := color.New(attrs...)
		if useColor {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return func(s string) string { return c.Sprint(s) }
	}
	var (
		bold   = paint(color.Bold)
		faint  = paint(color.Faint)
		bySev  = map[rules.Severity]func(string) string{rules.Error: paint(color.FgRed, color.Bold), rules.Warning: paint(color.FgYellow), rules.Info: paint(color.FgCyan)}
		ew     = &errWriter{w: w}
		last   string
		counts = map[string]int{}
		fixes  = map[string]parser.Pos{} // multi-line fix text -> first finding that printed it
		sevs   = map[rules.Severity]int{}
	)
	groups := byOrigin(diags)
	for gi, group := range groups {
		if len(group) == 0 {
			continue
		}
		if last != "" {
			ew.printf("\n")
		}
		ew.printf("%s\n\n", bold(fmt.Sprintf("== %s (%d) ==", originHeadings[gi].heading, len(group))))
		last = ""
		for _, d := range group {
			if last != "" && d.Pos.File != last {
				ew.printf("\n")
			}
			last = d.Pos.File
			counts[d.Code]++
			sevs[d.Severity]++
			sev := string(d.Severity)
			if f, ok := bySev[d.Severity]; ok {
				sev = f(sev)
			}
			ew.printf("%s: %s %s %s\n", bold(posString(d.Pos)), sev, faint(d.Code), d.Message)
			for _, r := range d.Related {
				ew.printf("\t%s: %s\n", posString(r.Pos), r.Message)
			}
			if first, seen := fixes[d.Fix]; seen && strings.Count(d.Fix, "\n") > 1 {
				// A tree with thousands of findings repeats the same fix block:
				// print it once, then point back to it.
				ew.printf("\tfix: as for %s\n", posString(first))
			} else if d.Fix != "" {
				fixes[d.Fix] = d.Pos
				lines := strings.Split(strings.TrimRight(d.Fix, "\n"), "\n")
				for i, l := range lines {
					prefix := "\t     "
					if i == 0 {
						prefix = "\tfix: "
					}
					ew.printf("%s%s\n", prefix, l)
				}
			}
		}
	}
	if len(diags) == 0 {
		ew.printf("modphp-migrate: no findings (%d %s read)\n", files, plural(files, "file", "files"))
		return ew.err
	}
	ew.printf("\n%s: %d %s, %d %s, %d info\n", bold(fmt.Sprintf("%d %s", len(diags), plural(len(diags), "finding", "findings"))),
		sevs[rules.Error], plural(sevs[rules.Error], "error", "errors"),
		sevs[rules.Warning], plural(sevs[rules.Warning], "warning", "warnings"), sevs[rules.Info])
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		ew.printf("  %s %6d  %s\n", c, counts[c], title(c))
	}
	ew.printf("Run 'modphp-migrate explain CODE' for what a code means and how to fix it.\n")
	return ew.err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// posString formats a position for text output: file:line:col, or just the
// path for a whole file or directory.
func posString(p parser.Pos) string { return p.String() }

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

// writeGitHub prints GitHub Actions workflow commands, one annotation per
// finding (docs.github.com, "Workflow commands for GitHub Actions"); the
// title, which the annotation shows as its heading, is the code, the
// origin in brackets and the rule's title.
func writeGitHub(w io.Writer, diags []rules.Diagnostic) error {
	ew := &errWriter{w: w}
	for _, d := range diags {
		level := "notice"
		switch d.Severity {
		case rules.Error:
			level = "error"
		case rules.Warning:
			level = "warning"
		}
		props := []string{"file=" + ghProperty(d.Pos.File)}
		if d.Pos.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", d.Pos.Line))
			if d.EndLine > d.Pos.Line {
				props = append(props, fmt.Sprintf("endLine=%d", d.EndLine))
			}
			if d.Pos.Col > 0 {
				props = append(props, fmt.Sprintf("col=%d", d.Pos.Col))
			}
		}
		props = append(props, "title="+ghProperty(d.Code+" ["+string(d.Origin)+"] "+title(d.Code)))
		msg := d.Message
		if d.Fix != "" {
			msg += "\nfix:\n" + d.Fix
		}
		ew.printf("::%s %s::%s\n", level, strings.Join(props, ","), ghData(msg))
	}
	return ew.err
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// SARIF 2.1.0 (docs.oasis-open.org/sarif/sarif/v2.1.0), the subset GitHub
// code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	HelpURI              string         `json:"helpUri"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifRuleLevel `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifRuleLevel struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	RelatedLocations    []sarifLocation   `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Fixes               []sarifFix        `json:"fixes,omitempty"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifLocation struct {
	ID               *int          `json:"id,omitempty"`
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
	Message          *sarifText    `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
}

func sarifLevel(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "error"
	case rules.Warning:
		return "warning"
	}
	return "note"
}

// sarifURI is a relative path with forward slashes, or a file:// URI for an
// absolute path.
func sarifURI(p string) string {
	if filepath.IsAbs(p) {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
	}
	return (&url.URL{Path: filepath.ToSlash(p)}).String()
}

// sarifLoc builds a location. A finding about a whole file or directory
// (line 0) has no region.
func sarifLoc(p parser.Pos, endLine int) sarifPhysical {
	ph := sarifPhysical{ArtifactLocation: sarifArtifact{URI: sarifURI(p.File)}}
	if p.Line == 0 {
		return ph
	}
	ph.Region = &sarifRegion{StartLine: p.Line, StartColumn: p.Col}
	if endLine > p.Line && p.Line > 0 {
		ph.Region.EndLine = endLine
	}
	return ph
}

// writeSARIF prints a SARIF 2.1.0 log with every rule in the driver; fps
// are the findings' fingerprints (see fingerprints).
func writeSARIF(w io.Writer, diags []rules.Diagnostic, fps []string) error {
	all := rules.All()
	index := map[string]int{}
	driver := sarifDriver{Name: "modphp-migrate", InformationURI: "https://github.com/modphp-migrate/modphp-migrate", Version: lintVersion, Rules: []sarifRule{}}
	for i, r := range all {
		index[r.Code] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID: r.Code, Name: ruleName(r.Title),
			ShortDescription:     sarifText{Text: r.Title},
			FullDescription:      sarifText{Text: r.Summary()},
			HelpURI:              docsURL(r.Code),
			Help:                 sarifText{Text: rules.Explain(r), Markdown: rules.HelpMarkdown(r)},
			DefaultConfiguration: sarifRuleLevel{Level: sarifLevel(r.Severity)},
			Properties:           sarifRuleProps{SecuritySeverity: securitySeverity(r.Severity)},
		})
	}
	results := make([]sarifResult, 0, len(diags))
	lines := &lineCache{}
	for i, d := range diags {
		res := sarifResult{RuleID: d.Code, RuleIndex: index[d.Code], Level: sarifLevel(d.Severity),
			Message:             sarifText{Text: sarifMessage(d)},
			Locations:           []sarifLocation{{PhysicalLocation: sarifLoc(d.Pos, d.EndLine)}},
			PartialFingerprints: map[string]string{fingerprintKey: fps[i]},
			Fixes:               sarifFixes(d, lines),
			Properties:          sarifResultProps{Origin: originOf(d)}}
		for i, r := range d.Related {
			id := i + 1
			res.RelatedLocations = append(res.RelatedLocations, sarifLocation{ID: &id, PhysicalLocation: sarifLoc(r.Pos, 0), Message: &sarifText{Text: r.Message}})
		}
		results = append(results, res)
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("encoding sarif: %w", err)
	}
	return nil
}

// ruleName turns a title into the PascalCase name SARIF viewers show.
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}
