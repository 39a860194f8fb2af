package shim

import (
	"net/http"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// skipReason is why a php_* line of an access file is skipped under
// AllowOverride Nonfatal=Override: httpd's invoke_cmd checks the override
// before anything else and, with that flag, logs AH02295 ("php_value in
// .htaccess forbidden by AllowOverride") and goes on with the next line
// instead of answering 500.
const skipReason = "forbidden by AllowOverride: skipped, as httpd skips it under Nonfatal=Override (AH02295)"

// overrideRule is what AllowOverride and AllowOverrideList allow in the
// access files of one directory.
type overrideRule struct {
	options  bool            // AllowOverride Options (OR_OPTIONS): php_value, php_flag
	list     map[string]bool // AllowOverrideList names, lower case
	nonfatal bool            // Nonfatal=Override or Nonfatal=All
}

// allowRule is the rule without an Apache configuration: everything but
// php_admin_*.
var allowRule = overrideRule{options: true}

// verdict is what httpd does with directive d in an access file under
// the rule (modphp.InAccessFile).
func (o overrideRule) verdict(d phpDirective) modphp.Verdict {
	listed := o.list != nil && o.list[strings.ToLower(d.name)]
	return modphp.InAccessFile(d.kind, modphp.Override{Options: o.options, Listed: listed, Nonfatal: o.nonfatal})
}

// decide applies httpd's per-directive override check to af, in file
// order: a directive the rule forbids is refused with 500 "<name> not
// allowed here", or skipped under Nonfatal=Override (recorded in
// res.Skipped); an allowed one with a problem (arity) is refused. It
// returns the lines and <Files> blocks that apply.
func (af *accessFile) decide(o overrideRule, res *Resolution) ([]phpLine, []filesBlock, error) {
	if af.err != nil {
		return nil, nil, af.err
	}
	var skip map[[2]int]bool // {block, line} of skipped lines
	for _, d := range af.php {
		switch o.verdict(d) {
		case modphp.Refused:
			return nil, nil, &AccessError{Pos: d.pos, Msg: modphp.NotAllowedError(d.name), Status: http.StatusInternalServerError}
		case modphp.Skipped:
			key := ""
			if d.line >= 0 {
				if skip == nil {
					skip = map[[2]int]bool{}
				}
				skip[[2]int{d.block, d.line}] = true
				key = af.lineOf(d).key
			}
			res.skip(key, d.pos)
			continue
		}
		if d.problem != nil {
			return nil, nil, d.problem
		}
	}
	if skip == nil {
		return af.dir, af.files, nil
	}
	return keepLines(af.dir, -1, skip), keepBlocks(af.files, skip), nil
}

// lineOf returns the line kept for d.
func (af *accessFile) lineOf(d phpDirective) phpLine {
	if d.block < 0 {
		return af.dir[d.line]
	}
	return af.files[d.block].lines[d.line]
}

// keepLines returns lines without the skipped ones of block.
func keepLines(lines []phpLine, block int, skip map[[2]int]bool) []phpLine {
	var out []phpLine
	for i, l := range lines {
		if !skip[[2]int{block, i}] {
			out = append(out, l)
		}
	}
	return out
}

// keepBlocks returns the blocks without their skipped lines.
func keepBlocks(blocks []filesBlock, skip map[[2]int]bool) []filesBlock {
	out := make([]filesBlock, 0, len(blocks))
	for i, b := range blocks {
		b.lines = keepLines(b.lines, i, skip)
		if len(b.lines) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// skip records a skipped php_* line (key "" when its arguments are
// broken: httpd never looks at them).
func (res *Resolution) skip(key string, pos parser.Pos) {
	res.Skipped = append(res.Skipped, IgnoredSetting{Key: strings.Clone(key), Pos: pos, Reason: skipReason})
}
