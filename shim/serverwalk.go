package shim

import (
	"fmt"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/internal/modphp"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// confWalker collects the server configuration's php_* lines in file
// order as httpd with mod_php loaded read them. The configuration is
// loaded as it runs after the switch, where a PHP guard such as
// <IfModule mod_php.c> is false: the loader leaves its body as written,
// neither substituting ${VAR} nor deciding the conditionals inside it.
// The walker does both for such bodies, with the Define variables in
// force at that line (httpd's order, the guarded Defines included) and
// what envvars exports; never the shim's own environment.
type confWalker struct {
	sc       *serverConf
	vhByNode map[*parser.Node]*vhostScopes
	// vars and defined are the Define state at the line being read.
	vars    map[string]string
	defined map[string]bool
	// budget is how many bytes substitutions may still produce
	// (Define X ${X}${X}, repeated, doubles each time).
	budget int64
}

func newConfWalker(sc *serverConf, vhByNode map[*parser.Node]*vhostScopes) *confWalker {
	return &confWalker{sc: sc, vhByNode: vhByNode, vars: map[string]string{}, defined: map[string]bool{},
		budget: parser.DefaultMaxBytes}
}

// walk visits nodes in order; loaded says whether the loader evaluated
// them (the sections around them are all active in its view).
func (w *confWalker) walk(nodes []*parser.Node, loaded bool) error {
	for _, n := range nodes {
		var err error
		switch n.Kind {
		case parser.KindDirective:
			err = w.directive(n, loaded)
		case parser.KindSection:
			err = w.section(n, loaded)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// section descends into n when httpd with mod_php would have read its
// body.
func (w *confWalker) section(n *parser.Node, loaded bool) error {
	args := n.Args
	if !loaded {
		var err error
		if args, err = w.expand(n); err != nil {
			return err
		}
	}
	if strings.EqualFold(n.Name, "macro") {
		return nil // a template, applied only where a Use expands it
	}
	if !parser.IsConditional(n) {
		if !loaded {
			if w.sc.sectionArgs == nil {
				w.sc.sectionArgs = map[*parser.Node][]string{}
			}
			w.sc.sectionArgs[n] = args
		}
		return w.walk(n.Children, loaded)
	}
	lname := parser.LowerName(n.Name)
	if lname == "ifmodule" && len(args) > 0 {
		if name, neg, php := modphp.Guard(args[0]); php {
			if modphp.GuardMatches(name) == neg {
				return nil
			}
			return w.walk(n.Children, loaded && n.Active)
		}
	}
	if loaded {
		if n.Active {
			return w.walk(n.Children, true)
		}
		return nil
	}
	env := w.sc.env
	env.define = func(name string) bool { return w.defined[name] }
	if sectionTrue(lname, args, env) {
		return w.walk(n.Children, false)
	}
	return nil
}

// directive follows Define and UnDefine, and files php_* lines.
func (w *confWalker) directive(n *parser.Node, loaded bool) error {
	args := n.Args
	if !loaded {
		var err error
		if args, err = w.expand(n); err != nil {
			return err
		}
	}
	switch parser.LowerName(n.Name) {
	case "define":
		// httpd's set_define: a Define without a value keeps the
		// variable's earlier value.
		if len(args) == 1 || len(args) == 2 {
			w.defined[args[0]] = true
		}
		if len(args) == 2 {
			w.vars[args[0]] = args[1]
		}
	case "undefine":
		if len(args) == 1 {
			delete(w.defined, args[0])
			delete(w.vars, args[0])
		}
	}
	if strings.EqualFold(n.Name, "options") {
		w.sc.options(n, args, w.vhByNode)
	}
	for _, f := range n.Included() {
		if err := w.walk(f.Nodes, loaded); err != nil {
			return err
		}
	}
	kind, ok := modphp.Directive(n.Name)
	if !ok {
		return nil
	}
	if len(args) != 2 || args[0] == "" || args[1] == "" {
		return fmt.Errorf("%s: %s", n.Pos, kind.ArityError())
	}
	l := phpLine{key: args[0], value: modphp.Stored(kind, args[1]), kind: kind, pos: n.Pos}
	return w.sc.place(l, n, w.vhByNode)
}

// expand substitutes ${VAR} in the arguments of a node the loader left as
// written and splits them into words, as httpd does for the whole line.
func (w *confWalker) expand(n *parser.Node) ([]string, error) {
	if !strings.Contains(n.Raw, "${") {
		return n.Args, nil
	}
	lookup := envLookup(w.vars, w.sc.cfg.Envvars)
	over := false
	s := parser.ExpandVars(n.Raw, func(name string) (string, bool) {
		v, ok := lookup(name)
		if ok {
			if w.budget -= int64(len(v)); w.budget < 0 {
				over = true
				return "", true
			}
		}
		return v, ok
	})
	if over {
		return nil, fmt.Errorf("%s: its ${VAR} substitutions make more than %s", n.Pos, parser.FormatBytes(parser.DefaultMaxBytes))
	}
	return parser.SplitArgs(s), nil
}
