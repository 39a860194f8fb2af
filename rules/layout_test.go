package rules_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// machinery are the files of rules/ that are not one rule each.
var machinery = []string{"engine.go", "rule.go", "docs.go", "suppress.go", "doc.go", "loader_problems.go"}

// TestRuleFilesHoldOneRule keeps rules/ readable: every other non-test
// file registers exactly one rule, imports neither os nor syscall (files
// are read through the run's facts), declares the directives its Run
// looks up, and defines nothing another rule file uses (shared helpers
// belong in rules/internal).
func TestRuleFilesHoldOneRule(t *testing.T) {
	fset := token.NewFileSet()
	names, _ := filepath.Glob("*.go")
	files := map[string]*ast.File{}
	defined := map[string]string{} // top-level name → rule file
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") || slices.Contains(machinery, name) {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
		checkRuleFile(t, name, f)
		for _, d := range f.Decls {
			for _, id := range declNames(d) {
				defined[id] = name
			}
		}
	}
	for name, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if def, ok := defined[id.Name]; ok && def != name {
					t.Errorf("%s uses %s, defined in the rule file %s: move it to rules/internal", name, id.Name, def)
					delete(defined, id.Name)
				}
			}
			return true
		})
	}
}

// checkRuleFile checks one rule file: one register call, no os or
// syscall, every name given to Named listed in the rule's Directives.
func checkRuleFile(t *testing.T, name string, f *ast.File) {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "os" || p == "syscall" {
			t.Errorf("%s imports %s: read files through p.facts.FS", name, p)
		}
	}
	registers := 0
	var directives, named []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "register" {
				registers++
			}
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Named" {
				named = append(named, stringLits(n.Args)...)
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Directives" {
				if c, ok := n.Value.(*ast.CompositeLit); ok {
					directives = append(directives, stringLits(c.Elts)...)
				}
			}
		}
		return true
	})
	if registers != 1 {
		t.Errorf("%s registers %d rules, want 1", name, registers)
	}
	for _, d := range named {
		if !slices.Contains(directives, d) {
			t.Errorf("%s looks up %s but does not list it in Directives", name, d)
		}
	}
}

func stringLits(es []ast.Expr) []string {
	var out []string
	for _, e := range es {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			out = append(out, s)
		}
	}
	return out
}

// declNames returns the top-level names a declaration defines (not
// methods: they are reached through their type).
func declNames(d ast.Decl) []string {
	var out []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil && d.Name.Name != "init" {
			out = append(out, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				out = append(out, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					if n.Name != "_" {
						out = append(out, n.Name)
					}
				}
			}
		}
	}
	return out
}
