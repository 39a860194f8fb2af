package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// nodesOf returns every node of a view's configuration files, each file
// as often as it was read.
func nodesOf(c *Config) map[*Node]bool {
	seen := map[*Node]bool{}
	var walk func(ns []*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			seen[n] = true
			walk(n.Children)
		}
	}
	for _, f := range c.Files {
		walk(f.Nodes)
	}
	return seen
}

// TestViewsOwnTheirNodes: the loader parses each file once but evaluation
// writes into nodes, so no node may be shared between the two views or
// between two reads of one file in a view. part.conf is read twice by each
// view (the first reads get the parsed nodes or a copy, the second ones
// copies of a spare parse); every read is evaluated on its own: <IfDefine X>
// holds, ${D} is substituted, the top-level nodes hang under the Include
// that read them.
func TestViewsOwnTheirNodes(t *testing.T) {
	root := writeApacheTree(t, map[string]string{
		"apache2.conf": "Include part.conf\n<VirtualHost *:80>\n  Include part.conf\n</VirtualHost>\n",
		"part.conf":    "<IfDefine X>\n  ServerAdmin a@example.test\n</IfDefine>\nDocumentRoot \"${D}/www\"\n",
	})
	res, err := Load(filepath.Join(root, "etc/apache2"), LoadOptions{Root: root, Defines: []string{"X"}, Env: func(n string) (string, bool) { return "/srv", n == "D" }})
	if err != nil {
		t.Fatal(err)
	}
	today, after := nodesOf(res.Today), nodesOf(res.After)
	for n := range today {
		if after[n] {
			t.Fatalf("node %s %s at %s is in both views", n.Name, n.Raw, n.Pos)
		}
	}
	for _, c := range []*Config{res.Today, res.After} {
		var parts []*File
		for _, f := range c.Files {
			if filepath.Base(f.Path) == "part.conf" {
				parts = append(parts, f)
			}
		}
		if len(parts) != 2 {
			t.Fatalf("%s: part.conf read %d times, want 2", c.View, len(parts))
		}
		a, b := parts[0], parts[1]
		if a.Nodes[0] == b.Nodes[0] || a.Nodes[0].Children[0] == b.Nodes[0].Children[0] {
			t.Errorf("%s: the two reads of part.conf share nodes", c.View)
		}
		for i, f := range parts {
			guard, root := f.Nodes[0], f.Nodes[1]
			if !guard.Active || guard.Children[0].Parent != guard {
				t.Errorf("%s: read %d: <IfDefine X> active %v, child's parent %p (want %p)", c.View, i, guard.Active, guard.Children[0].Parent, guard)
			}
			if want := []string{"/srv/www"}; !reflect.DeepEqual(root.Args, want) {
				t.Errorf("%s: read %d: DocumentRoot args %q, want %q", c.View, i, root.Args, want)
			}
			if root.Parent != f.IncludedBy || f.IncludedBy == nil {
				t.Errorf("%s: read %d: top-level parent %p, want the Include %p", c.View, i, root.Parent, f.IncludedBy)
			}
		}
		if parts[1].IncludedBy.Parent == nil || parts[1].IncludedBy.Parent.Name != "VirtualHost" {
			t.Errorf("%s: the second read of part.conf is not under the <VirtualHost>", c.View)
		}
	}
}

// vhostTree is a server tree shaped like bench/gentree's: a main file and
// n vhost files of 20 lines included with a glob.
func vhostTree(t *testing.T, n int) string {
	files := map[string]string{"apache2.conf": "ServerRoot /etc/apache2\nDefine WWW /srv/www\nIncludeOptional sites/*.conf\n"}
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("sites/site%05d.conf", i)] = strings.ReplaceAll(`# siteN.example.test
<VirtualHost *:80>
    ServerName siteN.example.test
    ServerAlias www.siteN.example.test
    DocumentRoot "${WWW}/siteN/public"
    DirectoryIndex index.php index.html
    <Directory "${WWW}/siteN/public">
        Options -Indexes +FollowSymLinks
        AllowOverride All
        Require all granted
    </Directory>
    SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1
    <IfModule mod_php.c>
        php_flag display_errors Off
        php_value max_input_vars 3000
    </IfModule>
    RewriteEngine On
    RewriteRule "^/old-blog/(.*)$" "/blog/$1" [R=301,L]
    CustomLog "logs/access.log" vhost_common
</VirtualHost>
`, "siteN", fmt.Sprintf("site%05d", i))
	}
	return writeApacheTree(t, files)
}

