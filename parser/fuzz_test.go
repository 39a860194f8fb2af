package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// FuzzParse: any bytes parse without panic, every node has a position
// inside the input, and sections' children point back to them.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"ServerName a\n", "<Directory \"/x\">\n</Directory>\n", "# c \\\nx\n", "\xef\xbb\xbfA b\r\n", "<If x>\n<Else>\n</Else>\n"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, access bool) {
		file, _ := Parse("fuzz.conf", data, access)
		lines := strings.Count(string(data), "\n") + 1
		Walk(file.Nodes, true, func(n *Node) bool {
			if n.Pos.Line < 1 || n.Pos.Line > lines || n.EndLine < n.Pos.Line || n.EndLine > lines {
				t.Fatalf("node %q at %d-%d outside 1..%d", n.Name, n.Pos.Line, n.EndLine, lines)
			}
			for _, c := range n.Children {
				if c.Parent != n {
					t.Fatalf("child %q of %q has the wrong parent", c.Name, n.Name)
				}
			}
			return true
		})
	})
}

// FuzzLoad: a txtar archive is extracted as a server tree and loaded in
// both views without panic or hang (includes, globs, cycles, defines).
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"-- etc/apache2/apache2.conf --\nInclude a/*.conf\nDefine X y\n<IfDefine X>\nServerName ${X}\n</IfDefine>\n-- etc/apache2/a/b.conf --\nInclude a/b.conf\n",
		"-- etc/apache2/apache2.conf --\nDocumentRoot /w\n<Directory /w>\nAllowOverride All\n</Directory>\n-- w/.htaccess --\n<IfModule mod_php.c>\nphp_value a b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a := txtar.Parse(data)
		dir := t.TempDir()
		for _, file := range a.Files {
			name := filepath.Clean("/" + file.Name)[1:]
			if name == "" || strings.Contains(name, "..") {
				continue
			}
			p := filepath.Join(dir, name)
			if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
				continue
			}
			_ = os.WriteFile(p, file.Data, 0o644)
		}
		main := filepath.Join(dir, "etc/apache2")
		if _, err := os.Stat(main); err != nil {
			return
		}
		_, _ = Load(main, LoadOptions{Root: dir, Env: func(string) (string, bool) { return "", false }})
	})
}
