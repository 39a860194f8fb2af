package parser

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
)

// maxIncludeDepth is httpd's AP_MAX_INCLUDE_DEPTH.
const maxIncludeDepth = 128

// loader evaluates one view of a tree in read order, like httpd's
// EXEC_ON_READ pass: Define, ServerRoot, LoadModule, Include and the
// <IfModule> family take effect as they are read.
type loader struct {
	cfg      *Config
	opt      LoadOptions
	cache    *parseCache
	vars     map[string]string // Define NAME VALUE
	defined  map[string]bool   // names for <IfDefine>
	envvars  map[string]string // Debian's envvars: every assignment
	exported map[string]bool   // the envvars names apache2's environment gets
	modules  map[string]bool   // identifiers and source names of loaded modules
	chain    []string          // files being included, outermost first
	warned   map[string]bool   // undefined variables already reported at a position
	accessIn bool              // evaluating an access file
	// assumeModules evaluates <IfModule> without a server: every module is
	// loaded but PHP's, which follows the view (LoadSingle).
	assumeModules bool
	// filesRead and bytesRead count what the view read (LoadOptions.MaxFiles,
	// MaxBytes); stopped is set once a limit is passed.
	filesRead int
	bytesRead int64
	stopped   bool
	listed    int   // files and directories an Include's expansion named so far
	looked    int64 // directory entries all Include expansions looked at
}

func newLoader(view View, opt LoadOptions, cache *parseCache) *loader {
	if opt.Version == "" {
		opt.Version = DefaultVersion
	}
	l := &loader{
		cfg:      &Config{View: view, Root: opt.Root, Defines: map[string]string{}, fs: cache.root, listed: cache.listed},
		opt:      opt,
		cache:    cache,
		vars:     map[string]string{},
		defined:  map[string]bool{},
		envvars:  map[string]string{},
		exported: map[string]bool{},
		modules:  map[string]bool{},
		warned:   map[string]bool{},
	}
	for _, d := range opt.Defines {
		l.defined[d] = true
	}
	for _, m := range staticModules {
		l.addModule(Module{ID: m})
	}
	return l
}

// staticModules are compiled into Debian's apache2 binary (apache2 -l).
var staticModules = []string{"core_module", "so_module", "watchdog_module", "http_module",
	"log_config_module", "logio_module", "version_module", "unixd_module"}