// TestLoadLiveHeap bounds what a loaded tree keeps in both views: at most
// 8.8 KB per 20-line vhost file (nodes, arguments, the file's text and the
// models of both views; 8.4 KB measured with Go 1.26). It was 11.4 KB when
// each file's nodes were allocated in the allocator's size classes and every
// line had room for four arguments, 10.3 KB while every node had room for a
// closing tag and included files. lint's peak RSS follows it: the rules
// start from about twice the live heap.
func TestLoadLiveHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 2,000 vhost files")
	}
	const vhosts, perVHost = 2000, 8800
	root := vhostTree(t, vhosts)
	before := heapInUse()
	res, err := Load(filepath.Join(root, "etc/apache2"), LoadOptions{Root: root, NoAccessFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	live := int64(heapInUse()) - int64(before)
	if len(res.Today.VHosts) != vhosts || len(res.After.VHosts) != vhosts {
		t.Fatalf("%d and %d vhosts, want %d", len(res.Today.VHosts), len(res.After.VHosts), vhosts)
	}
	t.Logf("live heap %d KB, %d bytes per vhost", live>>10, live/vhosts)
	if live > vhosts*perVHost {
		t.Errorf("live heap after loading %d vhosts: %d bytes per vhost, want at most %d", vhosts, live/vhosts, perVHost)
	}
	runtime.KeepAlive(res)
}

// TestListedSubdirs: the subdirectories the search for access files saw
// are known to both views after the load, for the plan, which would
// otherwise list every document root again. A symbolic link to a
// directory is no subdirectory (httpd does not follow it looking for
// .htaccess); a directory the search did not list is not known.
func TestListedSubdirs(t *testing.T) {
	root := writeTree(t, map[string]string{
		"etc/apache2/apache2.conf": "<VirtualHost *:80>\n\tDocumentRoot /srv/h\n</VirtualHost>\n",
		"srv/h/index.php":          "<?php\n",
		"srv/h/bob/index.php":      "<?php\n",
		"srv/h/alice/x/index.php":  "<?php\n",
		"srv/other/a/index.php":    "<?php\n",
	})
	if err := os.Symlink(filepath.Join(root, "srv/other"), filepath.Join(root, "srv/h/link")); err != nil {
		t.Fatal(err)
	}
	res, err := Load(filepath.Join(root, "etc/apache2"), LoadOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Config{res.Today, res.After} {
		for _, tc := range []struct {
			dir  string
			want []string
			ok   bool
		}{
			{"srv/h", []string{"alice", "bob"}, true},
			{"srv/h/", []string{"alice", "bob"}, true},
			{"srv/h/alice", []string{"x"}, true},
			{"srv/h/alice/x", nil, true},
			{"srv/other", nil, false},
			{"srv/h/link", nil, false},
		} {
			got, ok := c.ListedSubdirs(root + "/" + tc.dir)
			if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: ListedSubdirs(%s) = %q, %v; want %q, %v", c.View, tc.dir, got, ok, tc.want, tc.ok)
			}
		}
	}
}

// TestTouchMeetsEveryPage: touch writes into every 4 KiB page of a
// chunk; a chunk is a large object, which the runtime places at the
// start of a page.
func TestTouchMeetsEveryPage(t *testing.T) {
	var a nodeArena
	a.alloc(1)
	start := uintptr(unsafe.Pointer(&a.free[0])) - unsafe.Sizeof(Node{})
	if start%4096 != 0 {
		t.Fatalf("chunk at %#x: not at the start of a page", start)
	}
	size := int(unsafe.Sizeof(Node{}))
	touched := map[int]bool{}
	for i := 0; i < arenaChunk; i += pageNodes {
		touched[i*size/4096] = true
	}
	for page := 0; page <= (arenaChunk*size-1)/4096; page++ {
		if !touched[page] {
			t.Errorf("page %d of a chunk not touched", page)
		}
	}
}
