package parser

import (
	"fmt"
	"strings"
	"testing"
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
		s.Walk(c.dir, c.vh, func(level, i int) { got = append(got, fmt.Sprintf("%d:%s", level, names[i])) })
		if strings.Join(got, " ") != c.want {
			t.Errorf("Walk(%q)\n got %s\nwant %s", c.dir, strings.Join(got, " "), c.want)
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
	allocs := testing.AllocsPerRun(100, func() { s.Walk("/srv/www/a/b/c", nil, func(int, int) { n++ }) })
	if allocs != 0 || n != 4*101 {
		t.Errorf("Walk: %v allocations, %d calls; want 0 and %d", allocs, n, 4*101)
	}
}
