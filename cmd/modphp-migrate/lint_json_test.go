package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/parser"
	"github.com/modphp-migrate/modphp-migrate/rules"
)

// TestWriteJSONAsEncodingJSON: writeJSON prints byte for byte what
// encoding/json prints for the same []jsonDiag with a two-space indent:
// escapes (HTML, control characters, U+2028, invalid UTF-8), every
// omitempty field present and absent, one and several related positions.
func TestWriteJSONAsEncodingJSON(t *testing.T) {
	for _, diags := range [][]rules.Diagnostic{
		nil,
		{{Pos: parser.Pos{File: "a.conf", Line: 3}, Code: "MPM1004", Severity: rules.Warning, Message: "m"}},
		{
			{Pos: parser.Pos{File: "/etc/apache2/<x>&.conf", Line: 12, Col: 5}, EndLine: 14, Code: "MPM1001", Severity: rules.Error,
				Message: "quote \" backslash \\ tab\tnewline\n bell\a line-sep\u2028 bad\xff é",
				Related: []rules.Related{{Pos: parser.Pos{File: "b.conf", Line: 1}, Message: "included from here"}, {Pos: parser.Pos{File: "c.conf", Line: 2, Col: 1}, Message: "<IfModule mod_php.c>"}},
				Fix:     "; /etc/php/8.2/fpm/pool.d/x.conf:9\nphp_admin_value[open_basedir] = /var/www\n"},
			{Pos: parser.Pos{File: "d", Line: 0}, EndLine: 0, Code: "NOSUCH", Severity: rules.Info, Origin: rules.Today, Message: "",
				Related: []rules.Related{{Pos: parser.Pos{File: "e"}, Message: "x"}}},
			{Pos: parser.Pos{File: "f", Line: 7}, EndLine: 7, Code: "MPM1002", Severity: rules.Warning, Message: "no related", Fix: "x"},
		},
	} {
		var got bytes.Buffer
		if err := writeJSON(&got, diags); err != nil {
			t.Fatal(err)
		}
		if want := encodingJSON(t, diags); got.String() != want {
			t.Errorf("writeJSON:\n%s\nencoding/json:\n%s", got.String(), want)
		}
	}
}

// encodingJSON is --format=json as encoding/json prints it.
func encodingJSON(t *testing.T, diags []rules.Diagnostic) string {
	t.Helper()
	out := make([]jsonDiag, 0, len(diags))
	for _, d := range diags {
		j := jsonDiag{File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col, Code: d.Code,
			Severity: string(d.Severity), Origin: originOf(d), Title: title(d.Code), Message: d.Message, Fix: d.Fix, URL: docsURL(d.Code)}
		if d.EndLine > d.Pos.Line {
			j.EndLine = d.EndLine
		}
		for _, r := range d.Related {
			j.Related = append(j.Related, jsonRelated{File: r.Pos.File, Line: r.Pos.Line, Column: r.Pos.Col, Message: r.Message})
		}
		out = append(out, j)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
