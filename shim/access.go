package shim

import (
	"errors"
	"fmt"
	"net/http"
	"regexp/syntax"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// AccessError is a problem in an access file that makes httpd with mod_php
// answer the request itself (500, or 403 for an unreadable file) instead of
// running the script. The shim does the same, so that no request ever runs
// with half of its settings.
type AccessError struct {
	Pos    parser.Pos // where httpd would report it; Line 0 for the whole file
	Msg    string     // httpd's message where there is one
	Status int        // HTTP status to answer
}

// Error formats the problem as file:line:col: message.
func (e *AccessError) Error() string { return e.Pos.String() + ": " + e.Msg }

// phpLine is one php_value, php_flag, php_admin_value or php_admin_flag
// after mod_php's value handling (php-src sapi/apache2handler/
// apache_config.c real_value_hnd and real_flag_hnd).
type phpLine struct {
	key, value string
	kind       modphp.Kind // its directive: php_admin_* set with PHP_INI_SYSTEM status
	htaccess   bool        // read from an access file (applied at PHP_INI_STAGE_HTACCESS)
	pos        parser.Pos
	// scope is the directory every request under which gets the line
	// (server config: / at the main server's level, a <Directory>'s
	// path); "" when narrower or unknown (<Files>, <Location>, regex
	// sections, a virtual host's level). Access files: see settingScope.
	scope string
}

// filesChain is a <Files>/<FilesMatch> section and, through parent, the
// sections around it: a script's base name must match them all. Nested
// sections share their parents' chain, so that n nested sections hold n
// links, not n²/2 matchers (issue: 14,000 nested <Files a> took 3.3 GB).
type filesChain struct {
	m      modphp.Files
	parent *filesChain
}

// nest returns the chain of a section m inside c (nil: at top level). A
// section nested in one with the same test adds nothing to it.
func (c *filesChain) nest(m modphp.Files) *filesChain {
	if c != nil && c.m.Same(m) {
		return c
	}
	return &filesChain{m: m, parent: c}
}

// filesBlock is a <Files>/<FilesMatch> section's php lines.
type filesBlock struct {
	chain *filesChain
	lines []phpLine
	// directives are the af.php indexes of the lines, while the block is
	// being walked.
	directives []int
	// sameSection is the server-config section the block came from
	// (nil for access files), so that lines of one section stay together.
	sameSection *parser.Node
}

func (b *filesBlock) matches(base string) bool {
	return (&chainMatcher{base: base}).matches(b.chain)
}

// chainMatcher tests chains against one base name, remembering the
// result of every link it has tested: the blocks of nested sections share
// their links, so a request tests each section once, not once per block
// inside it.
type chainMatcher struct {
	base string
	memo map[*filesChain]bool
}

// chainMemoDepth is the chain length from which results are remembered:
// real files nest two or three sections, which are cheaper to test again
// than to remember.
const chainMemoDepth = 4

func (cm *chainMatcher) matches(c *filesChain) bool {
	var todo []*filesChain
	ok := true
	for l := c; l != nil; l = l.parent {
		if v, hit := cm.memo[l]; hit {
			ok = v
			break
		}
		todo = append(todo, l)
	}
	if len(todo) < chainMemoDepth && cm.memo == nil {
		for _, l := range todo {
			if !l.m.Match(cm.base) {
				return false
			}
		}
		return ok
	}
	if cm.memo == nil {
		cm.memo = map[*filesChain]bool{}
	}
	// Outermost first: each link is its own test and its parent's.
	for i := len(todo) - 1; i >= 0; i-- {
		ok = ok && todo[i].m.Match(cm.base)
		cm.memo[todo[i]] = ok
	}
	return ok
}

// accessFile is an access file reduced to what mod_php takes from it.
type accessFile struct {
	path  string
	dir   []phpLine    // outside <Files>, in file order
	files []filesBlock // in file order
	// err is the first problem httpd rejects whatever AllowOverride says
	// (syntax, sections).
	err *AccessError
	// php are the active php_* directives in file order, for httpd's
	// per-directive override check (decide).
	php []phpDirective
	// opts are the file's Options lines outside <Files> and <If>, which
	// httpd's directory walk merges when AllowOverride allows Options.
	opts parser.Options
}

// evalEnv is what conditional sections and ${VAR} are evaluated against.
type evalEnv struct {
	// module reports whether a non-PHP module is loaded; nil means every
	// module is (the server config is unknown).
	module func(name string) bool
	// define reports -D names and Define variables; lookup resolves
	// ${VAR} (Define first, then the environment).
	define func(name string) bool
	lookup func(name string) (string, bool)
}

// parseAccessFile reads an access file's bytes the way httpd with mod_php
// (PHP 8) reads them, keeping only the php_* lines.
func parseAccessFile(name string, data []byte, env evalEnv) *accessFile {
	af := &accessFile{path: name}
	f, diags := parser.Parse(name, data, true)
	for _, d := range diags {
		if d.Severity == parser.SevError {
			af.err = &AccessError{Pos: d.Pos, Msg: d.Message, Status: http.StatusInternalServerError}
			return af
		}
	}
	af.checkClosed(f.Nodes, false, env)
	if af.err != nil {
		return af
	}
	af.walk(f.Nodes, nil, env, "")
	return af
}

// checkClosed reports sections left open at the end of the file as httpd
// does (docs/behaviour.md#b-httpd-syntax): a tree section gives "<Files> was not closed.",
// a false conditional "Expected </IfModule> before end of configuration";
// a true conditional may stay open, and so may a section inside it.
// parser.Parse leaves this to the loader, so the shim checks it here.
func (af *accessFile) checkClosed(nodes []*parser.Node, inOpenTrue bool, env evalEnv) {
	for _, n := range nodes {
		if af.err != nil || n.Kind != parser.KindSection {
			continue
		}
		open := n.ClosePos().Line == 0
		if parser.IsConditional(n) {
			holds := sectionTrue(parser.LowerName(n.Name), n.Args, env)
			if open && !holds {
				af.fail(n.Pos, "Expected </"+n.Name+"> before end of configuration")
				return
			}
			af.checkClosed(n.Children, inOpenTrue || (open && holds), env)
			continue
		}
		if open && !inOpenTrue {
			af.fail(n.Pos, "<"+n.Name+"> was not closed.")
			return
		}
		af.checkClosed(n.Children, inOpenTrue, env)
	}
}

// phpDirective is one active php_* line of an access file: httpd checks
// its override first, then its arguments (invoke_cmd).
type phpDirective struct {
	pos  parser.Pos
	name string // as written
	kind modphp.Kind
	// problem is what httpd with mod_php rejects once the override
	// allows the line (arity; a section the shim cannot evaluate).
	problem *AccessError
	// line is the index of the line kept for it in its list (-1: none),
	// block its <Files> block's index in files (-1: af.dir).
	line, block int
}

func (af *accessFile) fail(pos parser.Pos, msg string) {
	if af.err == nil {
		af.err = &AccessError{Pos: pos, Msg: msg, Status: http.StatusInternalServerError}
	}
}

// walk visits nodes in file order; files is the enclosing <Files> block,
// unsupported ("inside <If> cannot be evaluated by the shim") says why the
// php_* lines of an enclosing section cannot be applied. Such a section
// fails only the requests its php_* lines would reach (decide): one
// without them changes no PHP setting, and Apache in front of the shim
// still applies it.
func (af *accessFile) walk(nodes []*parser.Node, files *filesBlock, env evalEnv, unsupported string) {
	for _, n := range nodes {
		if af.err != nil {
			return
		}
		lname := parser.LowerName(n.Name)
		switch n.Kind {
		case parser.KindSection:
			switch lname {
			case "ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection":
				if sectionTrue(lname, n.Args, env) {
					af.walk(n.Children, files, env, unsupported)
				}
			case "files", "filesmatch":
				m, err := compileFiles(n.Name, n.Args)
				if isShimLimit(err) {
					// httpd (PCRE) reads the section; only its php_*
					// lines depend on what the shim cannot test.
					af.walk(n.Children, files, env, "inside <"+n.Name+"> cannot be evaluated by the shim: "+errors.Unwrap(err).Error())
					continue
				}
				if err != nil {
					af.fail(n.Pos, err.Error())
					return
				}
				var outer *filesChain
				if files != nil {
					outer = files.chain
				}
				nb := &filesBlock{chain: outer.nest(m)}
				af.walk(n.Children, nb, env, unsupported)
				if len(nb.lines) > 0 {
					for _, i := range nb.directives {
						af.php[i].block = len(af.files)
					}
					nb.directives = nil
					af.files = append(af.files, *nb)
				}
			case "if", "elseif", "else", "limit", "limitexcept":
				af.walk(n.Children, files, env, "inside <"+n.Name+"> cannot be evaluated by the shim")
			default:
				af.walk(n.Children, files, env, unsupported)
			}
		case parser.KindDirective:
			if kind, ok := modphp.Directive(n.Name); ok {
				af.directive(n, kind, files, env, unsupported)
			} else if files == nil && unsupported == "" && strings.EqualFold(n.Name, "options") {
				// A line httpd rejects fails the request in Apache, in
				// front of the shim.
				_ = af.opts.Apply(n.Args)
			}
		}
	}
}

// directive records a php_* line: its problem, if any, and the line it
// keeps for the directory or the enclosing <Files> block.
func (af *accessFile) directive(n *parser.Node, kind modphp.Kind, files *filesBlock, env evalEnv, unsupported string) {
	d := phpDirective{pos: n.Pos, name: n.Name, kind: kind, line: -1, block: -1}
	args := n.Args
	if strings.Contains(n.Raw, "${") && env.lookup != nil {
		args = parser.SplitArgs(parser.ExpandVars(n.Raw, env.lookup))
	}
	switch {
	case len(args) != 2 || args[0] == "" || args[1] == "":
		d.problem = &AccessError{Pos: n.Pos, Msg: kind.ArityError(), Status: http.StatusInternalServerError}
	case unsupported != "":
		d.problem = &AccessError{Pos: n.Pos, Msg: n.Name + " " + unsupported, Status: http.StatusInternalServerError}
	}
	if d.problem != nil {
		af.php = append(af.php, d)
		return
	}
	// php_admin_* in an access file is applied only when AllowOverrideList
	// names it (decide); then with PHP_INI_SYSTEM, as mod_php's admin
	// handler does.
	l := phpLine{key: args[0], value: modphp.Stored(kind, args[1]), kind: kind, htaccess: true, pos: n.Pos}
	if files != nil {
		d.line, d.block = len(files.lines), -2 // block index known once the block is kept
		files.lines = append(files.lines, l)
		files.directives = append(files.directives, len(af.php))
	} else {
		d.line = len(af.dir)
		af.dir = append(af.dir, l)
	}
	af.php = append(af.php, d)
}

// compileFiles builds the test of <Files pat>, <Files ~ re> or
// <FilesMatch re> (section name as written) as httpd applies it. A
// regular expression Go cannot read (PCRE back-references, look-around)
// is the shim's limit, and said so.
func compileFiles(name string, args []string) (modphp.Files, error) {
	m, err := modphp.CompileFiles(name, args)
	if isShimLimit(err) {
		return m, fmt.Errorf("%w: cannot be evaluated by the shim", err)
	}
	return m, err
}

// isShimLimit reports whether err is compileFiles' "cannot be evaluated
// by the shim": a regular expression Go's RE2 cannot read, which PCRE may.
func isShimLimit(err error) bool {
	var rerr *syntax.Error
	return errors.As(err, &rerr)
}

// sectionTrue evaluates a conditional section as httpd with PHP 8's
// mod_php loaded would.
func sectionTrue(lname string, args []string, env evalEnv) bool {
	if len(args) == 0 {
		return false
	}
	arg, neg := args[0], false
	if strings.HasPrefix(arg, "!") {
		arg, neg = arg[1:], true
	}
	var ok bool
	switch lname {
	case "ifmodule":
		if modphp.IsGuardName(arg) {
			// Only mod_php.c and php_module name PHP 8's module
			// (docs/behaviour.md#b-guard).
			ok = modphp.GuardMatches(arg)
		} else {
			ok = env.module == nil || env.module(arg)
		}
	case "ifdefine":
		ok = env.define != nil && env.define(arg)
	case "ifdirective":
		// php_* exist on a mod_php server; for other directives the
		// server's table is not known here, and a directive that a
		// loaded module provides is the likely answer.
		ok = true
	default:
		// <IfVersion>, <IfFile>, <IfSection>: the shim does not know the
		// server's answer; it takes the body, as a server that passed
		// apache2 -t with this .htaccess around most likely does.
		return true
	}
	return ok != neg
}