func (l *loader) diag(pos Pos, sev Severity, kind, format string, args ...any) {
	l.cfg.Diagnostics = append(l.cfg.Diagnostics, Diagnostic{Pos: pos, Severity: sev, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

// includeFile reads, parses and evaluates one file. from is the Include
// directive (nil for the main file).
func (l *loader) includeFile(path string, from *Node) *File {
	pos := Pos{File: path}
	if from != nil {
		pos = from.Pos
	}
	for _, c := range l.chain {
		if c == path {
			l.diag(pos, SevError, "include", "include cycle: %s includes itself (chain: %s)", path, strings.Join(append(l.chain, path), " -> "))
			return nil
		}
	}
	if len(l.chain) > maxIncludeDepth { // the main file is not counted (apache2 -t: f127 of a 130-file chain)
		l.diag(pos, SevError, "include", "Exceeded maximum include depth of %d, There appears to be a recursion.", maxIncludeDepth)
		return nil
	}
	if l.stopped || l.cache.ctx.Err() != nil {
		return nil // a limit stopped the load, or it was given up (loadView returns the error)
	}
	f, diags, err := l.cache.get(path, false)
	if err != nil {
		if !l.tooLarge(pos, path, err) {
			l.diag(pos, SevError, "io", "%s", openError(path, err))
		}
		return nil
	}
	if !l.admit(pos, f) {
		return nil
	}
	l.cfg.Diagnostics = append(l.cfg.Diagnostics, diags...)
	l.cfg.Files = append(l.cfg.Files, f)
	if from != nil {
		f.IncludedBy = from
		for _, n := range f.Nodes {
			n.Parent = from
		}
		from.addIncluded(f)
	}
	l.chain = append(l.chain, path)
	l.evalNodes(f.Nodes)
	l.checkUnclosed(f.Nodes, false)
	l.chain = l.chain[:len(l.chain)-1]
	return f
}

// openError words a read failure as httpd does.
func openError(path string, err error) string {
	if errors.Is(err, errNotRegular) {
		return fmt.Sprintf("Access to file %s denied by server: not a regular file", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Sprintf("Could not open configuration file %s: %s", path, describeErrno(err))
}

func describeErrno(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	case errors.Is(err, errNotRegular):
		return "not a regular file"
	}
	return err.Error()
}

// evalNodes evaluates a list of sibling nodes in order.
func (l *loader) evalNodes(ns []*Node) {
	for _, n := range ns {
		switch n.Kind {
		case KindDirective:
			l.substitute(n)
			l.directive(n)
		case KindSection:
			l.substitute(n)
			l.section(n)
		}
	}
}

// section evaluates a section: conditionals decide whether their body is
// read at all; <Macro> bodies are templates and stay as written.
func (l *loader) section(n *Node) {
	name := lower(n.Name)
	if isConditional(name) {
		n.Active = l.condition(name, n)
		if n.Active {
			if close := n.ClosePos(); close.Line > 0 && n.CloseJunk() != "" {
				l.diag(close, SevError, "syntax", "</%s> without matching <%s> section (text after the closing tag of a true <%s> is not allowed)", n.Name, n.Name, n.Name)
			}
			l.evalNodes(n.Children)
		}
		return
	}
	if name == "macro" {
		return
	}
	l.evalNodes(n.Children)
}

// isConditional reports whether a section is one of httpd's read-time
// (EXEC_ON_READ) conditionals.
func isConditional(lname string) bool {
	switch lname {
	case "ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection":
		return true
	}
	return false
}

// IsConditional reports whether a section is evaluated while httpd reads
// the configuration (<IfModule>, <IfDefine>, <IfVersion>, <IfFile>,
// <IfDirective>, <IfSection>).
func IsConditional(n *Node) bool {
	return n.Kind == KindSection && isConditional(lower(n.Name))
}

// checkUnclosed reports sections left open at the end of a file. An open
// true conditional swallows the rest of the file without error (httpd's
// ap_build_cont_config), and so do the sections inside it; a false one is
// an error ("Expected </IfModule> before end of configuration").
func (l *loader) checkUnclosed(ns []*Node, insideOpenTrue bool) {
	if len(ns) == 0 {
		return
	}
	last := ns[len(ns)-1]
	if last.Kind != KindSection || last.ClosePos().Line > 0 {
		return
	}
	cond := isConditional(lower(last.Name))
	switch {
	case cond && !last.Active:
		l.diag(last.Pos, SevError, "syntax", "Expected </%s> before end of configuration (<%s> opened here is never closed)", last.Name, last.Name)
		return
	case cond:
		insideOpenTrue = true
	case !insideOpenTrue:
		l.diag(last.Pos, SevError, "syntax", "<%s> was not closed.", last.Name)
	}
	if last.Active || !cond {
		l.checkUnclosed(last.Children, insideOpenTrue)
	}
}

// directive applies the directives httpd executes while reading.
func (l *loader) directive(n *Node) {
	switch lower(n.Name) {
	case "define":
		l.define(n)
	case "undefine":
		if len(n.Args) == 1 {
			delete(l.vars, n.Args[0])
			delete(l.defined, n.Args[0])
		}
	case "serverroot":
		if len(n.Args) == 1 && !l.accessIn {
			l.cfg.ServerRoot = filepath.Clean(n.Args[0])
		}
	case "loadmodule":
		if len(n.Args) == 2 && !l.accessIn {
			l.loadModule(n)
		}
	case "include", "includeoptional":
		if l.assumeModules && !l.accessIn {
			return
		}
		if l.accessIn {
			l.diag(n.Pos, SevError, "syntax", "%s not allowed here", n.Name)
			return
		}
		l.include(n, strings.EqualFold(n.Name, "includeoptional"))
	}
}

func (l *loader) define(n *Node) {
	if l.accessIn {
		l.diag(n.Pos, SevError, "syntax", "Define not allowed here")
		return
	}
	if len(n.Args) < 1 || len(n.Args) > 2 {
		l.diag(n.Pos, SevError, "syntax", "Define takes one or two arguments")
		return
	}
	name := n.Args[0]
	if strings.Contains(name, ":") {
		l.diag(n.Pos, SevError, "syntax", "Variable name must not contain ':'")
		return
	}
	l.defined[name] = true
	if len(n.Args) == 2 {
		l.vars[name] = n.Args[1]
		l.cfg.Defines[name] = n.Args[1]
	} else if _, ok := l.cfg.Defines[name]; !ok {
		l.cfg.Defines[name] = ""
	}
}

// loadModule records a LoadModule line; in the after-mod_php view PHP
// modules are not loaded.
func (l *loader) loadModule(n *Node) {
	m := Module{ID: n.Args[0], Path: n.Args[1], Pos: n.Pos}
	if l.cfg.View == AfterModPHP && modphp.IsModule(m.ID, m.Path) {
		return
	}
	if l.modules[m.ID] {
		l.diag(n.Pos, SevWarning, "module", "module %s is already loaded, skipping", m.ID)
		return
	}
	l.addModule(m)
}

func (l *loader) addModule(m Module) {
	l.cfg.Modules = append(l.cfg.Modules, m)
	l.modules[m.ID] = true
	l.modules[SourceName(m.ID)] = true
	if strings.HasPrefix(m.ID, "mpm_") && strings.HasSuffix(m.ID, "_module") {
		l.cfg.MPM = strings.TrimSuffix(strings.TrimPrefix(m.ID, "mpm_"), "_module")
	}
}

// SourceName is the compile-time source file name <IfModule> also accepts
// for a module identifier: rewrite_module → mod_rewrite.c. PHP 8's
// php_module is mod_php.c (docs/behaviour.md#b-guard); the MPMs and core are special.
func SourceName(id string) string {
	switch id {
	case "core_module":
		return "core.c"
	case "http_module":
		return "http_core.c"
	case "mpm_prefork_module":
		return "prefork.c"
	case "mpm_worker_module":
		return "worker.c"
	case "mpm_event_module":
		return "event.c"
	}
	return "mod_" + strings.TrimSuffix(id, "_module") + ".c"
}

// serverRootRelative resolves a path as httpd's ap_server_root_relative.
func (l *loader) serverRootRelative(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.cfg.ServerRoot, p)
}

// hostPath maps an httpd path to disk.
func (l *loader) hostPath(p string) string { return l.cfg.HostPath(p) }

// exists reports whether an httpd path exists on disk.
func (l *loader) exists(p string) bool {
	_, err := l.cache.root.Stat(l.hostPath(p))
	return err == nil
}
