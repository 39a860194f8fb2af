package parser

import (
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/modphp-migrate/modphp-migrate/internal/aprmatch"
)

// TestDirSectionsWalk: the sections that apply to a directory, in httpd's
// merge order: by depth, the main server's before the virtual host's
// whatever the file order, wildcards as apr_fnmatch reads them, regular
// expressions last.
func TestDirSectionsWalk(t *testing.T) {
	vh, other := &VHost{}, &VHost{}
	var s DirSections
	names := map[int]string{}
	add := func(name string, args []string, v *VHost) {
		n := &Node{Kind: KindSection, Name: name, Args: args}
		d, err := NewDirSection(n, args, v, "/etc/apache2")
		if err != nil {
			t.Fatal(err)
		}
		names[s.Add(d)] = fmt.Sprintf("%s%v", strings.TrimPrefix(name, "Directory"), args)
	}
	add("DirectoryMatch", []string{"^/srv/www/a"}, nil)
	add("Directory", []string{"/srv/www/abc"}, vh)
	add("Directory", []string{"/srv/www/[!x]*"}, vh)
	add("Directory", []string{"/srv/www/[!x]*"}, nil)
	add("Directory", []string{"/srv/www/abc/"}, nil)
	add("Directory", []string{"/srv"}, other)
	add("Directory", []string{"/"}, vh)
	add("Directory", []string{"/"}, nil)
	add("Directory", []string{"~", "b"}, vh)
	add("Directory", []string{"/srv/*/abc"}, nil)
	add("Directory", []string{"/srv/[^w]*"}, nil)
	add("Directory", []string{"relative"}, nil)
	for _, c := range []struct {
		dir  string
		vh   *VHost
		want string
	}{
		{"/srv/www/abc", vh, "0:[/] 0:[/] 3:[/srv/www/[!x]*] 3:[/srv/www/abc/] 3:[/srv/*/abc] 3:[/srv/www/abc] 3:[/srv/www/[!x]*] -1:Match[^/srv/www/a] -1:[~ b]"},
		{"/srv/www/abc", nil, "0:[/] 3:[/srv/www/[!x]*] 3:[/srv/www/abc/] 3:[/srv/*/abc] -1:Match[^/srv/www/a]"},
		{"/srv/www/xyz", nil, "0:[/]"},
		{"/srv/www/.x", nil, "0:[/] 3:[/srv/www/[!x]*]"},
		{"/srv/www", other, "0:[/] 1:[/srv]"},
		{"/srv/xy", nil, "0:[/] 2:[/srv/[^w]*]"},
		{"/etc/apache2/relative", nil, "0:[/] 3:[relative]"},
		{"/", nil, "0:[/]"},
	} {
		var got []string
		s.Walk(c.dir, c.dir, false, c.vh, func(level, i int) { got = append(got, fmt.Sprintf("%d:%s", level, names[i])) })
		if strings.Join(got, " ") != c.want {
			t.Errorf("Walk(%q)\n got %s\nwant %s", c.dir, strings.Join(got, " "), c.want)
		}
	}
}

// TestDirSectionsWalkToFile: with toFile the walk goes on to the file's
// own path, taken for a directory: exact paths and wildcards of that
// depth match it, after the directory's level and before the regular
// expressions; without toFile, or for a file not directly in dir, they
// do not.
func TestDirSectionsWalkToFile(t *testing.T) {
	var s DirSections
	names := map[int]string{}
	for _, args := range [][]string{{"/srv/www/f/[!x]*"}, {"/srv/www/f/named.php"}, {"/srv/www/f"}, {"~", "named"}, {"/*.php"}, {"/srv/www/f/named.php/x"}} {
		d, err := NewDirSection(&Node{Name: "Directory"}, args, nil, "/")
		if err != nil {
			t.Fatal(err)
		}
		names[s.Add(d)] = strings.Join(args, " ")
	}
	for _, c := range []struct {
		dir, file string
		toFile    bool
		want      string
	}{
		{"/srv/www/f", "/srv/www/f/named.php", true, "3:/srv/www/f 4:/srv/www/f/[!x]* 4:/srv/www/f/named.php -1:~ named"},
		{"/srv/www/f", "/srv/www/f/named.php", false, "3:/srv/www/f -1:~ named"},
		{"/srv/www/f", "/srv/www/f/x.php", true, "3:/srv/www/f"},
		{"/srv/www/f", "/srv/www/f/sub/i.php", true, "3:/srv/www/f"},
		{"/srv/www/f", "/srv/www/fi.php", true, "3:/srv/www/f"},
		{"/", "/i.php", true, "1:/*.php"},
		{"/", "/", true, ""},
	} {
		var got []string
		s.Walk(c.dir, c.file, c.toFile, nil, func(level, i int) { got = append(got, fmt.Sprintf("%d:%s", level, names[i])) })
		if strings.Join(got, " ") != c.want {
			t.Errorf("Walk(%q, %q, %v)\n got %s\nwant %s", c.dir, c.file, c.toFile, strings.Join(got, " "), c.want)
		}
	}
}

