package parser

import "fmt"

// Pos is a position in a configuration file. Line and Col are 1-based; a
// Line of 0 means the file (or directory) as a whole, as for a finding about
// permissions.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"column"`
}

// String formats p as file:line:col (file:line when Col is 0, file when Line
// is 0), the form editors and CI annotations understand.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}
