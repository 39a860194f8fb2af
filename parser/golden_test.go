package parser

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of golden txtar files")

// renderNodes prints nodes one per line, indented by nesting.
func renderNodes(b *strings.Builder, ns []*Node, depth int) {
	for _, n := range ns {
		ind := strings.Repeat("  ", depth)
		span := fmt.Sprintf("%d:%d", n.Pos.Line, n.Pos.Col)
		if n.EndLine != n.Pos.Line {
			span += fmt.Sprintf("-%d", n.EndLine)
		}
		switch n.Kind {
		case KindComment:
			fmt.Fprintf(b, "%s%s comment %q\n", ind, span, n.Name)
		case KindDirective:
			fmt.Fprintf(b, "%s%s %s %s\n", ind, span, n.Name, quoteAll(n.Args))
			for _, f := range n.Included() {
				fmt.Fprintf(b, "%s  > %s\n", ind, f.Path)
				renderNodes(b, f.Nodes, depth+2)
			}
		case KindSection:
			state := ""
			if !n.Active {
				state = " (inactive)"
			}
			closeAt := "unclosed"
			if n.ClosePos().Line > 0 {
				closeAt = fmt.Sprintf("closed %d", n.ClosePos().Line)
				if n.CloseJunk() != "" {
					closeAt += fmt.Sprintf(" junk %q", n.CloseJunk())
				}
			}
			fmt.Fprintf(b, "%s%s <%s> %s %s%s\n", ind, span, n.Name, quoteAll(n.Args), closeAt, state)
			renderNodes(b, n.Children, depth+1)
		}
	}
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func renderDiags(b *strings.Builder, ds []Diagnostic, strip string) {
	for _, d := range ds {
		rel := []string{}
		for _, r := range d.Related {
			rel = append(rel, strings.TrimPrefix(r.String(), strip))
		}
		fmt.Fprintf(b, "%s: %s %s: %s", strings.TrimPrefix(d.Pos.String(), strip), d.Severity, d.Kind, strings.ReplaceAll(d.Message, strip, ""))
		if len(rel) > 0 {
			fmt.Fprintf(b, " (related %s)", strings.Join(rel, ", "))
		}
		b.WriteString("\n")
	}
}

// runGolden runs fn on every txtar file in dir and compares its output
// with the archive's "want" file (rewritten with -update).
func runGolden(t *testing.T, dir string, fn func(t *testing.T, a *txtar.Archive) string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s: %v", dir, err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := fn(t, a)
			wi := -1
			for i, f := range a.Files {
				if f.Name == "want" {
					wi = i
				}
			}
			if *update {
				if wi < 0 {
					a.Files = append(a.Files, txtar.File{Name: "want"})
					wi = len(a.Files) - 1
				}
				a.Files[wi].Data = []byte(got)
				if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wi < 0 {
				t.Fatalf("%s has no want section (run with -update)", path)
			}
			if want := string(a.Files[wi].Data); got != want {
				t.Errorf("%s: output differs\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// TestParseGolden covers the syntax rules of httpd's reader, one archive
// per rule: an input file "in.conf" (server context) or "in.htaccess"
// (access context) and the nodes and diagnostics Parse returns.
func TestParseGolden(t *testing.T) {
	runGolden(t, "testdata/parse", func(t *testing.T, a *txtar.Archive) string {
		var b strings.Builder
		for _, f := range a.Files {
			if f.Name == "want" {
				continue
			}
			data := f.Data
			if strings.HasSuffix(f.Name, ".hex") {
				data = unhex(t, string(data))
			}
			pf, diags := Parse(f.Name, data, strings.Contains(f.Name, "htaccess"))
			renderNodes(&b, pf.Nodes, 0)
			renderDiags(&b, diags, "")
		}
		return b.String()
	})
}

// unhex decodes "\xNN", "\r" and "\t" escapes in a test input, so archives can
// hold CR, BOM and invalid UTF-8 bytes readably.
func unhex(t *testing.T, s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'x':
				var v byte
				if _, err := fmt.Sscanf(s[i+2:i+4], "%02x", &v); err != nil {
					t.Fatalf("bad escape at %d: %v", i, err)
				}
				out = append(out, v)
				i += 3
				continue
			case 'r':
				out = append(out, '\r')
				i++
				continue
			case 't':
				out = append(out, '\t')
				i++
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}

// TestLoadGolden loads a tree extracted from the archive (Root = the temp
// dir, main file etc/apache2 unless a file "args" names another path and
// -D names) in both views, and renders the model.
func TestLoadGolden(t *testing.T) {
	runGolden(t, "testdata/load", func(t *testing.T, a *txtar.Archive) string {
		dir := t.TempDir()
		target, defines := "etc/apache2", []string(nil)
		for _, f := range a.Files {
			switch f.Name {
			case "want":
				continue
			case "args":
				fields := strings.Fields(string(f.Data))
				target, defines = fields[0], fields[1:]
				continue
			}
			p := filepath.Join(dir, f.Name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		res, err := Load(filepath.Join(dir, target), LoadOptions{Root: dir, Defines: defines, Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			return "error: " + strings.ReplaceAll(err.Error(), dir, "") + "\n"
		}
		var b strings.Builder
		for _, c := range []*Config{res.Today, res.After} {
			renderConfig(&b, c, dir)
		}
		return strings.ReplaceAll(b.String(), dir, "")
	})
}

func renderConfig(b *strings.Builder, c *Config, dir string) {
	fmt.Fprintf(b, "== view %s: ServerRoot %s, MPM %q, User %q, Group %q\n", c.View, c.ServerRoot, c.MPM, c.User, c.Group)
	for _, f := range c.Files {
		from := "(*)"
		if f.IncludedBy != nil {
			from = fmt.Sprintf("(%d)", f.IncludedBy.Pos.Line)
		}
		fmt.Fprintf(b, "file %s %s\n", from, strings.TrimPrefix(f.Path, dir))
	}
	var mods []string
	for _, m := range c.Modules {
		if m.Path != "" {
			mods = append(mods, m.ID)
		}
	}
	fmt.Fprintf(b, "modules %s\n", strings.Join(mods, " "))
	var defs []string
	for k, v := range c.Defines {
		defs = append(defs, k+"="+v)
	}
	sort.Strings(defs)
	if len(defs) > 0 {
		fmt.Fprintf(b, "defines %s\n", strings.Join(defs, " "))
	}
	for _, v := range c.VHosts {
		fmt.Fprintf(b, "vhost %s %q aliases=%q root=%q at %s\n", strings.Join(v.Addrs, ","), v.ServerName, v.ServerAliases, v.DocumentRoot, strings.TrimPrefix(v.Pos.String(), dir))
	}
	for _, a := range c.Access {
		fmt.Fprintf(b, "access %s dir=%s set=%v mask=%d list=%v\n", strings.TrimPrefix(a.File.Path, dir), a.Dir, a.Override.Set, a.Override.Mask, a.Override.List)
		renderNodes(b, a.File.Nodes, 1)
	}
	if c.Main != nil {
		renderNodes(b, c.Main.Nodes, 0)
	}
	renderDiags(b, c.Diagnostics, dir)
}
