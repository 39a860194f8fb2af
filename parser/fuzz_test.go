package parser

import (
	"fmt"
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

// FuzzLoadFanOut: a tree of depth files in which each includes the next
// width times (by name, by wildcard or as a directory), with leaf — any
// bytes — as the last file, loads in both views within the bounds: no more
// files and bytes read than MaxFiles and MaxBytes allow, at most one
// "reading stopped" diagnostic per view, and one whenever the fan-out alone
// asks for more reads than MaxFiles. The seed corpus
// (testdata/fuzz/FuzzLoadFanOut) holds issue 16's tree: 41 files, each
// including the next twice.
func FuzzLoadFanOut(f *testing.F) {
	const limit = 500
	f.Fuzz(func(t *testing.T, width, depth, style uint8, leaf []byte) {
		width, depth = width%5, depth%64+1
		dir := t.TempDir()
		etc := filepath.Join(dir, "etc/apache2")
		write := func(name string, data []byte) {
			p := filepath.Join(etc, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		name := func(i int) string { return fmt.Sprintf("f%02d.conf", i) }
		if style%3 == 2 {
			name = func(i int) string { return fmt.Sprintf("d%02d/f.conf", i) }
		}
		write("apache2.conf", []byte("ServerRoot /etc/apache2\nInclude /etc/apache2/"+name(0)+"\n"))
		for i := 0; i < int(depth); i++ {
			var b strings.Builder
			for j := 0; j < int(width); j++ {
				switch style % 3 {
				case 0:
					fmt.Fprintf(&b, "Include /etc/apache2/f%02d.conf\n", i+1)
				case 1:
					fmt.Fprintf(&b, "Include /etc/apache2/f%02d.c?nf\n", i+1)
				case 2:
					fmt.Fprintf(&b, "Include /etc/apache2/d%02d\n", i+1)
				}
			}
			write(name(i), []byte(b.String()))
		}
		write(name(int(depth)), leaf)
		opt := LoadOptions{Root: dir, MaxFiles: limit, MaxBytes: 64 << 10, MaxWalk: 10_000, Env: func(string) (string, bool) { return "", false }}
		res, err := Load(etc, opt)
		if err != nil {
			t.Fatal(err)
		}
		// Reads the fan-out alone asks for: the main file and width^k per level.
		want, level := 1, 1
		for i := 0; i <= int(depth) && want <= limit; i++ {
			want += level
			level *= int(width)
		}
		for _, c := range []*Config{res.Today, res.After} {
			var bytes int64
			for _, file := range c.Files {
				bytes += file.size
			}
			stops := 0
			for _, d := range c.Diagnostics {
				if d.Kind == "limit" && strings.HasPrefix(d.Message, "reading stopped here") {
					stops++
				}
			}
			switch {
			case len(c.Files) > opt.MaxFiles || bytes > opt.MaxBytes:
				t.Fatalf("%s: %d files, %d bytes read, over the bounds %d, %d", c.View, len(c.Files), bytes, opt.MaxFiles, opt.MaxBytes)
			case stops > 1:
				t.Fatalf("%s: %d \"reading stopped\" diagnostics, want at most one", c.View, stops)
			case want > limit && stops == 0:
				t.Fatalf("%s: the fan-out asks for more than %d reads and nothing stopped it (%d files read)", c.View, limit, len(c.Files))
			}
		}
	})
}