// TestDirSectionsWalkAllocs: without wildcards, Walk allocates nothing
// (the shim asks it for each request it resolves).
func TestDirSectionsWalkAllocs(t *testing.T) {
	var s DirSections
	for _, p := range []string{"/", "/srv", "/srv/www", "/srv/www/a/b"} {
		d, err := NewDirSection(&Node{Name: "Directory"}, []string{p}, nil, "/")
		if err != nil {
			t.Fatal(err)
		}
		s.Add(d)
	}
	n := 0
	allocs := testing.AllocsPerRun(100, func() { s.Walk("/srv/www/a/b/c", "/srv/www/a/b/c/x.php", true, nil, func(int, int) { n++ }) })
	if allocs != 0 || n != 4*101 {
		t.Errorf("Walk: %v allocations, %d calls; want 0 and %d", allocs, n, 4*101)
	}
}

// FuzzDirSectionsWalk: Walk (an index by path, wildcards by depth, lists
// merged in order) gives the same answer as asking every section at every
// level of the directory, in the order httpd sorts them. Each line of
// secs is a <Directory> path; "v " before it puts it in the virtual host,
// "~ " makes it a regular expression.
func FuzzDirSectionsWalk(f *testing.F) {
	f.Add("/\n/srv/www/[!x]*\nv /srv/www/abc\n/srv/*/abc\n~ ^/srv\nv /", "/srv/www/abc", false)
	f.Add("/a\\/b\n/a/[b/]c\n/a/b/", "/a/b", false)
	f.Add("/a/b/f\n/a/b/[!x]\nv /a/*/f\n~ f$", "/a/b", true)
	f.Fuzz(func(t *testing.T, secs, dir string, toFile bool) {
		vh := &VHost{}
		var s DirSections
		var all []*DirSection
		for _, line := range strings.Split(secs, "\n") {
			var v *VHost
			if rest, ok := strings.CutPrefix(line, "v "); ok {
				v, line = vh, rest
			}
			args := []string{line}
			if rest, ok := strings.CutPrefix(line, "~ "); ok {
				args = []string{"~", rest}
			}
			d, err := NewDirSection(&Node{Name: "Directory"}, args, v, "/root")
			if err != nil {
				continue
			}
			s.Add(d)
			all = append(all, d)
		}
		dir = path.Clean("/" + dir)
		var got []string
		s.Walk(dir, path.Join(dir, "f"), toFile, vh, func(level, i int) { got = append(got, fmt.Sprint(level, ":", i)) })
		if want := walkReference(all, dir, path.Join(dir, "f"), toFile, vh); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("Walk(%q) = %v, want %v", dir, got, want)
		}
	})
}

// walkReference asks every section at every level, the file's own path
// one more level with toFile.
func walkReference(all []*DirSection, dir, file string, toFile bool, vh *VHost) []string {
	levels := []string{"/"}
	if dir != "/" {
		for i := 1; i <= len(dir); i++ {
			if i == len(dir) || dir[i] == '/' {
				levels = append(levels, dir[:i]+"/")
			}
		}
	}
	if toFile {
		levels = append(levels, file+"/")
	}
	var out []string
	for level, p := range levels {
		for _, main := range []bool{true, false} {
			for i, d := range all {
				if d.re != nil || d.depth != level || (d.VHost == nil) != main || !applies(d, vh) {
					continue
				}
				if d.glob && aprmatch.Match(d.path, p, aprmatch.PathName) || !d.glob && d.path == p {
					out = append(out, fmt.Sprint(level, ":", i))
				}
			}
		}
	}
	for _, main := range []bool{true, false} {
		for i, d := range all {
			if d.re != nil && (d.VHost == nil) == main && applies(d, vh) && d.re.MatchString(file) {
				out = append(out, fmt.Sprint(-1, ":", i))
			}
		}
	}
	return out
}
