package fcgi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceSize keeps the package readable: no function of the package
// (test files aside) over 80 lines, and client.go and server.go at most 450
// lines each, the rest of each side in files named for their job.
func TestSourceSize(t *testing.T) {
	const maxFunc, maxFile = 80, 450
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if name == "client.go" || name == "server.go" {
			if n := fset.File(f.Pos()).LineCount(); n > maxFile {
				t.Errorf("%s: %d lines, want at most %d", name, n, maxFile)
			}
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
			if n := end.Line - start.Line + 1; n > maxFunc {
				t.Errorf("%s: %s is %d lines, want at most %d", start, fd.Name.Name, n, maxFunc)
			}
		}
	}
}
