package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// Checkstyle XML, the report format Jenkins (Warnings Next Generation),
// reviewdog, Bitbucket and others read from ShellCheck and hadolint: one
// <file> per path, one <error> per finding, the code in source and the
// origin in an origin attribute.
type checkstyleReport struct {
	XMLName xml.Name         `xml:"checkstyle"`
	Version string           `xml:"version,attr"`
	Files   []checkstyleFile `xml:"file"`
}

type checkstyleFile struct {
	Name   string            `xml:"name,attr"`
	Errors []checkstyleError `xml:"error"`
}

type checkstyleError struct {
	Line     string `xml:"line,attr,omitempty"`
	Column   string `xml:"column,attr,omitempty"`
	Severity string `xml:"severity,attr"`
	Message  string `xml:"message,attr"`
	Source   string `xml:"source,attr"`
	// Origin is modphp-migrate's own attribute, switch or today; readers
	// of Checkstyle XML ignore attributes they do not know.
	Origin string `xml:"origin,attr"`
}

// checkstyleVersion is the format version the report claims (Checkstyle's
// own, which the readers accept).
const checkstyleVersion = "4.3"

// writeCheckstyle prints the findings, sorted by file, as Checkstyle XML.
// A finding about a whole file or directory has no line attribute.
func writeCheckstyle(w io.Writer, diags []rules.Diagnostic) error {
	rep := checkstyleReport{Version: checkstyleVersion}
	for _, d := range diags {
		if n := len(rep.Files); n == 0 || rep.Files[n-1].Name != d.Pos.File {
			rep.Files = append(rep.Files, checkstyleFile{Name: d.Pos.File})
		}
		e := checkstyleError{Severity: string(d.Severity), Message: d.Message, Source: "modphp-migrate." + d.Code, Origin: string(d.Origin)}
		if d.Pos.Line > 0 {
			e.Line = strconv.Itoa(d.Pos.Line)
			if d.Pos.Col > 0 {
				e.Column = strconv.Itoa(d.Pos.Col)
			}
		}
		f := &rep.Files[len(rep.Files)-1]
		f.Errors = append(f.Errors, e)
	}
	ew := &errWriter{w: w}
	ew.printf("%s", xml.Header)
	if ew.err != nil {
		return ew.err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("encoding checkstyle: %w", err)
	}
	ew.printf("\n")
	return ew.err
}
