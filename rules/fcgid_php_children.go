package rules

import (
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"regexp"
	"strconv"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// fcgidPHPChildren is MPM2004: PHP_FCGI_CHILDREN under mod_fcgid.
var fcgidPHPChildren = register(&Rule{
	Code:       "MPM2004",
	Title:      "PHP_FCGI_CHILDREN under mod_fcgid",
	Severity:   Warning,
	Origin:     Today,
	Directives: []string{"FcgidInitialEnv", "DefaultInitEnv", "FcgidWrapper", "FCGIWrapper"},
	Doc: Doc{
		Text: `Finds ` + "`PHP_FCGI_CHILDREN`" + ` set to anything but 0 for php-cgi run by mod_fcgid: in ` + "`FcgidInitialEnv`" + ` (or the old ` + "`DefaultInitEnv`" + `), or in the wrapper script a ` + "`FcgidWrapper`" + ` line names, when that script can be read.

mod_fcgid sends one request at a time to each process it starts and counts processes itself (` + "`FcgidMaxProcesses`" + `, ` + "`FcgidMaxProcessesPerClass`" + `). With ` + "`PHP_FCGI_CHILDREN=N`" + ` every php-cgi forks N children that share its socket: mod_fcgid never sends them anything, they hold memory (and APCu/OPcache copies) for nothing, and when mod_fcgid ends the parent the children are not terminated properly. The mod_fcgid documentation says to set it to 0 (or leave it unset).

This matters during a migration because fcgid setups are the usual stepping stone from mod_php to php-fpm; moving to php-fpm removes the question (php-fpm's pool ` + "`pm.max_children`" + ` is the equivalent knob).`,
		Before: "FcgidInitialEnv PHP_FCGI_CHILDREN 4\nFcgidWrapper /var/www/cgi-bin/php-wrapper .php\n",
		After:  "FcgidInitialEnv PHP_FCGI_CHILDREN 0\nFcgidMaxRequestsPerProcess 500\nFcgidWrapper /var/www/cgi-bin/php-wrapper .php\n",
		Since:  "0.1.0",
	},
	Run: runFcgidPHPChildren,
})

// wrapperChildren finds PHP_FCGI_CHILDREN=N in a shell wrapper.
var wrapperChildren = regexp.MustCompile(`(?m)^[ \t]*(?:export[ \t]+)?PHP_FCGI_CHILDREN[ \t]*=[ \t]*["']?([0-9]+)`)

const fcgidChildrenWhy = "mod_fcgid sends one request at a time to each php-cgi and never uses its children, which also are not terminated properly"

// maxWrapperSize bounds how much of a wrapper script is read.
const maxWrapperSize = 64 << 10

func runFcgidPHPChildren(p *Pass) {
	for _, e := range p.facts.Index().Named("FcgidInitialEnv", "DefaultInitEnv", "FcgidWrapper", "FCGIWrapper") {
		n := e.Node
		if n.Kind != parser.KindDirective || !(e.Today || e.After) || len(n.Args) == 0 {
			continue
		}
		switch parser.LowerName(n.Name) {
		case "fcgidinitialenv", "defaultinitenv":
			name, val := n.Args[0], conf1(n.Args)
			if k, v, ok := strings.Cut(name, "="); ok && len(n.Args) == 1 {
				name, val = k, v
			}
			if name != "PHP_FCGI_CHILDREN" || childrenZero(val) {
				continue
			}
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine, Related: includeChain(n), Fix: n.Name + " PHP_FCGI_CHILDREN 0\n", FixReplaces: true,
				Message: "PHP_FCGI_CHILDREN " + val + ": " + fcgidChildrenWhy + "; set it to 0 and let FcgidMaxProcesses decide the process count"})
		default:
			script := strings.Fields(n.Args[0])
			if len(script) == 0 || !strings.HasPrefix(script[0], "/") {
				continue
			}
			cfg := p.Today
			if !e.InToday {
				cfg = p.After
			}
			file := cfg.HostPath(script[0])
			val, line, ok := readWrapperChildren(p.facts.FS, file)
			if !ok || childrenZero(val) {
				continue
			}
			p.Report(Diagnostic{Pos: n.Pos, EndLine: n.EndLine,
				Related: append([]Related{{Pos: parser.Pos{File: file, Line: line, Col: 1}, Message: "PHP_FCGI_CHILDREN=" + val + " is set here"}}, includeChain(n)...),
				Message: "the wrapper " + script[0] + " sets PHP_FCGI_CHILDREN=" + val + " (line " + strconv.Itoa(line) + "): " + fcgidChildrenWhy + "; set it to 0 there"})
		}
	}
}

func conf1(args []string) string {
	if len(args) > 1 {
		return args[1]
	}
	return ""
}

func childrenZero(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	return v == "" || strings.TrimLeft(v, "0") == ""
}

// readWrapperChildren reads a wrapper script (a regular file, at most
// maxWrapperSize bytes) and returns the last PHP_FCGI_CHILDREN it sets.
func readWrapperChildren(fsys facts.FS, file string) (val string, line int, ok bool) {
	src, err := facts.ReadFile(fsys, file, maxWrapperSize)
	if err != nil {
		return "", 0, false
	}
	ms := wrapperChildren.FindAllSubmatchIndex(src, -1)
	if len(ms) == 0 {
		return "", 0, false
	}
	m := ms[len(ms)-1]
	return string(src[m[2]:m[3]]), 1 + strings.Count(string(src[:m[0]]), "\n"), true
}
